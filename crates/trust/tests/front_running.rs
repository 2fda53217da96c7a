//! No front-running: every byte of a signed document outside what its signature covers
//! must be exactly what a signer writes (`marketplace sign`, or the original Java tools),
//! so that nobody can make a variant of someone else's signed document — one that still
//! verifies, but whose bytes differ — and upload it first (the store refuses different
//! bytes at the same identifier, e-mail and date, so the genuine upload would get 409), or
//! have unsigned text stored and served.
//!
//! Each test takes genuinely signed documents, applies one variant that leaves what the
//! signature covers unchanged (so a lax verifier would accept it), and checks that the
//! strict profile refuses it with a message saying what is wrong and where.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use marketplace_trust::document::SignatureRefusal;
use marketplace_trust::dsig::{
    self, OutsideRoot, ProfileViolation, SignOptions, SignatureError, SigningFailure,
};
use openssl::x509::X509;

// --- helpers ----------------------------------------------------------------------------------

/// The profile's refusal of `xml`, by `dsig::verify` and by `check_document` alike.
#[track_caller]
fn refusal(xml: &str) -> ProfileViolation {
    let violation = match dsig::verify(xml) {
        Err(SignatureError::Profile(v)) => v,
        other => panic!("expected a profile refusal, got {other:?}\n{xml}"),
    };
    let reason = assert_refused(xml);
    assert_eq!(
        reason,
        SignatureRefusal::Signature(SignatureError::Profile(violation.clone()))
    );
    violation
}

/// A check that a profile violation is the variant given (a pattern, with an
/// optional guard), e.g. `is!(KeyInfoChild { element, .. } if element == "ds:KeyName")`.
macro_rules! is {
    ($($pattern:tt)+) => {
        (|v: &ProfileViolation| matches!(v, ProfileViolation::$($pattern)+))
            as fn(&ProfileViolation) -> bool
    };
}

/// `line L, column C` of byte `offset` (columns count characters).
fn position(xml: &str, offset: usize) -> String {
    let before = &xml[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    format!("line {line}, column {column}")
}

/// The position of the first occurrence of `needle`.
fn position_of(xml: &str, needle: &str) -> String {
    position(xml, xml.find(needle).expect("the needle occurs"))
}

fn base64_of(cert: &X509) -> String {
    B64.encode(cert.to_der().unwrap())
}

fn alice_b64() -> String {
    base64_of(&alice().cert)
}

fn legacy_document() -> String {
    signed_document(
        &sample_metadata(),
        alice(),
        SignOptions { legacy_sha1: true },
    )
}

fn corpus(file: &str) -> String {
    let path = marketplace_test_pki::corpus::file(file);
    std::fs::read_to_string(&path).expect("the conformance corpus (the test requires it)")
}

/// The Java-signed corpus document as JDK 9 and later write it: base64 lines end with
/// `&#13;` and a line feed instead of a line feed alone.
fn jdk17_form(java: &str) -> String {
    let mut out = java.to_string();
    for tag in ["SignatureValue", "X509Certificate"] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let start = out.find(&open).unwrap() + open.len();
        let end = start + out[start..].find(&close).unwrap();
        let value = out[start..end].replace('\n', "&#13;\n");
        out.replace_range(start..end, &value);
    }
    out
}

// --- the genuine documents --------------------------------------------------------------------

#[test]
fn genuine_documents_verify() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let with_ca = dsig::sign(
        &unsigned_document(&sample_metadata(), alice()),
        &alice().key,
        &[alice().cert.clone(), ca().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    let java = corpus("valid-full-signature.xml");
    for (label, doc) in [
        ("RSA", alice_document().to_string()),
        ("EC", bob_document().to_string()),
        ("RSA-SHA1", legacy_document()),
        ("signer and its CA", with_ca),
        ("Java tools, JDK 8", java.clone()),
        ("Java tools, JDK 9+", jdk17_form(&java)),
        ("Java tools, CA-signed", corpus("valid-ca-signed.xml")),
    ] {
        dsig::verify(&doc).unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    let report = check(alice_document());
    assert!(report.is_signed_and_valid(), "{:?}", report.signature);
}

/// What `marketplace sign` writes around the root element, whatever the input had there.
#[test]
fn sign_writes_one_form_outside_the_root() {
    let unsigned = unsigned_document(&sample_metadata(), alice());
    let body = &unsigned[unsigned.find("<rdf:RDF").unwrap()..];
    let body = body.trim_end();
    for input in [
        unsigned.clone(),
        body.to_string(),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n{body}"),
        format!("\u{feff}<?xml version='1.0' encoding='utf-8'?>\r\n\r\n{body}\r\n \n"),
    ] {
        let signed = dsig::sign(
            &input,
            &alice().key,
            &[alice().cert.clone()],
            SignOptions::default(),
        )
        .unwrap();
        assert!(
            signed.starts_with(&format!("{SIGNED_PROLOG}<rdf:RDF")),
            "{signed}"
        );
        assert!(signed.ends_with("</rdf:RDF>"));
        assert!(check(&signed).is_signed_and_valid());
    }
    // What it cannot carry over, it does not sign.
    /// What `sign` would have written is refused with `violation`.
    fn would_be_refused(
        failure: &SigningFailure,
        violation: fn(&ProfileViolation) -> bool,
    ) -> bool {
        matches!(failure, SigningFailure::WouldBeRefused(e)
            if matches!(&**e, SignatureError::Profile(v) if violation(v)))
    }
    let before = |f: &SigningFailure| {
        *f == SigningFailure::OutsideRoot {
            part: OutsideRoot::Before,
        }
    };
    let after = |f: &SigningFailure| {
        *f == SigningFailure::OutsideRoot {
            part: OutsideRoot::After,
        }
    };
    let cdata = |f: &SigningFailure| would_be_refused(f, is!(CData { .. }));
    let comment = |f: &SigningFailure| would_be_refused(f, is!(Comment { .. }));
    /// What a failure must be.
    type Expected<'a> = &'a dyn Fn(&SigningFailure) -> bool;
    let cases: [(String, Expected); 5] = [
        (format!("<?xml version=\"1.1\"?>\n{body}"), &before),
        (format!("<!-- a comment -->\n{body}"), &before),
        (format!("{body}\n<?pi after?>"), &after),
        (
            unsigned.replacen("<slterms:os>Ubuntu", "<slterms:os><![CDATA[Ubuntu]]>", 1),
            &cdata,
        ),
        (
            unsigned.replacen("<slterms:os>", "<!-- x --><slterms:os>", 1),
            &comment,
        ),
    ];
    for (input, expected) in cases {
        match dsig::sign(
            &input,
            &alice().key,
            &[alice().cert.clone()],
            SignOptions::default(),
        ) {
            Err(SignatureError::Signing(f)) => assert!(expected(&f), "{f:?}"),
            other => panic!("expected a signing failure, got {other:?}"),
        }
    }
    // Certificates that are not the signer's chain are not written either.
    let err = dsig::sign(
        &unsigned,
        &alice().key,
        &[alice().cert.clone(), mallory().cert.clone()],
        SignOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, SignatureError::Signing(f)
            if would_be_refused(f, is!(NotIssuer { number: 2 }))),
        "{err:?}"
    );
}

// --- around the root element ------------------------------------------------------------------

#[test]
fn a_byte_order_mark_is_refused() {
    let doc = format!("\u{feff}{}", alice_document());
    assert_eq!(refusal(&doc), ProfileViolation::ByteOrderMark);
    let report = check_bytes(doc.as_bytes());
    assert!(!report.is_valid());
}

#[test]
fn xml_1_1_is_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = replace_once(alice_document(), "version=\"1.0\"", "version=\"1.1\"");
    assert!(matches!(refusal(&doc), ProfileViolation::XmlVersion { version } if version == "1.1"));
    let java = corpus("valid-full-signature.xml").replacen("version=\"1.0\"", "version=\"1.1\"", 1);
    assert!(matches!(refusal(&java), ProfileViolation::XmlVersion { version } if version == "1.1"));
}

/// Every signed document starts as the Java tools write it (and `marketplace sign` too):
/// one declaration, directly followed by the root element.
#[test]
fn other_xml_declarations_are_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let declaration = SIGNED_PROLOG;
    let java = corpus("valid-full-signature.xml");
    for signed in [alice_document(), java.as_str()] {
        for (to, at) in [
            (
                "<?xml version='1.0' encoding='UTF-8' standalone='no'?>",
                "line 1, column 15",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>",
                "line 1, column 31",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "line 1, column 37",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
                "line 1, column 50",
            ),
            (
                "<?xml version=\"1.0\"  encoding=\"UTF-8\" standalone=\"no\"?>",
                "line 1, column 21",
            ),
            ("<?xml version=\"1.0\"?>", "line 1, column 20"),
            ("", "line 1, column 1"),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n",
                "line 1, column 55",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\r\n",
                "line 1, column 55",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?> ",
                "line 1, column 55",
            ),
        ] {
            let doc = replace_once(signed, declaration, to);
            let violation = refusal(&doc);
            match &violation {
                ProfileViolation::Prolog { at: found, .. } => {
                    assert_eq!(found.to_string(), at, "{to:?}");
                }
                other => panic!("{to:?}: {other:?}"),
            }
            // The declaration the message asks for is the one signers write.
            assert!(
                violation.to_string().contains(&format!(
                    "starts with the XML declaration {declaration} directly followed by the root"
                )),
                "{violation}"
            );
        }
    }
}

#[test]
fn anything_after_the_root_element_is_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let java = corpus("valid-full-signature.xml");
    for signed in [alice_document(), java.as_str()] {
        let end = position(signed, signed.len());
        for (tail, found) in [
            ("\n", "\"\\n\""),
            ("\n\n", "\"\\n\\n\""),
            ("\r\n", "\"\\r\\n\""),
            (" ", "\" \""),
        ] {
            let doc = format!("{signed}{tail}");
            match refusal(&doc) {
                ProfileViolation::Epilog { at, found: has } => {
                    assert_eq!(
                        (at.to_string(), has.as_str()),
                        (end.clone(), found),
                        "{tail:?}"
                    );
                }
                other => panic!("{tail:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn comments_and_processing_instructions_around_the_root_are_refused() {
    let signed = alice_document();
    for (from, to, needle) in [
        ("?><rdf:RDF", "?><!-- a note --><rdf:RDF", "<!--"),
        ("</rdf:RDF>", "</rdf:RDF><!-- a note -->", "<!--"),
        ("?><rdf:RDF", "?><?pi x?><rdf:RDF", "<?pi"),
        ("</rdf:RDF>", "</rdf:RDF>\n<?pi x?>\n", "<?pi"),
    ] {
        let doc = replace_once(signed, from, to);
        let at = match refusal(&doc) {
            ProfileViolation::Comment { at } if needle == "<!--" => at,
            ProfileViolation::ProcessingInstruction { at } if needle == "<?pi" => at,
            other => panic!("{to:?}: {other:?}"),
        };
        assert_eq!(at.to_string(), position_of(&doc, needle));
    }
}

// --- CDATA sections ---------------------------------------------------------------------------

#[test]
fn cdata_sections_are_refused_anywhere() {
    let signed = alice_document();
    let digest = {
        let r = element_range(signed, "ds:DigestValue");
        signed[r.start + "<ds:DigestValue>".len()..r.end - "</ds:DigestValue>".len()].to_string()
    };
    for (from, to) in [
        (
            "<slterms:os>Ubuntu</slterms:os>".to_string(),
            "<slterms:os><![CDATA[Ubuntu]]></slterms:os>".to_string(),
        ),
        (
            "<slterms:os>Ubuntu</slterms:os>".to_string(),
            "<slterms:os>Ubu<![CDATA[]]>ntu</slterms:os>".to_string(),
        ),
        (
            "&lt;base&gt; &amp;".to_string(),
            "<![CDATA[<base> &]]>".to_string(),
        ),
        (
            format!("<ds:DigestValue>{digest}"),
            format!("<ds:DigestValue><![CDATA[{digest}]]>"),
        ),
        (
            format!("<ds:X509Certificate>{}", alice_b64()),
            format!("<ds:X509Certificate><![CDATA[{}]]>", alice_b64()),
        ),
    ] {
        let doc = replace_once(signed, &from, &to);
        match refusal(&doc) {
            ProfileViolation::CData { at } => {
                assert_eq!(at.to_string(), position_of(&doc, "<![CDATA["));
            }
            other => panic!("{to}: {other:?}"),
        }
    }
}

// --- the signature element --------------------------------------------------------------------

#[test]
fn attributes_on_signature_elements_are_refused() {
    let signed = alice_document();
    // (what is refused, on which element): an attribute, or a namespace declaration.
    for (from, to, name, on) in [
        (
            "<ds:Signature ",
            "<ds:Signature Id=\"sig-1\" ",
            "Id",
            "ds:Signature",
        ),
        (
            "<ds:SignatureValue>",
            "<ds:SignatureValue Id=\"value\">",
            "Id",
            "ds:SignatureValue",
        ),
        (
            "<ds:KeyInfo>",
            "<ds:KeyInfo Id=\"key\">",
            "Id",
            "ds:KeyInfo",
        ),
        (
            "<ds:X509Certificate>",
            "<ds:X509Certificate xml:lang=\"en\">",
            "xml:lang",
            "ds:X509Certificate",
        ),
        (
            "<ds:X509Data>",
            "<ds:X509Data xmlns:ex=\"urn:ex\" ex:note=\"hello\">",
            "xmlns:ex",
            "ds:X509Data",
        ),
        (
            "<ds:Reference URI=\"\">",
            "<ds:Reference URI=\"\" Type=\"urn:x\">",
            "Type",
            "ds:Reference",
        ),
        (
            "<ds:SignedInfo>",
            "<ds:SignedInfo Id=\"si\">",
            "Id",
            "ds:SignedInfo",
        ),
    ] {
        let doc = replace_once(signed, from, to);
        // Outside SignedInfo nothing of this is signed, and the message says so.
        let signed_part = ["Reference", "SignedInfo"].iter().any(|e| from.contains(e));
        let found = match refusal(&doc) {
            ProfileViolation::Attribute {
                attribute,
                element,
                at,
                signed,
            } if !name.starts_with("xmlns") => (attribute, element, at, signed),
            ProfileViolation::NamespaceDeclaration {
                declaration,
                element,
                at,
                signed,
            } if name.starts_with("xmlns") => (declaration, element, at, signed),
            other => panic!("{to}: {other:?}"),
        };
        assert_eq!(
            (
                found.0.as_str(),
                found.1.as_str(),
                found.2.to_string(),
                found.3
            ),
            (name, on, position_of(&doc, to), signed_part),
            "{to}"
        );
    }
}

#[test]
fn namespace_declarations_other_than_the_signatures_own_are_refused() {
    let signed = alice_document();
    let ds = "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"";
    for (from, to, expected) in [
        (
            "<ds:Signature ".to_string(),
            "<ds:Signature xmlns:ex=\"urn:ex\" ".to_string(),
            is!(SignatureNamespaceExtra { declaration, .. } if declaration == "xmlns:ex"),
        ),
        (
            "<ds:KeyInfo>".to_string(),
            format!("<ds:KeyInfo {ds}>"),
            is!(NamespaceDeclaration { declaration, element, .. }
                if declaration == "xmlns:ds" && element == "ds:KeyInfo"),
        ),
        (
            "<ds:SignatureValue>".to_string(),
            "<ds:SignatureValue xmlns=\"urn:ex\">".to_string(),
            is!(NamespaceDeclaration { declaration, element, .. }
                if declaration == "xmlns" && element == "ds:SignatureValue"),
        ),
        // Declared once on the root instead: no signer writes that.
        (
            format!("<ds:Signature {ds}>"),
            "<ds:Signature>".to_string(),
            is!(SignatureNamespaceMissing { declaration, .. } if declaration == "xmlns:ds"),
        ),
    ] {
        let doc = replace_once(signed, &from, &to);
        let doc = if to == "<ds:Signature>" {
            replace_once(&doc, "<rdf:RDF ", &format!("<rdf:RDF {ds} "))
        } else {
            doc
        };
        let violation = refusal(&doc);
        assert!(expected(&violation), "{to}: {violation:?}");
    }
}

#[test]
fn key_names_and_other_key_information_are_refused() {
    let signed = alice_document();
    let x509_data = element_range(signed, "ds:X509Data");
    let x509_data = &signed[x509_data];
    for (from, to, expected, needle) in [
        (
            "<ds:KeyInfo><ds:X509Data>".to_string(),
            "<ds:KeyInfo><ds:KeyName>alice</ds:KeyName><ds:X509Data>".to_string(),
            is!(KeyInfoChild { element, .. } if element == "ds:KeyName"),
            "<ds:KeyName",
        ),
        (
            "</ds:X509Data></ds:KeyInfo>".to_string(),
            "</ds:X509Data><ds:KeyName>Alice's key</ds:KeyName></ds:KeyInfo>".to_string(),
            is!(KeyInfoChild { element, .. } if element == "ds:KeyName"),
            "<ds:KeyName",
        ),
        (
            "</ds:X509Data></ds:KeyInfo>".to_string(),
            "</ds:X509Data><ds:MgmtData>x</ds:MgmtData></ds:KeyInfo>".to_string(),
            is!(KeyInfoChild { element, .. } if element == "ds:MgmtData"),
            "<ds:MgmtData",
        ),
        (
            "</ds:X509Data></ds:KeyInfo>".to_string(),
            format!("</ds:X509Data>{x509_data}</ds:KeyInfo>"),
            is!(SecondX509Data { .. }),
            "</ds:X509Data><ds:X509Data",
        ),
        (
            "</ds:X509Certificate></ds:X509Data>".to_string(),
            format!(
                "</ds:X509Certificate><ds:X509SubjectName>{ALICE}</ds:X509SubjectName></ds:X509Data>"
            ),
            is!(X509DataChild { element, .. } if element == "ds:X509SubjectName"),
            "<ds:X509SubjectName",
        ),
        (
            "<ds:X509Data>".to_string(),
            "<ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName>\
             <ds:X509SerialNumber>1</ds:X509SerialNumber></ds:X509IssuerSerial>"
                .to_string(),
            is!(X509DataChild { element, .. } if element == "ds:X509IssuerSerial"),
            "<ds:X509IssuerSerial",
        ),
    ] {
        let doc = replace_once(signed, &from, &to);
        let violation = refusal(&doc);
        assert!(expected(&violation), "{to}: {violation:?}");
        // Where: the offending element (the second X509Data after the first's end tag).
        let at =
            doc.find(needle).unwrap() + needle.find("<ds:X509Data").filter(|&i| i > 0).unwrap_or(0);
        let found = match &violation {
            ProfileViolation::KeyInfoChild { at, .. }
            | ProfileViolation::SecondX509Data { at }
            | ProfileViolation::X509DataChild { at, .. } => at.to_string(),
            other => panic!("{to}: {other:?}"),
        };
        assert_eq!(found, position(&doc, at), "{to}");
    }
}

#[test]
fn objects_are_refused() {
    let doc = replace_once(
        alice_document(),
        "</ds:KeyInfo></ds:Signature>",
        "</ds:KeyInfo><ds:Object Id=\"o\"><ds:KeyName>x</ds:KeyName></ds:Object></ds:Signature>",
    );
    match refusal(&doc) {
        ProfileViolation::Object { at } => {
            assert_eq!(at.to_string(), position_of(&doc, "<ds:Object"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn whitespace_between_signature_elements_is_refused() {
    let signed = alice_document();
    for (from, to, inside) in [
        (
            "<ds:KeyInfo><ds:X509Data>",
            "<ds:KeyInfo>\n  <ds:X509Data>",
            "ds:KeyInfo",
        ),
        (
            "</ds:X509Data></ds:KeyInfo>",
            "</ds:X509Data> </ds:KeyInfo>",
            "ds:KeyInfo",
        ),
        (
            "<ds:X509Data><ds:X509Certificate>",
            "<ds:X509Data>\t<ds:X509Certificate>",
            "ds:X509Data",
        ),
        (
            "</ds:SignatureValue><ds:KeyInfo>",
            "</ds:SignatureValue>\n<ds:KeyInfo>",
            "ds:Signature",
        ),
        (
            "</ds:KeyInfo></ds:Signature>",
            "</ds:KeyInfo>\r\n</ds:Signature>",
            "ds:Signature",
        ),
        // Inside SignedInfo whitespace is signed (this breaks the signature), but the
        // profile names it first: no signer writes it.
        (
            "<ds:SignedInfo><ds:Canon",
            "<ds:SignedInfo>\n<ds:Canon",
            "ds:SignedInfo",
        ),
    ] {
        let doc = replace_once(signed, from, to);
        // Inside SignedInfo it is signed; anywhere else the message says it is not.
        let signed_part = inside == "ds:SignedInfo";
        match refusal(&doc) {
            ProfileViolation::TextBetweenElements {
                element, signed, ..
            } => assert_eq!((element.as_str(), signed), (inside, signed_part)),
            other => panic!("{to:?}: {other:?}"),
        }
    }
}

#[test]
fn certificates_outside_the_signers_chain_are_refused() {
    let signed = alice_document();
    let alice = alice_b64();
    let ca = base64_of(&ca().cert);
    let mallory = base64_of(&mallory().cert);
    let certs = |list: &[&str]| list.join("</ds:X509Certificate><ds:X509Certificate>");
    for (list, expected) in [
        (
            vec![&*alice, &*mallory],
            ProfileViolation::NotIssuer { number: 2 },
        ),
        (
            vec![&*alice, &*alice],
            ProfileViolation::NotIssuer { number: 2 },
        ),
        (
            vec![&*alice, &*ca, &*ca],
            ProfileViolation::NotIssuer { number: 3 },
        ),
        (
            vec![&*alice, &*ca, &*mallory],
            ProfileViolation::NotIssuer { number: 3 },
        ),
        (
            vec![&*ca, &*alice],
            ProfileViolation::SignerNotFirst { number: 2 },
        ),
        (
            vec![&*mallory, &*alice],
            ProfileViolation::SignerNotFirst { number: 2 },
        ),
    ] {
        let doc = replace_once(signed, &alice, &certs(&list));
        assert_eq!(refusal(&doc), expected);
    }
    // Exactly the signer's chain is what signers carry (proxies carry the certificates
    // that issued them): accepted.
    let doc = replace_once(signed, &alice, &certs(&[&alice, &ca]));
    let report = check(&doc);
    assert!(report.is_signed_and_valid(), "{:?}", report.signature);
}

#[test]
fn other_ways_of_writing_the_signature_are_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let signed = alice_document();
    let value = {
        let r = element_range(signed, "ds:SignatureValue");
        signed[r.start + "<ds:SignatureValue>".len()..r.end - "</ds:SignatureValue>".len()]
            .to_string()
    };
    let wrapped = |text: &str, line_break: &str| {
        text.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(line_break)
    };
    let c14n = "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>";
    for (from, to, found) in [
        (c14n.to_string(), c14n.replace('"', "'"), "\"'http"),
        (c14n.to_string(), c14n.replace("\"/>", "\" />"), "\" />"),
        (
            c14n.to_string(),
            c14n.replace("/>", "></ds:CanonicalizationMethod>"),
            "\"></ds:Canonical",
        ),
        (
            c14n.to_string(),
            c14n.replace("Algorithm=", "Algorithm = "),
            "\" = \\\"http",
        ),
        (
            c14n.to_string(),
            c14n.replace("http:", "&#104;ttp:"),
            "\"&#104;ttp",
        ),
        (
            "<ds:KeyInfo>".to_string(),
            "<ds:KeyInfo >".to_string(),
            "\" >",
        ),
        (
            format!("<ds:SignatureValue>{value}"),
            format!("<ds:SignatureValue>{}", wrapped(&value, "\n")),
            "\"\\n",
        ),
        (
            format!("<ds:SignatureValue>{value}"),
            format!("<ds:SignatureValue>\n{value}\n"),
            "\"\\n",
        ),
        (
            format!("<ds:SignatureValue>{value}"),
            format!(
                "<ds:SignatureValue>&#{};{}",
                value.as_bytes()[0],
                &value[1..]
            ),
            "\"&#",
        ),
        (
            format!("<ds:X509Certificate>{}", alice_b64()),
            format!("<ds:X509Certificate>{}", wrapped(&alice_b64(), "&#13;\n")),
            "\"&#13;",
        ),
    ] {
        let doc = replace_once(signed, &from, &to);
        match refusal(&doc) {
            ProfileViolation::SignatureBytes { found: has, .. } => {
                assert!(has.starts_with(found), "{to}: {has}");
            }
            other => panic!("{to}: {other:?}"),
        }
    }
    // The Java tools' layout is theirs: one line there, or line breaks mixed, is refused.
    let java = corpus("valid-full-signature.xml");
    let sv = element_range(&java, "SignatureValue");
    let one_line = format!(
        "{}{}{}",
        &java[..sv.start],
        java[sv.clone()].replace('\n', ""),
        &java[sv.end..]
    );
    assert!(matches!(
        refusal(&one_line),
        ProfileViolation::SignatureBytes { .. }
    ));
    let jdk17 = jdk17_form(&java);
    let mixed = jdk17.replacen("&#13;\n", "\n", 1);
    assert!(matches!(
        refusal(&mixed),
        ProfileViolation::SignatureBytes { .. }
    ));
}

/// The variants above keep what the signature covers: with the profile's checks on the
/// signature element set aside (the forger's own canonicalization), each would verify.
/// Shown for a few, so that the refusals are the profile's and not broken cryptography.
#[test]
fn the_variants_keep_the_signed_bytes() {
    let signed = alice_document();
    let original_digest = enveloped_bytes(signed, bergshamra_c14n::C14nMode::Inclusive);
    let original_signed_info = signed_info_bytes(signed, bergshamra_c14n::C14nMode::Inclusive);
    for variant in [
        replace_once(signed, "<ds:Signature ", "<ds:Signature Id=\"s\" "),
        replace_once(
            signed,
            "<ds:KeyInfo><ds:X509Data>",
            "<ds:KeyInfo><ds:KeyName>k</ds:KeyName><ds:X509Data>",
        ),
        replace_once(signed, "<ds:KeyInfo>", "<ds:KeyInfo>\n"),
        replace_once(
            signed,
            "<slterms:os>Ubuntu",
            "<slterms:os><![CDATA[Ubuntu]]>",
        ),
        format!("{signed}\n"),
        replace_once(signed, "?><rdf:RDF", "?>\n<rdf:RDF"),
        replace_once(
            signed,
            "<ds:DigestMethod Algorithm=\"",
            "<ds:DigestMethod Algorithm = \"",
        ),
    ] {
        assert_eq!(
            enveloped_bytes(&variant, bergshamra_c14n::C14nMode::Inclusive),
            original_digest
        );
        assert_eq!(
            signed_info_bytes(&variant, bergshamra_c14n::C14nMode::Inclusive),
            original_signed_info
        );
        refusal(&variant);
    }
}

// --- entries accepted before the layout rules --------------------------------------------------

/// A document the marketplace accepted before the layout rules (another declaration, a line
/// feed after the root, whitespace and a KeyName in KeyInfo, CDATA) is refused as an upload but
/// still verifies as a stored entry (`Layout::Stored`: rebuilding the index, checking the store,
/// downloads and site policy), so that nothing accepted is dropped. Wrapping and comments stay
/// refused either way.
#[test]
fn stored_entries_keep_verifying_whatever_their_unsigned_layout() {
    let genuine = alice_document().to_string();
    let root = genuine.find("<rdf:RDF").expect("the root");
    let mut old = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        &genuine[root..]
    );
    old = old.replacen(
        "<ds:X509Data>",
        "<ds:KeyName>alice</ds:KeyName>\n<ds:X509Data>",
        1,
    );
    assert!(dsig::verify(&old).is_err(), "refused as an upload");
    dsig::verify_with(&old, dsig::Layout::Stored).expect("kept as a stored entry");

    let with_comment = old.replacen("<ds:KeyName>", "<!-- x --><ds:KeyName>", 1);
    assert!(dsig::verify_with(&with_comment, dsig::Layout::Stored).is_err());
    let stored = marketplace_trust::document::CheckOptions {
        layout: dsig::Layout::Stored,
        ..Default::default()
    };
    let report = marketplace_trust::document::check_document(old.as_bytes(), &stored);
    assert!(report.is_signed_and_valid(), "{:?}", report.signature);
}
