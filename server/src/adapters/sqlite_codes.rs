//! The one-time codes part of the SQLite record index: a row per owner and name, written once;
//! SQLite has no time to live, so each write first sweeps every row whose end has passed.

use rusqlite::{params, OptionalExtension, Transaction};

/// Writes the item unless `owner` keeps one of that name; `false` then.
pub fn put(
    tx: &Transaction,
    owner: &str,
    name: &str,
    bytes: &[u8],
    expires: i64,
) -> rusqlite::Result<bool> {
    let now = chrono::Utc::now().timestamp();
    tx.execute("DELETE FROM code_items WHERE expires < ?1", [now])?;
    let written = tx.execute(
        "INSERT OR IGNORE INTO code_items (owner, name, bytes, expires) VALUES (?1, ?2, ?3, ?4)",
        params![owner, name, bytes, expires],
    )?;
    Ok(written == 1)
}

pub fn names(tx: &Transaction, owner: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = tx.prepare_cached("SELECT name FROM code_items WHERE owner = ?1")?;
    let names = statement.query_map([owner], |row| row.get(0))?;
    names.collect()
}

pub fn get(tx: &Transaction, owner: &str, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    tx.query_row(
        "SELECT bytes FROM code_items WHERE owner = ?1 AND name = ?2",
        [owner, name],
        |row| row.get(0),
    )
    .optional()
}
