//! Each form the original tools wrote that the format reads leniently
//! (docs/compatibility.md): accepted, read as the table says, with a note
//! naming the element and its line; and what stays refused beside it.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_format::{
    Algorithm, Checksum, Endorsement, Endorser, MAX_NOTES, Metadata, identifier, parse, write,
};

/// A valid unsigned document (SHA-1 of "image"), as `marketplace build`
/// and `sign` would write it, with an MD5 beside the SHA-1.
fn document() -> String {
    let sha1 = "d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7";
    let id = identifier::from_sha1_hex(sha1).unwrap();
    write::to_xml(&Metadata {
        identifier: id,
        kind_type: Some("machine".into()),
        bytes: Some(1024),
        checksums: vec![
            Checksum {
                algorithm: Algorithm::Md5,
                value: "0123456789abcdef0123456789abcdef".into(),
            },
            Checksum {
                algorithm: Algorithm::Sha1,
                value: sha1.into(),
            },
        ],
        locations: vec!["https://images.example.org/a.img".into()],
        endorsement: Some(Endorsement {
            created: "2025-01-01T00:00:00Z".into(),
            endorser: Endorser {
                email: "a@example.org".into(),
                subject: "CN=A".into(),
                issuers: vec!["CN=CA".into()],
                email_unverified: false,
            },
        }),
        ..Metadata::default()
    })
}

/// `document()` with `from` replaced by `to` (which must be there).
fn with(from: &str, to: &str) -> String {
    let doc = document();
    assert!(doc.contains(from), "{from} not in {doc}");
    doc.replacen(from, to, 1)
}

/// Parses `doc`, which must be valid; returns it with its notes as text.
fn lenient(doc: &str) -> (marketplace_format::ParsedDocument, String) {
    let parsed = parse(doc.as_bytes());
    assert!(parsed.is_valid(), "{:?}\n{doc}", parsed.problems);
    let notes = parsed
        .notes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    (parsed, notes)
}

#[test]
fn the_canonical_document_has_no_note() {
    let (_, notes) = lenient(&document());
    assert_eq!(notes, "");
}

#[test]
fn an_empty_or_relative_location_is_absent() {
    for location in [
        "<slterms:location/>",
        "<slterms:location> </slterms:location>",
    ] {
        let doc = with(
            "<slterms:location>https://images.example.org/a.img</slterms:location>",
            location,
        );
        let (parsed, notes) = lenient(&doc);
        assert!(parsed.metadata.locations.is_empty());
        assert!(
            notes.contains("slterms:location: empty element, read as absent (no link"),
            "{notes}"
        );
    }
    let doc = with(
        "https://images.example.org/a.img",
        "a.img</slterms:location>\n    <slterms:location>https://images.example.org/b.img",
    );
    let (parsed, notes) = lenient(&doc);
    assert_eq!(
        parsed.metadata.locations,
        ["https://images.example.org/b.img"]
    );
    assert!(
        notes.contains("'a.img' is not an absolute URI (scheme:...): read as absent"),
        "{notes}"
    );
}

#[test]
fn an_empty_checksum_other_than_sha1_is_absent() {
    let doc = with("0123456789abcdef0123456789abcdef", "");
    let (parsed, notes) = lenient(&doc);
    assert_eq!(parsed.metadata.checksums.len(), 1);
    assert_eq!(parsed.metadata.checksums[0].algorithm, Algorithm::Sha1);
    assert!(
        notes.contains("slreq:value: the MD5 checksum is empty"),
        "{notes}"
    );
    // The SHA-1 defines the identifier: empty, it stays an error.
    let doc = with("d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7<", "<");
    assert!(!parse(doc.as_bytes()).is_valid());
}

#[test]
fn uppercase_hex_is_read_in_lowercase() {
    let doc = with(
        "d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7<",
        "D05B5DEB9D3FF8D9E0A0FB7B0BF4E5A0F8A2E4A7<",
    );
    let (parsed, notes) = lenient(&doc);
    assert_eq!(
        parsed.metadata.checksum(Algorithm::Sha1),
        Some("d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7")
    );
    assert!(
        notes.contains("the SHA-1 value has uppercase digits: read in lowercase"),
        "{notes}"
    );
    // Not hexadecimal at all stays an error.
    let doc = with(
        "0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdeg",
    );
    assert!(!parse(doc.as_bytes()).is_valid());
}

#[test]
fn empty_typed_optional_values_are_absent() {
    let doc = with(
        "<dcterms:type>machine</dcterms:type>",
        "<dcterms:type></dcterms:type>\n    <dcterms:valid/>\n    <dcterms:created></dcterms:created>\n    \
         <slterms:serial-number/>\n    <slterms:inbound-port/>\n    <dcterms:replaces/>",
    );
    let (parsed, notes) = lenient(&doc);
    let m = &parsed.metadata;
    assert!(m.kind_type.is_none() && m.valid.is_none() && m.created.is_none());
    assert!(m.serial_number.is_none() && m.inbound_ports.is_empty() && m.replaces.is_none());
    for element in [
        "dcterms:type",
        "dcterms:valid",
        "dcterms:created",
        "slterms:serial-number",
        "slterms:inbound-port",
        "dcterms:replaces",
    ] {
        assert!(
            notes.contains(&format!("{element}: empty element")),
            "{element}: {notes}"
        );
    }
    // A value that is there and wrong stays an error.
    let doc = with(
        "<dcterms:type>machine</dcterms:type>",
        "<dcterms:type>machine</dcterms:type><dcterms:valid>soon</dcterms:valid>",
    );
    assert!(!parse(doc.as_bytes()).is_valid());
}

#[test]
fn zero_bytes_and_unknown_stratuslab_terms_have_notes() {
    let doc = with(
        "<slreq:bytes>1024</slreq:bytes>",
        "<slreq:bytes>0</slreq:bytes>",
    );
    let (parsed, notes) = lenient(&doc);
    assert_eq!(parsed.metadata.bytes, Some(0));
    assert!(notes.contains("slreq:bytes is 0"), "{notes}");
    let doc = with(
        "<dcterms:type>machine</dcterms:type>",
        "<dcterms:type>machine</dcterms:type><slterms:os-versoin>9</slterms:os-versoin>",
    );
    let (parsed, notes) = lenient(&doc);
    assert!(parsed.metadata.os_version.is_none());
    assert!(
        notes.contains("slterms:os-versoin is not a term of the image description"),
        "{notes}"
    );
}

#[test]
fn notes_are_bounded() {
    let many = "<slterms:location/>".repeat(3 * MAX_NOTES);
    let doc = with(
        "<slterms:location>https://images.example.org/a.img</slterms:location>",
        &many,
    );
    let (parsed, _) = lenient(&doc);
    assert_eq!(parsed.notes.len(), MAX_NOTES);
    let last = parsed.notes.last().unwrap();
    assert_eq!(
        last.message,
        format!("{} more notes like these are not listed", 2 * MAX_NOTES + 1)
    );
}
