//! Canonicalization glue: the canonical bytes of the two node-sets the
//! profile signs (from [`crate::c14n`], or bergshamra-c14n for the other
//! methods), and the digest of the Reference streamed straight from them.

use super::SignatureError;
use super::tree::subtree;
use crate::c14n;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::NodeSet;
use openssl::hash::{DigestBytes, Hasher, MessageDigest, hash};
use uppsala::{Document, NodeId};

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
pub(super) fn reference_digest(
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
pub(super) fn signed_info_bytes(
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
