-- Witnesses' cosignatures of this log's checkpoints (C2SP tlog-cosignature),
-- one line per checkpoint size and witness, published with the checkpoint.
CREATE TABLE log_cosignatures (
    size    BIGINT  NOT NULL,
    witness TEXT    NOT NULL,
    line    TEXT    NOT NULL,
    PRIMARY KEY (size, witness)
);

-- As a witness of other logs: the latest checkpoint cosigned for each origin
-- (C2SP tlog-witness), advanced only by a compare-and-set on its size.
CREATE TABLE witness_checkpoints (
    origin TEXT COLLATE "C" PRIMARY KEY,
    size   BIGINT  NOT NULL,
    note   TEXT    NOT NULL
);
