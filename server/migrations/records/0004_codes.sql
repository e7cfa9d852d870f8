-- One-time codes and their tries (app/src/ssr/verify.rs): an address's few found by its
-- digest (`owner`); each write sweeps the rows whose end has passed, found by it.
CREATE TABLE code_items (
    owner   TEXT NOT NULL,
    name    TEXT NOT NULL,
    bytes   BLOB NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID;
CREATE INDEX code_items_by_end ON code_items (expires);
