//! Kiro Access server: configuration, the adapters behind each port, the HTTP router, and the
//! one way to start them (`startup::Application::build`).

pub mod adapters;
pub mod config;
pub mod json_api;
pub mod lambda;
pub mod private_files;
pub mod rejections;
pub mod router;
pub mod scorecard;
pub mod startup;
pub mod state;

pub use config::Config;
pub use router::app;
pub use startup::Application;
pub use state::AppState;
