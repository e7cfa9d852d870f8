//! The ports: what the workflows need from a directory, an audit store and an analyzer.
//! Each has a local adapter and an AWS adapter in the server crate.

use crate::api::{DecisionRecord, Evidence};
use async_trait::async_trait;

/// Why a port call failed. `Conflict` is the Identity Store's ConflictException: the thing exists.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("already exists")]
    Conflict,
    #[error("{0} did not answer in time")]
    Timeout(String),
    #[error("{0}")]
    Unavailable(String),
    /// A dependency answered, but with an error or nonsense (e.g. the model is throttling).
    #[error("{0}")]
    Upstream(String),
}

pub type PortResult<T> = Result<T, PortError>;

/// A user to create, with the Identity Store's fields.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub user_name: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
}

/// Users, groups and memberships, shaped like the Identity Store's API so adapters stay thin.
#[async_trait]
pub trait Directory: Send + Sync {
    /// GetUserId by UserName.
    async fn find_user(&self, user_name: &str) -> PortResult<Option<String>>;
    /// CreateUser; `Conflict` when the user name is taken.
    async fn create_user(&self, user: &NewUser) -> PortResult<String>;
    /// GetGroupId by DisplayName.
    async fn find_group(&self, display_name: &str) -> PortResult<Option<String>>;
    /// CreateGroup; `Conflict` when the display name is taken.
    async fn create_group(&self, display_name: &str) -> PortResult<String>;
    /// IsMemberInGroups for one group.
    async fn is_member(&self, group_id: &str, user_id: &str) -> PortResult<bool>;
    /// CreateGroupMembership; `Conflict` when already a member.
    async fn add_member(&self, group_id: &str, user_id: &str) -> PortResult<()>;
}

/// Who first used an image, when someone claims it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had; it is now this email's.
    Fresh,
    /// This email had claimed it already.
    SameOwner,
    /// Another email had.
    OtherOwner(String),
}

/// Screenshots and decision records, kept for audit under `screenshots/`.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn put_screenshot(&self, key: &str, bytes: &[u8], content_type: &str) -> PortResult<()>;
    /// Writes (or overwrites) the JSON record at `key`.
    async fn put_record(&self, key: &str, record: &DecisionRecord) -> PortResult<()>;
    /// The newest `limit` records, newest first.
    async fn recent(&self, limit: usize) -> PortResult<Vec<DecisionRecord>>;
    /// Who owns this image hash, if anyone.
    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>>;
    /// Claims the hash for `email` atomically (first writer wins).
    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim>;
}

/// An image ready for analysis: decoded within limits, downscaled and re-encoded as PNG.
#[derive(Clone, Debug)]
pub struct NormalisedImage {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the normalised pixels (hex): the same picture gives the same hash.
    pub sha256: String,
}

/// Reads evidence off a screenshot. Never decides.
#[async_trait]
pub trait Analyzer: Send + Sync {
    /// A short name for audit records ("tesseract", "bedrock:us.amazon.nova-pro-v1:0").
    fn name(&self) -> String;
    async fn analyze(&self, image: &NormalisedImage) -> PortResult<Evidence>;
}

impl From<PortError> for crate::api::ApiError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Conflict => Self::new(409, "conflict", "It already exists."),
            PortError::Timeout(what) => Self::timeout(format!(
                "{what} did not answer in time. Nothing was changed; try again shortly."
            )),
            PortError::Unavailable(what) => Self::unavailable(format!(
                "A service we depend on is unavailable ({what}). Nothing was changed; try again shortly."
            )),
            PortError::Upstream(what) => Self::new(
                502,
                "bad_gateway",
                format!("A service we depend on failed ({what}). Nothing was changed; try again shortly."),
            ),
        }
    }
}
