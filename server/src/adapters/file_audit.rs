//! The audit store on disk: `screenshots/…png` and `…json` under the data directory (the same
//! keys as in S3), `claims/{sha256}` files that tie an image to the first email that used it,
//! `reviews/{email}` files naming the record that waits for an administrator, and
//! `actions/…json`, what administrators did.

use app::api::{AdminAction, DecisionRecord};
use app::ssr::ports::{AuditStore, Claim, PortError, PortResult};
use async_trait::async_trait;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Debug)]
pub struct FileAuditStore {
    root: PathBuf,
}

impl FileAuditStore {
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        for sub in ["screenshots", "claims", "reviews", "actions", "codes"] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("creating {}", root.join(sub).display()))?;
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    /// The file for a key; keys never leave the root.
    fn path(&self, key: &str) -> PortResult<PathBuf> {
        let relative = Path::new(key);
        if relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            Ok(self.root.join(relative))
        } else {
            Err(PortError::unavailable(
                SERVICE,
                format!("refusing key {key:?}"),
            ))
        }
    }
}

impl FileAuditStore {
    fn review_path(&self, email: &str) -> PortResult<PathBuf> {
        self.path(&format!(
            "reviews/{}",
            app::ssr::workflow::sanitise_for_key(email)
        ))
    }
}

/// The file's bytes, or `None` when there is no such file.
async fn read_if_there(path: PathBuf) -> PortResult<Option<Vec<u8>>> {
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading")(e)),
    }
}

/// Our name for this port in messages.
const SERVICE: &str = "the audit store";

fn io(what: &'static str) -> impl Fn(std::io::Error) -> PortError {
    move |e| PortError::unavailable(SERVICE, format!("{what}: {e}"))
}

/// Writes to a temporary file beside the target, then renames: readers never see half a file.
async fn write_atomically(path: PathBuf, bytes: Vec<u8>) -> PortResult<()> {
    tokio::task::spawn_blocking(move || {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile_in(dir)?;
        tmp.1.write_all(&bytes)?;
        tmp.1.sync_all()?;
        std::fs::rename(&tmp.0, &path)
    })
    .await
    .map_err(|e| PortError::unavailable(SERVICE, e))?
    .map_err(io("writing"))
}

/// The newest `limit` `.json` files in `dir` that read as `T`, newest first: keys start with
/// the UTC time, so the name order is the time order.
async fn newest_json_in<T: serde::de::DeserializeOwned + Send + 'static>(
    dir: PathBuf,
    limit: usize,
) -> PortResult<Vec<T>> {
    tokio::task::spawn_blocking(move || {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort_unstable_by(|a, b| b.cmp(a));
        let found = names
            .iter()
            .take(limit)
            .filter_map(|p| serde_json::from_slice::<T>(&std::fs::read(p).ok()?).ok())
            .collect();
        Ok(found)
    })
    .await
    .map_err(|e| PortError::unavailable(SERVICE, e))?
    .map_err(io("listing"))
}

/// Written whole beside the target, then linked into place: the link fails when a file is
/// there, so the first writer wins and nobody ever reads half a file. `false` when one was.
async fn write_once(path: PathBuf, bytes: Vec<u8>) -> std::io::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let (tmp, mut file) = tempfile_in(dir)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        let linked = std::fs::hard_link(&tmp, &path);
        std::fs::remove_file(&tmp)?;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[async_trait]
impl AuditStore for FileAuditStore {
    async fn put_screenshot(&self, key: &str, bytes: &[u8], _content_type: &str) -> PortResult<()> {
        write_atomically(self.path(key)?, bytes.to_vec()).await
    }

    async fn put_record(&self, key: &str, record: &DecisionRecord) -> PortResult<()> {
        let json =
            serde_json::to_vec_pretty(record).map_err(|e| PortError::unavailable(SERVICE, e))?;
        write_atomically(self.path(key)?, json).await
    }

    async fn recent(&self, limit: usize) -> PortResult<Vec<DecisionRecord>> {
        newest_json_in(self.root.join("screenshots"), limit).await
    }

    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()> {
        let json =
            serde_json::to_vec_pretty(action).map_err(|e| PortError::unavailable(SERVICE, e))?;
        write_atomically(self.path(key)?, json).await
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        newest_json_in(self.root.join("actions"), limit).await
    }

    async fn record(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        let Some(bytes) = read_if_there(self.path(key)?).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PortError::upstream(SERVICE, format!("the record {key}: {e}")))
    }

    async fn screenshot(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        read_if_there(self.path(key)?).await
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        write_once(self.review_path(email)?, record_key.as_bytes().to_vec())
            .await
            .map_err(io("queueing a review"))
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        Ok(read_if_there(self.review_path(email)?)
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<String>> {
        let dir = self.root.join("reviews");
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let hidden = path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if !hidden {
                    keys.push(std::fs::read_to_string(&path)?.trim().to_owned());
                }
            }
            Ok(keys)
        })
        .await
        .map_err(|e| PortError::unavailable(SERVICE, e))?
        .map_err(io("listing reviews"))
    }

    async fn close_review(&self, email: &str) -> PortResult<()> {
        match tokio::fs::remove_file(self.review_path(email)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("closing a review")(e)),
        }
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        Ok(read_if_there(self.path(&format!("claims/{sha256}"))?)
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        // Written whole, then linked into place: a claim is never seen without its owner.
        let path = self.path(&format!("claims/{sha256}"))?;
        if write_once(path, email.as_bytes().to_vec())
            .await
            .map_err(io("creating a claim"))?
        {
            return Ok(Claim::Fresh);
        }
        match self.image_owner(sha256).await? {
            Some(owner) if owner == email => Ok(Claim::SameOwner),
            Some(owner) if !owner.is_empty() => Ok(Claim::OtherOwner(owner)),
            // Only an older version wrote claims in two steps; a crash between left this.
            _ => Err(PortError::unavailable(
                SERVICE,
                format!("the image claim {sha256} names nobody"),
            )),
        }
    }

    async fn create_once(&self, key: &str, bytes: &[u8]) -> PortResult<bool> {
        write_once(self.path(key)?, bytes.to_vec())
            .await
            .map_err(io("creating"))
    }

    async fn read_once(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        read_if_there(self.path(key)?).await
    }

    async fn remove_once(&self, key: &str) -> PortResult<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing")(e)),
            _ => Ok(()),
        }
    }

    async fn keys_in(&self, folder: &str) -> PortResult<Vec<String>> {
        let dir = self.path(folder)?;
        let folder = folder.to_owned();
        tokio::task::spawn_blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let mut keys = Vec::new();
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    keys.push(format!("{folder}{name}"));
                }
            }
            Ok(keys)
        })
        .await
        .map_err(|e| PortError::unavailable(SERVICE, e))?
        .map_err(io("listing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileAuditStore::open(dir.path()).unwrap();
        assert!(store
            .put_screenshot("../evil.png", b"x", "image/png")
            .await
            .is_err());
        assert!(store
            .put_screenshot("/etc/evil.png", b"x", "image/png")
            .await
            .is_err());
    }
}
