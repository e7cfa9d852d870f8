//! Kiro Access server: configuration, the adapters behind each port, and the HTTP router.

pub mod adapters;
pub mod config;
pub mod json_api;
pub mod lambda;
pub mod router;

pub use config::Config;
pub use router::{app, AppState};
