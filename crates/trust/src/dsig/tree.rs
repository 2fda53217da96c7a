//! Reading the parts of a signature from the uppsala tree: elements by
//! name, the element children the profile expects, and the text and base64
//! values they hold.

use super::{ProfileViolation, SignatureError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use marketplace_format::ns::DS;
use std::borrow::Cow;
use uppsala::{Document, NodeId, NodeKind};

pub(super) fn is_element(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
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

pub(super) fn descendants_named(
    doc: &Document<'_>,
    from: NodeId,
    ns: &str,
    local: &str,
) -> Vec<NodeId> {
    subtree(doc, from)
        .filter(|&id| is_element(doc, id, ns, local))
        .collect()
}

/// Element children of `id`; any non-whitespace text or other node is an error.
pub(super) fn element_children(
    doc: &Document<'_>,
    id: NodeId,
    what: &str,
) -> Result<Vec<NodeId>, SignatureError> {
    let mut out = Vec::new();
    for c in doc.children_iter(id) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) => out.push(c),
            Some(NodeKind::Text(t)) if t.trim().is_empty() => {}
            _ => {
                return Err(ProfileViolation::UnexpectedContent {
                    element: what.to_string(),
                }
                .into());
            }
        }
    }
    Ok(out)
}

/// Checks that `id` is `ds:<local>` and returns its element children.
pub(super) fn expect<'d>(
    doc: &Document<'d>,
    id: Option<&NodeId>,
    local: &str,
) -> Result<(NodeId, Vec<NodeId>), SignatureError> {
    match id {
        Some(&id) if is_element(doc, id, DS, local) => {
            Ok((id, element_children(doc, id, &format!("ds:{local}"))?))
        }
        _ => Err(expected(local)),
    }
}

/// The refusal of a missing or misplaced `ds:<local>`.
fn expected(local: &str) -> SignatureError {
    ProfileViolation::Expected {
        element: local.to_string(),
    }
    .into()
}

/// Checks that `id` is `ds:<local>` holding only text (no elements).
pub(super) fn expect_leaf(
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
                Err(ProfileViolation::NotText {
                    element: local.to_string(),
                }
                .into())
            }
        }
        _ => Err(expected(local)),
    }
}

pub(super) fn algorithm(doc: &Document<'_>, id: NodeId) -> Result<String, SignatureError> {
    doc.get_attribute(id, "Algorithm")
        .map(str::to_string)
        .ok_or(SignatureError::Profile(ProfileViolation::MissingAlgorithm))
}

/// The text inside `id` (all of its text, as `text_content_deep`), borrowed
/// from the document when it is one text node.
pub(super) fn text_of<'a>(doc: &'a Document<'_>, id: NodeId) -> Cow<'a, str> {
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
pub(super) fn b64(text: &str) -> Result<Vec<u8>, SignatureError> {
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
    decoded.map_err(|e| ProfileViolation::Base64(e).into())
}
