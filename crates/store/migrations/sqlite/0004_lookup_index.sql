-- The check a site makes before starting a VM, `GET /metadata/{id}`: the
-- latest entries of one image, newest endorsement first, with their status
-- and the digests of their documents. This index holds every column that
-- read needs, in its order: no sort of the rows, no read of the entry row
-- (only the document, from `documents`). `entries_latest_pair` stays the
-- uniqueness rule of (identifier, email).
CREATE INDEX entries_latest_identifier
    ON entries (identifier, created, seq, restricted, deprecated, valid_at, document_sha256)
    WHERE latest;
