-- Granted images' likenesses (app/src/ssr/likeness.rs), each found by its 128 band keys: a
-- request seeks its own keys and reads a bounded number of entries, never the whole table.
CREATE TABLE likeness (
    id             INTEGER PRIMARY KEY,
    sha256         TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    screenshot_key TEXT NOT NULL,
    aspect         INTEGER NOT NULL,
    cells          BLOB NOT NULL
);
-- Newest first within a key: the larger id is the later entry.
CREATE TABLE likeness_keys (
    band_key    INTEGER NOT NULL,
    likeness_id INTEGER NOT NULL,
    PRIMARY KEY (band_key, likeness_id)
) WITHOUT ROWID;
