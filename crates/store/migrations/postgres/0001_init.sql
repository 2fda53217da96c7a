-- Accepted entries: the signed bytes exactly as received, and the fields
-- lists and searches need, derived from them (re-derivable by a rebuild).
-- Nothing here is a "latest" flag: latest = no newer `created` for the same
-- (identifier, email), computed in every query.
-- Text columns use the "C" collation so that comparisons and sorting are
-- by code point, as in SQLite, whatever the database locale.
CREATE TABLE entries (
    seq             BIGSERIAL PRIMARY KEY,  -- acceptance (= commit) order
    identifier      TEXT COLLATE "C" NOT NULL,
    email           TEXT COLLATE "C" NOT NULL,
    created         TEXT COLLATE "C" NOT NULL,  -- YYYY-MM-DDTHH:MM:SSZ, as written
    document        BYTEA       NOT NULL,
    document_sha256 TEXT        NOT NULL,
    accepted_at     TIMESTAMPTZ NOT NULL,
    metadata        JSONB       NOT NULL,  -- marketplace_format::Metadata
    signer          JSONB       NOT NULL,  -- marketplace_store::Signer
    title           TEXT COLLATE "C",
    title_key       TEXT COLLATE "C",      -- lowercased title, for sorting
    description     TEXT COLLATE "C",
    os              TEXT COLLATE "C",      -- filter keys: trimmed, lowercased
    os_version      TEXT COLLATE "C",
    os_arch         TEXT COLLATE "C",
    kind_type       TEXT COLLATE "C",
    format          TEXT COLLATE "C",
    hypervisor      TEXT COLLATE "C",
    tag             TEXT COLLATE "C",      -- dcterms:alternative
    vo              TEXT COLLATE "C",
    valid_at        TEXT COLLATE "C",      -- normalised dcterms:valid; NULL never expires
    deprecated      BOOLEAN     NOT NULL,  -- carries slterms:deprecated
    loc_web         BOOLEAN     NOT NULL,  -- no location or an http(s)/ftp one
    loc_pdisk       BOOLEAN     NOT NULL,  -- a pdisk: location
    signer_subject  TEXT COLLATE "C" NOT NULL,
    signer_issuer   TEXT COLLATE "C" NOT NULL,
    endorser_text   TEXT        NOT NULL,  -- e-mail, its words, subject (full text)
    search          TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(tag, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(os, '') || ' ' || coalesce(os_version, '')), 'B') ||
        setweight(to_tsvector('simple', coalesce(description, '')), 'C') ||
        setweight(to_tsvector('simple', endorser_text), 'D')
    ) STORED,
    UNIQUE (identifier, email, created)
);

CREATE INDEX entries_email_created ON entries (email, created);
CREATE INDEX entries_created ON entries (created);
CREATE INDEX entries_email_tag ON entries (email, tag);
CREATE INDEX entries_os ON entries (os);
CREATE INDEX entries_search ON entries USING GIN (search);

-- Uploads waiting for e-mail confirmation.
CREATE TABLE pending (
    token       TEXT COLLATE "C" PRIMARY KEY,
    identifier  TEXT        NOT NULL,
    email       TEXT        NOT NULL,
    created     TEXT        NOT NULL,
    document    BYTEA       NOT NULL,
    metadata    JSONB       NOT NULL,
    signer      JSONB       NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX pending_expires ON pending (expires_at);
