//! Records kept as objects, copied into an index: what an import counts, and the import of a
//! bucket the blob index wrote (`server import-records`, once, when a stack moves its records
//! from the bucket's listings to the DynamoDB table). What the index already has is kept (a
//! record settled there stays settled); nothing is deleted; a finished import leaves a marker
//! in the bucket, so that a second run reads that and does nothing.

use super::{blob_likeness, blob_seats};
use app::api::{AdminAction, DecisionRecord};
use app::ssr::ports::{AuditStore, Claim, PortResult, RecordIndex};
use futures::{StreamExt, TryStreamExt};

/// How many objects the import reads at once.
const AT_ONCE: usize = 16;

/// What an import found kept as objects and indexed (what the index had already is not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub decisions: usize,
    pub actions: usize,
    pub claims: usize,
    pub reviews: usize,
    pub likenesses: usize,
    pub seats: usize,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "indexed {} decisions, {} administrator actions, {} image claims, {} waiting reviews, \
             {} granted images' likenesses and {} seats",
            self.decisions, self.actions, self.claims, self.reviews, self.likenesses, self.seats
        )
    }
}

/// The marker a finished import of the bucket into `table` leaves.
pub fn marker(table: &str) -> String {
    format!("imports/records-into-{table}")
}

/// Copies what the blob index kept in `audit` (decision records under `screenshots/`, their
/// waiting reviews, `actions/`, `claims/`, `similar/` and `seats/`) into `index`, unless the
/// `marker` says it was done (`None`). The likenesses are re-keyed first, as a start would. A
/// run stopped half-way is run again: it keeps what it had copied.
pub async fn import_bucket(
    audit: &dyn AuditStore,
    index: &dyn RecordIndex,
    marker: &str,
) -> anyhow::Result<Option<Imported>> {
    if audit.read_once(marker).await?.is_some() {
        return Ok(None);
    }
    blob_likeness::rekey(audit).await?;
    let mut imported = Imported::default();
    let mut keys = audit.keys_in("screenshots/").await?;
    keys.retain(|k| k.ends_with(".json"));
    let read: Vec<(Option<DecisionRecord>, bool)> = futures::stream::iter(keys)
        .map(|key| async move { decision(audit, index, &key).await })
        .buffer_unordered(AT_ONCE)
        .try_collect()
        .await?;
    let mut waiting = Vec::new();
    for (record, copied) in read {
        imported.decisions += usize::from(copied);
        waiting.extend(record.filter(|r| r.is_waiting()));
    }
    waiting.sort_by(|a, b| (&a.at, a.record_key()).cmp(&(&b.at, b.record_key())));
    for record in &waiting {
        let opened = index
            .open_review(&record.email, &record.record_key())
            .await?;
        imported.reviews += usize::from(opened);
    }
    // Actions are few (people act, not scripts): those the index has are read once.
    let had = index.recent_actions(usize::MAX).await?;
    for key in audit.keys_in("actions/").await? {
        let Some(bytes) = audit.read_once(&key).await? else {
            continue;
        };
        match serde_json::from_slice::<AdminAction>(&bytes) {
            Ok(action) if had.contains(&action) => {}
            Ok(action) => {
                index.put_action(&key, &action).await?;
                imported.actions += 1;
            }
            Err(e) => tracing::warn!(%key, "not an action: {e}"),
        }
    }
    for key in audit.keys_in("claims/").await? {
        let sha = key.trim_start_matches("claims/");
        // An empty claim is one whose writer stopped before naming its owner.
        let Some(owner) = audit.image_owner(sha).await?.filter(|o| !o.is_empty()) else {
            continue;
        };
        let claim = index.claim_image(sha, &owner).await?;
        if let Claim::OtherOwner(first) = &claim {
            tracing::warn!(%sha, %owner, %first, "the index names another owner; it stays");
        }
        imported.claims += usize::from(claim == Claim::Fresh);
    }
    for entry in blob_likeness::all(audit).await? {
        imported.likenesses += usize::from(index.reserve_likeness(&entry).await?);
    }
    for seat in blob_seats::all(audit).await? {
        if index.seat(&seat.email).await?.is_none() {
            index.put_seat(&seat).await?;
            imported.seats += 1;
        }
    }
    let done = chrono::Utc::now().to_rfc3339();
    audit.create_once(marker, done.as_bytes()).await?;
    Ok(Some(imported))
}

/// The record at `key` as the index will have it, and whether it was copied there now.
async fn decision(
    audit: &dyn AuditStore,
    index: &dyn RecordIndex,
    key: &str,
) -> PortResult<(Option<DecisionRecord>, bool)> {
    if let Some(kept) = index.decision(key).await? {
        return Ok((Some(kept), false));
    }
    let Some(record) = audit.record(key).await? else {
        return Ok((None, false));
    };
    if record.record_key() != key {
        tracing::warn!(%key, "a record kept under another record's key is skipped");
        return Ok((None, false));
    }
    index.put_decision(&record).await?;
    Ok((Some(record), true))
}
