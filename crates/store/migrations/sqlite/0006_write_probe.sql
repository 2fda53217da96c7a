-- The write probe of a store whose last write failed (`/healthz`): it
-- writes a row as large as the largest upload here and deletes it, so that
-- "the store writes again" means that an upload fits again (a counter
-- update alone fits into pages the database already holds on a full disk).
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    pad BLOB    NOT NULL
);
