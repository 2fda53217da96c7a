//! Signing: the one form of `ds:Signature` the profile accepts, written
//! around a document that is not signed yet.

use super::algorithm::digest_of;
use super::digest::{reference_digest, signed_info_bytes};
use super::form;
use super::parse::parse;
use super::tree::descendants_named;
use super::{ProfileViolation, SignatureError, SigningFailure, uri, verify};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bergshamra_c14n::C14nMode;
use marketplace_format::ns::DS;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::sign::Signer;
use openssl::x509::X509;
use uppsala::{Document, NodeId};

fn der_to_raw_ecdsa(der: &[u8], key: &PKeyRef<Private>) -> Result<Vec<u8>, SignatureError> {
    let sig = EcdsaSig::from_der(der).map_err(|e| SignatureError::Signing(e.into()))?;
    let bits = key.bits() as usize;
    let len = bits.div_ceil(8);
    let pad = |n: &openssl::bn::BigNumRef| -> Result<Vec<u8>, SignatureError> {
        n.to_vec_padded(len as i32)
            .map_err(|e| SignatureError::Signing(e.into()))
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
/// there is refused). A document [`verify`](fn@super::verify) would refuse (a CDATA section, a
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
            return Err(SigningFailure::KeyType { key_type: other }.into());
        }
    };
    let doc = parse(xml)?;
    if !descendants_named(&doc, doc.root(), DS, "Signature").is_empty() {
        return Err(SigningFailure::AlreadySigned.into());
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
        .ok_or(SignatureError::Signing(SigningFailure::NoEndTag))?;
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
    let mut signer = Signer::new(md, key).map_err(|e| SignatureError::Signing(e.into()))?;
    signer
        .update(&to_sign)
        .map_err(|e| SignatureError::Signing(e.into()))?;
    let mut value = signer
        .sign_to_vec()
        .map_err(|e| SignatureError::Signing(e.into()))?;
    if key.id() == Id::EC {
        value = der_to_raw_ecdsa(&value, key)?;
    }
    let signed = assemble(&template(&digest_b64, &B64.encode(value)));
    // Never write what the profile refuses (a CDATA section or a comment in
    // the input, certificates that are not the signer's chain, ...).
    verify(&signed)
        .map_err(|e| SignatureError::Signing(SigningFailure::WouldBeRefused(Box::new(e))))?;
    Ok(signed)
}

/// The Signature and SignedInfo of a document we just assembled.
fn locate(doc: &Document<'_>) -> Result<(NodeId, NodeId), SignatureError> {
    let sig = *descendants_named(doc, doc.root(), DS, "Signature")
        .first()
        .ok_or(SignatureError::Unsigned)?;
    let si = *descendants_named(doc, sig, DS, "SignedInfo")
        .first()
        .ok_or(SignatureError::Profile(ProfileViolation::NoSignedInfo))?;
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
