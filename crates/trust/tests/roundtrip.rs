//! Property tests of the whole chain: random metadata → `write::to_xml` → endorsement
//! filled from the certificate (`endorsement_for` + `edit::set_endorsement`) →
//! `dsig::sign` → `check_document`: the document is valid, the signature Valid, and
//! it reads back as exactly the metadata written (with the endorsement that was filled).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use marketplace_format::{Algorithm, Checksum, Metadata, identifier};
use marketplace_trust::document::SignatureStatus;
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::{EmailBinding, endorsement_for};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

// --- strategies -------------------------------------------------------------------------------

/// Literal text: ASCII, XML's special characters, any printable Unicode, whitespace
/// only, and text with leading/trailing whitespace (RDF literals keep all of it).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._-]{0,24}",
        "[<&>\"' a-z;#]{0,16}",
        "\\PC{0,24}",
        "[ \t\r\n]{1,6}",
        "[ \t\r\n]{0,3}[a-z<&>\"'\u{e9}\u{4e2d}\u{1F600}]{1,10}[ \t\r\n]{0,3}",
        Just("]]>".to_string()),
        Just("&amp; &lt;not an entity&gt; &#13;".to_string()),
        Just(String::new()),
    ]
}

/// Text with at least one visible character (`dcterms:type` must not be blank).
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("machine".to_string()),
        Just("disk".to_string()),
        "[a-z][a-z0-9 <&>\"'-]{0,12}",
        "\\PC{0,4}[a-zA-Z\u{e9}\u{4e2d}]\\PC{0,4}",
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn identifier_strategy() -> impl Strategy<Value = String> {
    any::<[u8; 20]>().prop_map(|b| identifier::from_sha1_bytes(&b))
}

fn datetime_text() -> impl Strategy<Value = String> {
    (
        1970..2100i32,
        1..=12u32,
        1..=28u32,
        0..24u32,
        0..60u32,
        0..60u32,
    )
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"))
}

fn location() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("http"),
            Just("https"),
            Just("s3"),
            Just("ftp"),
            Just("gsiftp"),
            Just("file")
        ],
        "[a-z0-9.-]{1,16}",
        "[a-zA-Z0-9._~%/?&=+;:@!$'()*,-]{0,24}",
    )
        .prop_map(|(scheme, host, path)| format!("{scheme}://{host}/{path}"))
}

/// The SHA-1 (which defines the identifier) and any of the other checksums, in any order.
fn checksums(sha1: [u8; 20]) -> impl Strategy<Value = Vec<Checksum>> {
    (
        option::of(any::<[u8; 16]>()),
        option::of(any::<[u8; 32]>()),
        option::of(vec(any::<u8>(), 64)),
    )
        .prop_flat_map(move |(md5, sha256, sha512)| {
            let mut list = vec![Checksum {
                algorithm: Algorithm::Sha1,
                value: hex(&sha1),
            }];
            if let Some(v) = md5 {
                list.push(Checksum {
                    algorithm: Algorithm::Md5,
                    value: hex(&v),
                });
            }
            if let Some(v) = sha256 {
                list.push(Checksum {
                    algorithm: Algorithm::Sha256,
                    value: hex(&v),
                });
            }
            if let Some(v) = sha512 {
                list.push(Checksum {
                    algorithm: Algorithm::Sha512,
                    value: hex(&v),
                });
            }
            Just(list).prop_shuffle()
        })
}

/// A random, format-valid description (no endorsement: the template's empty one).
fn metadata() -> impl Strategy<Value = Metadata> {
    let links = (
        option::of(identifier_strategy()),
        option::of(identifier_strategy()),
        option::of(identifier_strategy()),
    );
    let texts = (
        option::of(text()),
        option::of(text()),
        word(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    );
    let dates = (option::of(datetime_text()), option::of(datetime_text()));
    let numbers = (
        1..=u64::MAX,
        option::of(any::<u64>()),
        vec(any::<u16>(), 0..4),
        vec(any::<u16>(), 0..3),
        // Few values: repeated ones (an RDF graph is a set; the reader keeps repeats).
        vec(0u8..4, 0..4),
    );
    let system = (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        vec(prop_oneof![Just("virtio".to_string()), text()], 0..3),
        option::of(text()),
        vec(text(), 0..3),
        vec(location(), 0..4),
    );
    (any::<[u8; 20]>(), links, texts, dates, numbers, system).prop_flat_map(
        |(sha1, links, texts, dates, numbers, system)| {
            checksums(sha1).prop_map(move |checksums| {
                let (is_replaced_by, replaces, is_version_of) = links.clone();
                let (
                    title,
                    description,
                    kind_type,
                    kind,
                    creator,
                    publisher,
                    format,
                    alternative,
                    compression,
                ) = texts.clone();
                let (valid, created) = dates.clone();
                let (bytes, serial_number, inbound_ports, outbound_ports, icmp) = numbers.clone();
                let (
                    version,
                    hypervisor,
                    os,
                    os_version,
                    os_arch,
                    disks_bus,
                    deprecated,
                    visible_to,
                    locations,
                ) = system.clone();
                Metadata {
                    identifier: identifier::from_sha1_bytes(&sha1),
                    is_replaced_by,
                    replaces,
                    is_version_of,
                    valid,
                    title,
                    description,
                    kind_type: Some(kind_type),
                    kind,
                    creator,
                    created,
                    publisher,
                    format,
                    alternative,
                    compression,
                    bytes: Some(bytes),
                    checksums,
                    endorsement: None,
                    locations,
                    serial_number,
                    version,
                    hypervisor,
                    inbound_ports,
                    outbound_ports,
                    icmp,
                    os,
                    os_version,
                    os_arch,
                    disks_bus,
                    deprecated,
                    visible_to,
                }
            })
        },
    )
}

fn endorsement_time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

// --- the property -----------------------------------------------------------------------------

fn config() -> Config {
    Config {
        // 32 by default to keep the suite fast; PROPTEST_CASES=2000 for a longer hunt.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32),
        // Keep failures in the output, not in files next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Writes, endorses, signs and checks `m`; returns the error of the first step that
/// does not hold.
fn round_trip(
    m: &Metadata,
    who: &Identity,
    created: DateTime<Utc>,
    options: SignOptions,
) -> Result<(), TestCaseError> {
    let xml = marketplace_format::write::to_xml(m);
    // The unsigned document reads back as written (its empty endorsement aside).
    let unsigned = marketplace_format::parse(xml.as_bytes());
    let mut expected = m.clone();
    expected.endorsement = unsigned.metadata.endorsement.clone();
    prop_assert_eq!(&unsigned.metadata, &expected, "{}", xml);
    prop_assert!(
        unsigned
            .problems
            .iter()
            .all(|p| p.message.contains("in slreq:endorsement")),
        "{:?}\n{}",
        unsigned.problems,
        xml
    );

    let (endorsement, binding) = endorsement_for(&who.cert, None, created).unwrap();
    prop_assert_eq!(binding, EmailBinding::Certified);
    let edited = marketplace_format::edit::set_endorsement(&xml, &endorsement).unwrap();
    prop_assert_eq!(edited.replaced, None);
    let signed = dsig::sign(
        &edited.text,
        &who.key,
        std::slice::from_ref(&who.cert),
        options,
    )
    .unwrap();

    let report = check(&signed);
    prop_assert!(
        report.is_signed_and_valid(),
        "{:?} {:?}\n{}",
        report.signature,
        report.problems,
        signed
    );
    match &report.signature {
        SignatureStatus::Valid {
            legacy_sha1, email, ..
        } => {
            prop_assert_eq!(*legacy_sha1, options.legacy_sha1);
            prop_assert_eq!(*email, EmailBinding::Certified);
        }
        other => prop_assert!(false, "{:?}", other),
    }
    let mut expected = m.clone();
    expected.endorsement = Some(endorsement);
    prop_assert_eq!(&report.metadata, &expected, "{}", signed);
    prop_assert_eq!(
        dsig::verify(&signed).unwrap().signer.to_der().unwrap(),
        who.cert.to_der().unwrap()
    );
    // The signature is the only addition inside the root element: stripping it gives
    // back the endorsed root (with the newline `sign` puts after the Signature). Around
    // the root, `sign` writes what every signed document has there (see front_running.rs).
    let start = edited.text.find("<rdf:RDF").unwrap();
    let at = edited.text.rfind("</rdf:RDF>").unwrap();
    prop_assert_eq!(
        dsig::strip_signature(&signed).unwrap(),
        format!("{SIGNED_PROLOG}{}\n</rdf:RDF>", &edited.text[start..at])
    );
    Ok(())
}

/// Runs the property on a thread with a large stack: the composed strategy's value trees
/// are big, and unoptimized test builds overflow the default 2 MiB test thread stack.
fn run_property<S>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError> + Sync)
where
    S: Strategy + Sync,
{
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("property".into())
            .stack_size(64 * 1024 * 1024)
            .spawn_scoped(scope, || {
                let mut runner = TestRunner::new(config());
                if let Err(e) = runner.run(&strategy, &test) {
                    panic!("{e}");
                }
            })
            .unwrap()
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    });
}

#[test]
fn rsa_signed_metadata_reads_back() {
    run_property(
        (metadata(), endorsement_time(), any::<bool>()),
        |(m, created, legacy)| {
            round_trip(
                &m,
                alice(),
                created,
                SignOptions {
                    legacy_sha1: legacy,
                },
            )
        },
    );
}

#[test]
fn ec_signed_metadata_reads_back() {
    run_property((metadata(), endorsement_time()), |(m, created)| {
        round_trip(&m, bob(), created, SignOptions::default())
    });
}
