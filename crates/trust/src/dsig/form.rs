//! What a signed document may hold outside what its signature covers.
//!
//! An enveloped `URI=""` reference covers the canonical form of the document
//! without its `ds:Signature` and without comments; the signature value covers
//! the canonical form of `ds:SignedInfo`. Everything else can change without
//! breaking the signature: the bytes before and after the root element, the
//! rest of `ds:Signature` (SignatureValue, KeyInfo, attributes, whitespace),
//! and whatever canonicalization erases (comments, CDATA sections, how a tag
//! is written). The store keys entries by identifier, e-mail and date and
//! refuses different bytes at the same place, so whoever uploads such a
//! variant of someone's document first would keep the genuine one out
//! (front-running), and unsigned text would be stored and served as signed.
//!
//! The strict profile therefore allows in those places only what the signers
//! write, byte for byte. Around the root element both write the same: the
//! Java tools' XML declaration directly followed by the root, and nothing
//! after it ([`PROLOG`], [`EPILOG`]). In `ds:Signature` they differ:
//! `marketplace sign` prefixes the elements `ds:` and writes base64 on one
//! line, the original Java tools (the JDK's XML-DSig) use no prefix and break
//! base64 into lines of 76 characters separated by a line feed (by `&#13;`
//! and a line feed since JDK 9); see [`Signer`]. Serialisation differences inside
//! the signed content (character references, quoting, line ends) remain
//! possible: the signature covers them only as canonical XML.

use super::{OutsideRoot, Position, ProfileViolation, SignatureError, SigningFailure, subtree};
use marketplace_format::ns::DS;
use openssl::x509::{X509, X509Ref};
use uppsala::{Document, Element, NodeId, NodeKind};

/// What every signed document starts with: the XML declaration the JDK's
/// Transformer writes (and the original server stored), directly followed
/// by the root element. `marketplace sign` writes it too, so that each
/// signed document has one form outside its root, whoever signed it.
pub(crate) const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>";

/// What every signed document ends with after its root element: nothing.
pub(crate) const EPILOG: &str = "";

/// Which signer wrote a signature, told by how it names its elements; it
/// decides how base64 is broken into lines, so that a signed document has one
/// form only (one per JDK line break for the Java tools), and no variant of
/// it can be uploaded before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    /// `marketplace sign`: `ds:` elements, base64 on one line.
    Marketplace,
    /// The original Java tools (JDK XML-DSig): unprefixed elements, base64 in
    /// lines of 76.
    JavaTools,
}

impl Signer {
    /// The signer of the signature element `signature`.
    fn of(doc: &Document<'_>, signature: NodeId) -> Signer {
        let prefixed = doc
            .element(signature)
            .and_then(|e| e.name.prefix.as_deref())
            .is_some_and(|p| !p.is_empty());
        if prefixed {
            Signer::Marketplace
        } else {
            Signer::JavaTools
        }
    }

    /// How the signer breaks base64 into lines: not at all, or in lines of
    /// [`JAVA_LINE`] separated by a line feed (JDK 8, the corpus) or by
    /// `&#13;` and a line feed (JDK 9 and later).
    fn line_breaks(self) -> &'static [Option<&'static str>] {
        match self {
            Signer::Marketplace => &[None],
            Signer::JavaTools => &[Some("\n"), Some("&#13;\n")],
        }
    }
}

/// The width of the JDK's base64 lines.
const JAVA_LINE: usize = 76;

/// `line L, column C` of byte `offset` of `xml` (1-based; columns count
/// characters).
pub(crate) fn position(xml: &str, offset: usize) -> Position {
    let before = xml.get(..offset).unwrap_or(xml);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

/// The position of node `id` (where its markup starts).
pub(crate) fn position_of(xml: &str, doc: &Document<'_>, id: NodeId) -> Position {
    position(xml, doc.node_range(id).map_or(0, |r| r.start))
}

/// `ds:Name` (or `dsig11:Name`, `{ns}Name`) of an element, for messages.
pub(crate) fn display_name(e: &Element<'_>) -> String {
    match e.name.namespace_uri.as_deref() {
        Some(DS) => format!("ds:{}", e.name.local_name),
        Some("http://www.w3.org/2009/xmldsig11#") => format!("dsig11:{}", e.name.local_name),
        Some(ns) => format!("{{{ns}}}{}", e.name.local_name),
        None => e.name.local_name.to_string(),
    }
}

/// Refuses comments, processing instructions and CDATA sections anywhere in
/// the document (one walk): the reference leaves comments out, and
/// canonicalization reads CDATA as plain text, so any of them could be added,
/// removed or changed without breaking the signature.
pub(crate) fn check_nodes(
    xml: &str,
    doc: &Document<'_>,
    layout: super::Layout,
) -> Result<(), SignatureError> {
    for id in subtree(doc, doc.root()) {
        let at = || position_of(xml, doc, id);
        let violation = match doc.node_kind(id) {
            Some(NodeKind::Comment(_)) => ProfileViolation::Comment { at: at() },
            Some(NodeKind::ProcessingInstruction(_)) => {
                ProfileViolation::ProcessingInstruction { at: at() }
            }
            // (Accepted before the layout rules: stored documents keep them.)
            Some(NodeKind::CData(_)) if layout == super::Layout::Stored => continue,
            Some(NodeKind::CData(_)) => ProfileViolation::CData { at: at() },
            _ => continue,
        };
        return Err(violation.into());
    }
    Ok(())
}

/// Refuses a byte-order mark, an XML version other than 1.0, and anything
/// before or after the root element other than [`PROLOG`] and [`EPILOG`].
pub(crate) fn check_outside_root(
    xml: &str,
    doc: &Document<'_>,
    root: NodeId,
) -> Result<(), SignatureError> {
    if xml.starts_with('\u{feff}') {
        return Err(ProfileViolation::ByteOrderMark.into());
    }
    if let Some(declaration) = &doc.xml_declaration
        && declaration.version != "1.0"
    {
        return Err(ProfileViolation::XmlVersion {
            version: declaration.version.to_string(),
        }
        .into());
    }
    let range = doc
        .node_range(root)
        .ok_or_else(|| SignatureError::Xml("no source position for the root".into()))?;
    let before = &xml[..range.start];
    if before != PROLOG {
        let (at, wanted) = first_difference(before, &[PROLOG]);
        return Err(ProfileViolation::Prolog {
            at: position(xml, at),
            found: excerpt(&xml[at..]),
            wanted: excerpt_or_root(wanted),
        }
        .into());
    }
    let after = &xml[range.end..];
    if after != EPILOG {
        return Err(ProfileViolation::Epilog {
            at: position(xml, range.end),
            found: excerpt(after),
        }
        .into());
    }
    Ok(())
}

/// `excerpt`, but the end of a prolog is where the root element starts.
fn excerpt_or_root(text: &str) -> String {
    if text.is_empty() {
        "the root element".into()
    } else {
        excerpt(text)
    }
}

/// Checks that what surrounds the root element of `xml` is only an XML 1.0
/// declaration (or none) and whitespace, which `marketplace sign` replaces by
/// [`PROLOG`] and [`EPILOG`]. Anything else (a
/// comment, a processing instruction, XML 1.1) would be lost or refused, so
/// such a document is not signed.
pub(crate) fn check_signable_outside_root(
    xml: &str,
    doc: &Document<'_>,
    root: NodeId,
) -> Result<(), SignatureError> {
    let refuse = |part| SignatureError::Signing(SigningFailure::OutsideRoot { part });
    let range = doc
        .node_range(root)
        .ok_or_else(|| SignatureError::Xml("no source position for the root".into()))?;
    let is_space = |s: &str| {
        s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .is_empty()
    };
    let before = xml[..range.start].trim_start_matches('\u{feff}');
    let declaration_only = match before.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .is_some_and(|(_, tail)| is_space(tail)),
        None => is_space(before),
    };
    let version_ok = doc
        .xml_declaration
        .as_ref()
        .is_none_or(|d| d.version == "1.0");
    if !declaration_only || !version_ok {
        return Err(refuse(OutsideRoot::Before));
    }
    if !is_space(&xml[range.end..]) {
        return Err(refuse(OutsideRoot::After));
    }
    Ok(())
}

/// The one attribute each element of the profile may carry.
fn allowed_attribute(local: &str) -> Option<&'static str> {
    match local {
        "CanonicalizationMethod" | "SignatureMethod" | "Transform" | "DigestMethod" => {
            Some("Algorithm")
        }
        "Reference" => Some("URI"),
        _ => None,
    }
}

/// Refuses, in the signature, what signers never write there: namespace
/// declarations other than the signature's own namespace on `ds:Signature`,
/// attributes other than the profile's (`Id`, `Type`, `xml:*`, ...), and
/// text (whitespace included) between elements. Outside `ds:SignedInfo`
/// none of this is signed; inside it, it is signed, but no signer writes it.
pub(crate) fn check_signature_markup(
    xml: &str,
    doc: &Document<'_>,
    signature: NodeId,
) -> Result<(), SignatureError> {
    check_signature_namespace(xml, doc, signature)?;
    check_markup_below(xml, doc, signature, signature, false)
}

/// `ds:Signature` declares its own namespace, and nothing else, as both
/// signers write it (a declaration repeated from an ancestor, or one no
/// element uses, would change no canonical form).
fn check_signature_namespace(
    xml: &str,
    doc: &Document<'_>,
    signature: NodeId,
) -> Result<(), SignatureError> {
    let Some(e) = doc.element(signature) else {
        return Ok(());
    };
    let own = e.name.prefix.as_deref().unwrap_or("");
    let declaration = |prefix: &str| match prefix {
        "" => "xmlns".to_string(),
        p => format!("xmlns:{p}"),
    };
    match e.namespace_declarations.as_slice() {
        [(prefix, uri)] if &**prefix == own && &**uri == DS => Ok(()),
        [] => Err(ProfileViolation::SignatureNamespaceMissing {
            declaration: declaration(own),
            at: position_of(xml, doc, signature),
        }
        .into()),
        more => {
            let (prefix, _) = more
                .iter()
                .find(|(p, u)| &**p != own || &**u != DS)
                .unwrap_or(&more[1]);
            Err(ProfileViolation::SignatureNamespaceExtra {
                declaration: declaration(prefix),
                at: position_of(xml, doc, signature),
            }
            .into())
        }
    }
}

fn check_markup_below(
    xml: &str,
    doc: &Document<'_>,
    signature: NodeId,
    id: NodeId,
    signed: bool,
) -> Result<(), SignatureError> {
    let Some(e) = doc.element(id) else {
        return Ok(());
    };
    let name = display_name(e);
    let signed = signed || (e.name.local_name == "SignedInfo" && id != signature);
    if id != signature
        && let Some((prefix, _)) = e.namespace_declarations.first()
    {
        let declaration = if prefix.is_empty() {
            "xmlns".to_string()
        } else {
            format!("xmlns:{prefix}")
        };
        return Err(ProfileViolation::NamespaceDeclaration {
            declaration,
            element: name,
            at: position_of(xml, doc, id),
            signed,
        }
        .into());
    }
    let allowed = allowed_attribute(&e.name.local_name);
    if let Some(a) = e
        .attributes
        .iter()
        .find(|a| a.name.namespace_uri.is_some() || Some(&*a.name.local_name) != allowed)
    {
        let attribute = match a.name.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}:{}", a.name.local_name),
            _ => a.name.local_name.to_string(),
        };
        return Err(ProfileViolation::Attribute {
            attribute,
            element: name,
            at: position_of(xml, doc, id),
            signed,
        }
        .into());
    }
    let has_elements = doc.children_iter(id).any(|c| doc.element(c).is_some());
    for child in doc.children_iter(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Element(_)) => check_markup_below(xml, doc, signature, child, signed)?,
            Some(NodeKind::Text(_)) if has_elements => {
                return Err(ProfileViolation::TextBetweenElements {
                    element: name,
                    at: position_of(xml, doc, child),
                    signed,
                }
                .into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a `ds:Signature` whose bytes are not exactly what a signer writes
/// for the same elements, attributes and values: the catch-all for how tags
/// are written (quotes, spaces, empty elements, references) and how base64 is
/// broken into lines (see [`Signer`]).
pub(crate) fn check_signature_bytes(
    xml: &str,
    doc: &Document<'_>,
    signature: NodeId,
) -> Result<(), SignatureError> {
    let range = doc
        .node_range(signature)
        .ok_or_else(|| SignatureError::Xml("no source position for ds:Signature".into()))?;
    let written = &xml[range.clone()];
    let breaks = Signer::of(doc, signature).line_breaks();
    let expected: Vec<String> = breaks
        .iter()
        .map(|&line_break| {
            let mut out = String::with_capacity(written.len());
            signer_form(doc, signature, line_break, &mut out);
            out
        })
        .collect();
    if expected.iter().any(|e| e == written) {
        return Ok(());
    }
    let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
    let (at, wanted) = first_difference(written, &candidates);
    Err(ProfileViolation::SignatureBytes {
        at: position(xml, range.start + at),
        found: excerpt(&written[at..]),
        wanted: excerpt(wanted),
    }
    .into())
}

/// Appends the element `id` as the signers write it: no whitespace between
/// elements, attributes in double quotes, empty elements as `<x/>`, and base64
/// text on one line (`line_break` None) or in lines of 76 separated by
/// `line_break`.
fn signer_form(doc: &Document<'_>, id: NodeId, line_break: Option<&str>, out: &mut String) {
    let Some(e) = doc.element(id) else {
        return;
    };
    let name = match e.name.prefix.as_deref() {
        Some(p) if !p.is_empty() => format!("{p}:{}", e.name.local_name),
        _ => e.name.local_name.to_string(),
    };
    out.push('<');
    out.push_str(&name);
    for (prefix, uri) in &e.namespace_declarations {
        out.push_str(" xmlns");
        if !prefix.is_empty() {
            out.push(':');
            out.push_str(prefix);
        }
        push_attribute_value(out, uri);
    }
    for a in &e.attributes {
        out.push(' ');
        if let Some(p) = a.name.prefix.as_deref().filter(|p| !p.is_empty()) {
            out.push_str(p);
            out.push(':');
        }
        out.push_str(&a.name.local_name);
        push_attribute_value(out, &a.value);
    }
    if doc.children_iter(id).next().is_none() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in doc.children_iter(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Element(_)) => signer_form(doc, child, line_break, out),
            Some(NodeKind::Text(t)) => push_base64(out, t, line_break),
            _ => {}
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
}

/// `="value"`, escaped as serializers do.
fn push_attribute_value(out: &mut String, value: &str) {
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The base64 `text` (whitespace dropped) on one line, or in lines of
/// [`JAVA_LINE`] characters separated by `line_break`.
fn push_base64(out: &mut String, text: &str, line_break: Option<&str>) {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let width = if line_break.is_some() {
        JAVA_LINE
    } else {
        compact.len().max(1)
    };
    for (i, line) in compact.chunks(width).enumerate() {
        if i > 0 {
            out.push_str(line_break.unwrap_or(""));
        }
        out.extend(line);
    }
}

/// The byte offset in `written` where it first differs from the candidate
/// it follows longest, and the rest of that candidate from there.
fn first_difference<'c>(written: &str, candidates: &[&'c str]) -> (usize, &'c str) {
    candidates
        .iter()
        .map(|c| {
            let common = written
                .char_indices()
                .zip(c.chars())
                .find(|((_, a), b)| a != b)
                .map_or(written.len().min(c.len()), |((i, _), _)| i);
            (common, &c[common.min(c.len())..])
        })
        .max_by_key(|(common, _)| *common)
        .unwrap_or((0, ""))
}

/// The start of `text`, quoted, for messages (`end of document` when empty).
fn excerpt(text: &str) -> String {
    if text.is_empty() {
        return "the end".into();
    }
    let start: String = text.chars().take(24).collect();
    let more = if start.len() < text.len() { "…" } else { "" };
    format!("{start:?}{more}")
}

/// Refuses certificates in KeyInfo beyond the signer's chain: the signer's
/// certificate first, then, if any, the one that issued it, and so on
/// (`marketplace sign` with a proxy carries the proxies and the user
/// certificate; a CA certificate may follow). KeyInfo is not signed, so any
/// other certificate there could have been added by anyone.
pub(crate) fn check_certificate_path(
    certificates: &[X509],
    signer: &X509Ref,
) -> Result<(), SignatureError> {
    let der = |c: &X509Ref| c.to_der().ok();
    if let Some(at) = certificates.iter().position(|c| der(c) == der(signer))
        && at != 0
    {
        return Err(ProfileViolation::SignerNotFirst { number: at + 1 }.into());
    }
    for (i, pair) in certificates.windows(2).enumerate() {
        if !issued(&pair[1], &pair[0]) {
            return Err(ProfileViolation::NotIssuer { number: i + 2 }.into());
        }
    }
    Ok(())
}

/// Whether `issuer` issued `subject`, which is not self-issued (nothing
/// issues a root but itself, and it is not repeated).
fn issued(issuer: &X509Ref, subject: &X509Ref) -> bool {
    let same = |a: &openssl::x509::X509NameRef, b: &openssl::x509::X509NameRef| {
        a.try_cmp(b).is_ok_and(|o| o.is_eq())
    };
    !same(subject.subject_name(), subject.issuer_name())
        && same(issuer.subject_name(), subject.issuer_name())
        && issuer
            .public_key()
            .and_then(|key| subject.verify(&key))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let xml = "ab\ncdé\nf";
        assert_eq!(position(xml, 0).to_string(), "line 1, column 1");
        assert_eq!(position(xml, 3).to_string(), "line 2, column 1");
        assert_eq!(position(xml, 7).to_string(), "line 2, column 4");
        assert_eq!(position(xml, 8).to_string(), "line 3, column 1");
    }

    #[test]
    fn base64_layouts() {
        let text = "A".repeat(160);
        let mut one = String::new();
        push_base64(&mut one, &format!(" {}\n", text), None);
        assert_eq!(one, text);
        let mut java = String::new();
        push_base64(&mut java, &text, Some("&#13;\n"));
        let lines: Vec<&str> = java.split("&#13;\n").collect();
        assert_eq!(
            lines.iter().map(|l| l.len()).collect::<Vec<_>>(),
            [76, 76, 8]
        );
        let mut empty = String::new();
        push_base64(&mut empty, "", Some("\n"));
        assert_eq!(empty, "");
    }

    #[test]
    fn differences_are_found_where_they_start() {
        assert_eq!(first_difference("abcX", &["abcd", "aXcd"]), (3, "d"));
        assert_eq!(first_difference("ab", &["abc"]), (2, "c"));
        assert_eq!(first_difference("abc", &["ab"]), (2, ""));
        assert_eq!(excerpt(""), "the end");
        assert_eq!(excerpt("\n"), "\"\\n\"");
    }
}
