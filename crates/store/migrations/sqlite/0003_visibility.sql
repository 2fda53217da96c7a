-- Restricted entries: a document may say (`mp:visible-to`, inside the
-- signed bytes) that it is visible only to members of given VOs.
--
-- 1. `restricted` (0/1): the entry carries the term. Public reads filter
--    on it (`NOT restricted`), so they stay a column check.
-- 2. `entry_visibility`: one row per VO a restricted entry is visible to
--    (trimmed of XML white space, as `marketplace_store::visibility`
--    gives them). A member's read keeps the restricted entries with an
--    `entry_visibility` row of one of its VOs: a primary-key lookup by
--    (seq, vo). Written with the entry by the put transaction, rewritten
--    by a rebuild.
-- 3. The backfill reads the stored metadata JSON; a rebuild
--    (`marketplace admin rebuild-index`) re-derives it from the documents.
ALTER TABLE entries ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;  -- 0/1

CREATE TABLE entry_visibility (
    seq INTEGER NOT NULL REFERENCES entries (seq),  -- = entries.seq
    vo  TEXT    NOT NULL,                           -- a VO it is visible to
    PRIMARY KEY (seq, vo)
) WITHOUT ROWID;

INSERT OR IGNORE INTO entry_visibility (seq, vo)
    SELECT e.seq, trim(j.value, ' ' || char(9, 10, 13))
    FROM entries e, json_each(e.metadata, '$.visible_to') j;
UPDATE entries SET restricted = 1 WHERE seq IN (SELECT seq FROM entry_visibility);

-- Counting an audience's latest entries by status.
CREATE INDEX entries_latest_visible ON entries (restricted, deprecated, valid_at) WHERE latest;
