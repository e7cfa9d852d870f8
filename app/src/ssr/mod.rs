//! Server-only code: the ports the workflows talk to, the rules, and the workflows themselves.

pub mod access;
pub mod assets;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod metrics;
pub mod normalise;
pub mod ports;
pub mod review;
pub mod security;
pub mod workflow;

use std::sync::Arc;

pub use access::{KeyRing, RateLimiter, Role, Secret};
pub use error::{AppError, AppResult, Field};
pub use ports::{Analyzer, AuditStore, Directory};

/// Everything a request needs: the three ports plus keys, limits and the group name.
/// Built once at start-up by the server and shared by the router and the server functions.
pub struct Services {
    pub directory: Arc<dyn Directory>,
    pub audit: Arc<dyn AuditStore>,
    pub analyzer: Arc<dyn Analyzer>,
    pub keys: KeyRing,
    pub limiter: RateLimiter,
    /// Display name of the group whose members get Kiro Pro.
    pub group_name: String,
    group_id: tokio::sync::OnceCell<String>,
}

impl Services {
    pub fn new(
        directory: Arc<dyn Directory>,
        audit: Arc<dyn AuditStore>,
        analyzer: Arc<dyn Analyzer>,
        keys: KeyRing,
        limiter: RateLimiter,
        group_name: String,
    ) -> Self {
        Self {
            directory,
            audit,
            analyzer,
            keys,
            limiter,
            group_name,
            group_id: tokio::sync::OnceCell::new(),
        }
    }

    /// Uses this group id instead of looking the group up by name (a configured id).
    pub fn with_group_id(self, id: String) -> Self {
        Self {
            group_id: tokio::sync::OnceCell::new_with(Some(id)),
            ..self
        }
    }
}
