//! What every handler shares (the state) and the request limits, below both the router and the
//! endpoints so that the dependencies run one way: router → endpoints → state.

use app::ssr::{AppError, Services};
use axum::extract::FromRef;
use http::HeaderValue;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// What of Lambda's 6 MB synchronous invocation payload a body may take: the rest is left for
/// the API Gateway event around it (headers twice, the request context).
const EVENT_BODY_BUDGET: usize = 6 * 1024 * 1024 - 64 * 1024;

/// Largest JSON body (5.94 MB). Text reaches the function as it is; a 4 MB image as base64
/// (5.3 MB) and the fields around it fit.
pub const MAX_JSON_BODY_BYTES: usize = EVENT_BODY_BUDGET;

/// Largest multipart body (4.45 MB). API Gateway base64-encodes binary media types into the
/// event, so a multipart body may be only 3/4 of the budget; a 4 MB image and the fields fit.
pub const MAX_MULTIPART_BODY_BYTES: usize = EVENT_BODY_BUDGET / 4 * 3;

/// Whether a request's body is multipart (and so base64-encoded on its way to Lambda).
pub fn is_multipart(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/"))
}

/// The body limit for a request with these headers.
pub fn body_limit(headers: &http::HeaderMap) -> usize {
    if is_multipart(headers) {
        MAX_MULTIPART_BODY_BYTES
    } else {
        MAX_JSON_BODY_BYTES
    }
}

/// The error for a body over `limit_bytes`, however it was noticed.
pub fn body_too_large(limit_bytes: usize) -> AppError {
    let image = app::domain::megabytes(app::domain::MAX_IMAGE_BYTES);
    AppError::TooLarge {
        limit_bytes,
        message: format!(
            "The request body is larger than {} (screenshots up to {image} fit).",
            app::domain::megabytes(limit_bytes)
        ),
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Arc<Services>,
    pub cors_origins: Vec<HeaderValue>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
