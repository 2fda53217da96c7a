-- The transparency log (crate marketplace-log): one leaf per accepted entry,
-- in acceptance order, appended by the transaction that stores the entry.
-- Entries stored before this migration are appended once, in acceptance
-- order, when the store opens (they have no leaf yet).
CREATE TABLE log_leaves (
    idx        INTEGER PRIMARY KEY,                       -- 0, 1, 2, … no gaps
    seq        INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    leaf       BLOB    NOT NULL,   -- the public leaf (an entry, or a commitment)
    nonce      BLOB,               -- a restricted entry's opening: its nonce
    entry_leaf BLOB                -- and the entry leaf the commitment hides
);

-- The tree's stored hashes (RFC 6962 node hashes of complete subtrees, by
-- the stored-hash index of Go's sumdb/tlog), written with the leaves.
CREATE TABLE log_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

-- Every checkpoint signed, recorded before it is published: the log never
-- signs a size twice, and a restart starts from the last one.
CREATE TABLE log_checkpoints (
    size        INTEGER PRIMARY KEY,
    note        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL   -- microseconds since the epoch
);

-- The verifier key the log is signed with: the first server to start on the
-- database records it, and a server with another key refuses to start.
CREATE TABLE log_key (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    verifier_key TEXT NOT NULL
);
