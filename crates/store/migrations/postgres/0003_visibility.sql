-- Restricted entries: a document may say (`mp:visible-to`, inside the
-- signed bytes) that it is visible only to members of given VOs.
--
-- 1. `restricted`: the entry carries the term. Public reads filter on it
--    (`NOT restricted`), so they stay a column check.
-- 2. `entry_visibility`: one row per VO a restricted entry is visible to
--    (trimmed of XML white space, as `marketplace_store::visibility`
--    gives them). A member's read keeps the restricted entries with an
--    `entry_visibility` row of one of its VOs: a primary-key lookup by
--    (seq, vo). Written with the entry by the put transaction, rewritten
--    by a rebuild.
-- 3. The backfill reads the stored metadata JSON; a rebuild
--    (`marketplace admin rebuild-index`) re-derives it from the documents.
ALTER TABLE entries ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE entry_visibility (
    seq BIGINT NOT NULL REFERENCES entries (seq),  -- = entries.seq
    vo  TEXT COLLATE "C" NOT NULL,                 -- a VO it is visible to
    PRIMARY KEY (seq, vo)
);

INSERT INTO entry_visibility (seq, vo)
    SELECT DISTINCT e.seq, btrim(v.vo, E' \t\n\r')
    FROM entries e
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(e.metadata -> 'visible_to') = 'array'
             THEN e.metadata -> 'visible_to' ELSE '[]'::jsonb END) AS v (vo);
UPDATE entries SET restricted = TRUE WHERE seq IN (SELECT seq FROM entry_visibility);

-- Counting an audience's latest entries by status.
CREATE INDEX entries_latest_visible ON entries (restricted, deprecated, valid_at) WHERE latest;
