//! Signature wrapping and tampering: every attempt to change what a signed document
//! says, or to make the signature cover something other than what the format crate
//! reads, must be refused by `check_document` (not valid, signature Invalid).
//!
//! Where a lax verifier could be fooled, the attack is built with correct cryptography
//! (see `common::forge`), so that the refusal is the strict profile's and not merely
//! the broken digest a careless edit causes. The last test changes every byte of signed
//! documents in turn.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use std::time::Instant;

use common::*;
use marketplace_format::Rule;
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureRefusal, SignatureStatus, check_document,
};
use marketplace_trust::dsig::{self, ProfileViolation, SignOptions, SignatureError, uri};

const HMAC_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
const MD5: &str = "http://www.w3.org/2001/04/xmldsig-more#md5";
const RSA_MD5: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5";
const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
const XPATH2: &str = "http://www.w3.org/2002/06/xmldsig-filter2";
const XSLT: &str = "http://www.w3.org/TR/1999/REC-xslt-19991116";
const BASE64: &str = "http://www.w3.org/2000/09/xmldsig#base64";
const C14N11: &str = "http://www.w3.org/2006/12/xml-c14n11";
const ECDSA_SHA1: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1";
const RSA_SHA224: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224";

/// An rdf:Description an attacker would like to be read.
fn evil_description() -> String {
    format!(
        "<rdf:Description xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
         xmlns:slterms=\"http://mp.stratuslab.eu/slterms#\" rdf:about=\"#{}\">\
         <slterms:os>EvilOS</slterms:os>\
         <slterms:location>https://evil.example.net/backdoored.img</slterms:location>\
         </rdf:Description>",
        sample_metadata().identifier
    )
}

fn unsigned_alice() -> String {
    unsigned_document(&sample_metadata(), alice())
}

fn signature_of(xml: &str) -> &str {
    &xml[element_range(xml, "ds:Signature")]
}

fn verify_err(xml: &str) -> SignatureError {
    match dsig::verify(xml) {
        Ok(v) => panic!(
            "signature unexpectedly verified (signer {:?})\n{xml}",
            v.signer.subject_name()
        ),
        Err(e) => e,
    }
}

/// A check that a profile violation is the variant given (a pattern, with an
/// optional guard), e.g. `is!(SignatureCount { found: 2 })`.
macro_rules! is {
    ($($pattern:tt)+) => {
        (|v: &ProfileViolation| matches!(v, ProfileViolation::$($pattern)+))
            as fn(&ProfileViolation) -> bool
    };
}

/// Refused by `check_document` because of the strict profile (not the
/// cryptography), with a violation `expected` accepts.
#[track_caller]
fn assert_profile_refusal(xml: &str, expected: impl Fn(&ProfileViolation) -> bool) {
    let reason = assert_refused(xml);
    match verify_err(xml) {
        SignatureError::Profile(v) => {
            assert!(expected(&v), "unexpected profile violation {v:?}: {v}");
            assert_eq!(
                reason,
                SignatureRefusal::Signature(SignatureError::Profile(v))
            );
        }
        other => panic!("expected a profile violation, got {other:?}"),
    }
}

#[track_caller]
fn assert_digest_mismatch(xml: &str) {
    let reason = assert_refused(xml);
    assert_eq!(
        reason,
        SignatureRefusal::Signature(SignatureError::DigestMismatch)
    );
    assert_eq!(verify_err(xml), SignatureError::DigestMismatch, "{reason}");
}

#[track_caller]
fn assert_endorser_inconsistency(xml: &str) {
    // The signature itself verifies (with the attacker's certificate)...
    let v = dsig::verify(xml).expect("the re-signed signature verifies cryptographically");
    assert_eq!(v.signer.to_der().unwrap(), mallory_der());
    // ...but the certificate is not the one the endorsement names.
    let reason = assert_refused(xml);
    assert!(
        matches!(reason, SignatureRefusal::Binding(_)),
        "unexpected reason: {reason}"
    );
}

fn mallory_der() -> Vec<u8> {
    mallory().cert.to_der().unwrap()
}

// --- the baseline -----------------------------------------------------------------------------

#[test]
fn untouched_documents_are_valid() {
    for (doc, legacy) in [
        (alice_document().to_string(), false),
        (bob_document().to_string(), false),
        (
            signed_document(
                &sample_metadata(),
                alice(),
                SignOptions { legacy_sha1: true },
            ),
            true,
        ),
    ] {
        let report = check(&doc);
        assert!(report.is_signed_and_valid(), "{:?}", report.signature);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        match report.signature {
            SignatureStatus::Valid {
                legacy_sha1, email, ..
            } => {
                assert_eq!(legacy_sha1, legacy);
                assert_eq!(
                    email,
                    marketplace_trust::endorsement::EmailBinding::Certified
                );
            }
            other => panic!("{other:?}"),
        }
        let mut expected = sample_metadata();
        expected.endorsement = report.metadata.endorsement.clone();
        assert_eq!(report.metadata, expected);
    }
}

/// The forger makes signatures the verifier accepts when their shape is allowed: the
/// refusals below are therefore about the shape, not about broken cryptography.
#[test]
fn forged_signatures_of_allowed_shapes_verify() {
    let unsigned = unsigned_alice();
    let certs = [alice().cert.clone()];
    let mut shapes = vec![Shape::standard(&alice().key)];
    let mut s = Shape::standard(&alice().key);
    s.c14n = uri::C14N_COMMENTS.into();
    s.signature_method = uri::RSA_SHA1.into();
    s.digest_method = uri::SHA1.into();
    s.transforms = vec![transform(uri::ENVELOPED), transform(uri::C14N_COMMENTS)];
    shapes.push(s); // the original Java tools' shape
    let mut s = Shape::standard(&alice().key);
    s.c14n = uri::EXC_C14N.into();
    s.signature_method = uri::RSA_SHA512.into();
    s.digest_method = uri::SHA512.into();
    s.transforms = vec![transform(uri::ENVELOPED), transform(uri::EXC_C14N)];
    shapes.push(s);
    for shape in shapes {
        let doc = forge(&unsigned, &alice().key, &certs, &shape);
        let report = check(&doc);
        assert!(
            report.is_signed_and_valid(),
            "{shape:?}: {:?}",
            report.signature
        );
    }
    let mut s = Shape::standard(&bob().key);
    s.signature_method = uri::ECDSA_SHA512.into();
    let doc = forge(
        &unsigned_document(&sample_metadata(), bob()),
        &bob().key,
        &[bob().cert.clone()],
        &s,
    );
    assert!(check(&doc).is_signed_and_valid());
}

// --- a second description ---------------------------------------------------------------------

#[test]
fn second_description_in_the_signed_part_is_refused() {
    let signed = alice_document();
    // Between the description and the signature.
    let doc = replace_once(
        signed,
        "<ds:Signature ",
        &format!("{}\n<ds:Signature ", evil_description()),
    );
    assert_digest_mismatch(&doc);
    let report = check(&doc);
    assert!(
        report.problems.iter().any(|p| p.rule == Rule::Cardinality),
        "{:?}",
        report.problems
    );
    // Before the description.
    let doc = replace_once(
        signed,
        "  <rdf:Description ",
        &format!("  {}\n  <rdf:Description ", evil_description()),
    );
    assert_digest_mismatch(&doc);
    // Nested inside the description, as the object of a property.
    let doc = replace_once(
        signed,
        "  </rdf:Description>",
        &format!(
            "    <slterms:deprecated>{}</slterms:deprecated>\n  </rdf:Description>",
            evil_description()
        ),
    );
    assert_digest_mismatch(&doc);

    // The attacker re-signs the whole thing with her own key: the signature verifies,
    // but her certificate is not the endorser's, and the format refuses two descriptions.
    let unsigned = dsig::strip_signature(&doc).unwrap();
    let doc = dsig::sign(
        &unsigned,
        &mallory().key,
        &[mallory().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    assert_endorser_inconsistency(&doc);
}

#[test]
fn description_inside_the_signature_is_refused() {
    let unsigned = unsigned_alice();
    let certs = [alice().cert.clone()];
    let object = format!("<ds:Object>{}</ds:Object>", evil_description());

    // Added after signing, in a ds:Object (with and without an Id on the Signature).
    let doc = replace_once(
        alice_document(),
        "</ds:KeyInfo></ds:Signature>",
        &format!("</ds:KeyInfo>{object}</ds:Signature>"),
    );
    assert_profile_refusal(&doc, is!(ForeignElement { .. }));
    let doc = replace_once(&doc, "<ds:Signature ", "<ds:Signature Id=\"sig\" ");
    assert_profile_refusal(&doc, is!(ForeignElement { .. }));
    // Signed by the victim herself (the object is then within a valid signature).
    let mut shape = Shape::standard(&alice().key);
    shape.objects = object.clone();
    let doc = forge(&unsigned, &alice().key, &certs, &shape);
    assert_profile_refusal(&doc, is!(ForeignElement { .. }));
    // A ds:Object of signature markup only is refused too.
    shape.objects = "<ds:Object><ds:KeyName>x</ds:KeyName></ds:Object>".into();
    let doc = forge(&unsigned, &alice().key, &certs, &shape);
    assert_profile_refusal(&doc, is!(Object { .. }));
    let doc = replace_once(&doc, "<ds:Signature ", "<ds:Signature Id=\"sig\" ");
    assert_profile_refusal(&doc, is!(Object { .. }));

    // Anywhere else inside the signature, added after signing.
    let signed = alice_document();
    let evil = evil_description();
    let places = [
        ("<ds:SignedInfo>", format!("<ds:SignedInfo>{evil}")),
        ("</ds:SignedInfo>", format!("{evil}</ds:SignedInfo>")),
        ("<ds:Transforms>", format!("<ds:Transforms>{evil}")),
        ("</ds:DigestValue>", format!("</ds:DigestValue>{evil}")),
        (
            "</ds:SignatureValue>",
            format!("{evil}</ds:SignatureValue>"),
        ),
        ("<ds:KeyInfo>", format!("<ds:KeyInfo>{evil}")),
        ("</ds:KeyInfo>", format!("{evil}</ds:KeyInfo>")),
        ("<ds:X509Data>", format!("<ds:X509Data>{evil}")),
        ("</ds:X509Data>", format!("{evil}</ds:X509Data>")),
        (
            "</ds:X509Data>",
            format!("<ds:X509SubjectName>{evil}</ds:X509SubjectName></ds:X509Data>"),
        ),
        (
            "</ds:X509Data>",
            format!("</ds:X509Data><ds:KeyName>{evil}</ds:KeyName>"),
        ),
    ];
    let mut accepted = Vec::new();
    for (anchor, replacement) in &places {
        let doc = replace_once(signed, anchor, replacement);
        let report = check(&doc);
        if report.is_valid() || !matches!(report.signature, SignatureStatus::Invalid { .. }) {
            accepted.push(replacement.clone());
        }
        // Whatever the verdict, the format never reads what is inside the signature.
        assert_eq!(report.metadata.os.as_deref(), Some("Ubuntu"));
    }
    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
}

// --- a second signature, or a signature elsewhere ---------------------------------------------

#[test]
fn a_second_signature_anywhere_is_refused() {
    let signed = alice_document();
    let sig = signature_of(signed);
    let variants = [
        // Two signatures at the end.
        replace_once(signed, "</rdf:RDF>", &format!("{sig}\n</rdf:RDF>")),
        // One before the description.
        replace_once(
            signed,
            "  <rdf:Description ",
            &format!("{sig}\n  <rdf:Description "),
        ),
        // One inside the description.
        replace_once(
            signed,
            "  </rdf:Description>",
            &format!("{sig}\n  </rdf:Description>"),
        ),
        // One inside a property value.
        replace_once(
            signed,
            "<slterms:os>Ubuntu</slterms:os>",
            &format!("<slterms:os>Ubuntu{sig}</slterms:os>"),
        ),
        // One inside the first signature's KeyInfo, and in an Object.
        replace_once(
            signed,
            "</ds:KeyInfo>",
            &format!("{}</ds:KeyInfo>", sig.trim_end()),
        ),
        replace_once(
            signed,
            "</ds:KeyInfo></ds:Signature>",
            &format!(
                "</ds:KeyInfo><ds:Object>{}</ds:Object></ds:Signature>",
                sig.trim_end()
            ),
        ),
    ];
    for doc in &variants {
        assert_profile_refusal(doc, is!(SignatureCount { found: 2 }));
    }
    // A second signature by the attacker (over the same content) next to the victim's.
    let mallory_sig = dsig::sign(
        &dsig::strip_signature(signed).unwrap(),
        &mallory().key,
        &[mallory().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    let doc = replace_once(
        signed,
        "</rdf:RDF>",
        &format!("{}</rdf:RDF>", signature_of(&mallory_sig)),
    );
    assert_profile_refusal(&doc, is!(SignatureCount { found: 2 }));
}

#[test]
fn a_moved_signature_is_refused() {
    let signed = alice_document();
    let sig = signature_of(signed).to_string();
    let without = signed.replacen(&sig, "", 1);
    // Inside the description: last child, first child, inside a value.
    let doc = replace_once(
        &without,
        "  </rdf:Description>",
        &format!("{sig}  </rdf:Description>"),
    );
    assert_profile_refusal(&doc, is!(SignatureNotChildOfRoot));
    let about = format!(
        "<rdf:Description rdf:about=\"#{}\">",
        sample_metadata().identifier
    );
    let doc = replace_once(&without, &about, &format!("{about}\n{sig}"));
    assert_profile_refusal(&doc, is!(SignatureNotChildOfRoot));
    // Before the description.
    let doc = replace_once(
        &without,
        "  <rdf:Description ",
        &format!("{sig}  <rdf:Description "),
    );
    assert_profile_refusal(&doc, is!(SignatureNotLast));
    // Followed by text.
    let doc = replace_once(
        signed,
        "</ds:Signature>\n",
        "</ds:Signature>\ntrailing text\n",
    );
    assert_profile_refusal(&doc, is!(TextAfterSignature));
    // Wrapped in a foreign element at the end of rdf:RDF.
    let doc = replace_once(
        &without,
        "</rdf:RDF>",
        &format!("<ex:wrapper xmlns:ex=\"http://example.org/\">{sig}</ex:wrapper>\n</rdf:RDF>"),
    );
    assert_profile_refusal(&doc, is!(SignatureNotChildOfRoot));
    // The original description moved into the signature, an evil one in its place.
    let description = &signed[element_range(signed, "rdf:Description")];
    let doc = replace_once(signed, description, &evil_description());
    let doc = replace_once(
        &doc,
        "</ds:KeyInfo></ds:Signature>",
        &format!("</ds:KeyInfo><ds:Object>{description}</ds:Object></ds:Signature>"),
    );
    assert_refused(&doc);
    assert!(matches!(verify_err(&doc), SignatureError::Profile(_)));
}

// --- content edits ----------------------------------------------------------------------------

#[test]
fn duplicated_properties_are_refused() {
    let signed = alice_document();
    for (from, to) in [
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os>Ubuntu</slterms:os>\n    <slterms:os>Windows</slterms:os>",
        ),
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os>Ubuntu</slterms:os>\n    <slterms:os>Ubuntu</slterms:os>",
        ),
        (
            "<slterms:disks-bus>virtio</slterms:disks-bus>",
            "<slterms:disks-bus>virtio</slterms:disks-bus><slterms:disks-bus>ide</slterms:disks-bus>",
        ),
        (
            "<slterms:inbound-port>22</slterms:inbound-port>",
            "<slterms:inbound-port>22</slterms:inbound-port><slterms:inbound-port>23</slterms:inbound-port>",
        ),
    ] {
        let doc = replace_once(signed, from, to);
        assert_digest_mismatch(&doc);
    }
    // The same with an attribute form of the property (RDF/XML allows both).
    let doc = replace_once(
        signed,
        "<rdf:Description rdf:about=",
        "<rdf:Description slterms:os=\"Windows\" rdf:about=",
    );
    assert_digest_mismatch(&doc);
}

#[test]
fn changed_values_are_refused() {
    let signed = alice_document();
    for (from, to) in [
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os>Ubuntu </slterms:os>",
        ),
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os xml:lang=\"en\">Ubuntu</slterms:os>",
        ),
        (
            "https://images.example.org/ubuntu-22.04.qcow2.gz",
            "https://evil.example.net/ubuntu-22.04.qcow2.gz",
        ),
        ("<slterms:inbound-port>22<", "<slterms:inbound-port>023<"),
        (
            "<slreq:email>alice@example.org<",
            "<slreq:email>ALICE@example.org<",
        ),
        (
            "xml:base=\"http://mp.stratuslab.eu/\"",
            "xml:base=\"http://mp.stratuslab.eu/x/\"",
        ),
        // Declaring an unused namespace changes the canonical form too.
        ("<rdf:RDF ", "<rdf:RDF xmlns:ex=\"http://example.org/\" "),
    ] {
        assert_digest_mismatch(&replace_once(signed, from, to));
    }
}

#[test]
fn comments_are_refused_everywhere() {
    let signed = alice_document();
    // Inside a value: canonicalization without comments would give "Ubuntu" again,
    // so only the profile stops this one.
    let doc = replace_once(
        signed,
        "<slterms:os>Ubuntu</slterms:os>",
        "<slterms:os>Ubu<!-- x -->ntu</slterms:os>",
    );
    assert_profile_refusal(&doc, is!(Comment { .. }));
    let comment = "<!-- endorsed by the security team -->";
    let places = [
        (
            "  <rdf:Description ",
            format!("  {comment}<rdf:Description "),
        ),
        ("</slterms:os>", format!("</slterms:os>{comment}")),
        (
            "<slreq:endorser rdf:parseType=\"Resource\">",
            format!("<slreq:endorser rdf:parseType=\"Resource\">{comment}"),
        ),
        ("<ds:SignedInfo>", format!("<ds:SignedInfo>{comment}")),
        ("<ds:Transforms>", format!("<ds:Transforms>{comment}")),
        (
            "</ds:SignatureValue>",
            format!("{comment}</ds:SignatureValue>"),
        ),
        ("<ds:KeyInfo>", format!("<ds:KeyInfo>{comment}")),
        ("</ds:Signature>\n", format!("</ds:Signature>\n{comment}")),
        // Outside the root element: before it and after it.
        ("?><rdf:RDF", format!("?>{comment}<rdf:RDF")),
        ("</rdf:RDF>", format!("</rdf:RDF>{comment}")),
    ];
    let mut accepted = Vec::new();
    for (anchor, replacement) in &places {
        let doc = replace_once(signed, anchor, replacement);
        let report = check(&doc);
        match &report.signature {
            SignatureStatus::Invalid { reason } if !report.is_valid() => assert!(
                matches!(
                    reason,
                    SignatureRefusal::Signature(SignatureError::Profile(
                        ProfileViolation::Comment { .. }
                    ))
                ),
                "comment at {anchor}: {reason}"
            ),
            _ => accepted.push(replacement.clone()),
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
}

#[test]
fn processing_instructions_are_refused() {
    let signed = alice_document();
    let pi = "<?xml-stylesheet href=\"http://evil.example.net/s.xsl\"?>";
    for (anchor, replacement) in [
        ("<slterms:os>Ubuntu", format!("<slterms:os>Ubu{pi}ntu")),
        ("  <rdf:Description ", format!("  {pi}<rdf:Description ")),
        ("<ds:KeyInfo>", format!("<ds:KeyInfo>{pi}")),
        ("<ds:SignedInfo>", format!("<ds:SignedInfo>{pi}")),
        ("?><rdf:RDF", format!("?>{pi}<rdf:RDF")),
        ("</rdf:RDF>", format!("</rdf:RDF>{pi}")),
    ] {
        let doc = replace_once(signed, anchor, &replacement);
        let reason = assert_refused(&doc);
        assert!(
            matches!(
                reason,
                SignatureRefusal::Signature(
                    SignatureError::Profile(ProfileViolation::ProcessingInstruction { .. })
                        | SignatureError::DigestMismatch
                )
            ),
            "PI at {anchor}: {reason}"
        );
    }
}

#[test]
fn doctype_and_entities_are_refused() {
    let signed = alice_document();
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>";
    // The canonical form of each of these is that of the signed document: only the
    // DTD refusal stops them.
    let with_entity = replace_once(
        &replace_once(
            signed,
            decl,
            &format!("{decl}<!DOCTYPE rdf:RDF [<!ENTITY os \"Ubuntu\">]>\n"),
        ),
        "<slterms:os>Ubuntu</slterms:os>",
        "<slterms:os>&os;</slterms:os>",
    );
    let variants = [
        replace_once(signed, decl, &format!("{decl}<!DOCTYPE rdf:RDF>\n")),
        with_entity,
        // A default attribute would add content that is not in the bytes.
        replace_once(
            signed,
            decl,
            &format!(
                "{decl}<!DOCTYPE rdf:RDF [<!ATTLIST rdf:Description slterms:os CDATA \"EvilOS\">]>\n"
            ),
        ),
        // An external entity.
        replace_once(
            &replace_once(
                signed,
                decl,
                &format!("{decl}<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"),
            ),
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os>Ubuntu&x;</slterms:os>",
        ),
    ];
    for doc in &variants {
        let reason = assert_refused(doc);
        assert!(reason.to_string().contains("DOCTYPE"), "{reason}");
        let error = verify_err(doc);
        assert!(matches!(error, SignatureError::Xml(_)));
        assert_eq!(reason, SignatureRefusal::Signature(error));
        let report = check(doc);
        assert!(
            report.problems.iter().any(|p| p.rule == Rule::Dtd),
            "{:?}",
            report.problems
        );
    }
}

// --- the signature's own elements -------------------------------------------------------------

/// Each shape is forged with correct cryptography: only the profile refuses it.
#[test]
fn disallowed_signature_shapes_are_refused() {
    let unsigned = unsigned_alice();
    let certs = [alice().cert.clone()];
    let base = Shape::standard(&alice().key);
    let with = |f: &dyn Fn(&mut Shape)| {
        let mut s = base.clone();
        f(&mut s);
        s
    };
    let id = sample_metadata().identifier;
    let cases = vec![
        (
            with(&|s| s.reference_uri = Some(format!("#{id}"))),
            is!(ReferenceUri),
        ),
        (
            with(&|s| s.reference_uri = Some("#foo".into())),
            is!(ReferenceUri),
        ),
        (with(&|s| s.reference_uri = None), is!(ReferenceUri)),
        (
            with(&|s| s.reference_uri = Some("http://evil.example.net/doc.xml".into())),
            is!(ReferenceUri),
        ),
        (
            with(&|s| {
                s.extra_references = format!(
                    "<ds:Reference URI=\"\"><ds:Transforms>{}</ds:Transforms>\
                     <ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>AAAA</ds:DigestValue>\
                     </ds:Reference>",
                    transform(uri::ENVELOPED),
                    uri::SHA256
                )
            }),
            is!(SignedInfoChildren),
        ),
        (
            with(&|s| s.transforms.push(transform(XPATH))),
            is!(Canonicalization { .. }),
        ),
        (
            with(&|s| {
                s.transforms.push(format!(
                    "<ds:Transform Algorithm=\"{XPATH}\"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"
                ))
            }),
            is!(TransformParameters),
        ),
        (
            with(&|s| {
                s.transforms = vec![format!(
                    "<ds:Transform Algorithm=\"{XPATH2}\"><dsig-xpath:XPath xmlns:dsig-xpath=\"{XPATH2}\" Filter=\"subtract\">//ds:Signature</dsig-xpath:XPath></ds:Transform>"
                )]
            }),
            is!(ForeignElement { .. }),
        ),
        (
            with(&|s| s.transforms.push(transform(XSLT))),
            is!(Canonicalization { .. }),
        ),
        (
            with(&|s| s.transforms.push(transform(BASE64))),
            is!(Canonicalization { .. }),
        ),
        (
            with(&|s| s.transforms = vec![transform(uri::C14N), transform(uri::ENVELOPED)]),
            is!(Transforms),
        ),
        (
            with(&|s| s.transforms = vec![transform(uri::ENVELOPED), transform(uri::ENVELOPED)]),
            is!(Canonicalization { .. }),
        ),
        (with(&|s| s.transforms = vec![]), is!(Transforms)),
        (
            with(&|s| s.transforms = vec![transform(uri::C14N)]),
            is!(Transforms),
        ),
        (
            with(&|s| s.signature_method = HMAC_SHA1.into()),
            is!(SignatureMethod { .. }),
        ),
        (
            with(&|s| s.signature_method = RSA_MD5.into()),
            is!(SignatureMethod { .. }),
        ),
        (
            with(&|s| s.signature_method = RSA_SHA224.into()),
            is!(SignatureMethod { .. }),
        ),
        (with(&|s| s.digest_method = MD5.into()), is!(Digest { .. })),
        (
            with(&|s| s.digest_method = "http://www.w3.org/2001/04/xmldsig-more#sha384".into()),
            is!(Digest { .. }),
        ),
        (
            with(&|s| s.c14n = C14N11.into()),
            is!(Canonicalization { .. }),
        ),
        (
            with(&|s| s.c14n = "http://www.w3.org/2000/09/xmldsig#base64".into()),
            is!(Canonicalization { .. }),
        ),
        (
            with(&|s| s.transforms = vec![transform(uri::ENVELOPED), transform(C14N11)]),
            is!(Canonicalization { .. }),
        ),
    ];
    for (shape, expected) in &cases {
        let doc = forge(&unsigned, &alice().key, &certs, shape);
        assert_profile_refusal(&doc, expected);
    }
    // ECDSA with SHA-1 is not on the list either.
    let mut s = Shape::standard(&bob().key);
    s.signature_method = ECDSA_SHA1.into();
    let doc = forge(
        &unsigned_document(&sample_metadata(), bob()),
        &bob().key,
        &[bob().cert.clone()],
        &s,
    );
    assert_profile_refusal(&doc, is!(SignatureMethod { .. }));
    // The key type must match the method: an RSA key under an ECDSA method.
    let mut s = Shape::standard(&alice().key);
    s.signature_method = uri::ECDSA_SHA256.into();
    let doc = forge(&unsigned, &alice().key, &certs, &s);
    assert_eq!(verify_err(&doc), SignatureError::BadSignatureValue);
    assert_refused(&doc);
}

/// The same shapes edited into a signed document after signing.
#[test]
fn edited_signature_elements_are_refused() {
    let signed = alice_document();
    let profile_edits = [
        (
            "<ds:Reference URI=\"\">",
            "<ds:Reference URI=\"#foo\">",
            is!(ReferenceUri),
        ),
        (
            "<ds:Reference URI=\"\">",
            "<ds:Reference>",
            is!(ReferenceUri),
        ),
        (
            "</ds:Reference>",
            "</ds:Reference><ds:Reference URI=\"\"/>",
            is!(SignedInfoChildren),
        ),
        (
            "</ds:Transforms>",
            "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"/></ds:Transforms>",
            is!(Canonicalization { .. }),
        ),
        (uri::RSA_SHA256, HMAC_SHA1, is!(SignatureMethod { .. })),
        (uri::SHA256, MD5, is!(Digest { .. })),
        (
            "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>",
            "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"><ds:HMACOutputLength>80</ds:HMACOutputLength></ds:SignatureMethod>",
            is!(SignatureMethodNotEmpty),
        ),
        // KeyName is never used to pick a key, but it is not signed either: refused,
        // or anyone could change the stored bytes (see front_running.rs).
        (
            "<ds:KeyInfo><ds:X509Data>",
            "<ds:KeyInfo><ds:KeyName>alice</ds:KeyName><ds:X509Data>",
            is!(KeyInfoChild { element, .. } if element == "ds:KeyName"),
        ),
    ];
    for (from, to, expected) in profile_edits {
        let doc = replace_once(signed, from, to);
        assert_profile_refusal(&doc, expected);
    }
    // The digest or the value changed.
    let dv = element_range(signed, "ds:DigestValue");
    let doc = format!(
        "{}<ds:DigestValue>{}</ds:DigestValue>{}",
        &signed[..dv.start],
        "A".repeat(43) + "=",
        &signed[dv.end..]
    );
    assert_digest_mismatch(&doc);
    let sv = element_range(signed, "ds:SignatureValue");
    let doc = format!(
        "{}<ds:SignatureValue>{}</ds:SignatureValue>{}",
        &signed[..sv.start],
        "A".repeat(342) + "==",
        &signed[sv.end..]
    );
    assert_eq!(verify_err(&doc), SignatureError::BadSignatureValue);
    assert_refused(&doc);
    let doc = format!(
        "{}<ds:SignatureValue></ds:SignatureValue>{}",
        &signed[..sv.start],
        &signed[sv.end..]
    );
    assert_refused(&doc);
    // No certificate at all.
    let ki = element_range(signed, "ds:KeyInfo");
    let doc = format!(
        "{}<ds:KeyInfo><ds:KeyName>alice</ds:KeyName></ds:KeyInfo>{}",
        &signed[..ki.start],
        &signed[ki.end..]
    );
    assert_profile_refusal(&doc, is!(NoCertificate));
}

// --- certificates and the endorser ------------------------------------------------------------

#[test]
fn replaced_certificate_is_refused() {
    let signed = alice_document();
    // Mallory's certificate instead of Alice's, signature value untouched.
    let alice_b64 = base64_of(&alice().cert);
    let doc = replace_once(signed, &alice_b64, &base64_of(&mallory().cert));
    assert_eq!(verify_err(&doc), SignatureError::BadSignatureValue);
    assert_refused(&doc);
    // Mallory's certificate next to Alice's: Alice's key still verifies, but KeyInfo
    // is not signed, so a certificate outside the signer's chain is refused (after
    // Alice's), as is the signer's certificate anywhere but first.
    for (certs, expected) in [
        (
            format!(
                "{alice_b64}</ds:X509Certificate><ds:X509Certificate>{}",
                base64_of(&mallory().cert)
            ),
            is!(NotIssuer { number: 2 }),
        ),
        (
            format!(
                "{}</ds:X509Certificate><ds:X509Certificate>{alice_b64}",
                base64_of(&mallory().cert)
            ),
            is!(SignerNotFirst { number: 2 }),
        ),
    ] {
        let doc = replace_once(signed, &alice_b64, &certs);
        assert_profile_refusal(&doc, expected);
    }

    // Mallory re-signs the unchanged SignedInfo with her key and her certificate; the
    // endorsement still names Alice.
    let doc = resign_signed_info(signed, &mallory().key, &[mallory().cert.clone()]);
    assert_endorser_inconsistency(&doc);
    // ...also with Alice's certificate kept (first or second) in KeyInfo: Alice's is
    // not in Mallory's chain.
    let doc = resign_signed_info(
        signed,
        &mallory().key,
        &[alice().cert.clone(), mallory().cert.clone()],
    );
    assert_profile_refusal(&doc, is!(SignerNotFirst { number: 2 }));
    let doc = resign_signed_info(
        signed,
        &mallory().key,
        &[mallory().cert.clone(), alice().cert.clone()],
    );
    assert_profile_refusal(&doc, is!(NotIssuer { number: 2 }));
    // Mallory changes the content and signs everything anew, leaving Alice's endorsement.
    let changed = replace_once(
        &dsig::strip_signature(signed).unwrap(),
        "<slterms:os>Ubuntu</slterms:os>",
        "<slterms:os>EvilOS</slterms:os>",
    );
    let doc = dsig::sign(
        &changed,
        &mallory().key,
        &[mallory().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    assert_endorser_inconsistency(&doc);
    let report = check(&doc);
    assert!(report.problems.is_empty(), "the format itself is fine");
    // With the e-mail changed as well, the subject still gives her away.
    let doc = dsig::sign(
        &changed.replace(ALICE_EMAIL, MALLORY_EMAIL),
        &mallory().key,
        &[mallory().cert.clone()],
        SignOptions::default(),
    )
    .unwrap();
    assert_endorser_inconsistency(&doc);
    // The EC signer's document re-signed by the attacker.
    let doc = resign_signed_info(bob_document(), &mallory().key, &[mallory().cert.clone()]);
    // (RSA key under the ECDSA method: the value does not verify at all.)
    assert_eq!(verify_err(&doc), SignatureError::BadSignatureValue);
}

fn base64_of(cert: &openssl::x509::X509) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(cert.to_der().unwrap())
}

/// A CA directory (hashed CA certificate and an empty CRL) for the generated CA.
fn ca_directory() -> (tempfile::TempDir, CaDirectory) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::x509::extension::AuthorityKeyIdentifier;
    use openssl::x509::{CrlNumber, X509Builder, X509CrlBuilder};

    let dir = tempfile::tempdir().unwrap();
    let ca = ca();
    let hash = ca.cert.subject_name_hash();
    std::fs::write(dir.path().join(format!("{hash:08x}.0")), ca.cert_pem()).unwrap();
    let mut crl = X509CrlBuilder::new().unwrap();
    crl.set_issuer_name(ca.cert.subject_name()).unwrap();
    crl.set_last_update(&Asn1Time::from_unix(now().timestamp() - 3600).unwrap())
        .unwrap();
    crl.set_next_update(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    let dummy = X509Builder::new().unwrap();
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&dummy.x509v3_context(Some(ca.cert.as_ref()), None))
        .unwrap();
    crl.append_extension(aki).unwrap();
    crl.append_extension(
        CrlNumber::new(BigNum::from_u32(1).unwrap())
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap();
    crl.sign(&ca.key, MessageDigest::sha256()).unwrap();
    let crl = crl.build().unwrap();
    std::fs::write(
        dir.path().join(format!("{hash:08x}.r0")),
        crl.to_pem().unwrap(),
    )
    .unwrap();
    let ca_dir = CaDirectory::open(dir.path()).unwrap();
    (dir, ca_dir)
}

fn check_with_ca(xml: &str, ca_dir: &CaDirectory) -> DocumentReport {
    check_document(
        xml.as_bytes(),
        &CheckOptions {
            ca_dir: Some(ca_dir),
            at: Some(now()),
            ..CheckOptions::default()
        },
    )
}

/// A certificate that copies the victim's names (subject, issuer, e-mail) satisfies the
/// endorsement binding: names alone prove nothing. Only the chain refuses it, so it must
/// be refused whenever a CA directory is given.
#[test]
fn lookalike_certificate_is_refused_by_the_chain() {
    let (_dir, ca_dir) = ca_directory();
    // Alice's own document is trusted.
    let report = check_with_ca(alice_document(), &ca_dir);
    assert!(report.is_signed_and_valid(), "{:?}", report.chain);
    assert!(
        matches!(report.chain, ChainStatus::Trusted { .. }),
        "{:?}",
        report.chain
    );

    let lookalike = alice_lookalike();
    let changed = replace_once(
        &dsig::strip_signature(alice_document()).unwrap(),
        "<slterms:os>Ubuntu</slterms:os>",
        "<slterms:os>EvilOS</slterms:os>",
    );
    let doc = dsig::sign(
        &changed,
        &lookalike.key,
        std::slice::from_ref(&lookalike.cert),
        SignOptions::default(),
    )
    .unwrap();
    // Without a CA directory nothing can tell them apart (documented limit).
    let report = check(&doc);
    assert!(
        matches!(report.signature, SignatureStatus::Valid { .. }),
        "{:?}",
        report.signature
    );
    // With one, the chain does.
    let report = check_with_ca(&doc, &ca_dir);
    assert!(!report.is_valid());
    assert!(
        matches!(report.chain, ChainStatus::Untrusted { .. }),
        "{:?}",
        report.chain
    );
    // With the real CA certificate carried along in KeyInfo: it did not issue the
    // lookalike, so the profile refuses it before any chain is built (and sign will
    // not write it).
    let certs = [lookalike.cert.clone(), ca().cert.clone()];
    assert!(dsig::sign(&changed, &lookalike.key, &certs, SignOptions::default()).is_err());
    let doc = forge(
        &changed,
        &lookalike.key,
        &certs,
        &Shape::standard(&lookalike.key),
    );
    assert_profile_refusal(&doc, is!(NotIssuer { number: 2 }));
    let report = check_with_ca(&doc, &ca_dir);
    assert!(!report.is_valid());
    // And the self-signed EC signer is not trusted by this directory either.
    let report = check_with_ca(bob_document(), &ca_dir);
    assert!(matches!(report.chain, ChainStatus::Untrusted { .. }));
}

// --- equivalent serialisations ----------------------------------------------------------------

/// Canonicalization makes some edits invisible to the signature. Those outside the
/// signed content, and CDATA sections anywhere, are refused (front_running.rs has them
/// all); the rest — how the signed content is serialised — must be invisible to the
/// format as well: what is read is exactly what was signed.
#[test]
fn edits_canonicalization_ignores_do_not_change_what_is_read() {
    let signed = alice_document();
    let original = check(signed);
    for (from, to, expected) in [
        (
            "&lt;base&gt; &amp; &quot;friends&quot;",
            "<![CDATA[<base> & \"friends\"]]>",
            is!(CData { .. }),
        ),
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os><![CDATA[Ubuntu]]></slterms:os>",
            is!(CData { .. }),
        ),
        (
            "encoding=\"UTF-8\"",
            "encoding=\"utf-8\"",
            is!(Prolog { .. }),
        ),
        (
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>",
            "",
            is!(Prolog { .. }),
        ),
    ] {
        let doc = replace_once(signed, from, to);
        assert_profile_refusal(&doc, expected);
    }
    for (from, to) in [
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os>&#85;bun&#x74;u</slterms:os>",
        ),
        (
            "<slterms:os>Ubuntu</slterms:os>",
            "<slterms:os >Ubuntu</slterms:os >",
        ),
        ("&quot;friends&quot;", "\"friends\""),
        (
            "<slterms:version>1.2</slterms:version>",
            "<slterms:version>1.2</slterms:version\n>",
        ),
        (
            "rdf:parseType=\"Resource\">\n      <slreq:algorithm>SHA-1",
            "rdf:parseType='Resource'>\n      <slreq:algorithm>SHA-1",
        ),
    ] {
        let doc = replace_once(signed, from, to);
        let report = check(&doc);
        assert!(
            report.is_signed_and_valid(),
            "{from} -> {to}: {:?} {:?}",
            report.signature,
            report.problems
        );
        assert_eq!(report.metadata, original.metadata, "{from} -> {to}");
        assert_eq!(report.problems, original.problems, "{from} -> {to}");
    }
}

// --- every byte -------------------------------------------------------------------------------

/// Replaces each byte in turn by another printable ASCII byte. A document that still
/// verifies must read exactly as the original (metadata and problems), and the only
/// bytes that may be changed that way are those canonicalization does not see (the
/// XML declaration) and those of the certificate that are not its key or names
/// (e.g. the issuer's signature on it: only the chain checks that).
fn every_byte(doc: &str, label: &str) {
    let original = check(doc);
    assert!(original.is_signed_and_valid(), "{label}");
    let cert = element_range(doc, "ds:X509Certificate");
    let cert_text =
        cert.start + "<ds:X509Certificate>".len()..cert.end - "</ds:X509Certificate>".len();
    let root_start = doc.find("<rdf:RDF").unwrap();
    let started = Instant::now();
    let mut survivors = Vec::new();
    let mut bytes = doc.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let old = bytes[i];
        bytes[i] = if old == b'x' { b'y' } else { b'x' };
        let report = check_bytes(&bytes);
        if report.is_signed_and_valid() {
            assert_eq!(
                report.metadata, original.metadata,
                "{label}: byte {i} ({:?} -> {:?}) changed what is read",
                old as char, bytes[i] as char
            );
            assert_eq!(report.problems, original.problems, "{label}: byte {i}");
            survivors.push(i);
        }
        bytes[i] = old;
    }
    for &i in &survivors {
        assert!(
            i < root_start || cert_text.contains(&i),
            "{label}: byte {i} ({:?}) outside the XML declaration and the certificate could be changed: {}",
            doc.as_bytes()[i] as char,
            &doc[i.saturating_sub(40)..(i + 40).min(doc.len())]
        );
    }
    eprintln!(
        "{label}: {} bytes, {} changes still verify (XML declaration / certificate), {:.1?}",
        doc.len(),
        survivors.len(),
        started.elapsed()
    );
}

#[test]
fn every_byte_of_an_rsa_signed_document() {
    every_byte(alice_document(), "RSA-SHA256");
}

#[test]
fn every_byte_of_an_ec_signed_document() {
    every_byte(bob_document(), "ECDSA-SHA256");
}

#[test]
fn every_byte_of_a_legacy_signed_document() {
    let doc = signed_document(
        &sample_metadata(),
        alice(),
        SignOptions { legacy_sha1: true },
    );
    every_byte(&doc, "RSA-SHA1");
}
