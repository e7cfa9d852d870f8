//! The likeness part of the SQLite record index: an entry row per granted image and a row per
//! band key, so that candidates are a seek per key (newest `LIKENESS_PER_KEY` of each), ranked.

use app::ssr::likeness::{Likeness, LikenessEntry, Rekeyed};
use app::ssr::ports::{rank_candidates, LIKENESS_PER_KEY};
use rusqlite::{params, OptionalExtension, Transaction};

/// Keeps `entry` under its band keys; `false` when an entry of its pixels is kept already.
pub fn insert(tx: &Transaction, entry: &LikenessEntry) -> rusqlite::Result<bool> {
    let inserted = tx.execute(
        "INSERT INTO likeness (sha256, email, screenshot_key, aspect, cells)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sha256) DO NOTHING",
        params![
            entry.sha256,
            entry.email,
            entry.screenshot_key,
            entry.likeness.aspect,
            entry.likeness.cells
        ],
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    insert_keys(tx, tx.last_insert_rowid(), &entry.likeness)?;
    Ok(true)
}

fn insert_keys(tx: &Transaction, id: i64, likeness: &Likeness) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(
        "INSERT OR IGNORE INTO likeness_keys (band_key, likeness_id) VALUES (?1, ?2)",
    )?;
    for key in likeness.band_keys() {
        statement.execute(params![key, id])?;
    }
    Ok(())
}

/// Every entry's id and screenshot, for re-keying.
pub fn all(tx: &Transaction) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut statement = tx.prepare("SELECT id, screenshot_key FROM likeness ORDER BY id")?;
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Replaces every entry's likeness and band keys with those made again (`None`: the entry is
/// removed), in the caller's one transaction: no old key is left to find a new entry by.
pub fn replace_all(
    tx: &Transaction,
    made: Vec<(i64, Option<Likeness>)>,
) -> rusqlite::Result<Rekeyed> {
    tx.execute("DELETE FROM likeness_keys", [])?;
    let mut done = Rekeyed::default();
    for (id, likeness) in made {
        match likeness {
            Some(likeness) => {
                tx.execute(
                    "UPDATE likeness SET aspect = ?1, cells = ?2 WHERE id = ?3",
                    params![likeness.aspect, likeness.cells, id],
                )?;
                insert_keys(tx, id, &likeness)?;
                done.rekeyed += 1;
            }
            None => {
                tx.execute("DELETE FROM likeness WHERE id = ?1", [id])?;
                done.removed += 1;
            }
        }
    }
    Ok(done)
}

/// Removes `email`'s entry of these pixels and its keys.
pub fn remove(tx: &Transaction, sha256: &str, email: &str) -> rusqlite::Result<()> {
    let row: Option<(i64, u32, Vec<u8>)> = tx
        .query_row(
            "SELECT id, aspect, cells FROM likeness WHERE sha256 = ?1 AND email = ?2",
            params![sha256, email],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, aspect, cells)) = row else {
        return Ok(());
    };
    let mut statement =
        tx.prepare_cached("DELETE FROM likeness_keys WHERE band_key = ?1 AND likeness_id = ?2")?;
    for key in (Likeness { aspect, cells }).band_keys() {
        statement.execute(params![key, id])?;
    }
    tx.execute("DELETE FROM likeness WHERE id = ?1", [id])?;
    Ok(())
}

/// The entries sharing the most of `likeness`'s keys, among the newest few of each key.
pub fn candidates(tx: &Transaction, likeness: &Likeness) -> rusqlite::Result<Vec<LikenessEntry>> {
    let mut newest = tx.prepare_cached(
        "SELECT likeness_id FROM likeness_keys WHERE band_key = ?1
         ORDER BY likeness_id DESC LIMIT ?2",
    )?;
    let mut read = Vec::new();
    for key in likeness.band_keys() {
        let ids = newest.query_map(params![key, LIKENESS_PER_KEY], |r| r.get::<_, i64>(0))?;
        read.push(ids.collect::<rusqlite::Result<Vec<i64>>>()?);
    }
    let mut entry = tx.prepare_cached(
        "SELECT sha256, email, screenshot_key, aspect, cells FROM likeness WHERE id = ?1",
    )?;
    rank_candidates(read)
        .into_iter()
        .map(|id| {
            entry.query_row([id], |r| {
                Ok(LikenessEntry {
                    sha256: r.get(0)?,
                    email: r.get(1)?,
                    screenshot_key: r.get(2)?,
                    likeness: Likeness {
                        aspect: r.get(3)?,
                        cells: r.get(4)?,
                    },
                })
            })
        })
        .collect()
}
