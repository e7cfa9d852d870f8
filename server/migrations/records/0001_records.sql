-- The record index (server/src/adapters/sqlite_index.rs): decisions with the columns they are
-- found by, the review queue, administrators' actions and image claims.
CREATE TABLE decisions (
    key      TEXT PRIMARY KEY,
    at       TEXT NOT NULL,
    email    TEXT NOT NULL,
    verdict  TEXT NOT NULL,
    reason   TEXT,
    waiting  INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    record   TEXT NOT NULL
);
CREATE INDEX decisions_by_time ON decisions (at, key);
CREATE INDEX decisions_by_email ON decisions (email, at, key);
CREATE INDEX decisions_by_verdict ON decisions (verdict, at, key);
CREATE INDEX decisions_by_reason ON decisions (reason, at, key);
-- One entry per exact email; it goes with its record.
CREATE TABLE reviews (
    email      TEXT PRIMARY KEY,
    record_key TEXT NOT NULL UNIQUE REFERENCES decisions (key) ON DELETE CASCADE
);
CREATE TABLE actions (
    key    TEXT PRIMARY KEY,
    at     TEXT NOT NULL,
    action TEXT NOT NULL
);
CREATE INDEX actions_by_time ON actions (at, key);
CREATE TABLE claims (
    sha256 TEXT PRIMARY KEY,
    email  TEXT NOT NULL
);
-- What has been done once: 'imported_files' when an older data directory's files were indexed.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
