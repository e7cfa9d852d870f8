//! The Lambda path in-process: API Gateway REST proxy events (tests/events/*.json) go through
//! lambda_http's own adapter into the real router, and its API Gateway responses are checked:
//! status, headers, body and isBase64Encoded.

use crate::common::{fixture, spawn_app, TestApp};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use std::path::Path;
use tower::ServiceExt;

/// Feeds an event file (placeholders replaced) through the Lambda adapter; returns the
/// API Gateway response as JSON.
async fn invoke(app: &TestApp, event: &str, replacements: &[(&str, String)]) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(event);
    let mut text = std::fs::read_to_string(path).unwrap();
    for (placeholder, value) in replacements {
        text = text.replace(placeholder, value);
    }
    let payload: LambdaRequest = serde_json::from_str(&text).expect("an API Gateway event");
    let mut context = Context::default();
    context.request_id = "c0ffee00-0000-4000-8000-000000000001".into();
    let adapter = Adapter::from(server::lambda::service(app.router.clone()));
    let response = adapter
        .oneshot(LambdaEvent::new(payload, context))
        .await
        .unwrap();
    serde_json::to_value(response).unwrap()
}

fn body_json(response: &serde_json::Value) -> serde_json::Value {
    assert_eq!(response["isBase64Encoded"], false, "JSON answers are text");
    serde_json::from_str(response["body"].as_str().unwrap()).unwrap()
}

fn header<'a>(response: &'a serde_json::Value, name: &str) -> &'a str {
    response["headers"][name]
        .as_str()
        .or_else(|| response["multiValueHeaders"][name][0].as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_render_with_and_without_the_stage_in_the_path() {
    let app = spawn_app().await;
    let root = invoke(&app, "rest-get-root.json", &[]).await;
    assert_eq!(root["statusCode"], 200, "{root}");
    assert_eq!(root["isBase64Encoded"], false);
    assert!(header(&root, "content-type").starts_with("text/html"));
    assert!(root["body"].as_str().unwrap().contains("Request Kiro Pro"));
    assert_eq!(header(&root, "x-frame-options"), "DENY");

    let admin = invoke(&app, "rest-get-stage-in-path.json", &[]).await;
    assert_eq!(admin["statusCode"], 200, "{admin}");
    assert!(admin["body"]
        .as_str()
        .unwrap()
        .contains("Create a Kiro Pro user"));
}

#[tokio::test]
async fn a_server_function_call_with_the_key_header() {
    let app = spawn_app().await;
    let response = invoke(&app, "rest-post-server-fn.json", &[]).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let user = body_json(&response);
    assert_eq!(user["created"], true);
    assert_eq!(user["displayName"], "Grace Hopper");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn json_check_credits_with_a_base64_image() {
    let app = spawn_app().await;
    let image = crate::common::b64(&fixture("depleted-light.png"));
    let response = invoke(
        &app,
        "rest-post-check-credits-json.json",
        &[("{{IMAGE_BASE64}}", image)],
    )
    .await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert!(header(&response, "content-type").starts_with("application/json"));
    assert_eq!(body_json(&response)["verdict"], "granted");
}

#[tokio::test]
async fn a_multipart_upload_arriving_base64_encoded() {
    let app = spawn_app().await;
    let mut body = Vec::new();
    body.extend(b"--kiro-boundary\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@example.com\r\n");
    body.extend(b"--kiro-boundary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"u.png\"\r\nContent-Type: image/png\r\n\r\n");
    body.extend(fixture("available-light.png"));
    body.extend(b"\r\n--kiro-boundary--\r\n");
    let encoded = crate::common::b64(&body);
    let response = invoke(
        &app,
        "rest-post-check-credits-multipart.json",
        &[("{{MULTIPART_BASE64}}", encoded)],
    )
    .await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let outcome = body_json(&response);
    assert_eq!(outcome["verdict"], "denied");
    assert_eq!(outcome["reason"], "credits_available");
}

#[tokio::test]
async fn a_missing_key_is_401_json() {
    let app = spawn_app().await;
    let response = invoke(&app, "rest-post-missing-key.json", &[]).await;
    assert_eq!(response["statusCode"], 401, "{response}");
    assert_eq!(body_json(&response)["error"]["code"], "missing_key");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json() {
    let app = spawn_app().await;
    let big = "x".repeat(7 * 1024 * 1024);
    let response = invoke(&app, "rest-post-too-large.json", &[("{{BIG_BODY}}", big)]).await;
    assert_eq!(
        response["statusCode"],
        413,
        "{}",
        &response.to_string()[..300]
    );
    let error = body_json(&response);
    let limit = app::domain::megabytes(server::state::MAX_JSON_BODY_BYTES);
    assert!(error["error"]["message"].as_str().unwrap().contains(&limit));
}

#[test]
fn the_stage_is_taken_off_the_path_only_when_it_leads() {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
    use lambda_http::request::RequestContext;
    let request = |path: &str, stage: Option<&str>| {
        let mut ctx = ApiGatewayProxyRequestContext::default();
        ctx.stage = stage.map(str::to_owned);
        let mut r = lambda_http::Request::new(lambda_http::Body::Empty);
        *r.uri_mut() = path.parse().unwrap();
        r.extensions_mut().insert(RequestContext::ApiGatewayV1(ctx));
        server::lambda::strip_stage(r).uri().to_string()
    };
    assert_eq!(request("/prod/admin?x=1", Some("prod")), "/admin?x=1");
    assert_eq!(request("/prod", Some("prod")), "/");
    assert_eq!(
        request("/production/admin", Some("prod")),
        "/production/admin"
    );
    assert_eq!(request("/admin", Some("prod")), "/admin");
    assert_eq!(request("/prod/admin", None), "/prod/admin");
}

#[test]
fn cloudfront_adds_the_apps_own_policy_where_the_app_sets_none() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let template = std::fs::read_to_string(template).unwrap();
    let policy = app::ssr::security::content_security_policy(None);
    assert!(
        template.contains(&format!("ContentSecurityPolicy: \"{policy}\"")),
        "infra/template.yaml's CSP differs from the app's: {policy}"
    );
}

/// The schedule's event (`tests/events/eventbridge-scheduled.json`, the example event of the
/// `aws_lambda_events` crate, as AWS documents it) runs the sweep and answers its report; an
/// API Gateway event through the same handler still reaches the router.
#[tokio::test]
async fn the_schedules_event_sweeps_the_seats_and_requests_still_reach_the_router() {
    let app = spawn_app().await;
    let event = |name: &str| -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/events")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let handle = |payload| {
        server::lambda::handle(
            app.router.clone(),
            app.services.clone(),
            LambdaEvent::new(payload, Context::default()),
        )
    };
    let scheduled = event("eventbridge-scheduled.json");
    assert!(server::lambda::is_scheduled(&scheduled));
    let report = handle(scheduled).await.unwrap();
    assert_eq!(report["reclaimed"], 0, "{report}");
    assert!(report.get("statusCode").is_none(), "{report}");

    let request = event("rest-get-root.json");
    assert!(!server::lambda::is_scheduled(&request));
    let page = handle(request).await.unwrap();
    assert_eq!(page["statusCode"], 200, "{page}");
}
