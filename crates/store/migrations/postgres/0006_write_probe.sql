-- The write probe of a store whose last write failed (`/healthz`): it
-- writes a row as large as the largest upload here and deletes it, so that
-- "the store writes again" means that an upload fits again (a counter
-- update alone fits into pages the database already holds on a full disk).
-- EXTERNAL: stored out of line and never compressed, so the probe's bytes
-- are really written.
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    pad BYTEA   NOT NULL
);
ALTER TABLE write_probe ALTER COLUMN pad SET STORAGE EXTERNAL;
