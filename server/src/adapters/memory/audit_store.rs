//! An in-memory audit store: screenshots, records and image claims in maps.

use super::{Failure, Failures};
use app::api::{AdminAction, DecisionRecord};
use app::ssr::ports::{AuditStore, Claim, PortResult};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// The audit store's operations, to tell one to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditOp {
    PutScreenshot,
    PutRecord,
    Recent,
    ImageOwner,
    ClaimImage,
    /// `record` and `screenshot`.
    Read,
    /// Every review queue call.
    Reviews,
    /// `put_action` and `recent_actions`.
    Actions,
    /// `create_once`, `read_once` and `keys_in` (the one-time codes).
    Codes,
}

#[derive(Debug, Default)]
struct State {
    screenshots: HashMap<String, Vec<u8>>,
    records: HashMap<String, DecisionRecord>,
    owners: HashMap<String, String>,
    /// The review queue: email → record key.
    reviews: HashMap<String, String>,
    /// Administrators' actions by key.
    actions: std::collections::BTreeMap<String, AdminAction>,
    /// What `create_once` wrote, by key.
    small_objects: std::collections::BTreeMap<String, Vec<u8>>,
    /// When set, the next claim finds this email's claim already there: another request won.
    claimed_meanwhile_by: Option<String>,
}

#[derive(Debug)]
pub struct MemoryAuditStore {
    state: Mutex<State>,
    failures: Failures<AuditOp>,
}

impl Default for MemoryAuditStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            failures: Failures::new("the audit store"),
        }
    }
}

impl MemoryAuditStore {
    /// Makes `op` fail from now on (`None`: work again).
    pub fn fail(&self, op: AuditOp, failure: Option<Failure>) {
        self.failures.set(op, 0, failure);
    }

    /// Lets `op` succeed `successes` more times, then fail.
    pub fn fail_after(&self, op: AuditOp, successes: usize, failure: Failure) {
        self.failures.set(op, successes, Some(failure));
    }

    /// The next `claim_image` finds the image already claimed by `email`, as when a request
    /// for another account claimed it between our check and our claim.
    pub fn claim_meanwhile_by(&self, email: &str) {
        self.lock().claimed_meanwhile_by = Some(email.to_owned());
    }

    /// Every record kept, by key.
    pub fn records(&self) -> HashMap<String, DecisionRecord> {
        self.lock().records.clone()
    }

    /// Every administrator action kept, newest first.
    pub fn actions(&self) -> Vec<AdminAction> {
        self.lock().actions.values().rev().cloned().collect()
    }

    /// What `create_once` wrote, by key.
    pub fn small_objects(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.lock().small_objects.clone()
    }

    /// Replaces a small object, as time or a broken store would (a code made old).
    pub fn overwrite(&self, key: &str, bytes: &[u8]) {
        self.lock()
            .small_objects
            .insert(key.to_owned(), bytes.to_vec());
    }

    pub fn screenshot_count(&self) -> usize {
        self.lock().screenshots.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AuditStore for MemoryAuditStore {
    async fn put_screenshot(&self, key: &str, bytes: &[u8], _content_type: &str) -> PortResult<()> {
        self.failures.check(AuditOp::PutScreenshot).await?;
        self.lock()
            .screenshots
            .insert(key.to_owned(), bytes.to_vec());
        Ok(())
    }

    async fn put_record(&self, key: &str, record: &DecisionRecord) -> PortResult<()> {
        self.failures.check(AuditOp::PutRecord).await?;
        self.lock().records.insert(key.to_owned(), record.clone());
        Ok(())
    }

    async fn recent(&self, limit: usize) -> PortResult<Vec<DecisionRecord>> {
        self.failures.check(AuditOp::Recent).await?;
        let mut all: Vec<DecisionRecord> = self.lock().records.values().cloned().collect();
        all.sort_by(|a, b| b.at.cmp(&a.at));
        all.truncate(limit);
        Ok(all)
    }

    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()> {
        self.failures.check(AuditOp::Actions).await?;
        self.lock().actions.insert(key.to_owned(), action.clone());
        Ok(())
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        self.failures.check(AuditOp::Actions).await?;
        Ok(self
            .lock()
            .actions
            .values()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn record(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        self.failures.check(AuditOp::Read).await?;
        let record = self.lock().records.get(key).cloned();
        // The answer comes back a moment after it was read, as over a network: requests joined
        // in one task then interleave there, so a race between them is a real one.
        tokio::task::yield_now().await;
        Ok(record)
    }

    async fn screenshot(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.failures.check(AuditOp::Read).await?;
        Ok(self.lock().screenshots.get(key).cloned())
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        self.failures.check(AuditOp::Reviews).await?;
        let mut state = self.lock();
        if state.reviews.contains_key(email) {
            return Ok(false);
        }
        state
            .reviews
            .insert(email.to_owned(), record_key.to_owned());
        Ok(true)
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        self.failures.check(AuditOp::Reviews).await?;
        Ok(self.lock().reviews.get(email).cloned())
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<String>> {
        self.failures.check(AuditOp::Reviews).await?;
        Ok(self.lock().reviews.values().cloned().collect())
    }

    async fn close_review(&self, email: &str) -> PortResult<()> {
        self.failures.check(AuditOp::Reviews).await?;
        self.lock().reviews.remove(email);
        Ok(())
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        self.failures.check(AuditOp::ImageOwner).await?;
        Ok(self.lock().owners.get(sha256).cloned())
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        self.failures.check(AuditOp::ClaimImage).await?;
        let mut state = self.lock();
        if let Some(winner) = state.claimed_meanwhile_by.take() {
            state.owners.entry(sha256.to_owned()).or_insert(winner);
        }
        Ok(match state.owners.get(sha256) {
            None => {
                state.owners.insert(sha256.to_owned(), email.to_owned());
                Claim::Fresh
            }
            Some(owner) if owner == email => Claim::SameOwner,
            Some(owner) => Claim::OtherOwner(owner.clone()),
        })
    }

    async fn create_once(&self, key: &str, bytes: &[u8]) -> PortResult<bool> {
        self.failures.check(AuditOp::Codes).await?;
        let mut state = self.lock();
        if state.small_objects.contains_key(key) {
            return Ok(false);
        }
        state.small_objects.insert(key.to_owned(), bytes.to_vec());
        Ok(true)
    }

    async fn read_once(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.failures.check(AuditOp::Codes).await?;
        Ok(self.lock().small_objects.get(key).cloned())
    }

    async fn remove_once(&self, key: &str) -> PortResult<()> {
        self.failures.check(AuditOp::Codes).await?;
        self.lock().small_objects.remove(key);
        Ok(())
    }

    async fn keys_in(&self, folder: &str) -> PortResult<Vec<String>> {
        self.failures.check(AuditOp::Codes).await?;
        let state = self.lock();
        Ok(state
            .small_objects
            .keys()
            .filter(|k| k.starts_with(folder))
            .cloned()
            .collect())
    }
}
