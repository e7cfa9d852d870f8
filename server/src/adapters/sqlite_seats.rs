//! The seats part of the SQLite record index: a row per email, found by its end and by its due
//! reminder through partial indexes, so the sweep reads a page, never the table.

use app::ssr::ports::Seat;
use rusqlite::{params, OptionalExtension, Row, Transaction};

const COLUMNS: &str = "email, since, ends, remind_at, reminded, how";

fn from_row(row: &Row) -> rusqlite::Result<Seat> {
    Ok(Seat {
        email: row.get(0)?,
        since: row.get(1)?,
        ends: row.get(2)?,
        remind_at: row.get(3)?,
        reminded: row.get(4)?,
        how: row.get(5)?,
    })
}

pub fn put(tx: &Transaction, seat: &Seat) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT OR REPLACE INTO seats ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            seat.email,
            seat.since,
            seat.ends,
            seat.remind_at,
            seat.reminded,
            seat.how
        ],
    )?;
    Ok(())
}

pub fn get(tx: &Transaction, email: &str) -> rusqlite::Result<Option<Seat>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM seats WHERE email = ?1"),
        [email],
        from_row,
    )
    .optional()
}

pub fn remove(tx: &Transaction, email: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM seats WHERE email = ?1", [email])?;
    Ok(())
}

/// Seats ending at or before `by`, soonest first (the `seats_by_end` index).
pub fn ending_by(tx: &Transaction, by: &str, limit: usize) -> rusqlite::Result<Vec<Seat>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM seats WHERE ends IS NOT NULL AND ends <= ?1 ORDER BY ends LIMIT ?2"
    );
    let mut statement = tx.prepare_cached(&sql)?;
    let seats = statement.query_map(params![by, limit as i64], from_row)?;
    seats.collect()
}

/// Seats not reminded whose reminder is due by `by`, soonest first (`seats_by_reminder`).
pub fn reminders_due_by(tx: &Transaction, by: &str, limit: usize) -> rusqlite::Result<Vec<Seat>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM seats WHERE reminded = 0 AND remind_at IS NOT NULL \
         AND remind_at <= ?1 ORDER BY remind_at LIMIT ?2"
    );
    let mut statement = tx.prepare_cached(&sql)?;
    let seats = statement.query_map(params![by, limit as i64], from_row)?;
    seats.collect()
}
