//! Runs the original library's conformance corpus through the format rules.
//! Signatures are checked by the trust crate's corpus test.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_test_pki::corpus;
use std::path::Path;

fn rows(corpus_dir: &Path) -> Vec<(String, String)> {
    let tsv = std::fs::read_to_string(corpus_dir.join("expected.tsv")).unwrap();
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_corpus_document_has_its_expected_format_outcome() {
    let Some(corpus_dir) = corpus::require() else {
        return;
    };
    let rows = rows(&corpus_dir);
    assert!(rows.len() >= 40, "corpus rows: {}", rows.len());
    let mut failures = Vec::new();
    for (file, outcome) in &rows {
        let bytes = std::fs::read(corpus_dir.join(file)).unwrap();
        let parsed = marketplace_format::parse(&bytes);
        let ok = match outcome.as_str() {
            "valid" | "signature-invalid" => parsed.is_valid(),
            "format-invalid" => !parsed.is_valid(),
            _ => continue,
        };
        if !ok {
            failures.push(format!("{file} ({outcome}): {:?}", parsed.problems));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_problem_names_element_rule_and_line() {
    let Some(corpus_dir) = corpus::require() else {
        return;
    };
    let bytes = std::fs::read(corpus_dir.join("invalid-multiple-os.xml")).unwrap();
    let parsed = marketplace_format::parse(&bytes);
    let p = parsed
        .problems
        .iter()
        .find(|p| p.element == "slterms:os")
        .expect("a problem about slterms:os");
    assert_eq!(p.rule, marketplace_format::Rule::Cardinality);
    assert!(p.line.is_some());
    assert!(p.message.contains("at most once"), "{}", p.message);
}

#[test]
fn full_document_is_read_completely() {
    let Some(corpus_dir) = corpus::require() else {
        return;
    };
    let bytes = std::fs::read(corpus_dir.join("valid-full.xml")).unwrap();
    let m = marketplace_format::parse(&bytes).metadata;
    assert_eq!(m.identifier, "MMZu9WvwKIro-rtBQfDk4PsKO7_");
    assert_eq!(m.bytes, Some(100));
    assert_eq!(m.os.as_deref(), Some("ttylinux"));
    assert_eq!(m.os_version.as_deref(), Some("9.7"));
    assert_eq!(m.os_arch.as_deref(), Some("i486"));
    assert_eq!(m.inbound_ports, vec![443]);
    assert_eq!(m.outbound_ports, vec![25]);
    assert_eq!(m.icmp, vec![8]);
    assert_eq!(m.serial_number, Some(0));
    assert_eq!(m.deprecated.as_deref(), Some("security issue with app"));
    assert_eq!(m.valid.as_deref(), Some("2011-07-23T10:59:42Z"));
    let e = m.endorsement.as_ref().unwrap();
    assert_eq!(e.created, "2011-01-24T09:59:42Z");
    assert_eq!(e.endorser.email, "jane.tester@example.org");
    assert_eq!(
        e.endorser.subject,
        "CN=Jane Tester,OU=Testing Department,O=StratusLab Project,C=EU"
    );
}

#[test]
fn written_documents_read_back_identically() {
    let Some(corpus_dir) = corpus::require() else {
        return;
    };
    let bytes = std::fs::read(corpus_dir.join("valid-full.xml")).unwrap();
    let m = marketplace_format::parse(&bytes).metadata;
    let xml = marketplace_format::write::to_xml(&m);
    let again = marketplace_format::parse(xml.as_bytes());
    assert!(again.is_valid(), "{:?}\n{xml}", again.problems);
    assert_eq!(again.metadata, m);
}

#[test]
fn dtds_and_entities_are_refused() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>"#;
    let parsed = marketplace_format::parse(bomb);
    assert_eq!(parsed.problems[0].rule, marketplace_format::Rule::Dtd);
    let xxe =
        br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    assert_eq!(
        marketplace_format::parse(xxe).problems[0].rule,
        marketplace_format::Rule::Dtd
    );
}

#[test]
fn oversized_and_non_utf8_documents_are_refused() {
    let big = vec![b' '; marketplace_format::MAX_DOCUMENT_BYTES + 1];
    assert!(
        marketplace_format::parse(&big).problems[0]
            .message
            .contains("limit")
    );
    assert!(!marketplace_format::parse(&[0xff, 0xfe, 0x00]).is_valid());
}
