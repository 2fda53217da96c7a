//! Shared fixtures of the signature tests: keys and certificates generated in-process
//! (RSA 2048 issued by a generated CA, EC P-256 self-signed, an attacker), sample
//! documents, and a "forger" that builds signatures of any shape with correct
//! cryptography, so that the strict profile is tested on its own (not merely by the
//! broken digest or signature value that a careless edit would cause).
//!
//! Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::NodeSet;
use chrono::{DateTime, TimeZone, Utc};
use marketplace_format::ns::DS;
use marketplace_format::{Algorithm, Checksum, Metadata, identifier};
use marketplace_test_pki::certs::{CertificateBuilder, Issued};
use marketplace_trust::document::{
    CheckOptions, DocumentReport, SignatureRefusal, SignatureStatus, check_document,
};
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::{X509, X509Name, X509NameBuilder};

/// Subject of the generated CA.
pub const CA_SUBJECT: &str = "CN=Marketplace Interop CA,O=Marketplace Tests,C=EU";
/// Subject of the RSA signer (issued by the CA).
pub const ALICE: &str = "CN=Alice Example,OU=Users,O=Marketplace Tests,C=EU";
/// E-mail address of the RSA signer.
pub const ALICE_EMAIL: &str = "alice@example.org";
/// Subject of the EC signer (self-signed).
pub const BOB: &str = "CN=Bob Example,OU=Users,O=Marketplace Tests,C=EU";
/// E-mail address of the EC signer.
pub const BOB_EMAIL: &str = "bob@example.org";
/// Subject of the attacker (self-signed).
pub const MALLORY: &str = "CN=Mallory,OU=Elsewhere,O=Attackers,C=EU";
/// E-mail address of the attacker.
pub const MALLORY_EMAIL: &str = "mallory@example.net";

/// What every signed document starts with (the Java tools' XML declaration), directly
/// followed by its root element.
pub const SIGNED_PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>";

/// A private key and the certificates to carry in KeyInfo (signer first).
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
}

impl Identity {
    /// The key in PKCS#8 PEM.
    pub fn key_pem(&self) -> Vec<u8> {
        self.key.private_key_to_pem_pkcs8().unwrap()
    }

    /// The certificate in PEM.
    pub fn cert_pem(&self) -> Vec<u8> {
        self.cert.to_pem().unwrap()
    }
}

/// The instant every check is evaluated at (the certificates are valid then).
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The instant written into endorsements.
pub fn endorsed_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 17, 8, 30, 0).unwrap()
}

/// `CN=..,OU=..,O=..,C=..` (RFC 2253 order) as an X509Name (C first).
fn name(rfc2253: &str) -> X509Name {
    let mut b = X509NameBuilder::new().unwrap();
    for part in rfc2253.split(',').rev() {
        let (k, v) = part.split_once('=').unwrap();
        b.append_entry_by_text(k, v).unwrap();
    }
    b.build()
}

fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A certificate for `key` named `subject`, issued by `issuer` (self-signed when `None`),
/// valid from yesterday for a year, with a CA's or an end entity's extensions.
fn certificate(
    key: &PKey<Private>,
    subject: &str,
    email: Option<&str>,
    issuer: Option<&Identity>,
    ca: bool,
) -> X509 {
    let mut b = CertificateBuilder::named(name(subject))
        .key(key.clone())
        .valid_from_yesterday_for(365);
    b = if ca { b.ca() } else { b.end_entity() };
    if let Some(email) = email {
        b = b.email(email);
    }
    match issuer {
        Some(i) => {
            b.issued_by(&Issued {
                key: i.key.clone(),
                cert: i.cert.clone(),
            })
            .cert
        }
        None => b.self_signed().cert,
    }
}

/// The generated CA (RSA 2048, self-signed).
pub fn ca() -> &'static Identity {
    static CA: OnceLock<Identity> = OnceLock::new();
    CA.get_or_init(|| {
        let key = rsa_key();
        let cert = certificate(&key, CA_SUBJECT, None, None, true);
        Identity { key, cert }
    })
}

/// Alice: RSA 2048, issued by [`ca`], rfc822Name `alice@example.org`.
pub fn alice() -> &'static Identity {
    static ALICE_ID: OnceLock<Identity> = OnceLock::new();
    ALICE_ID.get_or_init(|| {
        let key = rsa_key();
        let cert = certificate(&key, ALICE, Some(ALICE_EMAIL), Some(ca()), false);
        Identity { key, cert }
    })
}

/// Bob: EC P-256, self-signed, rfc822Name `bob@example.org`.
pub fn bob() -> &'static Identity {
    static BOB_ID: OnceLock<Identity> = OnceLock::new();
    BOB_ID.get_or_init(|| {
        let key = ec_key();
        let cert = certificate(&key, BOB, Some(BOB_EMAIL), None, false);
        Identity { key, cert }
    })
}

/// Mallory: RSA 2048, self-signed, her own name and address.
pub fn mallory() -> &'static Identity {
    static MALLORY_ID: OnceLock<Identity> = OnceLock::new();
    MALLORY_ID.get_or_init(|| {
        let key = rsa_key();
        let cert = certificate(&key, MALLORY, Some(MALLORY_EMAIL), None, false);
        Identity { key, cert }
    })
}

/// Mallory's key in a certificate that copies Alice's subject, issuer and e-mail
/// (self-issued: the name of Alice's CA, but signed by Mallory's own key).
pub fn alice_lookalike() -> &'static Identity {
    static LOOKALIKE: OnceLock<Identity> = OnceLock::new();
    LOOKALIKE.get_or_init(|| {
        let key = mallory().key.clone();
        let fake_ca = Identity {
            key: key.clone(),
            cert: certificate(&key, CA_SUBJECT, None, None, true),
        };
        let cert = certificate(&key, ALICE, Some(ALICE_EMAIL), Some(&fake_ca), false);
        Identity { key, cert }
    })
}

/// A SHA-1 digest from a seed (deterministic).
pub fn sha1_of(seed: &str) -> [u8; 20] {
    let d = hash(MessageDigest::sha1(), seed.as_bytes()).unwrap();
    d.as_ref().try_into().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A complete, format-valid description (no endorsement yet).
pub fn sample_metadata() -> Metadata {
    let sha1 = sha1_of("an image");
    let sha256 = hash(MessageDigest::sha256(), b"an image").unwrap();
    Metadata {
        identifier: identifier::from_sha1_bytes(&sha1),
        is_version_of: Some(identifier::from_sha1_bytes(&sha1_of("parent"))),
        valid: Some("2034-01-01T00:00:00Z".into()),
        title: Some("Ubuntu 22.04 <base> & \"friends\" 'quoted'".into()),
        description: Some("A base image.\nSecond line, ünïcödé, 中文, tab\there.".into()),
        kind_type: Some("machine".into()),
        creator: Some("Alice Example".into()),
        created: Some("2024-05-01T12:00:00Z".into()),
        publisher: Some("Marketplace Tests".into()),
        format: Some("qcow2".into()),
        compression: Some("gz".into()),
        bytes: Some(2_147_483_648),
        checksums: vec![
            Checksum {
                algorithm: Algorithm::Sha1,
                value: hex(&sha1),
            },
            Checksum {
                algorithm: Algorithm::Sha256,
                value: hex(&sha256),
            },
        ],
        locations: vec![
            "https://images.example.org/ubuntu-22.04.qcow2.gz".into(),
            "s3://bucket/ubuntu.qcow2.gz".into(),
        ],
        serial_number: Some(7),
        version: Some("1.2".into()),
        hypervisor: Some("kvm".into()),
        inbound_ports: vec![22, 443],
        os: Some("Ubuntu".into()),
        os_version: Some("22.04".into()),
        os_arch: Some("x86_64".into()),
        disks_bus: vec!["virtio".into()],
        ..Metadata::default()
    }
}

/// `m` written, its endorsement filled from `who`'s certificate: the unsigned document.
pub fn unsigned_document(m: &Metadata, who: &Identity) -> String {
    let xml = marketplace_format::write::to_xml(m);
    let (endorsement, _) = endorsement_for(&who.cert, None, endorsed_at()).unwrap();
    marketplace_format::edit::set_endorsement(&xml, &endorsement)
        .unwrap()
        .text
}

/// `m` endorsed and signed by `who` with `options`.
pub fn signed_document(m: &Metadata, who: &Identity, options: SignOptions) -> String {
    let unsigned = unsigned_document(m, who);
    dsig::sign(
        &unsigned,
        &who.key,
        std::slice::from_ref(&who.cert),
        options,
    )
    .unwrap()
}

/// The sample document signed by Alice (RSA-SHA256).
pub fn alice_document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| signed_document(&sample_metadata(), alice(), SignOptions::default()))
}

/// The sample document signed by Bob (ECDSA-SHA256).
pub fn bob_document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| signed_document(&sample_metadata(), bob(), SignOptions::default()))
}

/// `check_document` without a CA directory at [`now`].
pub fn check(xml: &str) -> DocumentReport {
    check_bytes(xml.as_bytes())
}

/// `check_document` on raw bytes.
pub fn check_bytes(bytes: &[u8]) -> DocumentReport {
    check_document(
        bytes,
        &CheckOptions {
            at: Some(now()),
            ..CheckOptions::default()
        },
    )
}

/// The reason of an invalid signature, or a panic describing the report.
pub fn invalid_reason(report: &DocumentReport) -> SignatureRefusal {
    match &report.signature {
        SignatureStatus::Invalid { reason } => reason.clone(),
        other => panic!("expected an invalid signature, got {other:?}"),
    }
}

/// Asserts that the document is refused: not valid and its signature Invalid.
/// Returns the reason.
#[track_caller]
pub fn assert_refused(xml: &str) -> SignatureRefusal {
    let report = check(xml);
    assert!(
        !report.is_valid(),
        "document unexpectedly valid: {:?}\n{xml}",
        report.signature
    );
    invalid_reason(&report)
}

/// Replaces exactly one occurrence of `from` (which must occur once) by `to`.
#[track_caller]
pub fn replace_once(xml: &str, from: &str, to: &str) -> String {
    assert_eq!(
        xml.matches(from).count(),
        1,
        "'{from}' must occur exactly once in the document"
    );
    xml.replacen(from, to, 1)
}

/// The byte range of the first element `<tag ...>...</tag>` (or `<tag/>`) in `xml`.
pub fn element_range(xml: &str, tag: &str) -> std::ops::Range<usize> {
    let open = format!("<{tag}");
    let start = xml
        .match_indices(&open)
        .find(|(i, _)| {
            let next = xml.as_bytes()[i + open.len()];
            next == b'>' || next == b' ' || next == b'/' || next.is_ascii_whitespace()
        })
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no <{tag}> in the document"));
    let close = format!("</{tag}>");
    let end = match xml[start..].find(&close) {
        Some(i) => start + i + close.len(),
        None => start + xml[start..].find("/>").unwrap() + 2,
    };
    start..end
}

// --- forging signatures with correct cryptography ---------------------------------------------

/// The shape of a forged signature.
#[derive(Clone, Debug)]
pub struct Shape {
    pub c14n: String,
    pub signature_method: String,
    pub digest_method: String,
    /// `Some(uri)` for `URI="uri"`, `None` for no URI attribute.
    pub reference_uri: Option<String>,
    /// Transform elements, written as given (so they may carry parameters).
    pub transforms: Vec<String>,
    /// Extra `ds:Reference` elements after the first (written as given).
    pub extra_references: String,
    /// Extra children of ds:Signature after KeyInfo (e.g. a ds:Object).
    pub objects: String,
    /// Extra content at the end of KeyInfo.
    pub key_info_extra: String,
}

impl Shape {
    /// What `dsig::sign` writes for `key` (RSA-SHA256 or ECDSA-SHA256).
    pub fn standard(key: &PKey<Private>) -> Self {
        let signature_method = if key.id() == Id::EC {
            dsig::uri::ECDSA_SHA256
        } else {
            dsig::uri::RSA_SHA256
        };
        Shape {
            c14n: dsig::uri::C14N.into(),
            signature_method: signature_method.into(),
            digest_method: dsig::uri::SHA256.into(),
            reference_uri: Some(String::new()),
            transforms: vec![transform(dsig::uri::ENVELOPED)],
            extra_references: String::new(),
            objects: String::new(),
            key_info_extra: String::new(),
        }
    }
}

/// `<ds:Transform Algorithm="uri"/>`.
pub fn transform(uri: &str) -> String {
    format!("<ds:Transform Algorithm=\"{uri}\"/>")
}

fn digest_for(uri: &str) -> MessageDigest {
    match uri {
        dsig::uri::SHA1 => MessageDigest::sha1(),
        dsig::uri::SHA512 => MessageDigest::sha512(),
        "http://www.w3.org/2001/04/xmldsig-more#md5" => MessageDigest::md5(),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => MessageDigest::sha384(),
        _ => MessageDigest::sha256(),
    }
}

fn signature_digest_for(uri: &str) -> MessageDigest {
    match uri {
        dsig::uri::RSA_SHA1 | "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => {
            MessageDigest::sha1()
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-md5" => MessageDigest::md5(),
        dsig::uri::RSA_SHA512 | dsig::uri::ECDSA_SHA512 => MessageDigest::sha512(),
        dsig::uri::ECDSA_SHA384 => MessageDigest::sha384(),
        _ => MessageDigest::sha256(),
    }
}

fn signature_xml(shape: &Shape, certs: &[X509], digest: &str, value: &str) -> String {
    let uri = match &shape.reference_uri {
        Some(u) => format!(" URI=\"{u}\""),
        None => String::new(),
    };
    let certs: String = certs
        .iter()
        .map(|c| {
            format!(
                "<ds:X509Certificate>{}</ds:X509Certificate>",
                B64.encode(c.to_der().unwrap())
            )
        })
        .collect();
    format!(
        "<ds:Signature xmlns:ds=\"{DS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\
         <ds:SignatureMethod Algorithm=\"{sm}\"/>\
         <ds:Reference{uri}><ds:Transforms>{transforms}</ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{dm}\"/>\
         <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>{extra}</ds:SignedInfo>\
         <ds:SignatureValue>{value}</ds:SignatureValue>\
         <ds:KeyInfo><ds:X509Data>{certs}</ds:X509Data>{kie}</ds:KeyInfo>{objects}</ds:Signature>\n",
        c14n = shape.c14n,
        sm = shape.signature_method,
        dm = shape.digest_method,
        transforms = shape.transforms.concat(),
        extra = shape.extra_references,
        kie = shape.key_info_extra,
        objects = shape.objects,
    )
}

fn c14n_mode(uri: &str) -> C14nMode {
    C14nMode::from_uri(uri).unwrap_or(C14nMode::Inclusive)
}

fn find_element(doc: &uppsala::Document<'_>, ns: &str, local: &str) -> uppsala::NodeId {
    let mut stack = vec![doc.root()];
    while let Some(id) = stack.pop() {
        if doc.element(id).is_some_and(|e| {
            e.name.namespace_uri.as_deref() == Some(ns) && e.name.local_name == local
        }) {
            return id;
        }
        stack.extend(doc.children(id).into_iter().rev());
    }
    panic!("no {local} element");
}

/// The canonical bytes of the whole document without comments and without the
/// (first) ds:Signature: what an enveloped `URI=""` reference covers.
pub fn enveloped_bytes(xml: &str, mode: C14nMode) -> Vec<u8> {
    let doc = uppsala::parse(xml).unwrap();
    let sig = find_element(&doc, DS, "Signature");
    let mut set = NodeSet::all_without_comments(&doc);
    let mut stack = vec![sig];
    while let Some(id) = stack.pop() {
        set.remove_id(id);
        stack.extend(doc.children(id));
    }
    bergshamra_c14n::canonicalize_doc(&doc, mode, Some(&set), &[] as &[&str]).unwrap()
}

/// The canonical bytes of the ds:SignedInfo subtree of `xml`.
pub fn signed_info_bytes(xml: &str, mode: C14nMode) -> Vec<u8> {
    let doc = uppsala::parse(xml).unwrap();
    let si = find_element(&doc, DS, "SignedInfo");
    let set = if mode.with_comments() {
        NodeSet::tree_with_comments(si, &doc)
    } else {
        NodeSet::tree_without_comments(si, &doc)
    };
    bergshamra_c14n::canonicalize_doc(&doc, mode, Some(&set), &[] as &[&str]).unwrap()
}

/// Signs `data` with `key` as XML-DSig wants it (ECDSA as `r ‖ s`).
pub fn raw_signature(key: &PKey<Private>, md: MessageDigest, data: &[u8]) -> Vec<u8> {
    let mut signer = Signer::new(md, key).unwrap();
    signer.update(data).unwrap();
    let der = signer.sign_to_vec().unwrap();
    if key.id() != Id::EC {
        return der;
    }
    let sig = EcdsaSig::from_der(&der).unwrap();
    let len = (key.bits() as i32 + 7) / 8;
    let mut out = sig.r().to_vec_padded(len).unwrap();
    out.extend(sig.s().to_vec_padded(len).unwrap());
    out
}

/// Signs `unsigned` (inserting the Signature as the last child of rdf:RDF) with a
/// signature of `shape`, computing the digest over what an enveloped `URI=""`
/// reference covers (with the shape's digest algorithm, ignoring any other
/// transform) and a correct signature value over the SignedInfo: a document a
/// lax verifier would accept.
pub fn forge(unsigned: &str, key: &PKey<Private>, certs: &[X509], shape: &Shape) -> String {
    // Around the root element, what `dsig::sign` writes (the only form the profile
    // accepts there), so that refusals are about the shape.
    let root = unsigned.find("<rdf:RDF").unwrap();
    let unsigned = format!("{SIGNED_PROLOG}{}", unsigned[root..].trim_end());
    let at = unsigned.rfind("</rdf:RDF>").unwrap();
    let assemble = |sig: &str| format!("{}{sig}{}", &unsigned[..at], &unsigned[at..]);
    let draft = assemble(&signature_xml(shape, certs, "", ""));
    let reference_mode = shape
        .transforms
        .iter()
        .skip(1)
        .find_map(|t| {
            let uri = t.split('"').nth(1)?;
            C14nMode::from_uri(uri)
        })
        .unwrap_or(C14nMode::Inclusive);
    let digest = hash(
        digest_for(&shape.digest_method),
        &enveloped_bytes(&draft, reference_mode),
    )
    .unwrap();
    let digest = B64.encode(digest);
    let with_digest = assemble(&signature_xml(shape, certs, &digest, ""));
    let si = signed_info_bytes(&with_digest, c14n_mode(&shape.c14n));
    let md = signature_digest_for(&shape.signature_method);
    let value = if shape.signature_method.contains("hmac") {
        let hmac_key = PKey::hmac(b"shared secret").unwrap();
        let mut s = Signer::new(md, &hmac_key).unwrap();
        s.update(&si).unwrap();
        s.sign_to_vec().unwrap()
    } else {
        raw_signature(key, md, &si)
    };
    assemble(&signature_xml(shape, certs, &digest, &B64.encode(value)))
}

/// Replaces the ds:SignatureValue of a signed document by a fresh one made with
/// `key` over its (possibly edited) SignedInfo, and the KeyInfo certificates by
/// `certs`: the attacker's "re-sign what is there with my own key".
pub fn resign_signed_info(signed: &str, key: &PKey<Private>, certs: &[X509]) -> String {
    let ki = element_range(signed, "ds:KeyInfo");
    let certs: String = certs
        .iter()
        .map(|c| {
            format!(
                "<ds:X509Certificate>{}</ds:X509Certificate>",
                B64.encode(c.to_der().unwrap())
            )
        })
        .collect();
    let with_certs = format!(
        "{}<ds:KeyInfo><ds:X509Data>{certs}</ds:X509Data></ds:KeyInfo>{}",
        &signed[..ki.start],
        &signed[ki.end..]
    );
    let si = signed_info_bytes(&with_certs, C14nMode::Inclusive);
    let sm_start = with_certs.find("<ds:SignatureMethod Algorithm=\"").unwrap()
        + "<ds:SignatureMethod Algorithm=\"".len();
    let sm = &with_certs[sm_start..sm_start + with_certs[sm_start..].find('"').unwrap()];
    let value = B64.encode(raw_signature(key, signature_digest_for(sm), &si));
    let sv = element_range(&with_certs, "ds:SignatureValue");
    format!(
        "{}<ds:SignatureValue>{value}</ds:SignatureValue>{}",
        &with_certs[..sv.start],
        &with_certs[sv.end..]
    )
}
