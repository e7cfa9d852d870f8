//! Running on AWS Lambda: the same router behind `lambda_http`, with the API Gateway stage
//! (`/prod/...`) taken off the path before routing; and the EventBridge schedule's event, which
//! runs the seats' sweep in the same function.

use app::ssr::Services;
use axum::Router;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{lambda_runtime, Adapter, LambdaEvent, Request, RequestExt};
use std::sync::Arc;
use tower::{ServiceBuilder, ServiceExt};

/// The service `lambda_http::run` drives (the tests drive it too).
pub fn service(
    router: Router,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    ServiceBuilder::new()
        .map_request(strip_stage)
        .service(router)
}

/// `/prod/admin` → `/admin` for API Gateway events whose stage is `prod`.
pub fn strip_stage(mut request: Request) -> Request {
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") else {
        return request;
    };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    let rest = match path.strip_prefix(&prefix) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => return request,
    };
    let rewritten = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    if let Ok(uri) = rewritten.parse() {
        *request.uri_mut() = uri;
    }
    request
}

/// Whether an event is EventBridge's scheduled event (the template's rule), not a request.
/// Only a direct invocation can carry one: API Gateway hands the function proxy events.
pub fn is_scheduled(event: &serde_json::Value) -> bool {
    event["source"] == "aws.events" && event["detail-type"] == "Scheduled Event"
}

/// One invocation: the schedule's event sweeps the seats and answers the report; anything else
/// is an API Gateway event for the router.
pub async fn handle(
    router: Router,
    services: Arc<Services>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let LambdaEvent { payload, context } = event;
    if is_scheduled(&payload) {
        let report = services.sweep().await.inspect_err(|e| {
            tracing::error!(cause = %app::ssr::error::CauseChain(e), "the seat sweep failed");
        })?;
        return Ok(serde_json::to_value(report)?);
    }
    let request: LambdaRequest = serde_json::from_value(payload)?;
    let response = Adapter::from(service(router))
        .oneshot(LambdaEvent::new(request, context))
        .await?;
    Ok(serde_json::to_value(response)?)
}

/// Runs the router and the sweep until Lambda stops the process.
pub async fn run(router: Router, services: Arc<Services>) -> anyhow::Result<()> {
    let handler =
        lambda_runtime::service_fn(move |event| handle(router.clone(), services.clone(), event));
    lambda_runtime::run(handler)
        .await
        .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))
}
