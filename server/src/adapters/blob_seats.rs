//! The seats part of the blob index: one small object per email (`seats/{digest}.json`, the
//! digest of the exact email). Overwriting is remove-then-create, and the sweep's lists read
//! every seat object: cost grows with the seats held, as the blob index's lists do.

use app::ssr::ports::{AuditStore, PortError, PortResult, Seat};
use sha2::{Digest, Sha256};

const FOLDER: &str = "seats/";

fn key(email: &str) -> String {
    let digest = Sha256::digest(email.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{FOLDER}{hex}.json")
}

pub async fn put(audit: &dyn AuditStore, seat: &Seat) -> PortResult<()> {
    let bytes = serde_json::to_vec(seat).map_err(|e| PortError::upstream("the seats", e))?;
    let key = key(&seat.email);
    // Another writer between the remove and the create wins; the last one tried is kept.
    for _ in 0..3 {
        audit.remove_once(&key).await?;
        if audit.create_once(&key, &bytes).await? {
            return Ok(());
        }
    }
    Err(PortError::upstream(
        "the seats",
        format!("{key} kept changing while it was written"),
    ))
}

pub async fn get(audit: &dyn AuditStore, email: &str) -> PortResult<Option<Seat>> {
    let Some(bytes) = audit.read_once(&key(email)).await? else {
        return Ok(None);
    };
    Ok(parse(&key(email), &bytes))
}

pub async fn remove(audit: &dyn AuditStore, email: &str) -> PortResult<()> {
    audit.remove_once(&key(email)).await
}

fn parse(key: &str, bytes: &[u8]) -> Option<Seat> {
    match serde_json::from_slice(bytes) {
        Ok(seat) => Some(seat),
        Err(e) => {
            tracing::warn!(%key, "not a seat: {e}");
            None
        }
    }
}

/// Every seat, read one object at a time.
pub async fn all(audit: &dyn AuditStore) -> PortResult<Vec<Seat>> {
    let mut seats = Vec::new();
    for key in audit.keys_in(FOLDER).await? {
        if let Some(bytes) = audit.read_once(&key).await? {
            seats.extend(parse(&key, &bytes));
        }
    }
    Ok(seats)
}

/// The seats `time` picks (at or before `by`), soonest first, `limit` at most.
pub async fn due_by(
    audit: &dyn AuditStore,
    by: &str,
    limit: usize,
    time: fn(&Seat) -> Option<&str>,
) -> PortResult<Vec<Seat>> {
    let mut due: Vec<Seat> = all(audit)
        .await?
        .into_iter()
        .filter(|s| time(s).is_some_and(|t| t <= by))
        .collect();
    due.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.email.cmp(&b.email)));
    due.truncate(limit);
    Ok(due)
}

/// A seat's reminder time, while it has not been sent.
pub fn unreminded(seat: &Seat) -> Option<&str> {
    seat.remind_at.as_deref().filter(|_| !seat.reminded)
}
