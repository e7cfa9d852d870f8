//! The record index in a SQLite file (`records.sqlite`, WAL): decisions with indexes by time,
//! email, verdict and reason; the review queue keyed by the exact email, whose entries go with
//! their record; actions; image claims; likenesses, seats and one-time codes (their own
//! modules). Conditional updates and the queue run in transactions.
//! Migrations are `server/migrations/records/*.sql`, applied in order by `PRAGMA user_version`.

use super::blob_likeness::StoredLikeness;
use super::record_import::Imported;
use super::{sqlite_codes, sqlite_likeness, sqlite_seats};
use app::api::{AdminAction, DecisionRecord};
use app::ssr::likeness::{of_stored, Likeness, LikenessEntry, Rekeyed, LIKENESS_VERSION};
use app::ssr::ports::{
    AuditStore, Claim, DecisionPage, DecisionQuery, PortError, PortResult, RecordIndex, Seat,
};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, ToSql, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The schema's steps, oldest first; `PRAGMA user_version` says how many are applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/records/0001_records.sql"),
    include_str!("../../migrations/records/0002_likeness.sql"),
    include_str!("../../migrations/records/0003_seats.sql"),
    include_str!("../../migrations/records/0004_codes.sql"),
];

/// Our name for this port in messages.
const SERVICE: &str = "the record index";

#[derive(Clone)]
pub struct SqliteIndex {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteIndex {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut conn = Connection::open(path)
            .with_context(|| format!("opening the record index {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        migrate(&mut conn).context("migrating the record index")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` in a transaction on a blocking thread; it commits when `f` returns `Ok`.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> rusqlite::Result<T> + Send + 'static,
    ) -> PortResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            // Immediate: another process's writer waits here, not half-way through a read.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| PortError::unavailable(SERVICE, e))?
        .map_err(|e: rusqlite::Error| PortError::unavailable(SERVICE, e))
    }

    /// Indexes the records an older data directory kept as files (seats were never files) (`screenshots/*.json`,
    /// `actions/*.json`, `claims/*`; waiting reviews are queued again, oldest first; the granted
    /// images' likenesses, `similar/*.json`), each part once: a later start finds it done and
    /// returns `None`. Nothing is deleted; a file that does not read is skipped with a warning;
    /// what the index already has is kept.
    pub fn import_files(&self, root: &Path) -> anyhow::Result<Option<Imported>> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let records_done = done(&tx, "imported_files")?;
        let likeness_done = done(&tx, "imported_likeness")?;
        if records_done && likeness_done {
            return Ok(None);
        }
        let mut imported = Imported::default();
        if !likeness_done {
            imported.likenesses = import_likenesses(&tx, root)?;
            mark_done(&tx, "imported_likeness")?;
        }
        if records_done {
            tx.commit()?;
            return Ok(Some(imported));
        }
        let mut waiting = Vec::new();
        for (path, bytes) in files_in(&root.join("screenshots"), Some("json"))? {
            match serde_json::from_slice::<DecisionRecord>(&bytes) {
                Ok(record) => {
                    imported.decisions += insert_decision(&tx, &record, true)?;
                    if record.is_waiting() {
                        waiting.push(record);
                    }
                }
                Err(e) => tracing::warn!(path = %path.display(), "not a decision record: {e}"),
            }
        }
        for (path, bytes) in files_in(&root.join("actions"), Some("json"))? {
            match serde_json::from_slice::<AdminAction>(&bytes) {
                Ok(action) => {
                    let key = format!("actions/{}", file_name(&path));
                    imported.actions += insert_action(&tx, &key, &action, "INSERT OR IGNORE")?;
                }
                Err(e) => tracing::warn!(path = %path.display(), "not an action: {e}"),
            }
        }
        for (path, bytes) in files_in(&root.join("claims"), None)? {
            let owner = String::from_utf8_lossy(&bytes).trim().to_owned();
            // An empty claim file is a claim whose writer stopped before naming its owner.
            if !owner.is_empty() {
                imported.claims += tx.execute(
                    "INSERT OR IGNORE INTO claims (sha256, email) VALUES (?1, ?2)",
                    params![file_name(&path), owner],
                )?;
            }
        }
        waiting.sort_by(|a, b| a.at.cmp(&b.at));
        for record in &waiting {
            imported.reviews += tx.execute(
                "INSERT OR IGNORE INTO reviews (email, record_key) VALUES (?1, ?2)",
                params![record.email, record.record_key()],
            )?;
        }
        mark_done(&tx, "imported_files")?;
        tx.commit()?;
        Ok(Some(imported))
    }
}

impl SqliteIndex {
    /// Makes again, from their screenshots, the likenesses kept before `LIKENESS_VERSION` (their
    /// cells and band keys were made another way and would not find a request's), once: a
    /// later start finds it done and returns `None`. Run at start-up, before requests.
    pub async fn rekey_likenesses(
        &self,
        audit: &dyn AuditStore,
    ) -> anyhow::Result<Option<Rekeyed>> {
        let step = format!("likeness_v{LIKENESS_VERSION}");
        let rows = {
            let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction()?;
            if done(&tx, &step)? {
                return Ok(None);
            }
            sqlite_likeness::all(&tx)?
        };
        let mut made = Vec::with_capacity(rows.len());
        for (id, screenshot_key) in rows {
            made.push((id, of_stored(audit, &screenshot_key).await?));
        }
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done = sqlite_likeness::replace_all(&tx, made)?;
        mark_done(&tx, &step)?;
        tx.commit()?;
        Ok(Some(done))
    }
}

/// Whether the one-time step `name` has been done (`meta`).
fn done(tx: &Transaction, name: &str) -> rusqlite::Result<bool> {
    tx.query_row("SELECT 1 FROM meta WHERE name = ?1", [name], |_| Ok(()))
        .optional()
        .map(|row| row.is_some())
}

fn mark_done(tx: &Transaction, name: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)",
        params![name, chrono::Utc::now().to_rfc3339()],
    )?;
    Ok(())
}

/// The likenesses an older data directory kept as `similar/{aspect}-{sha256}.json`.
fn import_likenesses(tx: &Transaction, root: &Path) -> anyhow::Result<usize> {
    let mut count = 0;
    for (path, bytes) in files_in(&root.join("similar"), Some("json"))? {
        let entry = file_name(&path)
            .strip_suffix(".json")
            .and_then(|name| StoredLikeness::parse(name.get(7..)?, &bytes));
        match entry {
            Some(entry) => count += usize::from(sqlite_likeness::insert(tx, &entry)?),
            None => tracing::warn!(path = %path.display(), "not a likeness"),
        }
    }
    Ok(count)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The regular, visible files in `dir` (with this extension, when one is named) and their
/// bytes; none when the folder is not there.
fn files_in(
    dir: &Path,
    extension: Option<&str>,
) -> std::io::Result<Vec<(std::path::PathBuf, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let visible = !file_name(&path).starts_with('.');
        let wanted = extension.is_none_or(|x| path.extension().is_some_and(|e| e == x));
        if visible && wanted && path.is_file() {
            let bytes = std::fs::read(&path)?;
            files.push((path, bytes));
        }
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A verdict or reason as its JSON name (`granted`, `similar_screenshot`).
fn label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

/// Writes a decision's row; `keep` keeps a row already at its key (the import), otherwise the
/// row is updated in place (an upsert: a `REPLACE` would delete it first, and its queue entry).
fn insert_decision(
    tx: &Transaction,
    record: &DecisionRecord,
    keep: bool,
) -> rusqlite::Result<usize> {
    let on_conflict = if keep {
        "DO NOTHING"
    } else {
        "DO UPDATE SET at = excluded.at, email = excluded.email, verdict = excluded.verdict,
         reason = excluded.reason, waiting = excluded.waiting, revision = excluded.revision,
         record = excluded.record"
    };
    let sql = format!(
        "INSERT INTO decisions (key, at, email, verdict, reason, waiting, revision, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (key) {on_conflict}"
    );
    tx.execute(
        &sql,
        params![
            record.record_key(),
            record.at,
            record.email,
            label(&record.verdict),
            record.reason.as_ref().map(label),
            record.is_waiting(),
            record.revision,
            to_json(record)?,
        ],
    )
}

fn insert_action(
    tx: &Transaction,
    key: &str,
    action: &AdminAction,
    verb: &str,
) -> rusqlite::Result<usize> {
    let sql = format!("{verb} INTO actions (key, at, action) VALUES (?1, ?2, ?3)");
    tx.execute(&sql, params![key, action.at, to_json(action)?])
}

/// A queue entry no longer holds the queue once its record is settled (or changed otherwise).
fn drop_stale_reviews(tx: &Transaction, email: &str) -> rusqlite::Result<()> {
    tx.execute(
        // EXISTS looks the one record up by its key; `IN (SELECT …)` listed every settled one.
        "DELETE FROM reviews WHERE email = ?1 AND EXISTS
         (SELECT 1 FROM decisions d WHERE d.key = reviews.record_key AND d.waiting = 0)",
        [email],
    )?;
    Ok(())
}

#[async_trait]
impl RecordIndex for SqliteIndex {
    async fn put_decision(&self, record: &DecisionRecord) -> PortResult<()> {
        let record = record.clone();
        self.with(move |tx| {
            insert_decision(tx, &record, false)?;
            drop_stale_reviews(tx, &record.email)
        })
        .await
    }

    async fn decision(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        let key = key.to_owned();
        self.with(move |tx| {
            tx.query_row("SELECT record FROM decisions WHERE key = ?1", [key], |r| {
                from_json(&r.get::<_, String>(0)?)
            })
            .optional()
        })
        .await
    }

    async fn decisions(&self, query: &DecisionQuery) -> PortResult<DecisionPage> {
        let query = query.clone();
        self.with(move |tx| {
            let mut conditions = Vec::new();
            let mut values: Vec<Box<dyn ToSql>> = Vec::new();
            if let Some(email) = &query.email {
                values.push(Box::new(email.clone()));
                conditions.push(format!("email = ?{}", values.len()));
            }
            if let Some(verdict) = &query.verdict {
                values.push(Box::new(label(verdict)));
                conditions.push(format!("verdict = ?{}", values.len()));
            }
            if let Some(reason) = &query.reason {
                values.push(Box::new(label(reason)));
                conditions.push(format!("reason = ?{}", values.len()));
            }
            if let Some(after) = &query.after {
                let at: Option<String> = tx
                    .query_row("SELECT at FROM decisions WHERE key = ?1", [after], |r| {
                        r.get(0)
                    })
                    .optional()?;
                // A cursor whose record is gone lists nothing more rather than starting over.
                let Some(at) = at else {
                    return Ok(DecisionPage::default());
                };
                values.push(Box::new(at));
                values.push(Box::new(after.clone()));
                let (a, k) = (values.len() - 1, values.len());
                conditions.push(format!("(at < ?{a} OR (at = ?{a} AND key < ?{k}))"));
            }
            let filter = if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            };
            let limit = query.limit.max(1);
            let sql = format!(
                "SELECT key, record FROM decisions {filter} ORDER BY at DESC, key DESC LIMIT {}",
                limit + 1
            );
            let mut statement = tx.prepare(&sql)?;
            let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
            let mut rows: Vec<(String, DecisionRecord)> = statement
                .query_map(params.as_slice(), |r| {
                    Ok((r.get(0)?, from_json(&r.get::<_, String>(1)?)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            Ok(DecisionPage {
                next: more.then(|| rows.last().map(|(k, _)| k.clone())).flatten(),
                records: rows.into_iter().map(|(_, r)| r).collect(),
            })
        })
        .await
    }

    async fn update_decision(&self, record: &DecisionRecord) -> PortResult<bool> {
        let mut record = record.clone();
        self.with(move |tx| {
            let expected = record.revision;
            record.revision = expected + 1;
            let changed = tx.execute(
                "UPDATE decisions SET at = ?2, email = ?3, verdict = ?4, reason = ?5, waiting = ?6,
                 revision = ?7, record = ?8 WHERE key = ?1 AND revision = ?9",
                params![
                    record.record_key(),
                    record.at,
                    record.email,
                    label(&record.verdict),
                    record.reason.as_ref().map(label),
                    record.is_waiting(),
                    record.revision,
                    to_json(&record)?,
                    expected,
                ],
            )?;
            drop_stale_reviews(tx, &record.email)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        let (email, record_key) = (email.to_owned(), record_key.to_owned());
        self.with(move |tx| {
            drop_stale_reviews(tx, &email)?;
            let waiting: Option<bool> = tx
                .query_row(
                    "SELECT waiting FROM decisions WHERE key = ?1",
                    [&record_key],
                    |r| r.get(0),
                )
                .optional()?;
            if waiting != Some(true) {
                return Ok(false);
            }
            let added = tx.execute(
                "INSERT OR IGNORE INTO reviews (email, record_key) VALUES (?1, ?2)",
                params![email, record_key],
            )?;
            Ok(added == 1)
        })
        .await
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        let email = email.to_owned();
        self.with(move |tx| {
            tx.query_row(
                "SELECT r.record_key FROM reviews r JOIN decisions d ON d.key = r.record_key
                 WHERE r.email = ?1 AND d.waiting = 1",
                [email],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<DecisionRecord>> {
        self.with(|tx| {
            let mut statement = tx.prepare(
                // CROSS JOIN keeps the queue the outer loop: SQLite would otherwise walk every
                // decision by time to find the few queued ones.
                "SELECT d.record FROM reviews r CROSS JOIN decisions d ON d.key = r.record_key
                 WHERE d.waiting = 1 ORDER BY d.at, d.key",
            )?;
            let rows = statement
                .query_map([], |r| from_json(&r.get::<_, String>(0)?))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()> {
        let (key, action) = (key.to_owned(), action.clone());
        self.with(move |tx| insert_action(tx, &key, &action, "INSERT OR REPLACE").map(|_| ()))
            .await
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        self.with(move |tx| {
            let mut statement =
                tx.prepare("SELECT action FROM actions ORDER BY at DESC, key DESC LIMIT ?1")?;
            let rows = statement
                .query_map([limit as i64], |r| from_json(&r.get::<_, String>(0)?))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        let sha256 = sha256.to_owned();
        self.with(move |tx| {
            tx.query_row(
                "SELECT email FROM claims WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        let (sha256, email) = (sha256.to_owned(), email.to_owned());
        self.with(move |tx| {
            let added = tx.execute(
                "INSERT OR IGNORE INTO claims (sha256, email) VALUES (?1, ?2)",
                params![sha256, email],
            )?;
            if added == 1 {
                return Ok(Claim::Fresh);
            }
            let owner: String = tx.query_row(
                "SELECT email FROM claims WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )?;
            Ok(if owner == email {
                Claim::SameOwner
            } else {
                Claim::OtherOwner(owner)
            })
        })
        .await
    }

    async fn reserve_likeness(&self, entry: &LikenessEntry) -> PortResult<bool> {
        let entry = entry.clone();
        self.with(move |tx| sqlite_likeness::insert(tx, &entry))
            .await
    }

    async fn release_likeness(&self, sha256: &str, email: &str) -> PortResult<()> {
        let (sha256, email) = (sha256.to_owned(), email.to_owned());
        self.with(move |tx| sqlite_likeness::remove(tx, &sha256, &email))
            .await
    }

    async fn likeness_candidates(&self, likeness: &Likeness) -> PortResult<Vec<LikenessEntry>> {
        let likeness = likeness.clone();
        self.with(move |tx| sqlite_likeness::candidates(tx, &likeness))
            .await
    }

    async fn put_seat(&self, seat: &Seat) -> PortResult<()> {
        let seat = seat.clone();
        self.with(move |tx| sqlite_seats::put(tx, &seat)).await
    }

    async fn seat(&self, email: &str) -> PortResult<Option<Seat>> {
        let email = email.to_owned();
        self.with(move |tx| sqlite_seats::get(tx, &email)).await
    }

    async fn remove_seat(&self, email: &str) -> PortResult<()> {
        let email = email.to_owned();
        self.with(move |tx| sqlite_seats::remove(tx, &email)).await
    }

    async fn seats_ending_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        let by = by.to_owned();
        self.with(move |tx| sqlite_seats::ending_by(tx, &by, limit))
            .await
    }

    async fn reminders_due_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        let by = by.to_owned();
        self.with(move |tx| sqlite_seats::reminders_due_by(tx, &by, limit))
            .await
    }

    async fn put_code_item(
        &self,
        owner: &str,
        name: &str,
        bytes: &[u8],
        expires: i64,
    ) -> PortResult<bool> {
        let (owner, name, bytes) = (owner.to_owned(), name.to_owned(), bytes.to_vec());
        self.with(move |tx| sqlite_codes::put(tx, &owner, &name, &bytes, expires))
            .await
    }

    async fn code_item_names(&self, owner: &str) -> PortResult<Vec<String>> {
        let owner = owner.to_owned();
        self.with(move |tx| sqlite_codes::names(tx, &owner)).await
    }

    async fn code_item(&self, owner: &str, name: &str) -> PortResult<Option<Vec<u8>>> {
        let (owner, name) = (owner.to_owned(), name.to_owned());
        self.with(move |tx| sqlite_codes::get(tx, &owner, &name))
            .await
    }
}
