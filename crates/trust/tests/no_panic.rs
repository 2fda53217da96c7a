//! Robustness of every entry point that reads untrusted bytes: the format
//! parser ([`marketplace_format::parse`]), the signature verifier
//! ([`dsig::verify`], [`dsig::is_signed`]) and the whole-document check
//! ([`check_document`]).
//!
//! Arbitrary bytes, and real conformance documents mutated (bit flips,
//! truncations, insertions of markup, deletions, duplications), must never
//! panic; where the outcome is certain (a truncated document, a DOCTYPE, an
//! oversized input) it must be an error or a problem. The stable-toolchain
//! companion of the `fuzz/` target `parse_validate_verify`. No timing is
//! asserted anywhere.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use chrono::{DateTime, Utc};
use marketplace_format::{MAX_DOCUMENT_BYTES, ParsedDocument, Rule};
use marketplace_trust::document::{CheckOptions, DocumentReport, check_document};
use marketplace_trust::dsig::{self, SignatureError, VerifiedSignature};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::PathBuf;
use std::sync::OnceLock;

// --- fixtures ---------------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    marketplace_test_pki::corpus::dir()
}

/// Every conformance document, sorted by name.
fn corpus() -> &'static [(String, Vec<u8>)] {
    static DOCS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut docs: Vec<_> = std::fs::read_dir(corpus_dir())
            .expect("the conformance corpus must be in ../shared")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        docs.sort();
        assert!(docs.len() > 30, "the whole corpus is expected");
        docs
    })
}

fn doc(name: &str) -> &'static [u8] {
    corpus()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .unwrap_or_else(|| panic!("{name} is in the corpus"))
}

/// The documents whose signature verifies and whose report is valid.
const SIGNED_VALID: [&str; 2] = ["valid-full-signature.xml", "valid-ca-signed.xml"];

/// When the corpus certificates were current (the reports are reproducible).
fn at() -> DateTime<Utc> {
    "2012-06-01T00:00:00Z".parse().unwrap()
}

/// The result of every entry point on one input.
struct Outcome {
    parsed: ParsedDocument,
    verified: Option<Result<VerifiedSignature, SignatureError>>,
    report: DocumentReport,
}

/// Runs every entry point on `bytes`; a panic anywhere fails the test.
fn run_all(bytes: &[u8]) -> Outcome {
    let parsed = marketplace_format::parse(bytes);
    let verified = std::str::from_utf8(bytes).ok().map(|text| {
        let _ = dsig::is_signed(text);
        dsig::verify(text)
    });
    let options = CheckOptions {
        at: Some(at()),
        ..CheckOptions::default()
    };
    let report = check_document(bytes, &options);
    // Invariants that hold for every input.
    assert!(
        report.problems.starts_with(&parsed.problems),
        "check_document reports every problem the parser finds"
    );
    if !parsed.is_valid() {
        assert!(
            !report.is_valid(),
            "a format problem makes the report invalid"
        );
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        assert!(
            parsed.problems.iter().any(|p| p.rule == Rule::XmlSyntax),
            "an oversized document is refused"
        );
    }
    Outcome {
        parsed,
        verified,
        report,
    }
}

fn verifies(o: &Outcome) -> bool {
    matches!(o.verified, Some(Ok(_)))
}

/// Position of the last `>`: cutting at or before it leaves the root unclosed.
fn last_gt(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b == b'>').unwrap()
}

// --- mutations --------------------------------------------------------------------------------

/// Markup that is dangerous when inserted at an arbitrary position.
const TOKENS: &[&str] = &[
    "<",
    "&",
    "<!--",
    "-->",
    "<!DOCTYPE rdf:RDF>",
    "<!DOCTYPE rdf:RDF [<!ENTITY e \"x\">]>",
    "&e;",
    "&#0;",
    "&#x110000;",
    "<![CDATA[",
    "]]>",
    "<?pi x?>",
    "\u{0}",
    "\u{feff}",
    "\"",
    "'",
    "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
    "xmlns=\"\"",
    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>",
    "</rdf:Description>",
    "<rdf:Description>",
    "rdf:parseType=\"Literal\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit.
    Flip(Index, u8),
    /// Overwrite one byte.
    Set(Index, u8),
    /// Keep only a prefix.
    Truncate(Index),
    /// Insert one of [`TOKENS`].
    Insert(Index, usize),
    /// Remove up to `len` bytes.
    Delete(Index, usize),
    /// Copy up to `len` bytes from one place to another.
    Duplicate(Index, usize, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (any::<Index>(), 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        1 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(i, n, j)| Mutation::Duplicate(i, n, j)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    let at = |i: &Index| i.index(len + 1);
    match m {
        Mutation::Flip(i, bit) if len > 0 => bytes[i.index(len)] ^= 1 << bit,
        Mutation::Set(i, v) if len > 0 => bytes[i.index(len)] = *v,
        Mutation::Truncate(i) => bytes.truncate(at(i)),
        Mutation::Insert(i, t) => {
            let p = at(i);
            bytes.splice(p..p, TOKENS[*t].bytes());
        }
        Mutation::Delete(i, n) => {
            let p = at(i);
            bytes.drain(p..(p + n).min(len));
        }
        Mutation::Duplicate(i, n, j) => {
            let p = at(i);
            let copy = bytes[p..(p + n).min(len)].to_vec();
            let q = at(j);
            bytes.splice(q..q, copy);
        }
        _ => {}
    }
}

// --- properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary bytes.
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let o = run_all(&bytes);
        prop_assert!(!verifies(&o));
        prop_assert!(!o.report.is_signed_and_valid());
    }

    /// Arbitrary text built from XML-ish pieces, so that the parsers get past
    /// the first byte.
    #[test]
    fn arbitrary_markup(pieces in proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(TOKENS).prop_map(str::to_string),
            "[a-z:]{0,12}",
            Just("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">".to_string()),
            Just("</rdf:RDF>".to_string()),
            Just(">".to_string()),
            Just("/>".to_string()),
            Just("=\"".to_string()),
        ],
        0..64,
    )) {
        let text = pieces.concat();
        let o = run_all(text.as_bytes());
        prop_assert!(!verifies(&o));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Conformance documents with one to four mutations. Whatever survives
    /// with a valid signature must read exactly as the signed original: the
    /// signature and the metadata cannot disagree.
    #[test]
    fn mutated_corpus_documents(
        which in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..=4),
    ) {
    if marketplace_test_pki::corpus::require().is_none() {
        return Ok(());
    }
        let docs = corpus();
        let (name, original) = &docs[which.index(docs.len())];
        let mut bytes = original.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let o = run_all(&bytes);
        if o.report.is_signed_and_valid() {
            let before = run_all(original);
            prop_assert!(before.report.is_signed_and_valid(), "{name} was not signed and valid");
            prop_assert_eq!(&o.report.metadata, &before.report.metadata);
        }
    }

    /// The same, on the two validly signed documents only (most mutations of
    /// the rest of the corpus cannot reach the cryptography).
    #[test]
    fn mutated_signed_documents(
        which in 0..SIGNED_VALID.len(),
        mutations in proptest::collection::vec(mutation(), 1..=3),
    ) {
    if marketplace_test_pki::corpus::require().is_none() {
        return Ok(());
    }
        let original = doc(SIGNED_VALID[which]);
        let mut bytes = original.to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let o = run_all(&bytes);
        if o.report.is_signed_and_valid() {
            let before = run_all(original);
            prop_assert_eq!(&o.report.metadata, &before.report.metadata);
        }
    }

    /// The two validly signed documents with one mutation of a markup token:
    /// `<`, `&`, `<!--` and `<!DOCTYPE` anywhere break the signature.
    #[test]
    fn markup_inserted_into_signed_documents(
        which in 0..SIGNED_VALID.len(),
        pos in any::<Index>(),
        token in proptest::sample::select(&["<", "&", "<!--", "<!DOCTYPE rdf:RDF>"][..]),
    ) {
    if marketplace_test_pki::corpus::require().is_none() {
        return Ok(());
    }
        let original = doc(SIGNED_VALID[which]);
        let p = pos.index(original.len() + 1);
        let mut bytes = original[..p].to_vec();
        bytes.extend_from_slice(token.as_bytes());
        bytes.extend_from_slice(&original[p..]);
        let o = run_all(&bytes);
        prop_assert!(!verifies(&o), "{token:?} at {p} still verifies");
        prop_assert!(!o.report.is_signed_and_valid());
        if token.starts_with("<!DOCTYPE") {
            prop_assert!(matches!(o.verified, Some(Err(SignatureError::Xml(_)))));
        }
    }

    /// A truncated document is never valid, and never verifies.
    #[test]
    fn truncated_documents_are_invalid(which in any::<Index>(), cut in any::<Index>()) {
    if marketplace_test_pki::corpus::require().is_none() {
        return Ok(());
    }
        let docs = corpus();
        let (name, original) = &docs[which.index(docs.len())];
        let p = cut.index(last_gt(original) + 1);
        let o = run_all(&original[..p]);
        prop_assert!(!o.parsed.is_valid(), "{name} cut at {p} parses as valid");
        prop_assert!(!o.report.is_valid(), "{name} cut at {p} is reported valid");
        prop_assert!(!verifies(&o), "{name} cut at {p} verifies");
    }
}

// --- fixed cases ------------------------------------------------------------------------------

#[test]
fn the_unmutated_corpus_runs_and_the_signed_documents_verify() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    for (name, bytes) in corpus() {
        let o = run_all(bytes);
        if SIGNED_VALID.contains(&name.as_str()) {
            assert!(verifies(&o), "{name}");
            assert!(o.report.is_signed_and_valid(), "{name}");
        }
    }
}

#[test]
fn every_truncation_of_the_signed_documents_is_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    for name in SIGNED_VALID {
        let original = doc(name);
        for p in (0..=last_gt(original)).step_by(37) {
            let o = run_all(&original[..p]);
            assert!(!o.report.is_valid(), "{name} cut at {p}");
            assert!(!verifies(&o), "{name} cut at {p}");
        }
    }
}

/// `depth` opening tags, some content, and the closing tags.
fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    let mut s = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

/// `original` with `insert` placed just before the first `needle`.
fn insert_before(original: &[u8], needle: &str, insert: &str) -> Vec<u8> {
    let text = std::str::from_utf8(original).unwrap();
    let p = text.find(needle).unwrap();
    format!("{}{insert}{}", &text[..p], &text[p..]).into_bytes()
}

#[test]
fn deep_nesting_of_ten_thousand_levels() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    const DEPTH: usize = 10_000;
    // Bare elements, and RDF striping (node/property/node/...), alone.
    let bare = nested("<a>", "</a>", DEPTH, "x");
    run_all(bare.as_bytes());
    let rdf = format!(
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
         xmlns:ex=\"http://example.org/\">{}</rdf:RDF>",
        nested(
            "<rdf:Description><ex:p>",
            "</ex:p></rdf:Description>",
            DEPTH / 2,
            "x"
        )
    );
    run_all(rdf.as_bytes());
    // The same inside real documents: an unsigned one and a signed one.
    let striping = nested(
        "<ex:p><rdf:Description>",
        "</rdf:Description></ex:p>",
        DEPTH / 2,
        "",
    );
    let deep_elements = nested("<ex:p>", "</ex:p>", DEPTH, "x");
    // Not every document declares the `ex:` prefix: declare it where the
    // nesting starts.
    let declare = |s: &str| s.replacen("<ex:p>", "<ex:p xmlns:ex=\"http://example.org/\">", 1);
    let (striping, deep_elements) = (declare(&striping), declare(&deep_elements));
    for name in ["valid-full.xml", SIGNED_VALID[0], SIGNED_VALID[1]] {
        for inner in [&striping, &deep_elements] {
            let bytes = insert_before(doc(name), "</rdf:Description>", inner);
            let o = run_all(&bytes);
            assert!(!o.report.is_signed_and_valid(), "{name}");
            assert!(!verifies(&o), "{name}");
        }
    }
    // Deep nesting inside the signature itself.
    let bytes = insert_before(
        doc(SIGNED_VALID[0]),
        "</KeyInfo>",
        &nested("<X509Data>", "</X509Data>", DEPTH, ""),
    );
    assert!(!verifies(&run_all(&bytes)));
}

#[test]
fn huge_attributes_and_values() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    // One attribute of 900 KiB (under the size limit, so everything runs).
    let big = "A".repeat(900 * 1024);
    let bytes = insert_before(
        doc("valid-full.xml"),
        "xml:base=",
        &format!("ex:huge=\"{big}\" "),
    );
    run_all(&bytes);
    let about = String::from_utf8(doc("valid-full.xml").to_vec())
        .unwrap()
        .replacen("rdf:about=\"#", &format!("rdf:about=\"#{big}"), 1);
    let o = run_all(about.as_bytes());
    assert!(!o.report.is_valid());
    // In the signature: a huge Algorithm URI, SignatureValue and certificate.
    let signed = std::str::from_utf8(doc(SIGNED_VALID[0])).unwrap();
    for (from, to) in [
        (
            "Algorithm=\"http://www.w3.org/2000/09/xmldsig#rsa-sha1\"",
            format!("Algorithm=\"{big}\""),
        ),
        ("<SignatureValue>", format!("<SignatureValue>{big}")),
        ("<X509Certificate>", format!("<X509Certificate>{big}")),
    ] {
        assert!(signed.contains(from), "{from}");
        let o = run_all(signed.replacen(from, &to, 1).as_bytes());
        assert!(!verifies(&o), "{from}");
        assert!(!o.report.is_signed_and_valid(), "{from}");
    }
}

/// Both XML parsers check duplicate attributes in quadratic time: 80,000
/// attributes on one element of a 1 MB document took 16 s in roxmltree and
/// 17 s in uppsala (release build), before any rule or signature was
/// looked at. `marketplace_format::markup` now refuses more than 64
/// attributes on an element before either parser runs. No time is
/// asserted: before the fix this test took over half a minute.
#[test]
fn many_attributes_are_refused_before_parsing() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    for name in ["valid-full.xml", SIGNED_VALID[0]] {
        let many: String = (0..80_000).map(|i| format!("a{i}='' ")).collect();
        let bytes = insert_before(doc(name), "xml:base=", &many);
        assert!(bytes.len() < MAX_DOCUMENT_BYTES);
        let o = run_all(&bytes);
        assert!(!o.report.is_valid(), "{name}");
        assert!(
            o.parsed
                .problems
                .iter()
                .any(|p| p.rule == Rule::XmlSyntax && p.message.contains("more than 64 attributes")),
            "{name}: {:?}",
            o.parsed.problems
        );
        match &o.verified {
            Some(Err(e)) => assert!(e.to_string().contains("more than 64 attributes"), "{e}"),
            other => panic!("{name}: the signature check should refuse the markup: {other:?}"),
        }
    }
}

#[test]
fn two_mebibyte_inputs() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    const SIZE: usize = 2 * 1024 * 1024;
    // A signed document padded after its root element: the format layer
    // refuses the size, so the report is invalid whatever the signature says.
    let mut padded = doc(SIGNED_VALID[0]).to_vec();
    padded.resize(SIZE, b'\n');
    let o = run_all(&padded);
    assert!(!o.report.is_valid());
    // The same padding inside the root, as text (breaks the digest).
    let inside = insert_before(doc(SIGNED_VALID[0]), "<Signature", &" ".repeat(SIZE));
    let o = run_all(&inside);
    assert!(!o.report.is_valid());
    assert!(!verifies(&o));
    // Pathological content at 2 MiB.
    for filler in ["<", "&", "<a>", "<!--", "\u{0}", "\u{fffd}"] {
        let bytes = filler.repeat(SIZE / filler.len()).into_bytes();
        let o = run_all(&bytes);
        assert!(!o.report.is_valid(), "{filler:?}");
        assert!(!verifies(&o), "{filler:?}");
    }
    // Invalid UTF-8 at 2 MiB.
    let o = run_all(&vec![0xff; SIZE]);
    assert!(o.verified.is_none());
    assert!(!o.report.is_valid());
}

// --- regressions found by fuzzing and property testing -----------------------------------

/// `marketplace_format::parse` used to find the line of every element with
/// `roxmltree::Document::text_pos_at`, which rescans the text from its start
/// at each call: reading was quadratic in the number of elements (1 MB of
/// 148,000 empty elements: 70 s in a release build; 30,000 in 212 KB: 3 s),
/// found while writing the deep-nesting test above. Fixed in the format crate's
/// `lines.rs` (`NewLines`, a table of line starts). No time is asserted:
/// before the fix this test took several seconds, growing with the square of
/// `N`; now it takes a fraction of a second.
#[test]
fn many_elements_are_read_without_rescanning_the_text() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    // As many as the pre-scan lets through.
    const N: usize = marketplace_format::markup::MAX_ELEMENTS - 100;
    let original = doc("valid-full.xml");
    for (needle, element) in [("</rdf:Description>", "<ex:a/>"), ("</rdf:RDF>", "<ex:b/>")] {
        let bytes = insert_before(original, needle, &element.repeat(N));
        assert!(bytes.len() < MAX_DOCUMENT_BYTES);
        let o = run_all(&bytes);
        if needle == "</rdf:RDF>" {
            // The foreign children of rdf:RDF are reported on their lines,
            // up to the problems listed per document, then counted.
            let foreign = o
                .parsed
                .problems
                .iter()
                .filter(|p| p.rule == Rule::Structure)
                .count();
            assert_eq!(foreign, marketplace_format::MAX_PROBLEMS);
            let last = o.parsed.problems.last().unwrap();
            let unlisted = N - (marketplace_format::MAX_PROBLEMS - 1);
            assert_eq!(
                last.message,
                format!("{unlisted} more problems are not listed")
            );
            let last_line = std::str::from_utf8(&bytes).unwrap().lines().count() as u32;
            assert!(o.parsed.problems.iter().all(|p| p.line <= Some(last_line)));
        }
    }
}
