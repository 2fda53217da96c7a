//! Enveloped XML Signatures under a strict profile.
//!
//! The profile is what the original Java tools produced, and nothing more:
//! one `ds:Signature`, the last child of `rdf:RDF`; one `Reference` with
//! `URI=""` whose transforms are the enveloped-signature transform optionally
//! followed by a canonicalization; allow-listed algorithms; `KeyInfo` holding
//! one `X509Data` with the signer's certificate first, then only the chain
//! that issued it. Anything else is refused before any cryptography runs (the
//! certificate chain as soon as the signing certificate is known), so
//! that what the signature covers is exactly the document the format crate
//! reads (no wrapping). What the signature does not cover (around the root
//! element, and in `ds:Signature` outside `SignedInfo`) must be byte for byte
//! what a signer writes, and CDATA sections and comments are refused
//! anywhere (see `form`): otherwise anyone could make a variant of a signed
//! document that still verifies and upload it before its signer.
//!
//! Canonicalization of the two node-sets the profile signs is [`crate::c14n`]
//! (on the `uppsala` parser), written straight into the digest; other
//! canonicalization methods the profile allows (exclusive C14N) and subsets
//! holding comments come from `bergshamra-c14n`, whose output `c14n` matches
//! byte for byte (checked on every call in debug builds). Digests and
//! public-key operations come from OpenSSL.

use crate::c14n;
use crate::form;
use crate::parse::parse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::NodeSet;
use marketplace_format::ns::{DS, RDF};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{DigestBytes, Hasher, MessageDigest, hash};
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use std::borrow::Cow;
use uppsala::{Document, NodeId, NodeKind};

/// Algorithm URIs of the profile.
pub mod uri {
    /// Inclusive C14N 1.0.
    pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    /// Inclusive C14N 1.0 with comments.
    pub const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
    /// Exclusive C14N 1.0.
    pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    /// Exclusive C14N 1.0 with comments.
    pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
    /// The enveloped-signature transform.
    pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    /// SHA-1 digest (legacy, verify only).
    pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
    /// SHA-256 digest.
    pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    /// SHA-512 digest.
    pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
    /// RSA with SHA-1 (legacy, verify only).
    pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    /// RSA with SHA-256.
    pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    /// RSA with SHA-512.
    pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
    /// ECDSA with SHA-256.
    pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    /// ECDSA with SHA-384.
    pub const ECDSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
    /// ECDSA with SHA-512.
    pub const ECDSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
}

/// Why a signature is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The document has no signature.
    #[error("the document is not signed (no ds:Signature)")]
    Unsigned,
    /// The document is not XML the profile can read.
    #[error("cannot read the document: {0}")]
    Xml(String),
    /// The signature does not follow the strict profile.
    #[error("signature profile: {0}")]
    Profile(String),
    /// The signed content changed after signing.
    #[error("the signed content was modified: the reference digest does not match")]
    DigestMismatch,
    /// No certificate in KeyInfo verifies the signature value.
    #[error("the signature value does not verify with the certificate in KeyInfo")]
    BadSignatureValue,
    /// A certificate or key could not be read or used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

fn profile(msg: impl Into<String>) -> SignatureError {
    SignatureError::Profile(msg.into())
}

/// How strictly the parts a signature does not cover are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// A new upload: outside what is signed, only what signers write,
    /// byte for byte (see `form`), so that nobody can upload a variant
    /// of someone's document before them.
    #[default]
    Signers,
    /// A document the marketplace already accepted (rebuilding the index,
    /// checking the store): the signature must verify, with no wrapping and
    /// no comments, as when it was accepted; how its unsigned parts are
    /// laid out is not asked again (entries signed before the layout rules
    /// existed stay valid: nothing accepted is ever dropped).
    Stored,
}

/// A verified signature.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The certificate whose key verified the signature.
    pub signer: X509,
    /// Every certificate of `KeyInfo/X509Data`, in document order: the
    /// signer's, then the certificates that issued it, each the issuer of the
    /// one before.
    pub certificates: Vec<X509>,
    /// The SignatureMethod URI.
    pub signature_method: String,
    /// The DigestMethod URI.
    pub digest_method: String,
}

impl VerifiedSignature {
    /// Whether the signature uses SHA-1 (legacy, accepted for old documents).
    pub fn is_legacy_sha1(&self) -> bool {
        self.signature_method == uri::RSA_SHA1 || self.digest_method == uri::SHA1
    }

    /// Whether the original Java tools (`stratus-validate-metadata`,
    /// `stratus-download-image`, the original server) can check this
    /// signature: their key selector only accepts RSA-SHA1 (and DSA-SHA1,
    /// which this profile refuses) and answers "cannot find validation key"
    /// for anything else.
    pub fn readable_by_original_tools(&self) -> bool {
        self.signature_method == uri::RSA_SHA1
    }

    /// The signature algorithm's short name (`rsa-sha256`, `ecdsa-sha256`).
    pub fn algorithm_name(&self) -> &str {
        self.signature_method
            .rsplit_once('#')
            .map_or(self.signature_method.as_str(), |(_, name)| name)
    }
}

/// Whether the document contains a `ds:Signature` element anywhere.
pub fn is_signed(xml: &str) -> bool {
    parse(xml)
        .map(|doc| !descendants_named(&doc, doc.root(), DS, "Signature").is_empty())
        .unwrap_or(false)
}

fn is_element(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
    doc.element(id)
        .is_some_and(|e| e.name.namespace_uri.as_deref() == Some(ns) && e.name.local_name == local)
}

/// Every node of the subtree at `from` (itself included), depth first. Walks
/// with `children_iter`, which allocates nothing per node (verification is a
/// hot path: `children` would build a vector at every node).
pub(crate) fn subtree<'d>(
    doc: &'d Document<'_>,
    from: NodeId,
) -> impl Iterator<Item = NodeId> + 'd {
    let mut stack = vec![from];
    std::iter::from_fn(move || {
        let id = stack.pop()?;
        stack.extend(doc.children_iter(id));
        Some(id)
    })
}

fn descendants_named(doc: &Document<'_>, from: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    subtree(doc, from)
        .filter(|&id| is_element(doc, id, ns, local))
        .collect()
}

/// Element children of `id`; any non-whitespace text or other node is an error.
fn element_children(
    doc: &Document<'_>,
    id: NodeId,
    what: &str,
) -> Result<Vec<NodeId>, SignatureError> {
    let mut out = Vec::new();
    for c in doc.children_iter(id) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) => out.push(c),
            Some(NodeKind::Text(t)) if t.trim().is_empty() => {}
            _ => return Err(profile(format!("unexpected content inside {what}"))),
        }
    }
    Ok(out)
}

/// Checks that `id` is `ds:<local>` and returns its element children.
fn expect<'d>(
    doc: &Document<'d>,
    id: Option<&NodeId>,
    local: &str,
) -> Result<(NodeId, Vec<NodeId>), SignatureError> {
    match id {
        Some(&id) if is_element(doc, id, DS, local) => {
            Ok((id, element_children(doc, id, &format!("ds:{local}"))?))
        }
        _ => Err(profile(format!("expected ds:{local}"))),
    }
}

/// Checks that `id` is `ds:<local>` holding only text (no elements).
fn expect_leaf(
    doc: &Document<'_>,
    id: Option<&NodeId>,
    local: &str,
) -> Result<NodeId, SignatureError> {
    match id {
        Some(&id) if is_element(doc, id, DS, local) => {
            let only_text = doc
                .children(id)
                .into_iter()
                .all(|c| matches!(doc.node_kind(c), Some(NodeKind::Text(_))));
            if only_text {
                Ok(id)
            } else {
                Err(profile(format!("ds:{local} must hold only text")))
            }
        }
        _ => Err(profile(format!("expected ds:{local}"))),
    }
}

fn algorithm(doc: &Document<'_>, id: NodeId) -> Result<String, SignatureError> {
    doc.get_attribute(id, "Algorithm")
        .map(str::to_string)
        .ok_or_else(|| profile("an Algorithm attribute is missing"))
}

fn c14n_mode(uri: &str) -> Result<C14nMode, SignatureError> {
    match uri {
        uri::C14N => Ok(C14nMode::Inclusive),
        uri::C14N_COMMENTS => Ok(C14nMode::InclusiveWithComments),
        uri::EXC_C14N => Ok(C14nMode::Exclusive),
        uri::EXC_C14N_COMMENTS => Ok(C14nMode::ExclusiveWithComments),
        other => Err(profile(format!("canonicalization {other} is not allowed"))),
    }
}

fn digest_of(uri: &str) -> Result<MessageDigest, SignatureError> {
    match uri {
        uri::SHA1 => Ok(MessageDigest::sha1()),
        uri::SHA256 => Ok(MessageDigest::sha256()),
        uri::SHA512 => Ok(MessageDigest::sha512()),
        other => Err(profile(format!("digest {other} is not allowed"))),
    }
}

/// Key type and hash of a SignatureMethod.
fn signature_method(uri: &str) -> Result<(Id, MessageDigest), SignatureError> {
    match uri {
        uri::RSA_SHA1 => Ok((Id::RSA, MessageDigest::sha1())),
        uri::RSA_SHA256 => Ok((Id::RSA, MessageDigest::sha256())),
        uri::RSA_SHA512 => Ok((Id::RSA, MessageDigest::sha512())),
        uri::ECDSA_SHA256 => Ok((Id::EC, MessageDigest::sha256())),
        uri::ECDSA_SHA384 => Ok((Id::EC, MessageDigest::sha384())),
        uri::ECDSA_SHA512 => Ok((Id::EC, MessageDigest::sha512())),
        other => Err(profile(format!("signature method {other} is not allowed"))),
    }
}

/// The text inside `id` (all of its text, as `text_content_deep`), borrowed
/// from the document when it is one text node.
fn text_of<'a>(doc: &'a Document<'_>, id: NodeId) -> Cow<'a, str> {
    let mut children = doc.children_iter(id);
    match (children.next(), children.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) => match doc.node_kind(only) {
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) => Cow::Borrowed(t),
            _ => Cow::Owned(doc.text_content_deep(id)),
        },
        _ => Cow::Owned(doc.text_content_deep(id)),
    }
}

/// Base64 of `text`, ignoring whitespace (`char::is_whitespace`).
fn b64(text: &str) -> Result<Vec<u8>, SignatureError> {
    // For ASCII text, `char::is_whitespace` is exactly these six bytes; the
    // common cases skip the per-char filter (no whitespace at all, or ASCII
    // base64 broken into lines).
    let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
    let decoded = if !text.is_ascii() {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        B64.decode(compact)
    } else if text.as_bytes().iter().any(space) {
        let compact: Vec<u8> = text.bytes().filter(|b| !space(b)).collect();
        B64.decode(compact)
    } else {
        B64.decode(text)
    };
    decoded.map_err(|e| profile(format!("invalid base64: {e}")))
}

/// The parts of a signature that passed the profile.
struct Parts {
    signature: NodeId,
    signed_info: NodeId,
    c14n: C14nMode,
    signature_method: String,
    digest_method: String,
    reference_c14n: Option<C14nMode>,
    digest_value: Vec<u8>,
    signature_value: Vec<u8>,
    certificates: Vec<X509>,
}

/// Applies the strict profile; returns the parts to verify.
fn check_profile(xml: &str, doc: &Document<'_>, layout: Layout) -> Result<Parts, SignatureError> {
    let signers = layout == Layout::Signers;
    let root = doc
        .document_element()
        .ok_or_else(|| SignatureError::Xml("no root element".into()))?;
    if !is_element(doc, root, RDF, "RDF") {
        return Err(profile("the root element must be rdf:RDF"));
    }
    let all = descendants_named(doc, doc.root(), DS, "Signature");
    match all.len() {
        0 => return Err(SignatureError::Unsigned),
        1 => {}
        n => {
            return Err(profile(format!(
                "exactly one ds:Signature is allowed, found {n}"
            )));
        }
    }
    let signature = all[0];
    let mut after_signature = false;
    for c in doc.children(root) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) if c == signature => after_signature = true,
            Some(NodeKind::Element(_)) if after_signature => {
                return Err(profile("ds:Signature must be the last child of rdf:RDF"));
            }
            Some(NodeKind::Text(t)) if after_signature && !t.trim().is_empty() => {
                return Err(profile("text after ds:Signature"));
            }
            _ => {}
        }
    }
    if !after_signature {
        return Err(profile("ds:Signature must be a child of rdf:RDF"));
    }
    // Comments are outside what an enveloped URI="" reference signs, and
    // canonicalization reads CDATA as text: neither may appear anywhere.
    form::check_nodes(xml, doc, layout)?;
    if signers {
        form::check_outside_root(xml, doc, root)?;
    }
    // KeyInfo is not signed: nothing but XML Signature markup may ride along in
    // the signature (an rdf:Description there would be unsigned content in a
    // document that verifies).
    if let Some(foreign) = foreign_element(doc, signature) {
        return Err(profile(format!(
            "only XML Signature elements are allowed inside ds:Signature, found {foreign}"
        )));
    }
    let children = element_children(doc, signature, "ds:Signature")?;
    if let Some(&object) = children.iter().find(|&&c| is_element(doc, c, DS, "Object")) {
        return Err(profile(format!(
            "ds:Object is not allowed in ds:Signature ({}): it is not signed, so anyone could \
             add one",
            form::position_of(xml, doc, object)
        )));
    }
    if signers {
        form::check_signature_markup(xml, doc, signature)?;
    }
    if children.len() != 3 {
        return Err(profile(
            "ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo",
        ));
    }
    let (signed_info, si) = expect(doc, children.first(), "SignedInfo")?;
    let sig_value = expect_leaf(doc, children.get(1), "SignatureValue")?;
    let (_, ki) = expect(doc, children.get(2), "KeyInfo")?;
    if si.len() != 3 {
        return Err(profile(
            "ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and exactly one Reference",
        ));
    }
    let (c14n_id, c14n_children) = expect(doc, si.first(), "CanonicalizationMethod")?;
    if !c14n_children.is_empty() {
        return Err(profile("CanonicalizationMethod must be empty"));
    }
    let c14n = c14n_mode(&algorithm(doc, c14n_id)?)?;
    let (sm_id, sm_children) = expect(doc, si.get(1), "SignatureMethod")?;
    if !sm_children.is_empty() {
        return Err(profile(
            "SignatureMethod must be empty (no HMACOutputLength)",
        ));
    }
    let signature_method = algorithm(doc, sm_id)?;
    self::signature_method(&signature_method)?;
    let (reference, rc) = expect(doc, si.get(2), "Reference")?;
    if doc.get_attribute(reference, "URI") != Some("") {
        return Err(profile(
            "the Reference must have URI=\"\" (the whole document)",
        ));
    }
    let (transforms, rc) = match rc.as_slice() {
        [t, d, v] => (Some(*t), vec![*d, *v]),
        [d, v] => (None, vec![*d, *v]),
        _ => {
            return Err(profile(
                "Reference must hold Transforms, DigestMethod and DigestValue",
            ));
        }
    };
    let mut reference_c14n = None;
    let Some(transforms) = transforms else {
        return Err(profile(
            "the Reference must use the enveloped-signature transform",
        ));
    };
    let (_, ts) = expect(doc, Some(&transforms), "Transforms")?;
    let mut uris = Vec::new();
    for t in &ts {
        let (tid, tc) = expect(doc, Some(t), "Transform")?;
        if !tc.is_empty() {
            return Err(profile("Transform parameters are not allowed"));
        }
        uris.push(algorithm(doc, tid)?);
    }
    match uris.as_slice() {
        [e] if e == uri::ENVELOPED => {}
        [e, c] if e == uri::ENVELOPED => reference_c14n = Some(c14n_mode(c)?),
        _ => {
            return Err(profile(
                "the transforms must be enveloped-signature, optionally followed by one canonicalization",
            ));
        }
    }
    let (dm_id, _) = expect(doc, rc.first(), "DigestMethod")?;
    let digest_method = algorithm(doc, dm_id)?;
    digest_of(&digest_method)?;
    let dv_id = expect_leaf(doc, rc.get(1), "DigestValue")?;
    let digest_value = b64(&text_of(doc, dv_id))?;
    let signature_value = b64(&text_of(doc, sig_value))?;
    let certificates = if signers {
        key_info_certificates(xml, doc, &ki)?
    } else {
        stored_key_info_certificates(doc, &ki)?
    };
    // Last, once every element is known to be the profile's: the bytes.
    if signers {
        form::check_signature_bytes(xml, doc, signature)?;
    }
    Ok(Parts {
        signature,
        signed_info,
        c14n,
        signature_method,
        digest_method,
        reference_c14n,
        digest_value,
        signature_value,
        certificates,
    })
}

/// The certificates of KeyInfo (`items`, its element children), which must be
/// one `ds:X509Data` of `ds:X509Certificate`s and nothing else: KeyInfo is
/// not signed, so a KeyName, a KeyValue or an X509SubjectName there could be
/// changed by anyone, and nothing reads them.
fn key_info_certificates(
    xml: &str,
    doc: &Document<'_>,
    items: &[NodeId],
) -> Result<Vec<X509>, SignatureError> {
    let data: Vec<NodeId> = items
        .iter()
        .copied()
        .filter(|&i| is_element(doc, i, DS, "X509Data"))
        .collect();
    let not_allowed = |id: NodeId, inside: &str, holds: &str| {
        let name = doc.element(id).map(form::display_name).unwrap_or_default();
        profile(format!(
            "{name} is not allowed in {inside} ({}): it is not signed, so anyone could change \
             it; {holds}",
            form::position_of(xml, doc, id)
        ))
    };
    if data.is_empty() {
        return Err(profile(
            "KeyInfo must carry the signer's certificate in X509Data",
        ));
    }
    if let Some(&other) = items.iter().find(|&&i| !is_element(doc, i, DS, "X509Data")) {
        return Err(not_allowed(
            other,
            "the signature's KeyInfo",
            "KeyInfo holds only the X509Data with the signer's certificates",
        ));
    }
    if let [_, second, ..] = data.as_slice() {
        return Err(profile(format!(
            "only one ds:X509Data is allowed in KeyInfo (another at {}): it is not signed, so \
             anyone could add one",
            form::position_of(xml, doc, *second)
        )));
    }
    let mut certificates = Vec::new();
    for c in element_children(doc, data[0], "ds:X509Data")? {
        if !is_element(doc, c, DS, "X509Certificate") {
            return Err(not_allowed(
                c,
                "ds:X509Data",
                "X509Data holds only the signer's certificate and the chain that issued it",
            ));
        }
        expect_leaf(doc, Some(&c), "X509Certificate")?;
        certificates.push(decode_certificate(&text_of(doc, c))?);
    }
    if certificates.is_empty() {
        return Err(profile(
            "KeyInfo must carry the signer's certificate in X509Data",
        ));
    }
    Ok(certificates)
}

/// The certificates of KeyInfo as documents accepted before the layout
/// rules carried them: every `ds:X509Certificate` of every `ds:X509Data`
/// (other KeyInfo children were never used to pick the key).
fn stored_key_info_certificates(
    doc: &Document<'_>,
    items: &[NodeId],
) -> Result<Vec<X509>, SignatureError> {
    let mut certificates = Vec::new();
    for &item in items
        .iter()
        .filter(|&&i| is_element(doc, i, DS, "X509Data"))
    {
        for c in element_children(doc, item, "ds:X509Data")? {
            if is_element(doc, c, DS, "X509Certificate") {
                expect_leaf(doc, Some(&c), "X509Certificate")?;
                certificates.push(decode_certificate(&text_of(doc, c))?);
            }
        }
    }
    if certificates.is_empty() {
        return Err(profile(
            "KeyInfo must carry the signer's certificate in X509Data",
        ));
    }
    Ok(certificates)
}

/// How many decoded certificates [`decode_certificate`] keeps.
const CERTIFICATE_CACHE_SIZE: usize = 256;

/// Larger certificates are decoded every time (real ones are 1–8 KiB), so
/// that the cache stays within a few MiB whatever documents come in.
const CERTIFICATE_CACHE_MAX_DER: usize = 16 * 1024;

/// Longer `X509Certificate` texts are decoded every time (the base64 of
/// [`CERTIFICATE_CACHE_MAX_DER`] bytes is 21.3 KiB, plus line breaks).
const CERTIFICATE_CACHE_MAX_TEXT: usize = 24 * 1024;

/// The certificate in the base64 `text` of an `X509Certificate` element:
/// `X509::from_der` of its bytes, remembering the last few certificates by
/// the exact text they came from. With OpenSSL 3.0 decoding a certificate
/// costs ~100 µs (the public key goes through `OSSL_DECODER_CTX_new_for_pkey`),
/// over half of a whole `verify`, and documents come from a few endorsers;
/// keyed by the text, a hit skips the base64 decoding too. The same text always
/// decodes to the same bytes, so a hit is what decoding it again would give:
/// the same certificate (an `X509` is immutable and reference-counted), and
/// never an error (only texts that decoded are kept). The cache holds at most
/// [`CERTIFICATE_CACHE_SIZE`] entries, of texts up to
/// [`CERTIFICATE_CACHE_MAX_TEXT`] bytes holding certificates up to
/// [`CERTIFICATE_CACHE_MAX_DER`] bytes, and is emptied when full.
fn decode_certificate(text: &str) -> Result<X509, SignatureError> {
    type Cache = std::sync::Mutex<std::collections::HashMap<Box<str>, X509>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(cert) = lock().get(text) {
        return Ok(cert.clone());
    }
    let der = b64(text)?;
    let cert = X509::from_der(&der)
        .map_err(|e| SignatureError::Certificate(format!("unreadable X509Certificate: {e}")))?;
    if der.len() > CERTIFICATE_CACHE_MAX_DER || text.len() > CERTIFICATE_CACHE_MAX_TEXT {
        return Ok(cert);
    }
    let mut map = lock();
    if map.len() >= CERTIFICATE_CACHE_SIZE {
        map.clear();
    }
    map.insert(text.into(), cert.clone());
    Ok(cert)
}

/// The XML Signature 1.1 namespace (`dsig11:ECKeyValue`, ...).
const DSIG11: &str = "http://www.w3.org/2009/xmldsig11#";

/// The name of the first element under `from` outside the XML Signature namespaces.
fn foreign_element(doc: &Document<'_>, from: NodeId) -> Option<String> {
    subtree(doc, from).find_map(|id| {
        let e = doc.element(id)?;
        let ns = e.name.namespace_uri.as_deref();
        (ns != Some(DS) && ns != Some(DSIG11))
            .then(|| format!("{{{}}}{}", ns.unwrap_or(""), e.name.local_name))
    })
}

fn canonical(doc: &Document<'_>, mode: C14nMode, set: &NodeSet) -> Result<Vec<u8>, SignatureError> {
    bergshamra_c14n::canonicalize_doc(doc, mode, Some(set), &[] as &[&str])
        .map_err(|e| SignatureError::Xml(format!("canonicalization failed: {e}")))
}

/// Whether [`crate::c14n`] serializes `mode` (inclusive C14N 1.0; with
/// comments too, since it leaves any subset holding a comment to
/// bergshamra-c14n).
fn is_inclusive(mode: C14nMode) -> bool {
    matches!(mode, C14nMode::Inclusive | C14nMode::InclusiveWithComments)
}

/// The node-set the Reference covers: the whole document without comments
/// and without the Signature element.
fn reference_set(doc: &Document<'_>, signature: NodeId) -> NodeSet {
    let mut set = NodeSet::all_without_comments(doc);
    for id in subtree(doc, signature) {
        set.remove_id(id);
    }
    set
}

/// The digest (`md`) of the canonical bytes the Reference covers, streamed
/// from [`c14n::document_without`] into the hash for inclusive C14N.
fn reference_digest(
    doc: &Document<'_>,
    signature: NodeId,
    mode: Option<C14nMode>,
    md: MessageDigest,
) -> Result<DigestBytes, SignatureError> {
    let mode = mode.unwrap_or(C14nMode::Inclusive);
    if is_inclusive(mode) {
        let mut sink = DigestSink::new(md)?;
        if c14n::document_without(doc, signature, &mut sink).is_ok() {
            if cfg!(debug_assertions) {
                let mut ours = Vec::new();
                let _ = c14n::document_without(doc, signature, &mut ours);
                let theirs = canonical(doc, mode, &reference_set(doc, signature))?;
                debug_assert!(ours == theirs, "c14n differs from bergshamra-c14n");
            }
            return sink.finish();
        }
    }
    let bytes = canonical(doc, mode, &reference_set(doc, signature))?;
    hash(md, &bytes).map_err(|e| SignatureError::Xml(e.to_string()))
}

/// The canonical bytes of SignedInfo, which the signature value signs.
fn signed_info_bytes(
    doc: &Document<'_>,
    signed_info: NodeId,
    mode: C14nMode,
) -> Result<Vec<u8>, SignatureError> {
    let set = || {
        if mode.with_comments() {
            NodeSet::tree_with_comments(signed_info, doc)
        } else {
            NodeSet::tree_without_comments(signed_info, doc)
        }
    };
    if is_inclusive(mode) {
        let mut ours = Vec::with_capacity(1024);
        if c14n::subtree(doc, signed_info, &mut ours).is_ok() {
            if cfg!(debug_assertions) {
                let theirs = canonical(doc, mode, &set())?;
                debug_assert!(ours == theirs, "c14n differs from bergshamra-c14n");
            }
            return Ok(ours);
        }
    }
    canonical(doc, mode, &set())
}

/// A [`c14n::Sink`] that hashes what it is given, in blocks.
struct DigestSink {
    hasher: Hasher,
    buffer: [u8; DigestSink::BLOCK],
    len: usize,
    failed: Option<openssl::error::ErrorStack>,
}

impl DigestSink {
    const BLOCK: usize = 4096;

    fn new(md: MessageDigest) -> Result<Self, SignatureError> {
        Ok(DigestSink {
            hasher: Hasher::new(md).map_err(|e| SignatureError::Xml(e.to_string()))?,
            buffer: [0; Self::BLOCK],
            len: 0,
            failed: None,
        })
    }

    fn update(&mut self, bytes: &[u8]) {
        if self.failed.is_none()
            && let Err(e) = self.hasher.update(bytes)
        {
            self.failed = Some(e);
        }
    }

    fn flush(&mut self) {
        let len = std::mem::take(&mut self.len);
        if len > 0
            && self.failed.is_none()
            && let Err(e) = self.hasher.update(&self.buffer[..len])
        {
            self.failed = Some(e);
        }
    }

    fn finish(mut self) -> Result<DigestBytes, SignatureError> {
        self.flush();
        match self.failed {
            Some(e) => Err(SignatureError::Xml(e.to_string())),
            None => self
                .hasher
                .finish()
                .map_err(|e| SignatureError::Xml(e.to_string())),
        }
    }
}

impl c14n::Sink for DigestSink {
    fn write(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > Self::BLOCK {
            self.flush();
            if bytes.len() > Self::BLOCK {
                self.update(bytes);
                return;
            }
        }
        self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

/// What a signature signs, as one value: SHA-256 over its SignatureValue and
/// DigestValue. Two documents that verify and have the same value are the
/// same signed content, however each writes it (character references,
/// quoting, line ends inside the content: canonicalization erases them), so
/// a store can tell a re-serialised copy of an entry from another entry.
/// Reads the profile's parts only; verifies nothing.
pub fn signed_identity(xml: &str) -> Result<[u8; 32], SignatureError> {
    let doc = parse(xml)?;
    let parts = check_profile(xml, &doc, Layout::Stored)?;
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&parts.signature_value);
    hasher.update(&parts.digest_value);
    Ok(hasher.finish())
}

/// Verifies the signature of `xml` under the strict profile, as an upload.
pub fn verify(xml: &str) -> Result<VerifiedSignature, SignatureError> {
    verify_with(xml, Layout::Signers)
}

/// Verifies the signature of `xml` under the strict profile, reading its
/// unsigned parts as `layout` says.
pub fn verify_with(xml: &str, layout: Layout) -> Result<VerifiedSignature, SignatureError> {
    let doc = parse(xml)?;
    let parts = check_profile(xml, &doc, layout)?;
    let digest = reference_digest(
        &doc,
        parts.signature,
        parts.reference_c14n,
        digest_of(&parts.digest_method)?,
    )?;
    if digest.as_ref() != parts.digest_value.as_slice() {
        return Err(SignatureError::DigestMismatch);
    }
    let signed_info = signed_info_bytes(&doc, parts.signed_info, parts.c14n)?;
    let (key_type, md) = signature_method(&parts.signature_method)?;
    let signer = parts
        .certificates
        .iter()
        .find(|cert| {
            cert.public_key().is_ok_and(|key| {
                key.id() == key_type
                    && verify_value(&key, md, key_type, &signed_info, &parts.signature_value)
            })
        })
        .cloned()
        .ok_or(SignatureError::BadSignatureValue)?;
    if layout == Layout::Signers {
        form::check_certificate_path(&parts.certificates, &signer)?;
    }
    Ok(VerifiedSignature {
        signer,
        certificates: parts.certificates,
        signature_method: parts.signature_method,
        digest_method: parts.digest_method,
    })
}

fn verify_value(
    key: &PKeyRef<Public>,
    md: MessageDigest,
    key_type: Id,
    data: &[u8],
    value: &[u8],
) -> bool {
    let der;
    let value = if key_type == Id::EC {
        match raw_to_der_ecdsa(value) {
            Some(d) => {
                der = d;
                der.as_slice()
            }
            None => return false,
        }
    } else {
        value
    };
    Verifier::new(md, key)
        .and_then(|mut v| {
            v.update(data)?;
            v.verify(value)
        })
        .unwrap_or(false)
}

/// XML-DSig carries ECDSA signatures as `r ‖ s`; OpenSSL wants DER.
fn raw_to_der_ecdsa(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let sig =
        EcdsaSig::from_private_components(BigNum::from_slice(r).ok()?, BigNum::from_slice(s).ok()?)
            .ok()?;
    sig.to_der().ok()
}

fn der_to_raw_ecdsa(der: &[u8], key: &PKeyRef<Private>) -> Result<Vec<u8>, SignatureError> {
    let sig = EcdsaSig::from_der(der).map_err(|e| SignatureError::Signing(e.to_string()))?;
    let bits = key.bits() as usize;
    let len = bits.div_ceil(8);
    let pad = |n: &openssl::bn::BigNumRef| -> Result<Vec<u8>, SignatureError> {
        n.to_vec_padded(len as i32)
            .map_err(|e| SignatureError::Signing(e.to_string()))
    };
    let mut out = pad(sig.r())?;
    out.extend(pad(sig.s())?);
    Ok(out)
}

/// Options for [`sign`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignOptions {
    /// Use the legacy RSA-SHA1 / SHA-1 profile of the original tools.
    pub legacy_sha1: bool,
}

/// Signs `xml` (which must not be signed yet) with `key`, carrying
/// `certificates` (signer first, then each one's issuer) in KeyInfo. Returns
/// the signed document, which always starts with the XML declaration of the
/// Java tools directly followed by the root element, and ends with the root
/// element's end tag, as every signed document does (an XML 1.0 declaration or
/// whitespace around the root element of `xml` is replaced; anything else
/// there is refused). A document [`verify`] would refuse (a CDATA section, a
/// comment, certificates that are not the signer's chain) is not signed.
pub fn sign(
    xml: &str,
    key: &PKeyRef<Private>,
    certificates: &[X509],
    options: SignOptions,
) -> Result<String, SignatureError> {
    let (signature_method, digest_method, md) = match (key.id(), options.legacy_sha1) {
        (Id::RSA, true) => (uri::RSA_SHA1, uri::SHA1, MessageDigest::sha1()),
        (Id::RSA, false) => (uri::RSA_SHA256, uri::SHA256, MessageDigest::sha256()),
        (Id::EC, _) => (uri::ECDSA_SHA256, uri::SHA256, MessageDigest::sha256()),
        (other, _) => {
            return Err(SignatureError::Signing(format!(
                "keys of type {other:?} cannot sign; use an RSA or EC key"
            )));
        }
    };
    let doc = parse(xml)?;
    if !descendants_named(&doc, doc.root(), DS, "Signature").is_empty() {
        return Err(SignatureError::Signing(
            "the document is already signed; remove the old signature first".into(),
        ));
    }
    let root = doc
        .document_element()
        .ok_or_else(|| SignatureError::Xml("no root element".into()))?;
    let range = doc
        .node_range(root)
        .ok_or_else(|| SignatureError::Xml("no source position for the root".into()))?;
    // Around the root element, what every signed document has there (see `form`).
    form::check_signable_outside_root(xml, &doc, root)?;
    let (prolog, epilog) = (form::PROLOG, form::EPILOG);
    let root_text = &xml[range.clone()];
    let close = root_text
        .rfind("</")
        .ok_or_else(|| SignatureError::Signing("the root element has no end tag".into()))?;
    let (before_end_tag, end_tag) = root_text.split_at(close);
    drop(doc);

    let certs_xml: String = certificates
        .iter()
        .map(|c| {
            c.to_der()
                .map(|der| {
                    format!(
                        "<ds:X509Certificate>{}</ds:X509Certificate>",
                        B64.encode(der)
                    )
                })
                .map_err(|e| SignatureError::Certificate(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let template = |digest: &str, value: &str| {
        format!(
            "<ds:Signature xmlns:ds=\"{DS}\"><ds:SignedInfo>\
             <ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\
             <ds:SignatureMethod Algorithm=\"{signature_method}\"/>\
             <ds:Reference URI=\"\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{env}\"/></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{digest_method}\"/>\
             <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>\
             <ds:SignatureValue>{value}</ds:SignatureValue>\
             <ds:KeyInfo><ds:X509Data>{certs_xml}</ds:X509Data></ds:KeyInfo></ds:Signature>\n",
            c14n = uri::C14N,
            env = uri::ENVELOPED,
        )
    };
    let assemble = |sig: &str| format!("{prolog}{before_end_tag}{sig}{end_tag}{epilog}");

    let draft = assemble(&template("", ""));
    let draft_doc = parse(&draft)?;
    let parts = locate(&draft_doc)?;
    let digest = reference_digest(&draft_doc, parts.0, None, digest_of(digest_method)?)?;
    let digest_b64 = B64.encode(digest);
    drop(draft_doc);

    let with_digest = assemble(&template(&digest_b64, ""));
    let with_digest_doc = parse(&with_digest)?;
    let (_, signed_info) = locate(&with_digest_doc)?;
    let to_sign = signed_info_bytes(&with_digest_doc, signed_info, C14nMode::Inclusive)?;
    let mut signer = Signer::new(md, key).map_err(|e| SignatureError::Signing(e.to_string()))?;
    signer
        .update(&to_sign)
        .map_err(|e| SignatureError::Signing(e.to_string()))?;
    let mut value = signer
        .sign_to_vec()
        .map_err(|e| SignatureError::Signing(e.to_string()))?;
    if key.id() == Id::EC {
        value = der_to_raw_ecdsa(&value, key)?;
    }
    let signed = assemble(&template(&digest_b64, &B64.encode(value)));
    // Never write what the profile refuses (a CDATA section or a comment in
    // the input, certificates that are not the signer's chain, ...).
    verify(&signed).map_err(|e| {
        SignatureError::Signing(format!("the signed document would be refused: {e}"))
    })?;
    Ok(signed)
}

/// The Signature and SignedInfo of a document we just assembled.
fn locate(doc: &Document<'_>) -> Result<(NodeId, NodeId), SignatureError> {
    let sig = *descendants_named(doc, doc.root(), DS, "Signature")
        .first()
        .ok_or(SignatureError::Unsigned)?;
    let si = *descendants_named(doc, sig, DS, "SignedInfo")
        .first()
        .ok_or_else(|| profile("no SignedInfo"))?;
    Ok((sig, si))
}

/// Removes the signature from a signed document (for re-signing).
pub fn strip_signature(xml: &str) -> Result<String, SignatureError> {
    let doc = parse(xml)?;
    let mut out = String::with_capacity(xml.len());
    let mut from = 0;
    let mut sigs: Vec<_> = descendants_named(&doc, doc.root(), DS, "Signature")
        .into_iter()
        .filter_map(|id| doc.node_range(id))
        .collect();
    sigs.sort_by_key(|r| r.start);
    for r in sigs {
        if r.start < from {
            continue;
        }
        out.push_str(&xml[from..r.start]);
        from = r.end;
    }
    out.push_str(&xml[from..]);
    Ok(out)
}

/// The public key of a certificate, for callers that check key types.
pub fn public_key(cert: &X509) -> Result<PKey<Public>, SignatureError> {
    cert.public_key()
        .map_err(|e| SignatureError::Certificate(e.to_string()))
}
