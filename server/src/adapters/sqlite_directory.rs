//! The directory in a SQLite file, with the Identity Store's rules: unique user name
//! (case-insensitive), unique group display name, one membership per (group, user).

use app::ssr::ports::{Directory, NewUser, PortError, PortResult, UserProfile};
use async_trait::async_trait;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS users (
    user_id      TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    email        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    group_id     TEXT PRIMARY KEY,
    display_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    membership_id TEXT PRIMARY KEY,
    group_id      TEXT NOT NULL REFERENCES groups(group_id),
    user_id       TEXT NOT NULL REFERENCES users(user_id),
    created_at    TEXT NOT NULL,
    UNIQUE (group_id, user_id)
);
";

#[derive(Clone)]
pub struct SqliteDirectory {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDirectory {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening the directory database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)
            .context("creating the directory schema")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in a blocking task.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> PortResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| PortError::unavailable(SERVICE, e))?
        .map_err(map_error)
    }
}

/// A unique-key clash is the Identity Store's ConflictException; anything else (a missing group
/// or user behind a foreign key, a locked or broken file) is the directory being unusable.
fn map_error(e: rusqlite::Error) -> PortError {
    const UNIQUE: i32 = 2067; // SQLITE_CONSTRAINT_UNIQUE
    const PRIMARY_KEY: i32 = 1555; // SQLITE_CONSTRAINT_PRIMARYKEY
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(f.extended_code, UNIQUE | PRIMARY_KEY) =>
        {
            PortError::Conflict
        }
        _ => PortError::unavailable(SERVICE, e),
    }
}

/// Our name for this port in messages.
const SERVICE: &str = "the directory";

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[async_trait]
impl Directory for SqliteDirectory {
    async fn find_user(&self, email: &str) -> PortResult<Option<String>> {
        let email = email.to_owned();
        self.with(move |c| {
            // By user name first, then by email, as the Identity Store adapter does.
            c.query_row(
                "SELECT user_id FROM users WHERE user_name = ?1 OR email = ?1 COLLATE NOCASE
                 ORDER BY user_name = ?1 DESC, created_at LIMIT 1",
                [email],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn create_user(&self, user: &NewUser) -> PortResult<String> {
        let user = user.clone();
        self.with(move |c| {
            let id = new_id();
            c.execute(
                "INSERT INTO users (user_id, user_name, display_name, given_name, family_name, email, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, user.user_name, user.display_name, user.given_name, user.family_name, user.email, now()],
            )?;
            Ok(id)
        })
        .await
    }

    async fn find_group(&self, display_name: &str) -> PortResult<Option<String>> {
        let name = display_name.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT group_id FROM groups WHERE display_name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn create_group(&self, display_name: &str) -> PortResult<String> {
        let name = display_name.to_owned();
        self.with(move |c| {
            let id = new_id();
            c.execute(
                "INSERT INTO groups (group_id, display_name, created_at) VALUES (?1, ?2, ?3)",
                params![id, name, now()],
            )?;
            Ok(id)
        })
        .await
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        let (g, u) = (group_id.to_owned(), user_id.to_owned());
        self.with(move |c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM memberships WHERE group_id = ?1 AND user_id = ?2)",
                [g, u],
                |r| r.get(0),
            )
        })
        .await
    }

    async fn add_member(&self, group_id: &str, user_id: &str) -> PortResult<()> {
        let (g, u) = (group_id.to_owned(), user_id.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT INTO memberships (membership_id, group_id, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![new_id(), g, u, now()],
            )
            .map(|_| ())
        })
        .await
    }

    async fn member_ids(&self, group_id: &str) -> PortResult<Vec<String>> {
        let g = group_id.to_owned();
        self.with(move |c| {
            let mut statement = c.prepare(
                "SELECT user_id FROM memberships WHERE group_id = ?1 ORDER BY created_at, user_id",
            )?;
            let ids = statement.query_map([g], |r| r.get(0))?;
            ids.collect()
        })
        .await
    }

    async fn describe_user(&self, user_id: &str) -> PortResult<Option<UserProfile>> {
        let u = user_id.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT user_id, user_name, email, display_name FROM users WHERE user_id = ?1",
                [u],
                |r| {
                    Ok(UserProfile {
                        user_id: r.get(0)?,
                        user_name: r.get(1)?,
                        email: r.get(2)?,
                        display_name: r.get(3)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn remove_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        let (g, u) = (group_id.to_owned(), user_id.to_owned());
        self.with(move |c| {
            c.execute(
                "DELETE FROM memberships WHERE group_id = ?1 AND user_id = ?2",
                [g, u],
            )
            .map(|deleted| deleted > 0)
        })
        .await
    }
}

impl SqliteDirectory {
    /// How many memberships a user has (for tests and the admin's curiosity).
    pub async fn membership_count(&self, user_id: &str) -> PortResult<i64> {
        let u = user_id.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM memberships WHERE user_id = ?1",
                [u],
                |r| r.get(0),
            )
        })
        .await
    }

    /// How many users there are.
    pub async fn user_count(&self) -> PortResult<i64> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> NewUser {
        NewUser {
            user_name: name.into(),
            display_name: "Ada".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            email: name.into(),
        }
    }

    fn open() -> (tempfile::TempDir, SqliteDirectory) {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDirectory::open(&dir.path().join("directory.sqlite")).unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn membership_needs_a_real_group_and_user() {
        let (_dir, db) = open();
        let err = db.add_member("no-group", "no-user").await.unwrap_err();
        assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn opening_creates_a_missing_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh/data/directory.sqlite");
        let db = SqliteDirectory::open(&path).unwrap();
        assert_eq!(db.user_count().await.unwrap(), 0);
        assert!(path.exists());
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("directory.sqlite");
        let id = SqliteDirectory::open(&path)
            .unwrap()
            .create_user(&user("ada@example.com"))
            .await
            .unwrap();
        let again = SqliteDirectory::open(&path).unwrap();
        assert_eq!(again.find_user("ada@example.com").await.unwrap(), Some(id));
    }
}
