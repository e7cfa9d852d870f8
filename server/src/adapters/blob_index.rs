//! The record index over an audit store's objects (S3 on AWS until the DynamoDB adapter exists,
//! and the in-memory fake the workflow tests fail on purpose). Lookups are listings: `decisions`
//! sees the newest `SCAN_REACH` records only. What it keeps of the contract, without a
//! database: queue slots named by a digest of the exact email (no two addresses share one), a
//! settled or missing record never holds the queue, and one marker object per revision
//! (`rulings/{record}.{revision}`, written once) lets one conditional update win.

use super::{blob_likeness, blob_seats};
use app::api::{AdminAction, DecisionRecord};
use app::ssr::likeness::{Likeness, LikenessEntry};
use app::ssr::ports::{
    AuditStore, Claim, DecisionPage, DecisionQuery, PortResult, RecordIndex, Seat,
};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How many of the newest records `decisions` filters (the admin page's reach before the index).
pub const SCAN_REACH: usize = 500;

#[derive(Clone)]
pub struct BlobIndex {
    audit: Arc<dyn AuditStore>,
}

impl BlobIndex {
    pub fn new(audit: Arc<dyn AuditStore>) -> Self {
        Self { audit }
    }

    /// Re-keys the likenesses kept before `LIKENESS_VERSION`, once (`blob_likeness::rekey`).
    pub async fn rekey_likenesses(
        &self,
    ) -> app::ssr::AppResult<Option<app::ssr::likeness::Rekeyed>> {
        blob_likeness::rekey(&*self.audit).await
    }

    /// The queue slot of an exact email: the store's own review names fold letters that differ.
    fn slot(email: &str) -> String {
        let digest = Sha256::digest(email.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("q{hex}")
    }

    /// Empties `email`'s queue slot if it still names `key`.
    async fn release(&self, email: &str, key: &str) -> PortResult<()> {
        let slot = Self::slot(email);
        if self.audit.waiting_review(&slot).await?.as_deref() == Some(key) {
            self.audit.close_review(&slot).await?;
        }
        Ok(())
    }

    /// The record at `key` if it is stored and still waiting.
    async fn waiting_record(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        Ok(self.audit.record(key).await?.filter(|r| r.is_waiting()))
    }
}

/// Whether `record` passes the query's filters.
fn matches(query: &DecisionQuery, record: &DecisionRecord) -> bool {
    query.email.as_ref().is_none_or(|e| *e == record.email)
        && query.verdict.is_none_or(|v| v == record.verdict)
        && query.reason.is_none_or(|r| Some(r) == record.reason)
}

#[async_trait]
impl RecordIndex for BlobIndex {
    async fn put_decision(&self, record: &DecisionRecord) -> PortResult<()> {
        self.audit.put_record(&record.record_key(), record).await
    }

    async fn decision(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        self.audit.record(key).await
    }

    async fn decisions(&self, query: &DecisionQuery) -> PortResult<DecisionPage> {
        let mut found: Vec<DecisionRecord> = self
            .audit
            .recent(SCAN_REACH)
            .await?
            .into_iter()
            .filter(|r| matches(query, r))
            .collect();
        found.sort_by(|a, b| (&b.at, b.record_key()).cmp(&(&a.at, a.record_key())));
        if let Some(after) = &query.after {
            let Some(at) = found.iter().position(|r| r.record_key() == *after) else {
                return Ok(DecisionPage::default());
            };
            found.drain(..=at);
        }
        let limit = query.limit.max(1);
        let more = found.len() > limit;
        found.truncate(limit);
        Ok(DecisionPage {
            next: more.then(|| found.last().map(|r| r.record_key())).flatten(),
            records: found,
        })
    }

    async fn update_decision(&self, record: &DecisionRecord) -> PortResult<bool> {
        let key = record.record_key();
        match self.audit.record(&key).await? {
            Some(stored) if stored.revision == record.revision => {}
            _ => return Ok(false),
        }
        let marker = format!(
            "rulings/{}.{}",
            key.trim_start_matches("screenshots/"),
            record.revision
        );
        if !self.audit.create_once(&marker, b"").await? {
            return Ok(false);
        }
        let mut next = record.clone();
        next.revision += 1;
        self.audit.put_record(&key, &next).await?;
        if !next.is_waiting() {
            // Best effort: a slot left behind no longer holds the queue (`waiting_review`).
            if let Err(e) = self.release(&next.email, &key).await {
                tracing::warn!(%key, "could not close the review slot: {e}");
            }
        }
        Ok(true)
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        if self.waiting_record(record_key).await?.is_none() {
            return Ok(false);
        }
        let slot = Self::slot(email);
        if let Some(held) = self.audit.waiting_review(&slot).await? {
            if held == record_key || self.waiting_record(&held).await?.is_some() {
                return Ok(false);
            }
            self.audit.close_review(&slot).await?;
        }
        self.audit.open_review(&slot, record_key).await
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        let Some(key) = self.audit.waiting_review(&Self::slot(email)).await? else {
            return Ok(None);
        };
        Ok(self.waiting_record(&key).await?.map(|_| key))
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<DecisionRecord>> {
        let mut waiting = Vec::new();
        for key in self.audit.waiting_reviews().await? {
            match self.waiting_record(&key).await? {
                Some(record) => waiting.push(record),
                None => tracing::info!(%key, "a queued review has no waiting record"),
            }
        }
        waiting.sort_by(|a, b| (&a.at, a.record_key()).cmp(&(&b.at, b.record_key())));
        Ok(waiting)
    }

    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()> {
        self.audit.put_action(key, action).await
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        self.audit.recent_actions(limit).await
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        self.audit.image_owner(sha256).await
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        self.audit.claim_image(sha256, email).await
    }

    async fn reserve_likeness(&self, entry: &LikenessEntry) -> PortResult<bool> {
        blob_likeness::reserve(&*self.audit, entry).await
    }

    async fn release_likeness(&self, sha256: &str, email: &str) -> PortResult<()> {
        blob_likeness::release(&*self.audit, sha256, email).await
    }

    async fn likeness_candidates(&self, likeness: &Likeness) -> PortResult<Vec<LikenessEntry>> {
        blob_likeness::candidates(&*self.audit, likeness).await
    }

    async fn put_seat(&self, seat: &Seat) -> PortResult<()> {
        blob_seats::put(&*self.audit, seat).await
    }

    async fn seat(&self, email: &str) -> PortResult<Option<Seat>> {
        blob_seats::get(&*self.audit, email).await
    }

    async fn remove_seat(&self, email: &str) -> PortResult<()> {
        blob_seats::remove(&*self.audit, email).await
    }

    async fn seats_ending_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        blob_seats::due_by(&*self.audit, by, limit, |s| s.ends.as_deref()).await
    }

    async fn reminders_due_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        blob_seats::due_by(&*self.audit, by, limit, blob_seats::unreminded).await
    }

    /// `codes/{owner}/{name}`, gone a day after it is written by the bucket's lifecycle rule
    /// (`expire-codes` in `infra/template.yaml`), which is what `expires` asks of it.
    async fn put_code_item(
        &self,
        owner: &str,
        name: &str,
        bytes: &[u8],
        _expires: i64,
    ) -> PortResult<bool> {
        self.audit.create_once(&code_key(owner, name), bytes).await
    }

    async fn code_item_names(&self, owner: &str) -> PortResult<Vec<String>> {
        let folder = code_key(owner, "");
        let keys = self.audit.keys_in(&folder).await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.strip_prefix(&folder).map(str::to_owned))
            .collect())
    }

    async fn code_item(&self, owner: &str, name: &str) -> PortResult<Option<Vec<u8>>> {
        self.audit.read_once(&code_key(owner, name)).await
    }
}

/// Where an owner's code item is kept: one folder per owner (an address's digest).
fn code_key(owner: &str, name: &str) -> String {
    format!("codes/{owner}/{name}")
}
