-- The identity each endorser e-mail is bound to (trust on first use): the
-- first certificate accepted for an e-mail binds it; later entries must be
-- signed with the same public key, or under a CA directory by a renewed
-- certificate of the same subject. Keyed by the e-mail in lower case. A row
-- with an empty key_sha256 marks an e-mail the operator released: the next
-- accepted entry binds it.
CREATE TABLE endorser_bindings (
    email      TEXT PRIMARY KEY,  -- lower case
    subject    TEXT    NOT NULL,      -- RFC 2253
    issuer     TEXT    NOT NULL,
    key_sha256 TEXT    NOT NULL,      -- SHA-256 of the DER SubjectPublicKeyInfo, hex
    chained    INTEGER NOT NULL,                 -- chained to the CA directory
    since      INTEGER NOT NULL,                 -- when bound or last moved
    created    TEXT                   -- created of the entry that bound it; NULL: by hand
);

-- E-mail addresses are one endorser whatever their case: the coordinates
-- keep the e-mail in lower case. An entry whose lower-case coordinates are
-- already taken keeps its e-mail as written (nothing is merged or lost).
CREATE TABLE lowered_pairs AS
    SELECT DISTINCT identifier, lower(email) AS email FROM entries WHERE email <> lower(email);
DROP INDEX entries_latest_pair;
UPDATE entries SET email = lower(email)
    WHERE email <> lower(email)
      AND NOT EXISTS (SELECT 1 FROM entries o
          WHERE o.identifier = entries.identifier AND o.email = lower(entries.email)
            AND o.created = entries.created)
      AND entries.seq = (SELECT MIN(v.seq) FROM entries v
          WHERE v.identifier = entries.identifier AND lower(v.email) = lower(entries.email)
            AND v.created = entries.created);
UPDATE entries SET latest = NOT EXISTS (SELECT 1 FROM entries n
        WHERE n.identifier = entries.identifier AND n.email = entries.email
          AND n.created > entries.created)
    WHERE EXISTS (SELECT 1 FROM lowered_pairs p
        WHERE p.identifier = entries.identifier AND p.email = lower(entries.email));
DROP TABLE lowered_pairs;
CREATE UNIQUE INDEX entries_latest_pair ON entries (identifier, email) WHERE latest;
UPDATE pending SET email = lower(email) WHERE email <> lower(email);

-- One upload per address waits for confirmation: looked up by e-mail.
CREATE INDEX pending_email ON pending (email);
