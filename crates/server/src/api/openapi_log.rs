//! The OpenAPI description of the transparency log's routes
//! (`crate::api::log`): their schemas and operations, added to the
//! document `super::openapi` writes.

use serde_json::{Map, Value, json};

use super::openapi::{array_of, get, nullable_string, object, path_param, query, string, uri};

/// A non-negative integer.
fn count(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": description })
}

/// A base64 string.
fn base64(description: &str) -> Value {
    json!({ "type": "string", "contentEncoding": "base64", "description": description })
}

/// The log's schemas, by name.
pub(super) fn schemas() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "LogInfo".into(),
        object(
            "The transparency log: its identity and newest signed checkpoint.",
            vec![
                ("origin", string("The origin, the checkpoints' first line.")),
                (
                    "verifier_key",
                    string("The C2SP signed-note verifier key: <origin>+<key id>+<base64 key>."),
                ),
                (
                    "size",
                    count("The newest checkpoint's tree size (0 before any entry)."),
                ),
                (
                    "root_hash",
                    nullable_string("Its RFC 6962 root hash (base64)."),
                ),
                (
                    "checkpoint",
                    nullable_string("The signed checkpoint (C2SP tlog-checkpoint)."),
                ),
                (
                    "tiles",
                    uri("The C2SP tlog-tiles base URL (checkpoint, tile/…)."),
                ),
            ],
        ),
    );
    map.extend(proof_schemas());
    map.extend(leaf_schemas());
    map
}

/// The proofs' schemas.
fn proof_schemas() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "InclusionProof".into(),
        object(
            "That a leaf is in a tree (RFC 6962 audit path).",
            vec![
                ("index", count("The leaf index.")),
                ("size", count("The tree size.")),
                ("leaf", base64("The leaf.")),
                (
                    "hashes",
                    array_of(base64("A hash."), "The leaf's sibling first."),
                ),
                (
                    "root_hash",
                    base64("The root hash of the tree of size leaves."),
                ),
                (
                    "checkpoint",
                    nullable_string("The signed checkpoint of that size, if any."),
                ),
            ],
        ),
    );
    map.insert(
        "ConsistencyProof".into(),
        object(
            "That a tree extends a smaller one (RFC 6962 consistency proof).",
            vec![
                ("first", count("The smaller tree's size.")),
                ("second", count("The larger tree's size.")),
                ("first_root_hash", base64("The smaller tree's root hash.")),
                ("second_root_hash", base64("The larger tree's root hash.")),
                ("hashes", array_of(base64("A hash."), "The proof.")),
            ],
        ),
    );
    map
}

/// The leaves' and entries' schemas.
fn leaf_schemas() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "LogLeaves".into(),
        object(
            "Consecutive public leaves.",
            vec![
                ("start", count("The first leaf's index.")),
                ("leaves", array_of(base64("A leaf."), "In order.")),
            ],
        ),
    );
    map.insert(
        "EntryLog".into(),
        object(
            "Where an entry is in the transparency log.",
            vec![
                ("index", count("The leaf index.")),
                (
                    "leaf",
                    base64("The public leaf: the entry's record, or a commitment to it."),
                ),
                (
                    "opening",
                    json!({ "oneOf": [ { "type": "null" }, object(
                        "What opens a restricted entry's commitment.",
                        vec![
                            ("nonce", base64("The 32-byte nonce.")),
                            ("entry_leaf", base64("The entry leaf it hides.")),
                        ],
                    ) ] }),
                ),
                ("receipt", uri("The entry's C2SP tlog-proof receipt.")),
            ],
        ),
    );
    map
}

/// Adds the log's operations to `paths`.
pub(super) fn paths(paths: &mut Map<String, Value>) {
    let bad = ("400", "Invalid parameters.");
    let missing = ("404", "Unknown, or no checkpoint yet.");
    let number = |name: &str, description: &str| {
        query(
            name,
            json!({ "type": "integer", "minimum": 0 }),
            description,
        )
    };
    paths.insert(
        "/log".into(),
        get(
            "getLog",
            "The log's identity and newest checkpoint.",
            Vec::new(),
            "LogInfo",
            &[],
        ),
    );
    paths.insert(
        "/log/proof/inclusion".into(),
        get(
            "proveInclusion",
            "The audit path of a leaf.",
            vec![
                number("index", "The leaf index (required)."),
                number("size", "The tree size (default: the newest checkpoint's)."),
            ],
            "InclusionProof",
            &[bad, missing],
        ),
    );
    paths.insert(
        "/log/proof/consistency".into(),
        get(
            "proveConsistency",
            "That the tree of second leaves extends the tree of first leaves.",
            vec![
                number("first", "The smaller size (required)."),
                number(
                    "second",
                    "The larger size (default: the newest checkpoint's).",
                ),
            ],
            "ConsistencyProof",
            &[bad, missing],
        ),
    );
    paths.insert(
        "/log/leaves".into(),
        get(
            "getLeaves",
            "Public leaves start..end (at most 1024).",
            vec![
                number("start", "The first index (required)."),
                number(
                    "end",
                    "One past the last (default: start + 256, within the tree).",
                ),
            ],
            "LogLeaves",
            &[bad, missing],
        ),
    );
    entry_paths(paths);
}

/// The coordinates and the `checkpoint` choice of a receipt.
fn receipt_parameters(mut parameters: Vec<Value>) -> Vec<Value> {
    parameters.push(query(
        "checkpoint",
        json!({ "type": "string", "enum": ["newest", "first-cosigned"], "default": "newest" }),
        "The checkpoint the receipt proves the entry against: the newest, or the first that \
         covers it and that a witness cosigned (its cosignatures' times date the entry's \
         integration, for a policy's signing_time = \"log\").",
    ));
    parameters
}

/// Adds the operations on one entry's place in the log to `paths`.
fn entry_paths(paths: &mut Map<String, Value>) {
    let missing = ("404", "Unknown, or no checkpoint yet.");
    let coordinates = || {
        vec![
            path_param("identifier", "The image identifier."),
            path_param("email", "The endorser's e-mail."),
            path_param(
                "created",
                "The endorsement's created (YYYY-MM-DDTHH:MM:SSZ).",
            ),
        ]
    };
    paths.insert(
        "/entries/{identifier}/{email}/{created}/log".into(),
        get(
            "getEntryLog",
            "Where an entry is in the log (once a checkpoint covers it).",
            coordinates(),
            "EntryLog",
            &[missing],
        ),
    );
    paths.insert(
        "/entries/{identifier}/{email}/{created}/receipt".into(),
        json!({ "get": {
            "operationId": "getEntryReceipt",
            "summary": "The entry's offline receipt (C2SP tlog-proof): its index, audit path \
                        and the signed checkpoint. The extra line holds the public leaf and, \
                        for an entry restricted to VOs, its opening (JSON).",
            "parameters": receipt_parameters(coordinates()),
            "responses": {
                "200": { "description": "The receipt (.tlog-proof).",
                         "content": { "text/plain": { "schema": { "type": "string" } } } },
                "400": { "description": "An unknown checkpoint choice." },
                "404": { "description": "Unknown, hidden from the caller, or (first-cosigned) \
                                         no cosigned checkpoint covers it yet." },
            },
        }}),
    );
}
