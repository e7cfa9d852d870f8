//! What every handler shares (the state) and the request limits, below both the router and the
//! endpoints so that the dependencies run one way: router → endpoints → state.

use app::ssr::{AppError, Services};
use axum::extract::FromRef;
use http::HeaderValue;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Largest request body, in bytes: a 4 MB image as base64 plus the JSON around it.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// The error for a body over `MAX_BODY_BYTES`, however it was noticed.
pub fn body_too_large() -> AppError {
    AppError::TooLarge {
        limit_bytes: MAX_BODY_BYTES,
        message: format!(
            "The request body is larger than {}.",
            app::domain::megabytes(MAX_BODY_BYTES)
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
