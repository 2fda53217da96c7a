//! Interoperability with independent implementations: the `xmlsec1` command (libxmlsec1
//! with OpenSSL) verifies what we sign and signs what we verify, both refuse the other's
//! tampered documents, and `xmllint` (libxml2) canonicalizes exactly as bergshamra-c14n.
//!
//! Without `xmlsec1` / `xmllint` the tests print "skipped: ..." and pass, except under
//! `CI=true`, where they fail.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bergshamra_c14n::C14nMode;
use common::*;
use marketplace_format::Metadata;
use marketplace_trust::document::SignatureStatus;
use marketplace_trust::dsig::{self, ProfileViolation, SignOptions, SignatureError, uri};
use openssl::hash::{MessageDigest, hash};
use openssl::x509::X509;

// --- tools ------------------------------------------------------------------------------------

fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `tool` can be used; prints "skipped" (or fails under `CI=true`) when not.
fn require(tool: &str, package: &str) -> bool {
    if tool_available(tool) {
        return true;
    }
    marketplace_test_pki::skip(&format!(
        "{tool} is not installed (Debian package {package})"
    ));
    false
}

fn xmlsec1() -> bool {
    require("xmlsec1", "xmlsec1")
}

fn xmllint() -> bool {
    require("xmllint", "libxml2-utils")
}

/// A scratch directory for the files the tools read and write.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Self {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().expect("the tool runs");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{:?} failed ({}): {}{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// How xmlsec1 finds the verification key.
enum XmlsecKey<'a> {
    /// The public key of this certificate, given on the command line; KeyInfo's
    /// X509Data is ignored (`--enabled-key-data rsa` or `ecdsa`).
    Certificate(&'a X509),
    /// The certificate of KeyInfo/X509Data, which must chain to this trusted one
    /// (`--enabled-key-data x509 --trusted-pem`).
    TrustedBy(&'a X509),
}

/// `xmlsec1 --verify` of `doc`; Ok when the signature verifies.
fn xmlsec_verify(doc: &str, key: XmlsecKey<'_>) -> Result<(), String> {
    let dir = Scratch::new();
    let file = dir.write("doc.xml", doc);
    let mut cmd = Command::new("xmlsec1");
    cmd.args(["--verify", "--enabled-reference-uris", "empty"]);
    match key {
        XmlsecKey::Certificate(cert) => {
            let key_data = match cert.public_key().unwrap().id() {
                openssl::pkey::Id::EC => "ecdsa",
                _ => "rsa",
            };
            let pem = dir.write("signer.pem", cert.to_pem().unwrap());
            cmd.args(["--enabled-key-data", key_data, "--pubkey-cert-pem"])
                .arg(pem);
        }
        XmlsecKey::TrustedBy(ca) => {
            let pem = dir.write("trusted.pem", ca.to_pem().unwrap());
            cmd.args(["--enabled-key-data", "x509", "--trusted-pem"])
                .arg(pem);
        }
    }
    run(cmd.arg(file)).map(|_| ())
}

/// `xmlsec1 --sign` of `template` with `who`'s key, the signer's certificate and `more`.
fn xmlsec_sign(template: &str, who: &Identity, more: &[&X509]) -> String {
    let dir = Scratch::new();
    let tpl = dir.write("template.xml", template);
    let key = dir.write("key.pem", who.key_pem());
    let mut files = vec![key, dir.write("cert.pem", who.cert_pem())];
    for (i, c) in more.iter().enumerate() {
        files.push(dir.write(&format!("more{i}.pem"), c.to_pem().unwrap()));
    }
    let list = files
        .iter()
        .map(|p| p.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let out = dir.path("signed.xml");
    run(Command::new("xmlsec1")
        .args(["--sign", "--privkey-pem", &list, "--output"])
        .arg(&out)
        .arg(tpl))
    .unwrap();
    std::fs::read_to_string(out).unwrap()
}

/// How a template is laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Indented, on several lines, as people write templates.
    Indented,
    /// No whitespace between elements, as `marketplace sign` writes signatures.
    Compact,
}

/// A signature template (empty DigestValue, SignatureValue and certificates) as the last
/// child of rdf:RDF, followed by a line feed (as `marketplace sign` writes it).
fn template(
    unsigned: &str,
    layout: Layout,
    c14n: &str,
    method: &str,
    digest: &str,
    x509_data: &str,
) -> String {
    let indented = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n\
         \x20 <ds:SignedInfo>\n\
         \x20   <ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\n\
         \x20   <ds:SignatureMethod Algorithm=\"{method}\"/>\n\
         \x20   <ds:Reference URI=\"\">\n\
         \x20     <ds:Transforms>\n\
         \x20       <ds:Transform Algorithm=\"{env}\"/>\n\
         \x20     </ds:Transforms>\n\
         \x20     <ds:DigestMethod Algorithm=\"{digest}\"/>\n\
         \x20     <ds:DigestValue></ds:DigestValue>\n\
         \x20   </ds:Reference>\n\
         \x20 </ds:SignedInfo>\n\
         \x20 <ds:SignatureValue></ds:SignatureValue>\n\
         \x20 <ds:KeyInfo>\n\
         \x20   {x509_data}\n\
         \x20 </ds:KeyInfo>\n\
         </ds:Signature>\n",
        env = uri::ENVELOPED,
    );
    let sig = match layout {
        Layout::Indented => indented,
        Layout::Compact => indented.lines().map(str::trim).collect::<String>() + "\n",
    };
    let at = unsigned.rfind("</rdf:RDF>").unwrap();
    format!("{}{sig}{}", &unsigned[..at], &unsigned[at..])
}

/// xmlsec1's output in the form `marketplace sign` writes, changing only what the
/// signature does not cover. xmlsec1 (1.2, which has no option for it) breaks base64 into
/// lines of 64, puts line feeds around it and between the certificates it adds, and
/// libxml2 writes its own XML declaration and a line feed around the root element;
/// `marketplace sign` writes SignatureValue and X509Data on one line, the Java tools'
/// declaration directly followed by the root, and nothing after it.
fn in_signer_form(doc: &str) -> String {
    let mut out = with_signer_prolog(doc);
    for tag in ["ds:SignatureValue", "ds:X509Data"] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut from = 0;
        while let Some(start) = out[from..].find(&open).map(|i| from + i + open.len()) {
            let end = start + out[start..].find(&close).unwrap();
            // (Base64 and tags hold no spaces: every whitespace is a line break.)
            let compact: String = out[start..end].split_whitespace().collect();
            out.replace_range(start..end, &compact);
            from = start + compact.len() + close.len();
        }
    }
    out
}

/// `doc` with only what surrounds its root element as signers write it.
fn with_signer_prolog(doc: &str) -> String {
    let root = doc.find("<rdf:RDF").unwrap();
    format!("{SIGNED_PROLOG}{}", doc[root..].trim_end())
}

const ONE_CERTIFICATE: &str = "<ds:X509Data><ds:X509Certificate/></ds:X509Data>";
/// xmlsec1 fills an empty X509Data with every certificate it was given.
const ALL_CERTIFICATES: &str = "<ds:X509Data/>";

/// The text of the first `<ds:tag>` of a document.
fn element_text<'a>(xml: &'a str, tag: &str) -> &'a str {
    let r = element_range(xml, tag);
    let inner = &xml[r];
    &inner[inner.find('>').unwrap() + 1..inner.rfind("</").unwrap()]
}

/// What a document signed by `who` must read as.
fn expected_metadata(who: &Identity) -> Metadata {
    let mut m = sample_metadata();
    m.endorsement = Some(
        marketplace_trust::endorsement::endorsement_for(&who.cert, None, endorsed_at())
            .unwrap()
            .0,
    );
    m
}

#[track_caller]
fn assert_valid_with_us(doc: &str, who: &Identity, legacy: bool) {
    let v = dsig::verify(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert_eq!(v.signer.to_der().unwrap(), who.cert.to_der().unwrap());
    assert_eq!(v.is_legacy_sha1(), legacy);
    let report = check(doc);
    assert!(
        report.is_signed_and_valid(),
        "{:?} {:?}",
        report.signature,
        report.problems
    );
    match &report.signature {
        SignatureStatus::Valid { legacy_sha1, .. } => assert_eq!(*legacy_sha1, legacy),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.metadata, expected_metadata(who));
}

// --- (a) ours, verified by xmlsec1 ------------------------------------------------------------

#[test]
fn our_signatures_verify_with_xmlsec1() {
    if !xmlsec1() {
        return;
    }
    let legacy = signed_document(
        &sample_metadata(),
        alice(),
        SignOptions { legacy_sha1: true },
    );
    let cases: [(&str, &Identity, &X509); 3] = [
        (alice_document(), alice(), &ca().cert),
        (&legacy, alice(), &ca().cert),
        // Bob's certificate is self-signed: it is its own trust anchor.
        (bob_document(), bob(), &bob().cert),
    ];
    for (doc, who, anchor) in cases {
        xmlsec_verify(doc, XmlsecKey::Certificate(&who.cert)).unwrap();
        xmlsec_verify(doc, XmlsecKey::TrustedBy(anchor)).unwrap();
        // The wrong key, or an untrusted certificate, fails.
        xmlsec_verify(doc, XmlsecKey::Certificate(&mallory().cert)).unwrap_err();
        xmlsec_verify(doc, XmlsecKey::TrustedBy(&mallory().cert)).unwrap_err();
    }
    assert!(legacy.contains(uri::RSA_SHA1) && legacy.contains(uri::SHA1));
    assert!(bob_document().contains(uri::ECDSA_SHA256));
    // With the CA carried in KeyInfo as well.
    let doc = dsig::sign(
        &unsigned_document(&sample_metadata(), alice()),
        &alice().key,
        &[alice().cert.clone(), ca().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    xmlsec_verify(&doc, XmlsecKey::TrustedBy(&ca().cert)).unwrap();
    xmlsec_verify(&doc, XmlsecKey::Certificate(&alice().cert)).unwrap();
}

// --- (b) xmlsec1's, verified by us ------------------------------------------------------------

#[test]
fn xmlsec1_signatures_verify_with_us() {
    if !xmlsec1() {
        return;
    }
    let alice_unsigned = unsigned_document(&sample_metadata(), alice());
    let bob_unsigned = unsigned_document(&sample_metadata(), bob());
    let cases: [(&str, &Identity, &str, &str, &str, bool); 5] = [
        (
            &alice_unsigned,
            alice(),
            uri::C14N,
            uri::RSA_SHA256,
            uri::SHA256,
            false,
        ),
        (
            &alice_unsigned,
            alice(),
            uri::C14N,
            uri::RSA_SHA1,
            uri::SHA1,
            true,
        ),
        // The original Java tools canonicalized with comments.
        (
            &alice_unsigned,
            alice(),
            uri::C14N_COMMENTS,
            uri::RSA_SHA1,
            uri::SHA1,
            true,
        ),
        // (A SHA-512 DigestValue is 88 characters, which xmlsec1 breaks into lines inside
        // the signed SignedInfo, where `marketplace sign` never would: SHA-256 here.)
        (
            &alice_unsigned,
            alice(),
            uri::EXC_C14N,
            uri::RSA_SHA512,
            uri::SHA256,
            false,
        ),
        (
            &bob_unsigned,
            bob(),
            uri::C14N,
            uri::ECDSA_SHA256,
            uri::SHA256,
            false,
        ),
    ];
    for (unsigned, who, c14n, method, digest, legacy) in cases {
        let tpl = template(
            unsigned,
            Layout::Compact,
            c14n,
            method,
            digest,
            ONE_CERTIFICATE,
        );
        let theirs = xmlsec_sign(&tpl, who, &[]);
        // xmlsec1 wraps base64 in lines (outside SignedInfo: not signed); the
        // certificate is the signer's.
        let cert = element_text(&theirs, "ds:X509Certificate");
        assert!(cert.contains('\n'), "xmlsec1 wraps base64 lines");
        let der = B64
            .decode(cert.split_whitespace().collect::<String>())
            .unwrap();
        assert_eq!(der, who.cert.to_der().unwrap());
        // That is not how either signer writes it: refused, saying where (libxml2's
        // own XML declaration first, then the base64 lines).
        let reason = dsig::verify(&theirs).unwrap_err();
        assert!(
            matches!(
                reason,
                SignatureError::Profile(ProfileViolation::Prolog { .. })
            ),
            "{reason}"
        );
        let reason = dsig::verify(&with_signer_prolog(&theirs)).unwrap_err();
        assert!(
            matches!(
                reason,
                SignatureError::Profile(ProfileViolation::SignatureBytes { .. })
            ),
            "{reason}"
        );
        // On one line, as `marketplace sign` writes it, the same signature verifies.
        let doc = in_signer_form(&theirs);
        assert_valid_with_us(&doc, who, legacy);
        // xmlsec1 agrees with itself, of course, either way.
        xmlsec_verify(&theirs, XmlsecKey::Certificate(&who.cert)).unwrap();
        xmlsec_verify(&doc, XmlsecKey::Certificate(&who.cert)).unwrap();
    }
}

/// A template laid out on several lines is signed by xmlsec1 as it is: the whitespace
/// between the signature's elements is refused (KeyInfo's is not signed).
#[test]
fn xmlsec1_signatures_laid_out_by_hand_are_refused() {
    if !xmlsec1() {
        return;
    }
    let unsigned = unsigned_document(&sample_metadata(), alice());
    let tpl = template(
        &unsigned,
        Layout::Indented,
        uri::C14N,
        uri::RSA_SHA256,
        uri::SHA256,
        ONE_CERTIFICATE,
    );
    let theirs = in_signer_form(&xmlsec_sign(&tpl, alice(), &[]));
    xmlsec_verify(&theirs, XmlsecKey::Certificate(&alice().cert)).unwrap();
    let reason = dsig::verify(&theirs).unwrap_err();
    assert!(
        matches!(
            &reason,
            SignatureError::Profile(ProfileViolation::TextBetweenElements { element, .. })
                if element == "ds:Signature"
        ),
        "{reason}"
    );
}

/// Both implementations digest the same canonical bytes: the DigestValue xmlsec1 computes
/// for a template is the one we compute for the same content.
#[test]
fn xmlsec1_and_we_compute_the_same_digest() {
    if !xmlsec1() {
        return;
    }
    for (who, ours, method) in [
        (alice(), alice_document(), uri::RSA_SHA256),
        (bob(), bob_document(), uri::ECDSA_SHA256),
    ] {
        let unsigned = unsigned_document(&sample_metadata(), who);
        let theirs = xmlsec_sign(
            &template(
                &unsigned,
                Layout::Compact,
                uri::C14N,
                method,
                uri::SHA256,
                ONE_CERTIFICATE,
            ),
            who,
            &[],
        );
        // Both documents end with the Signature followed by a newline, so the enveloped
        // content is byte for byte the same.
        assert_eq!(
            element_text(&theirs, "ds:DigestValue"),
            element_text(ours, "ds:DigestValue")
        );
    }
}

#[test]
fn xmlsec1_signature_with_ca_and_signer_certificates() {
    if !xmlsec1() {
        return;
    }
    let unsigned = unsigned_document(&sample_metadata(), alice());
    let tpl = template(
        &unsigned,
        Layout::Compact,
        uri::C14N,
        uri::RSA_SHA256,
        uri::SHA256,
        ALL_CERTIFICATES,
    );
    let doc = in_signer_form(&xmlsec_sign(&tpl, alice(), &[&ca().cert]));
    let v = dsig::verify(&doc).unwrap();
    assert_eq!(v.certificates.len(), 2, "xmlsec1 wrote both certificates");
    assert_eq!(v.signer.to_der().unwrap(), alice().cert.to_der().unwrap());
    assert_valid_with_us(&doc, alice(), false);
    // KeyInfo is not signed: put the CA first. xmlsec1 still finds the signer; we
    // refuse it, since no signer writes it that way and anyone could have reordered it.
    let certs: Vec<&str> = doc
        .match_indices("<ds:X509Certificate>")
        .map(|(i, _)| {
            let end = doc[i..].find("</ds:X509Certificate>").unwrap() + i;
            &doc[i + "<ds:X509Certificate>".len()..end]
        })
        .collect();
    assert_eq!(certs.len(), 2);
    let swapped = doc
        .replacen(certs[0], "@@FIRST@@", 1)
        .replacen(certs[1], certs[0], 1)
        .replacen("@@FIRST@@", certs[1], 1);
    assert_ne!(swapped, doc);
    xmlsec_verify(&swapped, XmlsecKey::TrustedBy(&ca().cert)).unwrap();
    xmlsec_verify(&swapped, XmlsecKey::Certificate(&alice().cert)).unwrap();
    let reason = dsig::verify(&swapped).unwrap_err();
    assert!(
        matches!(
            reason,
            SignatureError::Profile(ProfileViolation::SignerNotFirst { .. })
        ),
        "{reason}"
    );
}

// --- (c) tampering, across implementations ----------------------------------------------------

/// Positions to change: the first byte of every value and element name of the signed
/// content, plus a regular sample of it, up to the end of the DigestValue.
fn positions(doc: &str) -> Vec<usize> {
    let start = doc.find("<rdf:RDF").unwrap();
    let dv = element_range(doc, "ds:DigestValue");
    let mut out: Vec<usize> = (start..dv.end).step_by(53).collect();
    for (i, c) in doc[start..dv.end].char_indices() {
        if c == '>' || c == '<' {
            let p = start + i + 1;
            if p < dv.end && doc.as_bytes()[p].is_ascii_alphanumeric() {
                out.push(p);
            }
        }
    }
    // The signature value too.
    let sv = element_range(doc, "ds:SignatureValue");
    out.extend((sv.start..sv.end).step_by(31));
    out.sort_unstable();
    out.dedup();
    out
}

fn changed(doc: &str, i: usize) -> String {
    let mut bytes = doc.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn tampered_documents_fail_with_both() {
    if !xmlsec1() {
        return;
    }
    // xmlsec1's document, changed: we refuse it.
    let unsigned = unsigned_document(&sample_metadata(), alice());
    let theirs = in_signer_form(&xmlsec_sign(
        &template(
            &unsigned,
            Layout::Compact,
            uri::C14N,
            uri::RSA_SHA256,
            uri::SHA256,
            ONE_CERTIFICATE,
        ),
        alice(),
        &[],
    ));
    // It verifies before it is changed, so the refusals below are the changes'.
    assert_valid_with_us(&theirs, alice(), false);
    let mut checked = 0;
    for i in positions(&theirs) {
        let doc = changed(&theirs, i);
        assert!(
            dsig::verify(&doc).is_err(),
            "byte {i} of xmlsec1's document changed, still verifies"
        );
        assert!(!check(&doc).is_valid());
        checked += 1;
    }
    // Ours, changed: xmlsec1 refuses it (a sample: one process per document).
    for ours in [alice_document(), bob_document()] {
        let who = if ours == alice_document() {
            alice()
        } else {
            bob()
        };
        for (n, i) in positions(ours).into_iter().enumerate() {
            if n % 4 != 0 {
                continue;
            }
            let doc = changed(ours, i);
            assert!(
                xmlsec_verify(&doc, XmlsecKey::Certificate(&who.cert)).is_err(),
                "byte {i} of our document changed, xmlsec1 still verifies it"
            );
            checked += 1;
        }
    }
    eprintln!("{checked} changed documents refused");
}

// --- canonicalization: xmllint against bergshamra-c14n ----------------------------------------

/// `xmllint --c14n` (or `--exc-c14n`, `--c14n11`) of `xml`; all keep comments.
fn xmllint_c14n(xml: &str, flag: &str) -> Vec<u8> {
    let dir = Scratch::new();
    let file = dir.write("doc.xml", xml);
    run(Command::new("xmllint").args(["--nonet", flag]).arg(file)).unwrap()
}

fn ours(xml: &str, mode: C14nMode) -> Vec<u8> {
    bergshamra_c14n::canonicalize(xml, mode, None, &[] as &[&str]).unwrap()
}

/// Documents with the awkward parts of canonicalization: escapes, CR, tabs, non-ASCII,
/// attribute quoting, empty elements, namespace declarations in several places.
fn c14n_documents() -> Vec<(String, String)> {
    let mut docs = Vec::new();
    docs.push((
        "sample".to_string(),
        unsigned_document(&sample_metadata(), alice()),
    ));
    let mut m = sample_metadata();
    m.title = Some("a\r\nb\rc\td  <x/> & ]]> \"q\" 'a' \u{a0}\u{2028}\u{1F600}".into());
    m.description = Some("  leading and trailing whitespace \n\n ".into());
    m.publisher = Some(String::new());
    m.visible_to = vec!["vo.example.org".into(), "ünïcode.vo".into()];
    docs.push(("tricky".to_string(), unsigned_document(&m, bob())));
    docs.push((
        "hand-written".to_string(),
        "<?xml version='1.0' encoding='UTF-8'?>\n\
         <?pi before?>\n\
         <!-- a comment before -->\n\
         <rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xml:base='http://mp.stratuslab.eu/'\n\
         \x20   xmlns:b=\"urn:b\" xmlns:a=\"urn:a\">\n\
         \x20 <rdf:Description rdf:about='#x' b:z='1' a:y=\"2\" xml:lang='en'>\n\
         \x20   <a:e attr='&lt;&amp;&gt;&quot;&#9;&#10;&#13;'/>\n\
         \x20   <b:f xmlns:b='urn:b'>text<![CDATA[<cdata & more>]]>&#x1F600;</b:f>\n\
         \x20   <g xmlns='urn:default'><h xmlns=''/></g>\n\
         \x20   <!-- a comment inside -->\n\
         \x20 </rdf:Description>\n\
         </rdf:RDF>\n\
         <!-- a comment after -->\n"
            .to_string(),
    ));
    // Signed documents as a whole (the Signature included): its namespace declarations.
    docs.push(("signed RSA".to_string(), alice_document().to_string()));
    docs.push(("signed EC".to_string(), bob_document().to_string()));
    // The conformance corpus, when present (signed by the original Java tools).
    let corpus = marketplace_test_pki::corpus::dir();
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        names.sort();
        for p in names {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            if text.contains("<!DOCTYPE") || roxmltree_ok(&text).is_none() {
                continue;
            }
            docs.push((p.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
    docs
}

fn roxmltree_ok(text: &str) -> Option<()> {
    marketplace_format::parse::parse_xml(text).ok().map(|_| ())
}

#[test]
fn xmllint_and_bergshamra_canonicalize_alike() {
    if !xmllint() {
        return;
    }
    let docs = c14n_documents();
    assert!(docs.len() >= 5);
    eprintln!("{} documents canonicalized by both", docs.len());
    for (name, xml) in &docs {
        for (flag, mode) in [
            ("--c14n", C14nMode::InclusiveWithComments),
            ("--exc-c14n", C14nMode::ExclusiveWithComments),
            ("--c14n11", C14nMode::Inclusive11WithComments),
        ] {
            let expected = xmllint_c14n(xml, flag);
            let actual = ours(xml, mode);
            assert!(
                expected == actual,
                "{name} {flag}:\nxmllint:\n{}\nbergshamra:\n{}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&actual)
            );
        }
        // Without comments: equal to the with-comments form when there are none.
        if !xml.contains("<!--") {
            assert_eq!(
                ours(xml, C14nMode::Inclusive),
                xmllint_c14n(xml, "--c14n"),
                "{name}"
            );
        }
    }
}

/// The DigestValue of our signatures is the hash of what xmllint canonicalizes once the
/// Signature element is taken out of the document.
#[test]
fn our_digest_is_that_of_xmllint_canonical_form() {
    if !xmllint() {
        return;
    }
    let legacy = signed_document(
        &sample_metadata(),
        alice(),
        SignOptions { legacy_sha1: true },
    );
    for (doc, md) in [
        (alice_document(), MessageDigest::sha256()),
        (bob_document(), MessageDigest::sha256()),
        (legacy.as_str(), MessageDigest::sha1()),
    ] {
        let without = dsig::strip_signature(doc).unwrap();
        let canonical = xmllint_c14n(&without, "--c14n");
        assert_eq!(canonical, enveloped_bytes(doc, C14nMode::Inclusive));
        let digest = B64.encode(hash(md, &canonical).unwrap());
        assert_eq!(digest, element_text(doc, "ds:DigestValue"));
    }
}

// --- attribute values: XML 1.0 normalisation, then C14N ---------------------------------------

/// Start tags whose attributes hold literal tabs, line feeds, CR LF pairs and lone CRs
/// (each one space once parsed: XML 1.0 §2.11 and §3.3.3), and the same characters as
/// references (kept as characters, then written `&#x9;`, `&#xA;`, `&#xD;` by C14N).
const WHITESPACE_ATTRIBUTES: &[&str] = &[
    "t=\"x\ty\" n=\"x\ny\" crlf=\"x\r\ny\" cr=\"x\ry\" two=\"\r\n\r\n\"",
    "r=\"x&#9;y&#10;z&#13;w&#xD;&#xA;\" m='&#9;\t&#10;\n&#13;\r\n'",
    "ex:v=\"\r\n\t lead and trail \t\r\n\" w=\"&amp;\t&lt;\n&quot;'\"",
];

/// Small documents with those attributes on the root and on a child.
fn whitespace_attribute_documents() -> Vec<String> {
    WHITESPACE_ATTRIBUTES
        .iter()
        .map(|attributes| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <root xmlns:ex=\"urn:ex\" {attributes}>\r\n  <child {attributes}/>\r\n</root>\n"
            )
        })
        .collect()
}

/// Our parse and canonicalization (the same path as verification) give what
/// `xmllint --c14n` gives, and bergshamra-c14n over our parse agrees in both inclusive
/// and exclusive modes; the format crate's parser reads the same attribute values.
#[test]
fn whitespace_in_attribute_values_canonicalizes_as_xmllint() {
    if !xmllint() {
        return;
    }
    for xml in whitespace_attribute_documents() {
        let doc = marketplace_trust::parse::parse(&xml).unwrap();
        let root = doc.document_element().unwrap();
        let mut ours = Vec::new();
        marketplace_trust::c14n::subtree(&doc, root, &mut ours).unwrap();
        let expected = xmllint_c14n(&xml, "--c14n");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&expected),
            "{xml:?}"
        );
        for (mode, flag) in [
            (C14nMode::Inclusive, "--c14n"),
            (C14nMode::Exclusive, "--exc-c14n"),
        ] {
            let theirs =
                bergshamra_c14n::canonicalize_doc(&doc, mode, None, &[] as &[&str]).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&theirs),
                String::from_utf8_lossy(&xmllint_c14n(&xml, flag)),
                "{flag} {xml:?}"
            );
        }
        // What the format reads is what is signed.
        let read = marketplace_format::parse::parse_xml(&xml).unwrap();
        let values = |e: roxmltree::Node<'_, '_>| -> Vec<String> {
            e.attributes().map(|a| a.value().to_string()).collect()
        };
        let parsed: Vec<String> = doc
            .element(root)
            .unwrap()
            .attributes
            .iter()
            .map(|a| a.value.to_string())
            .collect();
        assert_eq!(values(read.root_element()), parsed, "{xml:?}");
    }
    // The normalised values, spelled out for the first document.
    let xml = &whitespace_attribute_documents()[0];
    let doc = marketplace_trust::parse::parse(xml).unwrap();
    let mut ours = Vec::new();
    marketplace_trust::c14n::subtree(&doc, doc.document_element().unwrap(), &mut ours).unwrap();
    let ours = String::from_utf8(ours).unwrap();
    assert!(
        ours.starts_with(
            "<root xmlns:ex=\"urn:ex\" cr=\"x y\" crlf=\"x y\" n=\"x y\" t=\"x y\" two=\"  \">"
        ),
        "{ours}"
    );
}

/// The sample document with whitespace-holding attributes on its root element.
fn unsigned_with_whitespace_attributes(who: &Identity, attributes: &str) -> String {
    let unsigned = unsigned_document(&sample_metadata(), who);
    unsigned.replacen(
        "<rdf:RDF ",
        &format!("<rdf:RDF xmlns:ex=\"urn:ex\" {attributes} "),
        1,
    )
}

/// Signed by us, verified by xmlsec1; signed by xmlsec1, verified by us; and both compute
/// the same digest. Before the values were normalised, each refused the other's.
#[test]
fn signatures_over_whitespace_in_attribute_values_interoperate() {
    if !xmlsec1() {
        return;
    }
    for attributes in WHITESPACE_ATTRIBUTES {
        let unsigned = unsigned_with_whitespace_attributes(alice(), attributes);
        let ours = dsig::sign(
            &unsigned,
            &alice().key,
            &[alice().cert.clone()],
            SignOptions::default(),
        )
        .unwrap();
        dsig::verify(&ours).unwrap();
        xmlsec_verify(&ours, XmlsecKey::Certificate(&alice().cert))
            .unwrap_or_else(|e| panic!("{attributes:?}: {e}"));
        let tpl = template(
            &unsigned,
            Layout::Compact,
            uri::C14N,
            uri::RSA_SHA256,
            uri::SHA256,
            ONE_CERTIFICATE,
        );
        let theirs = in_signer_form(&xmlsec_sign(&tpl, alice(), &[]));
        let v = dsig::verify(&theirs).unwrap_or_else(|e| panic!("{attributes:?}: {e}"));
        assert_eq!(v.signer.to_der().unwrap(), alice().cert.to_der().unwrap());
        assert_eq!(
            element_text(&theirs, "ds:DigestValue"),
            element_text(&ours, "ds:DigestValue"),
            "{attributes:?}"
        );
    }
}
