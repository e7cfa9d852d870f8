//! Server-only code: the ports the workflows talk to, the rules, and the workflows themselves.

pub mod access;
pub mod assets;
pub mod capacity;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod history;
pub mod likeness;
pub mod members;
pub mod metrics;
pub mod normalise;
pub mod notify;
pub mod ports;
pub mod review;
pub mod seats;
pub mod security;
pub mod subaddress;
pub mod verify;
pub mod workflow;

use std::sync::Arc;

pub use access::{KeyRing, RateLimiter, Role, Secret};
pub use error::{AppError, AppResult, Field};
pub use ports::{Analyzer, AuditStore, Directory, Mailer, RecordIndex};

/// What the organisation allows: whose addresses may ask, and how many seats it pays for.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allowed_domains: crate::domain::AllowedDomains,
    /// `KIRO_MAX_SEATS`: the group's size at most; `None`, no cap.
    pub max_seats: Option<u32>,
    /// `KIRO_REQUESTS_PER_ADDRESS`: screenshots one address may send a UTC day (beside each
    /// key's limit, so one member cannot spend everyone's quota); `None`, no limit.
    pub requests_per_address: Option<u32>,
    /// `KIRO_VERIFY_EMAIL`: a request for Pro must carry a code mailed to the address
    /// (`verify`). On in the server's configuration; off in `Policy::default()`.
    pub verify_email: bool,
    /// `KIRO_SEAT_POLICY`: how long a grant lasts.
    pub seat_policy: seats::SeatPolicy,
    /// `KIRO_SUBADDRESSES`: whether `ada+1@corp.com` is Ada, refused, or another person.
    pub subaddresses: subaddress::SubAddresses,
    /// `KIRO_SEAT_REMINDER_DAYS`: how long before its end a seat's holder is asked to renew.
    pub reminder_days: u32,
}

/// Everything a request needs: the three ports plus keys, limits, the group and the policy.
/// Built once at start-up by the server and shared by the router and the server functions.
pub struct Services {
    pub directory: Arc<dyn Directory>,
    /// Screenshots (and, until the likeness and codes move, their entries).
    pub audit: Arc<dyn AuditStore>,
    /// Decisions, the review queue, actions and claims, looked up rather than listed.
    pub index: Arc<dyn RecordIndex>,
    pub analyzer: Arc<dyn Analyzer>,
    pub keys: KeyRing,
    pub limiter: RateLimiter,
    /// Display name of the group whose members get Kiro Pro.
    pub group_name: String,
    pub policy: Policy,
    /// Bounds the screenshots decoded and read at once.
    pub analysis_slots: capacity::AnalysisSlots,
    /// Mail to the requester and the administrators; none unless `with_notifier`.
    pub notifier: notify::Notifier,
    /// What seats are reckoned by (movable only in tests).
    pub clock: seats::Clock,
    group_id: tokio::sync::OnceCell<String>,
}

impl Services {
    pub fn new(
        directory: Arc<dyn Directory>,
        audit: Arc<dyn AuditStore>,
        index: Arc<dyn RecordIndex>,
        analyzer: Arc<dyn Analyzer>,
        keys: KeyRing,
        limiter: RateLimiter,
        group_name: String,
    ) -> Self {
        Self {
            directory,
            audit,
            index,
            analyzer,
            keys,
            limiter,
            group_name,
            policy: Policy::default(),
            analysis_slots: capacity::AnalysisSlots::default(),
            notifier: notify::Notifier::default(),
            clock: seats::Clock::default(),
            group_id: tokio::sync::OnceCell::new(),
        }
    }

    pub fn with_policy(self, policy: Policy) -> Self {
        Self { policy, ..self }
    }

    pub fn with_analysis_limits(self, limits: capacity::AnalysisLimits) -> Self {
        Self {
            analysis_slots: capacity::AnalysisSlots::new(limits),
            ..self
        }
    }

    pub fn with_clock(self, clock: seats::Clock) -> Self {
        Self { clock, ..self }
    }

    pub fn with_notifier(self, notifier: notify::Notifier) -> Self {
        Self { notifier, ..self }
    }

    /// Uses this group id instead of looking the group up by name (a configured id).
    pub fn with_group_id(self, id: String) -> Self {
        Self {
            group_id: tokio::sync::OnceCell::new_with(Some(id)),
            ..self
        }
    }
}
