-- Accepted entries: the signed bytes exactly as received, and the fields
-- lists and searches need, derived from them (re-derivable by a rebuild).
-- Nothing here is a "latest" flag: latest = no newer `created` for the same
-- (identifier, email), computed in every query.
CREATE TABLE entries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT, -- acceptance (= commit) order
    identifier      TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    created         TEXT    NOT NULL,  -- YYYY-MM-DDTHH:MM:SSZ, as written
    document        BLOB    NOT NULL,
    document_sha256 TEXT    NOT NULL,
    accepted_at     INTEGER NOT NULL,  -- microseconds since the Unix epoch
    metadata        TEXT    NOT NULL,  -- JSON of marketplace_format::Metadata
    signer          TEXT    NOT NULL,  -- JSON of marketplace_store::Signer
    title           TEXT,
    title_key       TEXT,              -- lowercased title, for sorting
    description     TEXT,
    os              TEXT,              -- filter keys: trimmed, lowercased
    os_version      TEXT,
    os_arch         TEXT,
    kind_type       TEXT,
    format          TEXT,
    hypervisor      TEXT,
    tag             TEXT,              -- dcterms:alternative
    vo              TEXT,
    valid_at        TEXT,              -- normalised dcterms:valid; NULL never expires
    deprecated      INTEGER NOT NULL,  -- 0/1: carries slterms:deprecated
    loc_web         INTEGER NOT NULL,  -- 0/1: no location or an http(s)/ftp one
    loc_pdisk       INTEGER NOT NULL,  -- 0/1: a pdisk: location
    signer_subject  TEXT    NOT NULL,
    signer_issuer   TEXT    NOT NULL,
    endorser_text   TEXT    NOT NULL,  -- e-mail, its words, subject (full text)
    UNIQUE (identifier, email, created)
);

CREATE INDEX entries_email_created ON entries (email, created);
CREATE INDEX entries_created ON entries (created);
CREATE INDEX entries_email_tag ON entries (email, tag);
CREATE INDEX entries_os ON entries (os);

-- Full text, rowid = entries.seq; written in the put transaction and
-- rewritten by a rebuild.
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    title, description, os, os_version, tag, endorser,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Uploads waiting for e-mail confirmation.
CREATE TABLE pending (
    token       TEXT PRIMARY KEY,
    identifier  TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    created     TEXT    NOT NULL,
    document    BLOB    NOT NULL,
    metadata    TEXT    NOT NULL,
    signer      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,  -- microseconds since the Unix epoch
    expires_at  INTEGER NOT NULL
);

CREATE INDEX pending_expires ON pending (expires_at);
