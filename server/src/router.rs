//! The HTTP router: Leptos pages and server functions, the JSON endpoints, health, and the
//! layers around them. `app(state)` is what the binary serves and what the tests drive.

use crate::json_api::{self, MAX_BODY_BYTES};
use app::shell;
use app::ssr::security::content_security_policy;
use app::ssr::Services;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::{header, HeaderValue, Method, StatusCode};
use leptos::prelude::*;
use leptos_axum::handle_server_fns_with_context;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Arc<Services>,
    pub cors_origins: Vec<String>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn app(state: AppState) -> Router {
    // Leptos spawns rendering tasks on the tokio runtime; a second call is a harmless no-op.
    let _ = any_spawner::Executor::init_tokio();
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    let page = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(services.clone()),
        move || shell(options.clone()),
    );
    let cors = cors_layer(&state.cors_origins);
    Router::new()
        .route("/", get(page.clone()))
        .route("/admin", get(page))
        .route("/healthz", get(json_api::healthz))
        .route("/check-credits", post(json_api::check_credits))
        .route("/create-user", post(json_api::create_user))
        .route("/api/{*fn_name}", post(server_fn))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // Layers run bottom-up on the way in: security headers are set on every response (a
        // page has already set its Content Security Policy, with the nonce of its scripts),
        // CORS answers pre-flight before anything else, then the body limit, whose bare 413
        // the innermost layer turns into our JSON error.
        .layer(axum::middleware::map_response(json_413))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(cors)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy(None)).expect("a valid header"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(axum::middleware::from_fn(request_span))
}

/// A span per request, with Lambda's request id when there is one, so every log line of a
/// request can be found in CloudWatch.
async fn request_span(request: Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let request_id = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path()
    );
    async move {
        let started = std::time::Instant::now();
        let response = next.run(request).await;
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "served"
        );
        response
    }
    .instrument(span)
    .await
}

async fn server_fn(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || provide_context(services.clone()), request).await
}

/// A 413 from the body limit has a plain-text body; give it ours.
async fn json_413(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        json_api::too_large().into_response()
    } else {
        response
    }
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            "x-api-key".parse().expect("header name"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}
