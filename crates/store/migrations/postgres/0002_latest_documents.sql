-- Performance, same semantics.
--
-- 1. The signed documents move to a table of their own, so that an entry's
--    index row stays small and scans never touch the documents.
-- 2. `latest` marks the latest entry of each (identifier, email): the entry
--    with no newer `created` for the pair. It is derived data, set in the
--    put transaction that makes an entry latest (the previous latest is
--    cleared in the same transaction, under the pair's advisory lock) and
--    recomputed by a rebuild; a partial unique index guarantees at most one
--    per pair. Queries filter on it instead of anti-joining every row
--    against its pair's history. Status is still computed per query.
-- 3. `store_meta`: counters; `generation` is bumped by every rebuild, so
--    that a server can tell that derived fields may have changed without a
--    new entry (it caches counts per (newest sequence, generation)).
-- 4. `kind` (slterms:kind, trimmed and lowercased) for the kind filter.
--    The backfill below lowercases ASCII only (lower() under the "C"
--    collation); a rebuild (`marketplace admin rebuild-index`) re-derives it
--    exactly.
CREATE TABLE store_meta (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO store_meta (name, value) VALUES ('generation', 0);

CREATE TABLE documents (
    seq      BIGINT PRIMARY KEY REFERENCES entries (seq),  -- = entries.seq
    document BYTEA  NOT NULL                                -- byte for byte
);
INSERT INTO documents (seq, document) SELECT seq, document FROM entries;
ALTER TABLE entries DROP COLUMN document;

ALTER TABLE entries ADD COLUMN latest BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE entries ADD COLUMN kind TEXT COLLATE "C";  -- filter key
UPDATE entries e SET
    latest = NOT EXISTS (SELECT 1 FROM entries n
        WHERE n.identifier = e.identifier AND n.email = e.email
          AND n.created > e.created),
    kind = NULLIF(lower(btrim(e.metadata ->> 'kind')), '');

-- At most one latest entry per pair; also the lookup by identifier.
CREATE UNIQUE INDEX entries_latest_pair ON entries (identifier, email) WHERE latest;
-- The catalogue in its default order (newest endorsement first).
CREATE INDEX entries_latest_created ON entries (created, seq) WHERE latest;
-- Counting latest entries by status.
CREATE INDEX entries_latest_status ON entries (deprecated, valid_at) WHERE latest;
-- An endorser's entries in acceptance order (feeds).
CREATE INDEX entries_email_seq ON entries (email, seq);
