//! Likenesses as audit-store objects, `similar/{aspect:06}-{sha256}.json` (the format a data
//! directory or bucket has held since near-duplicates were first caught): the blob index keeps
//! them there and reads every entry of a close aspect; the SQLite index imports them once.

use app::ssr::likeness::{of_stored, Likeness, LikenessEntry, Rekeyed, LIKENESS_VERSION};
use app::ssr::ports::{rank_candidates, AuditStore, PortResult};
use base64::Engine;
use serde::{Deserialize, Serialize};

const FOLDER: &str = "similar/";

/// An entry's JSON form: who was granted, the screenshot's key, the aspect and the cells (base64).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredLikeness {
    email: String,
    screenshot_key: String,
    aspect: u32,
    cells: String,
    /// `LIKENESS_VERSION` when it was made; absent (0) before versions were written.
    #[serde(default)]
    version: u32,
}

impl StoredLikeness {
    /// The entry of the image `sha256` from an object's bytes, if they are one.
    pub fn parse(sha256: &str, bytes: &[u8]) -> Option<LikenessEntry> {
        let stored: Self = serde_json::from_slice(bytes).ok()?;
        let cells = base64::engine::general_purpose::STANDARD
            .decode(&stored.cells)
            .ok()?;
        Some(LikenessEntry {
            sha256: sha256.to_owned(),
            email: stored.email,
            screenshot_key: stored.screenshot_key,
            likeness: Likeness {
                aspect: stored.aspect,
                cells,
            },
        })
    }

    fn bytes(entry: &LikenessEntry) -> Vec<u8> {
        let stored = Self {
            email: entry.email.clone(),
            screenshot_key: entry.screenshot_key.clone(),
            aspect: entry.likeness.aspect,
            cells: base64::engine::general_purpose::STANDARD.encode(&entry.likeness.cells),
            version: LIKENESS_VERSION,
        };
        serde_json::to_vec(&stored).expect("a StoredLikeness always serialises")
    }
}

fn key(aspect: u32, sha256: &str) -> String {
    format!("{FOLDER}{aspect:06}-{sha256}.json")
}

/// The aspect and the image's hash a key names.
fn parts(key: &str) -> Option<(u32, &str)> {
    let name = key.strip_prefix(FOLDER)?.strip_suffix(".json")?;
    Some((name.get(..6)?.parse().ok()?, name.get(7..)?))
}

/// The key an entry of `sha256` is kept at, whatever its aspect.
async fn kept_key(audit: &dyn AuditStore, sha256: &str) -> PortResult<Option<String>> {
    Ok(audit
        .keys_in(FOLDER)
        .await?
        .into_iter()
        .find(|k| parts(k).is_some_and(|(_, sha)| sha == sha256)))
}

/// The same pixels have the same aspect, so they race for the same key.
pub async fn reserve(audit: &dyn AuditStore, entry: &LikenessEntry) -> PortResult<bool> {
    let key = key(entry.likeness.aspect, &entry.sha256);
    audit.create_once(&key, &StoredLikeness::bytes(entry)).await
}

pub async fn release(audit: &dyn AuditStore, sha256: &str, email: &str) -> PortResult<()> {
    let Some(key) = kept_key(audit, sha256).await? else {
        return Ok(());
    };
    let kept = audit.read_once(&key).await?;
    if kept
        .and_then(|bytes| StoredLikeness::parse(sha256, &bytes))
        .is_some_and(|entry| entry.email == email)
    {
        audit.remove_once(&key).await?;
    }
    Ok(())
}

/// Makes again, from their screenshots, the entries kept before `LIKENESS_VERSION`, once (a
/// marker object says it is done; a later start reads only that). An entry whose screenshot is
/// gone is removed. Its key names its aspect, which may change: the old object goes, a new one
/// is written.
pub async fn rekey(audit: &dyn AuditStore) -> app::ssr::AppResult<Option<Rekeyed>> {
    let marker = format!("{FOLDER}_likeness-v{LIKENESS_VERSION}");
    if audit.read_once(&marker).await?.is_some() {
        return Ok(None);
    }
    let mut done = Rekeyed::default();
    for key in audit.keys_in(FOLDER).await? {
        let Some((_, sha)) = parts(&key) else {
            continue;
        };
        let Some(bytes) = audit.read_once(&key).await? else {
            continue;
        };
        let Ok(stored) = serde_json::from_slice::<StoredLikeness>(&bytes) else {
            continue;
        };
        if stored.version >= LIKENESS_VERSION {
            continue;
        }
        let made = of_stored(audit, &stored.screenshot_key).await?;
        audit.remove_once(&key).await?;
        match made {
            Some(likeness) => {
                let entry = LikenessEntry {
                    sha256: sha.to_owned(),
                    email: stored.email,
                    screenshot_key: stored.screenshot_key,
                    likeness,
                };
                reserve(audit, &entry).await?;
                done.rekeyed += 1;
            }
            None => done.removed += 1,
        }
    }
    audit.create_once(&marker, b"done").await?;
    Ok(Some(done))
}

/// Every kept entry (the bucket's import reads them all once).
pub async fn all(audit: &dyn AuditStore) -> PortResult<Vec<LikenessEntry>> {
    let mut entries = Vec::new();
    for key in audit.keys_in(FOLDER).await? {
        let Some((_, sha)) = parts(&key) else {
            continue;
        };
        let Some(bytes) = audit.read_once(&key).await? else {
            continue;
        };
        match StoredLikeness::parse(sha, &bytes) {
            Some(entry) => entries.push(entry),
            None => tracing::warn!(%key, "not a likeness"),
        }
    }
    Ok(entries)
}

/// Every entry of a close aspect is read (a listing has no keys to seek), then ranked.
pub async fn candidates(
    audit: &dyn AuditStore,
    likeness: &Likeness,
) -> PortResult<Vec<LikenessEntry>> {
    use futures::{StreamExt, TryStreamExt};
    let close = audit.keys_in(FOLDER).await?.into_iter().filter_map(|k| {
        let (aspect, sha) = parts(&k)?;
        let sha = sha.to_owned();
        likeness.aspect_close(aspect).then_some((k, sha))
    });
    let entries: Vec<LikenessEntry> = futures::stream::iter(close)
        .map(|(k, sha)| async move {
            let bytes = audit.read_once(&k).await?;
            Ok::<_, app::ssr::ports::PortError>(bytes.and_then(|b| StoredLikeness::parse(&sha, &b)))
        })
        .buffer_unordered(8)
        .try_filter_map(|entry| async move { Ok(entry) })
        .try_collect()
        .await?;
    let theirs: Vec<Vec<i64>> = entries.iter().map(|e| e.likeness.band_keys()).collect();
    let read = likeness.band_keys().into_iter().map(|key| {
        (0..entries.len())
            .filter(|&i| theirs[i].contains(&key))
            .collect::<Vec<usize>>()
    });
    Ok(rank_candidates(read)
        .into_iter()
        .map(|i| entries[i].clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_aspect_and_the_hash() {
        let k = key(1600, "ab");
        assert_eq!(k, "similar/001600-ab.json");
        assert_eq!(parts(&k), Some((1600, "ab")));
        assert_eq!(parts("similar/x"), None);
    }
}
