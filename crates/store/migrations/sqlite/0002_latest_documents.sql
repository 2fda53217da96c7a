-- Performance, same semantics.
--
-- 1. The signed documents move to a table of their own, so that an entry's
--    index row is small (about 2 KB: it stays on its B-tree page instead of
--    spilling into overflow pages that every filter had to walk through).
-- 2. `latest` marks the latest entry of each (identifier, email): the entry
--    with no newer `created` for the pair. It is derived data, set in the
--    put transaction that makes an entry latest (the previous latest is
--    cleared in the same transaction) and recomputed by a rebuild; a
--    partial unique index guarantees at most one per pair. Queries filter
--    on it instead of anti-joining every row against its pair's history.
--    Status (valid / expired / deprecated) is still computed per query.
-- 3. `store_meta`: counters; `generation` is bumped by every rebuild, so
--    that a server can tell that derived fields may have changed without a
--    new entry (it caches counts per (newest sequence, generation)).
-- 4. `kind` (slterms:kind, trimmed and lowercased) for the kind filter.
--    The backfill below lowercases ASCII only (SQLite's lower()); a rebuild
--    (`marketplace admin rebuild-index`) re-derives it exactly.
CREATE TABLE store_meta (
    name  TEXT   PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO store_meta (name, value) VALUES ('generation', 0);

CREATE TABLE documents (
    seq      INTEGER PRIMARY KEY REFERENCES entries (seq),  -- = entries.seq
    document BLOB    NOT NULL                                -- byte for byte
);
INSERT INTO documents (seq, document) SELECT seq, document FROM entries;
ALTER TABLE entries DROP COLUMN document;

ALTER TABLE entries ADD COLUMN latest INTEGER NOT NULL DEFAULT 0;  -- 0/1
ALTER TABLE entries ADD COLUMN kind TEXT;                           -- filter key
UPDATE entries SET
    latest = NOT EXISTS (SELECT 1 FROM entries n
        WHERE n.identifier = entries.identifier AND n.email = entries.email
          AND n.created > entries.created),
    kind = NULLIF(lower(trim(json_extract(metadata, '$.kind'))), '');

-- At most one latest entry per pair; also the lookup by identifier.
CREATE UNIQUE INDEX entries_latest_pair ON entries (identifier, email) WHERE latest;
-- The catalogue in its default order (newest endorsement first).
CREATE INDEX entries_latest_created ON entries (created, seq) WHERE latest;
-- Counting latest entries by status.
CREATE INDEX entries_latest_status ON entries (deprecated, valid_at) WHERE latest;
-- An endorser's entries in acceptance order (feeds).
CREATE INDEX entries_email_seq ON entries (email, seq);
