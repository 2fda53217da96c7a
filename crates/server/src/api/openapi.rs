//! The OpenAPI 3.1 description of `/api/v1`, written by hand with
//! `serde_json` so that it states exactly the shapes of the `marketplace_api` crate's types
//! (every object closed with `additionalProperties: false`; a test checks
//! real responses against it).

use super::search::{SORT_KEYS, STATUSES};
use serde_json::{Map, Value, json};

pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A string or null.
pub(super) fn nullable_string(description: &str) -> Value {
    json!({ "type": ["string", "null"], "description": description })
}

pub(super) fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

pub(super) fn uri(description: &str) -> Value {
    json!({ "type": "string", "format": "uri", "description": description })
}

/// A closed object with these properties, all required.
pub(super) fn object(description: &str, properties: Vec<(&str, Value)>) -> Value {
    let required: Vec<&str> = properties.iter().map(|(n, _)| *n).collect();
    let properties: Map<String, Value> = properties
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

pub(super) fn array_of(item: Value, description: &str) -> Value {
    json!({ "type": "array", "items": item, "description": description })
}

fn entry_schema() -> Value {
    object(
        "An entry: one endorser's signed metadata about an image, with its status at the \
         request's instant.",
        vec![
            (
                "identifier",
                string("The image identifier (27 characters)."),
            ),
            ("endorser", schema_ref("Signer")),
            (
                "created",
                string("The endorsement's dcterms:created (YYYY-MM-DDTHH:MM:SSZ)."),
            ),
            (
                "accepted_at",
                json!({ "type": "string", "format": "date-time",
                        "description": "When the marketplace accepted the entry." }),
            ),
            ("status", schema_ref("Status")),
            (
                "latest",
                json!({ "type": "boolean",
                        "description": "Whether this is the endorser's latest entry for the image." }),
            ),
            (
                "rank",
                json!({ "type": ["number", "null"],
                        "description": "Full-text relevance (searches with q; higher is better)." }),
            ),
            ("title", nullable_string("dcterms:title")),
            ("description", nullable_string("dcterms:description")),
            ("os", nullable_string("slterms:os")),
            ("os_version", nullable_string("slterms:os-version")),
            ("os_arch", nullable_string("slterms:os-arch")),
            ("type", nullable_string("dcterms:type")),
            ("kind", nullable_string("slterms:kind")),
            ("format", nullable_string("dcterms:format")),
            ("hypervisor", nullable_string("slterms:hypervisor")),
            (
                "tag",
                nullable_string("dcterms:alternative (the endorser's tag)"),
            ),
            ("version", nullable_string("slterms:version")),
            (
                "valid",
                nullable_string("dcterms:valid: when the entry expires"),
            ),
            (
                "deprecated",
                nullable_string("slterms:deprecated: why the image is deprecated"),
            ),
            ("publisher", nullable_string("dcterms:publisher")),
            ("creator", nullable_string("dcterms:creator")),
            ("compression", nullable_string("dcterms:compression")),
            (
                "bytes",
                json!({ "type": ["integer", "null"], "minimum": 0, "description": "slreq:bytes" }),
            ),
            (
                "checksums",
                array_of(schema_ref("Checksum"), "slreq:checksum blocks"),
            ),
            (
                "locations",
                array_of(json!({ "type": "string" }), "slterms:location values"),
            ),
            (
                "visible_to",
                array_of(
                    json!({ "type": "string" }),
                    "mp:visible-to: the VOs whose members alone may see this entry (empty: \
                     public). Such entries are shown only to clients authenticated as members \
                     of one of them; to anyone else they do not exist (not listed, not counted, \
                     404).",
                ),
            ),
            ("links", schema_ref("EntryLinks")),
        ],
    )
}

fn endorser_properties() -> Vec<(&'static str, Value)> {
    vec![
        ("email", string("The endorser's e-mail.")),
        (
            "entry_count",
            json!({ "type": "integer", "minimum": 0, "description": "Entries, history included." }),
        ),
        ("latest", string("Its latest endorsement created.")),
        (
            "certificates",
            array_of(
                schema_ref("Certificate"),
                "The certificates it signed with.",
            ),
        ),
        ("links", schema_ref("EndorserLinks")),
    ]
}

fn schemas() -> Value {
    let statuses = json!(["valid", "expired", "deprecated"]);
    let mut endorser_detail = endorser_properties();
    endorser_detail.push((
        "entries",
        array_of(
            schema_ref("Entry"),
            "Its entries, history included, newest created first.",
        ),
    ));
    json!({
        "Error": object("An error.", vec![(
            "error",
            object("The status and message.", vec![
                ("status", json!({ "type": "integer", "description": "The HTTP status." })),
                ("message", string("What went wrong.")),
            ]),
        )]),
        "Status": {
            "type": "string",
            "enum": statuses,
            "description": "valid: latest, not deprecated, not past dcterms:valid; expired: past \
                            dcterms:valid; deprecated: carries slterms:deprecated.",
        },
        "Signer": object("The endorser and the certificate that signed.", vec![
            ("email", string("The endorser's e-mail.")),
            ("subject", string("Subject DN of the signing identity.")),
            ("issuer", string("Issuer DN of that identity.")),
            ("email_certified", json!({ "type": "boolean",
                "description": "Whether a certificate authority vouches for the e-mail: the \
                    certificate carries it and chains to this marketplace's CA directory." })),
            ("identity", json!({ "type": "string", "enum": ["certified", "self-asserted"],
                "description": "certified: the certificate chained to this marketplace's CA \
                    directory; self-asserted: no CA vouched for it (the endorser e-mail is \
                    still bound to its first key)." })),
            ("vo", nullable_string("VO of the VOMS proxy that signed.")),
            ("fqans", array_of(string("An FQAN, e.g. /biomed/Role=VO-Admin."),
                "FQANs of that proxy's attribute certificate (empty without one).")),
        ]),
        "Checksum": object("A checksum of the image.", vec![
            ("algorithm", json!({ "type": "string", "enum": ["MD5", "SHA-1", "SHA-256", "SHA-512"] })),
            ("value", string("Lowercase hexadecimal.")),
        ]),
        "EntryLinks": object("Links of an entry.", vec![
            ("self", uri("This entry in the JSON API.")),
            ("image", uri("Its image in the JSON API.")),
            ("document", uri("The signed document, byte for byte (application/rdf+xml).")),
            ("page", uri("The entry's HTML page.")),
            ("log", uri("Its place in the transparency log.")),
            ("receipt", uri("Its offline receipt (C2SP tlog-proof).")),
        ]),
        "Entry": entry_schema(),
        "SearchResult": object("A page of search results.", vec![
            ("total", json!({ "type": "integer", "minimum": 0,
                "description": "Latest entries with the status filter only." })),
            ("matching", json!({ "type": "integer", "minimum": 0,
                "description": "Entries matching every filter, before paging." })),
            ("offset", json!({ "type": "integer", "minimum": 0 })),
            ("limit", json!({ "type": "integer", "minimum": 1, "maximum": 1000 })),
            ("items", array_of(schema_ref("Entry"),
                "The latest entry of each (image, endorser) that matches.")),
        ]),
        "ImageLinks": object("Links of an image.", vec![
            ("self", uri("This image.")),
            ("history", uri("Every entry of the image.")),
            ("feed", uri("The Atom feed of the image's entries.")),
        ]),
        "Image": object("An image and its endorsements.", vec![
            ("identifier", string("The image identifier.")),
            ("status", schema_ref("Status")),
            ("current", array_of(schema_ref("Entry"),
                "Each endorser's latest entry that is neither expired nor deprecated.")),
            ("inactive", array_of(schema_ref("Entry"),
                "The endorsers' latest entries that are expired or deprecated.")),
            ("links", schema_ref("ImageLinks")),
        ]),
        "History": object("Every entry of an image.", vec![
            ("identifier", string("The image identifier.")),
            ("count", json!({ "type": "integer", "minimum": 0 })),
            ("items", array_of(schema_ref("Entry"), "Newest created first, every endorser.")),
        ]),
        "Certificate": object("A certificate an endorser signed with.", vec![
            ("subject", string("Subject DN.")),
            ("issuer", string("Issuer DN.")),
            ("entries", json!({ "type": "integer", "minimum": 0 })),
            ("latest", string("Its latest endorsement created.")),
        ]),
        "EndorserLinks": object("Links of an endorser.", vec![
            ("self", uri("This endorser.")),
            ("feed", uri("The Atom feed of its entries.")),
        ]),
        "Endorser": object("An endorser.", endorser_properties()),
        "EndorserList": object("Every endorser.", vec![
            ("total", json!({ "type": "integer", "minimum": 0 })),
            ("items", array_of(schema_ref("Endorser"), "By e-mail.")),
        ]),
        "EndorserDetail": object("An endorser and its entries.", endorser_detail),
    })
}

/// Every schema: the catalogue's and the transparency log's.
fn all_schemas() -> Value {
    let mut all = schemas();
    if let Some(map) = all.as_object_mut() {
        map.extend(super::openapi_log::schemas());
    }
    all
}

pub(super) fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema,
            "description": description })
}

pub(super) fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" },
            "description": description })
}

/// The parameters of a search: its filters, then its order and paging.
fn search_parameters() -> Vec<Value> {
    let mut parameters = filter_parameters();
    parameters.extend(order_and_paging_parameters());
    parameters
}

/// The filters of a search.
fn filter_parameters() -> Vec<Value> {
    let text = json!({ "type": "string" });
    let instant = json!({ "type": "string", "format": "date-time" });
    vec![
        query(
            "q",
            text.clone(),
            "Free text over title, description, os, os version, tag and endorser; every word \
             must occur (whole words, case-insensitive). At most 1024 bytes and 16 words.",
        ),
        query("identifier", text.clone(), "Exact image identifier."),
        query("os", text.clone(), "Exact OS (case-insensitive)."),
        query(
            "os_version",
            text.clone(),
            "Exact OS version (case-insensitive).",
        ),
        query(
            "os_arch",
            text.clone(),
            "Exact architecture (case-insensitive).",
        ),
        query(
            "type",
            text.clone(),
            "Exact dcterms:type (case-insensitive).",
        ),
        query(
            "kind",
            text.clone(),
            "Exact slterms:kind (case-insensitive).",
        ),
        query(
            "format",
            text.clone(),
            "Exact dcterms:format (case-insensitive).",
        ),
        query(
            "hypervisor",
            text.clone(),
            "Exact hypervisor (case-insensitive).",
        ),
        query("endorser", text.clone(), "Exact endorser e-mail."),
        query("vo", text.clone(), "VO of the signer's VOMS proxy."),
        query("tag", text, "Exact tag (dcterms:alternative)."),
        query(
            "created_from",
            instant.clone(),
            "Endorsed at or after (RFC 3339).",
        ),
        query("created_to", instant.clone(), "Endorsed before (RFC 3339)."),
        query(
            "valid_from",
            instant.clone(),
            "Valid until at or after (entries without dcterms:valid pass).",
        ),
        query(
            "valid_to",
            instant,
            "Valid until before (entries without dcterms:valid fail).",
        ),
    ]
}

/// The order and paging of a search.
fn order_and_paging_parameters() -> Vec<Value> {
    let count = json!({ "type": "integer", "minimum": 0 });
    let sorts: Vec<&str> = SORT_KEYS.iter().map(|(n, _)| *n).collect();
    let statuses: Vec<&str> = STATUSES.iter().map(|(n, _)| *n).collect();
    vec![
        query(
            "status",
            json!({ "type": "string", "enum": statuses, "default": "valid" }),
            "Which statuses to return.",
        ),
        query(
            "sort",
            json!({ "type": "string", "enum": sorts, "default": "relevance" }),
            "Sort key; relevance is best first with q, else newest endorsement first. Missing \
             values sort last.",
        ),
        query(
            "order",
            json!({ "type": "string", "enum": ["asc", "desc"] }),
            "Direction (default: desc for created and valid, asc otherwise).",
        ),
        query(
            "page",
            json!({ "type": "integer", "minimum": 1 }),
            "Page number (with per_page; not with offset/limit).",
        ),
        query(
            "per_page",
            json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 50 }),
            "Page size (larger values are clamped to 1000).",
        ),
        query(
            "offset",
            count,
            "Rows to skip (with limit; not with page/per_page).",
        ),
        query(
            "limit",
            json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 50 }),
            "Rows to return (larger values are clamped to 1000).",
        ),
    ]
}

fn limit_parameter(default: u32) -> Value {
    query(
        "limit",
        json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": default }),
        "At most this many entries (larger values are clamped to 1000).",
    )
}

pub(super) fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// The responses of a read operation answering `schema`.
fn responses(schema: &str, description: &str, errors: &[(&str, &str)]) -> Value {
    let mut map = Map::new();
    map.insert(
        "200".into(),
        json!({
            "description": description,
            "headers": {
                "ETag": { "description": "Strong entity tag of the body.",
                          "schema": { "type": "string" } },
                "Last-Modified": {
                    "description": "When the representation last changed (an acceptance or \
                                    an expiry), where that is known.",
                    "schema": { "type": "string" } },
            },
            "content": json_content(schema_ref(schema)),
        }),
    );
    map.insert(
        "304".into(),
        json!({ "description": "Not modified (If-None-Match or If-Modified-Since)." }),
    );
    for (code, text) in errors {
        map.insert(
            (*code).into(),
            json!({ "description": text, "content": json_content(schema_ref("Error")) }),
        );
    }
    Value::Object(map)
}

pub(super) fn get(
    id: &str,
    summary: &str,
    parameters: Vec<Value>,
    schema: &str,
    errors: &[(&str, &str)],
) -> Value {
    json!({ "get": {
        "operationId": id,
        "summary": summary,
        "parameters": parameters,
        "responses": responses(schema, summary, errors),
    }})
}

/// The operations of the API, by path.
fn paths() -> Map<String, Value> {
    let identifier = || path_param("identifier", "The image identifier.");
    let email = || path_param("email", "The endorser's e-mail.");
    let bad = ("400", "Invalid parameters.");
    let missing = ("404", "Unknown.");
    let mut paths = Map::new();
    paths.insert(
        "/images".into(),
        get(
            "searchImages",
            "Search the latest entry of each (image, endorser).",
            search_parameters(),
            "SearchResult",
            &[bad],
        ),
    );
    paths.insert(
        "/images/{identifier}".into(),
        get(
            "getImage",
            "An image: every endorser's current endorsement, and the latest entries that are \
             expired or deprecated.",
            vec![identifier()],
            "Image",
            &[missing],
        ),
    );
    paths.insert(
        "/images/{identifier}/history".into(),
        get(
            "getImageHistory",
            "Every entry of an image, every endorser, newest first.",
            vec![identifier(), limit_parameter(1000)],
            "History",
            &[bad, missing],
        ),
    );
    paths.insert(
        "/entries/{identifier}/{email}/{created}".into(),
        get(
            "getEntry",
            "One entry, any status, with a link to its signed document.",
            vec![
                identifier(),
                email(),
                path_param(
                    "created",
                    "The endorsement's created (YYYY-MM-DDTHH:MM:SSZ).",
                ),
            ],
            "Entry",
            &[missing],
        ),
    );
    paths.insert(
        "/endorsers".into(),
        get(
            "listEndorsers",
            "Every endorser and the certificates it used.",
            Vec::new(),
            "EndorserList",
            &[],
        ),
    );
    paths.insert(
        "/endorsers/{email}".into(),
        get(
            "getEndorser",
            "An endorser and its entries.",
            vec![email(), limit_parameter(1000)],
            "EndorserDetail",
            &[bad, missing],
        ),
    );
    super::openapi_log::paths(&mut paths);
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": {
            "operationId": "getOpenApi",
            "summary": "This document.",
            "responses": {
                "200": { "description": "The OpenAPI 3.1 document.",
                         "content": json_content(json!({ "type": "object" })) },
            },
        }}),
    );
    paths
}

/// The OpenAPI document; `public_url` is the server's public base URL.
pub(crate) fn document(public_url: &str) -> Value {
    let paths = paths();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Marketplace JSON API",
            "version": "1",
            "description": "The registry of signed metadata about virtual machine images: \
                            images with their current endorsements, entries, endorsers and \
                            search. Every successful response carries a strong ETag; \
                            If-None-Match and If-Modified-Since are answered with 304. The \
                            signed documents themselves are served by the original routes \
                            (links named document). Entries restricted to VOs (visible_to) \
                            are shown only to clients authenticated (TLS client certificate or \
                            VOMS proxy) as members of one of those VOs: for anyone else they \
                            are not listed, counted or found (404), and an endorser's image \
                            whose latest entry is hidden has no current state. Responses made \
                            for an authenticated client are Cache-Control: private.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [ { "url": format!("{public_url}{}", super::PREFIX) } ],
        "paths": paths,
        "components": { "schemas": all_schemas() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_and_nothing_else() {
        let doc = document("https://example.org");
        let paths = doc["paths"].as_object().unwrap();
        for route in super::super::ROUTES {
            assert!(paths.contains_key(*route), "{route} is not described");
        }
        assert_eq!(paths.len(), super::super::ROUTES.len());
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document("https://example.org");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(schemas.contains_key(name), "{name} is not defined");
        }
    }
}
