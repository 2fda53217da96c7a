//! The strict profile, checked on the tree before any cryptography: where
//! `ds:Signature` is, what SignedInfo, the Reference and its transforms hold,
//! which certificates KeyInfo carries, and (for a new upload) that what the
//! signature leaves unsigned is laid out exactly as signers write it.

use super::algorithm::{c14n_mode, digest_of, signature_method};
use super::cert_cache::decode_certificate;
use super::form;
use super::tree::{
    algorithm, b64, descendants_named, element_children, expect, expect_leaf, is_element, subtree,
    text_of,
};
use super::{Layout, ProfileViolation, SignatureError, uri};
use bergshamra_c14n::C14nMode;
use marketplace_format::ns::{DS, RDF};
use openssl::x509::X509;
use uppsala::{Document, NodeId, NodeKind};

/// The parts of a signature that passed the profile.
pub(super) struct Parts {
    pub(super) signature: NodeId,
    pub(super) signed_info: NodeId,
    pub(super) c14n: C14nMode,
    pub(super) signature_method: String,
    pub(super) digest_method: String,
    pub(super) reference_c14n: Option<C14nMode>,
    pub(super) digest_value: Vec<u8>,
    pub(super) signature_value: Vec<u8>,
    pub(super) certificates: Vec<X509>,
}

/// Applies the strict profile; returns the parts to verify. The checks run
/// in a fixed order, so that a document breaking several rules is always
/// refused with the same message.
pub(super) fn check_profile(
    xml: &str,
    doc: &Document<'_>,
    layout: Layout,
) -> Result<Parts, SignatureError> {
    let signers = layout == Layout::Signers;
    let (root, signature) = place_signature(doc)?;
    // Comments are outside what an enveloped URI="" reference signs, and
    // canonicalization reads CDATA as text: neither may appear anywhere.
    form::check_nodes(xml, doc, layout)?;
    if signers {
        form::check_outside_root(xml, doc, root)?;
    }
    let children = signature_children(xml, doc, signature)?;
    if signers {
        form::check_signature_markup(xml, doc, signature)?;
    }
    let parts = expect_signature_parts(doc, &children)?;
    let signed = check_signed_info(doc, &parts.signed_info_items)?;
    let digest_value = b64(&text_of(doc, signed.reference.digest_value))?;
    let signature_value = b64(&text_of(doc, parts.signature_value))?;
    let certificates = if signers {
        key_info_certificates(xml, doc, &parts.key_info_items)?
    } else {
        stored_key_info_certificates(doc, &parts.key_info_items)?
    };
    // Last, once every element is known to be the profile's: the bytes.
    if signers {
        form::check_signature_bytes(xml, doc, signature)?;
    }
    Ok(Parts {
        signature,
        signed_info: parts.signed_info,
        c14n: signed.c14n,
        signature_method: signed.signature_method,
        digest_method: signed.reference.digest_method,
        reference_c14n: signed.reference.c14n,
        digest_value,
        signature_value,
        certificates,
    })
}

/// The root element and the one `ds:Signature`, which must be the last
/// child of `rdf:RDF` with nothing but whitespace after it.
fn place_signature(doc: &Document<'_>) -> Result<(NodeId, NodeId), SignatureError> {
    let root = doc
        .document_element()
        .ok_or_else(|| SignatureError::Xml("no root element".into()))?;
    if !is_element(doc, root, RDF, "RDF") {
        return Err(ProfileViolation::RootNotRdf.into());
    }
    let all = descendants_named(doc, doc.root(), DS, "Signature");
    match all.len() {
        0 => return Err(SignatureError::Unsigned),
        1 => {}
        n => {
            return Err(ProfileViolation::SignatureCount { found: n }.into());
        }
    }
    let signature = all[0];
    let mut after_signature = false;
    for c in doc.children(root) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) if c == signature => after_signature = true,
            Some(NodeKind::Element(_)) if after_signature => {
                return Err(ProfileViolation::SignatureNotLast.into());
            }
            Some(NodeKind::Text(t)) if after_signature && !t.trim().is_empty() => {
                return Err(ProfileViolation::TextAfterSignature.into());
            }
            _ => {}
        }
    }
    if !after_signature {
        return Err(ProfileViolation::SignatureNotChildOfRoot.into());
    }
    Ok((root, signature))
}

/// The element children of `ds:Signature`, which may hold XML Signature
/// markup only, and no `ds:Object`.
fn signature_children(
    xml: &str,
    doc: &Document<'_>,
    signature: NodeId,
) -> Result<Vec<NodeId>, SignatureError> {
    // KeyInfo is not signed: nothing but XML Signature markup may ride along in
    // the signature (an rdf:Description there would be unsigned content in a
    // document that verifies).
    if let Some(foreign) = foreign_element(doc, signature) {
        return Err(ProfileViolation::ForeignElement { element: foreign }.into());
    }
    let children = element_children(doc, signature, "ds:Signature")?;
    if let Some(&object) = children.iter().find(|&&c| is_element(doc, c, DS, "Object")) {
        return Err(ProfileViolation::Object {
            at: form::position_of(xml, doc, object),
        }
        .into());
    }
    Ok(children)
}

/// The three children of `ds:Signature`.
struct SignatureParts {
    signed_info: NodeId,
    /// The element children of SignedInfo.
    signed_info_items: Vec<NodeId>,
    signature_value: NodeId,
    /// The element children of KeyInfo.
    key_info_items: Vec<NodeId>,
}

/// SignedInfo, SignatureValue and KeyInfo, in that order and nothing else.
fn expect_signature_parts(
    doc: &Document<'_>,
    children: &[NodeId],
) -> Result<SignatureParts, SignatureError> {
    if children.len() != 3 {
        return Err(ProfileViolation::SignatureChildren.into());
    }
    let (signed_info, signed_info_items) = expect(doc, children.first(), "SignedInfo")?;
    let signature_value = expect_leaf(doc, children.get(1), "SignatureValue")?;
    let (_, key_info_items) = expect(doc, children.get(2), "KeyInfo")?;
    Ok(SignatureParts {
        signed_info,
        signed_info_items,
        signature_value,
        key_info_items,
    })
}

/// What SignedInfo says: how it is canonicalized, how it is signed, and
/// its one Reference.
struct SignedInfo {
    c14n: C14nMode,
    signature_method: String,
    reference: Reference,
}

/// What the Reference says: the canonicalization after the enveloped
/// transform (if any), the digest method, and the DigestValue element.
struct Reference {
    c14n: Option<C14nMode>,
    digest_method: String,
    digest_value: NodeId,
}

/// Checks SignedInfo (`items`, its element children): CanonicalizationMethod,
/// SignatureMethod and one Reference, with allowed algorithms and no
/// parameters.
fn check_signed_info(doc: &Document<'_>, items: &[NodeId]) -> Result<SignedInfo, SignatureError> {
    if items.len() != 3 {
        return Err(ProfileViolation::SignedInfoChildren.into());
    }
    let (c14n_id, c14n_children) = expect(doc, items.first(), "CanonicalizationMethod")?;
    if !c14n_children.is_empty() {
        return Err(ProfileViolation::CanonicalizationMethodNotEmpty.into());
    }
    let c14n = c14n_mode(&algorithm(doc, c14n_id)?)?;
    let (sm_id, sm_children) = expect(doc, items.get(1), "SignatureMethod")?;
    if !sm_children.is_empty() {
        return Err(ProfileViolation::SignatureMethodNotEmpty.into());
    }
    let method = algorithm(doc, sm_id)?;
    signature_method(&method)?;
    let reference = check_reference(doc, items.get(2))?;
    Ok(SignedInfo {
        c14n,
        signature_method: method,
        reference,
    })
}

/// Checks the Reference: `URI=""`, the enveloped-signature transform
/// optionally followed by one canonicalization, an allowed DigestMethod, and
/// a DigestValue holding only text.
fn check_reference(doc: &Document<'_>, id: Option<&NodeId>) -> Result<Reference, SignatureError> {
    let (reference, rc) = expect(doc, id, "Reference")?;
    if doc.get_attribute(reference, "URI") != Some("") {
        return Err(ProfileViolation::ReferenceUri.into());
    }
    let (transforms, rc) = match rc.as_slice() {
        [t, d, v] => (Some(*t), vec![*d, *v]),
        [d, v] => (None, vec![*d, *v]),
        _ => {
            return Err(ProfileViolation::ReferenceChildren.into());
        }
    };
    let Some(transforms) = transforms else {
        return Err(ProfileViolation::NotEnveloped.into());
    };
    let c14n = check_transforms(doc, transforms)?;
    let (dm_id, _) = expect(doc, rc.first(), "DigestMethod")?;
    let digest_method = algorithm(doc, dm_id)?;
    digest_of(&digest_method)?;
    let digest_value = expect_leaf(doc, rc.get(1), "DigestValue")?;
    Ok(Reference {
        c14n,
        digest_method,
        digest_value,
    })
}

/// Checks the Transforms: enveloped-signature, optionally followed by one
/// canonicalization (returned), none with parameters.
fn check_transforms(
    doc: &Document<'_>,
    transforms: NodeId,
) -> Result<Option<C14nMode>, SignatureError> {
    let (_, ts) = expect(doc, Some(&transforms), "Transforms")?;
    let mut uris = Vec::new();
    for t in &ts {
        let (tid, tc) = expect(doc, Some(t), "Transform")?;
        if !tc.is_empty() {
            return Err(ProfileViolation::TransformParameters.into());
        }
        uris.push(algorithm(doc, tid)?);
    }
    match uris.as_slice() {
        [e] if e == uri::ENVELOPED => Ok(None),
        [e, c] if e == uri::ENVELOPED => Ok(Some(c14n_mode(c)?)),
        _ => Err(ProfileViolation::Transforms.into()),
    }
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
    let name = |id: NodeId| doc.element(id).map(form::display_name).unwrap_or_default();
    if data.is_empty() {
        return Err(ProfileViolation::NoCertificate.into());
    }
    if let Some(&other) = items.iter().find(|&&i| !is_element(doc, i, DS, "X509Data")) {
        return Err(ProfileViolation::KeyInfoChild {
            element: name(other),
            at: form::position_of(xml, doc, other),
        }
        .into());
    }
    if let [_, second, ..] = data.as_slice() {
        return Err(ProfileViolation::SecondX509Data {
            at: form::position_of(xml, doc, *second),
        }
        .into());
    }
    let mut certificates = Vec::new();
    for c in element_children(doc, data[0], "ds:X509Data")? {
        if !is_element(doc, c, DS, "X509Certificate") {
            return Err(ProfileViolation::X509DataChild {
                element: name(c),
                at: form::position_of(xml, doc, c),
            }
            .into());
        }
        expect_leaf(doc, Some(&c), "X509Certificate")?;
        certificates.push(decode_certificate(&text_of(doc, c))?);
    }
    if certificates.is_empty() {
        return Err(ProfileViolation::NoCertificate.into());
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
        return Err(ProfileViolation::NoCertificate.into());
    }
    Ok(certificates)
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
