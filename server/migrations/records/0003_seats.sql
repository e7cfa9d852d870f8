-- Seats (app/src/ssr/seats.rs): who holds one since when, how, and when it ends; found by the
-- end and by the reminder that is due, never listed whole.
CREATE TABLE seats (
    email     TEXT PRIMARY KEY,
    since     TEXT NOT NULL,
    ends      TEXT,
    remind_at TEXT,
    reminded  INTEGER NOT NULL,
    how       TEXT NOT NULL
);
CREATE INDEX seats_by_end ON seats (ends) WHERE ends IS NOT NULL;
CREATE INDEX seats_by_reminder ON seats (remind_at) WHERE reminded = 0 AND remind_at IS NOT NULL;
