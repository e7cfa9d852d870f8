//! The HTTP router: Leptos pages and server functions, the JSON endpoints, health, and the
//! layers around them. `app(state)` is what `startup` builds and the binary serves.

use crate::json_api;
use crate::rejections::json_errors;
use crate::state::{AppState, MAX_JSON_BODY_BYTES, MAX_MULTIPART_BODY_BYTES};
use app::shell;
use app::ssr::security::content_security_policy;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::{header, HeaderName, HeaderValue, Method};
use leptos::prelude::*;
use leptos_axum::handle_server_fns_with_context;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

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
    let assets = assets(&state.leptos_options);
    Router::new()
        .route("/", get(page.clone()))
        .route("/admin", get(page))
        .route("/healthz", get(json_api::healthz))
        // Multipart is read under axum's DefaultBodyLimit (2 MB unless told otherwise).
        .route(
            "/check-credits",
            post(json_api::check_credits).layer(DefaultBodyLimit::max(MAX_MULTIPART_BODY_BYTES)),
        )
        .route("/verify-email", post(json_api::verify_email))
        .route("/create-user", post(json_api::create_user))
        .route("/reviews", get(json_api::waiting_reviews))
        .route("/reviews/approve", post(json_api::approve_review))
        .route("/reviews/deny", post(json_api::deny_review))
        .route("/screenshot", get(json_api::screenshot))
        .route("/members", get(json_api::members))
        .route("/decisions", get(json_api::decisions))
        .route("/members/revoke", post(json_api::revoke))
        .route("/members/extend", post(json_api::extend_seat))
        .route("/seats/sweep", post(json_api::sweep))
        .route("/test/clock", post(json_api::move_clock))
        .route("/api/{*fn_name}", post(server_fn))
        .nest_service("/pkg", assets)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // Layers run bottom-up on the way in: the request id first (every log line and 5xx
        // carries it), security headers on every response (a page has already set its Content
        // Security Policy, with the nonce of its scripts), CORS answers pre-flight before
        // anything else, then every error not already JSON (a bare 413 from the body limit,
        // which answers a Content-Length over it before the body is read; axum's 405) is made
        // JSON.
        .layer(RequestBodyLimitLayer::new(MAX_JSON_BODY_BYTES))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(cors)
        // Pages carry a fresh script nonce, answers are per key: nothing is kept by caches
        // unless it says so (the hashed assets do).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
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

/// `/pkg`: the built script, WASM and stylesheet, sent precompressed (brotli or gzip, as the
/// browser accepts) when the build made `.br` / `.gz` beside them (`cargo leptos build
/// --precompress`). Hashed names never change content, so a found file is cached a year;
/// without hashes, revalidated each time.
fn assets(options: &LeptosOptions) -> axum::routing::MethodRouter {
    let dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let cache = HeaderValue::from_static(if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip();
    axum::routing::get_service(files).layer(axum::middleware::map_response(
        move |mut response: Response| {
            let cache = cache.clone();
            async move {
                if response.status().is_success() || response.status().is_redirection() {
                    response.headers_mut().insert(header::CACHE_CONTROL, cache);
                }
                response
            }
        },
    ))
}

/// The header that carries the request id back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A span per request with its id (Lambda's when there is one, else a fresh one), so every log
/// line of a request can be found, and a 5xx names the id its log lines carry.
async fn request_span(request: Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let request_id = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let deadline = lambda_deadline(&request);
    let id = request_id.clone();
    let served = async move {
        let started = std::time::Instant::now();
        let mut response = next.run(request).await;
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "served"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        response
    };
    let bounded = app::ssr::deadline::with_deadline(deadline, served);
    app::ssr::error::with_request_id(request_id, bounded.instrument(span)).await
}

/// The invocation's deadline on Lambda (milliseconds since the epoch in the runtime's context),
/// as an `Instant`. None locally, and for a context without one.
fn lambda_deadline(request: &Request) -> Option<std::time::Instant> {
    let deadline_ms = request.extensions().get::<lambda_http::Context>()?.deadline;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    (deadline_ms > now_ms)
        .then(|| std::time::Instant::now() + std::time::Duration::from_millis(deadline_ms - now_ms))
}

async fn server_fn(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || provide_context(services.clone()), request).await
}

fn cors_layer(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            "x-api-key".parse().expect("header name"),
        ])
        .expose_headers([
            HeaderName::from_static(REQUEST_ID_HEADER),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600))
}
