//! The one XML parse of the trust crate: `uppsala`, behind the format
//! crate's markup limits, with DTDs refused, and with the attribute-value
//! normalisation of XML 1.0 §3.3.3 that `uppsala` leaves out.
//!
//! Canonical XML works on the value a conforming parser reports: each literal
//! tab, line feed and carriage return of an attribute value (after line-end
//! normalisation, so a CR LF pair is one line feed) becomes a space, while
//! the same characters written as references (`&#9;`, `&#10;`, `&#13;`) stay
//! as they are; C14N then writes those as `&#x9;`, `&#xA;`, `&#xD;`.
//! `uppsala` keeps literal whitespace in attribute values unchanged (a CR LF
//! pair even as two characters), so without this step a signature over such a
//! value verified here and failed with `xmlsec1` (libxml2), and the other way
//! round.

use super::SignatureError;
use std::borrow::Cow;
use uppsala::{Document, NodeId, NodeKind};

/// Parses `xml` as the signature code reads it: markup limits first (see
/// `marketplace_format::markup`), no DTD, and every attribute value
/// normalised as XML 1.0 §3.3.3 says (see the module documentation).
pub fn parse(xml: &str) -> Result<Document<'_>, SignatureError> {
    if xml.contains("<!DOCTYPE") {
        return Err(SignatureError::Xml("a DOCTYPE is not allowed".into()));
    }
    marketplace_format::markup::check(xml).map_err(|p| SignatureError::Xml(p.to_string()))?;
    let mut doc = uppsala::Parser::new()
        .with_forbid_dtd(true)
        .parse(xml)
        .map_err(|e| SignatureError::Xml(e.to_string()))?;
    normalize_attribute_values(&mut doc)?;
    Ok(doc)
}

/// The characters attribute-value normalisation replaces (when literal).
fn has_normalized_whitespace(value: &str) -> bool {
    value.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r'))
}

/// Rewrites the attribute values that hold a tab, line feed or carriage
/// return from their source text. Only those values can differ from their
/// normalised form, and real documents have none, so the common case is one
/// scan of the values and no allocation.
fn normalize_attribute_values(doc: &mut Document<'_>) -> Result<(), SignatureError> {
    let mut pending: Vec<NodeId> = Vec::new();
    let mut stack = vec![doc.root()];
    while let Some(id) = stack.pop() {
        stack.extend(doc.children_iter(id));
        if let Some(NodeKind::Element(e)) = doc.node_kind(id) {
            let declarations = &e.namespace_declarations;
            if e.attributes
                .iter()
                .any(|a| has_normalized_whitespace(&a.value))
                || declarations
                    .iter()
                    .any(|(_, uri)| has_normalized_whitespace(uri))
            {
                pending.push(id);
            }
        }
    }
    for id in pending {
        normalize_element(doc, id)?;
    }
    Ok(())
}

/// Normalises the attributes of one element from the source of its start tag.
fn normalize_element(doc: &mut Document<'_>, id: NodeId) -> Result<(), SignatureError> {
    let source = doc
        .node_source(id)
        .ok_or_else(|| SignatureError::Xml("an element has no source text".into()))?;
    let raw = raw_attributes(source);
    let raw_value = |name: &str| {
        raw.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| SignatureError::Xml(format!("attribute {name} not found in its tag")))
    };
    let element = doc
        .element(id)
        .ok_or_else(|| SignatureError::Xml("a node to normalise is not an element".into()))?;
    // A namespace name with literal whitespace would need every element and
    // attribute name in its scope re-resolved; no URI holds whitespace, so
    // such a document is refused instead.
    for (prefix, uri) in &element.namespace_declarations {
        let name = if prefix.is_empty() {
            "xmlns".to_string()
        } else {
            format!("xmlns:{prefix}")
        };
        if has_normalized_whitespace(uri) && has_normalized_whitespace(raw_value(&name)?) {
            return Err(SignatureError::Xml(format!(
                "the namespace declaration {name} holds a literal tab, line feed or carriage return"
            )));
        }
    }
    let mut values = Vec::new();
    for (i, a) in element.attributes.iter().enumerate() {
        if has_normalized_whitespace(&a.value) {
            let name = match a.name.prefix.as_deref() {
                Some(p) if !p.is_empty() => format!("{p}:{}", a.name.local_name),
                _ => a.name.local_name.to_string(),
            };
            values.push((i, normalized(raw_value(&name)?)));
        }
    }
    let element = doc
        .element_mut(id)
        .ok_or_else(|| SignatureError::Xml("a node to normalise is not an element".into()))?;
    for (i, value) in values {
        element.attributes[i].value = Cow::Owned(value);
    }
    Ok(())
}

/// The attributes of a start tag (`source` begins with it) as written: each
/// qualified name with its value between the quotes, references unresolved.
/// The parser accepted the tag, so it is well-formed: a name, then
/// `name = "value"` pairs separated by whitespace, up to `>` or `/>`.
fn raw_attributes(source: &str) -> Vec<(&str, &str)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut out = Vec::new();
    // Past `<` and the element name.
    let mut rest = source[1..].trim_start_matches(|c: char| !is_space(c) && c != '>' && c != '/');
    loop {
        rest = rest.trim_start_matches(is_space);
        if rest.starts_with('>') || rest.starts_with('/') {
            break;
        }
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim_end_matches(is_space);
        rest = rest[eq + 1..].trim_start_matches(is_space);
        let Some(quote) = rest.chars().next().filter(|&q| q == '"' || q == '\'') else {
            break;
        };
        let Some(end) = rest[1..].find(quote) else {
            break;
        };
        out.push((name, &rest[1..1 + end]));
        rest = &rest[end + 2..];
    }
    out
}

/// The normalised value of an attribute written as `raw` (XML 1.0 §2.11 and
/// §3.3.3 for CDATA attributes, without a DTD): line ends become line feeds,
/// each literal tab, line feed or carriage return a space, and references
/// their characters.
fn normalized(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '\r' => {
                // CR LF and a lone CR are one line end, hence one space.
                rest = rest[1..].strip_prefix('\n').unwrap_or(&rest[1..]);
                out.push(' ');
                continue;
            }
            '\t' | '\n' => out.push(' '),
            '&' => {
                if let Some(end) = rest.find(';')
                    && let Some(resolved) = reference(&rest[1..end])
                {
                    out.push(resolved);
                    rest = &rest[end + 1..];
                    continue;
                }
                out.push('&');
            }
            other => out.push(other),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The character of a reference's name (`amp`, `#9`, `#x41`): the
/// predefined entities and character references, the only ones a document
/// without a DTD can use.
fn reference(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        _ => match name.strip_prefix("#x") {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => name.strip_prefix('#')?.parse().ok()?,
        },
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(xml: &str) -> Vec<String> {
        let doc = parse(xml).unwrap();
        let root = doc.document_element().unwrap();
        doc.element(root)
            .unwrap()
            .attributes
            .iter()
            .map(|a| a.value.to_string())
            .collect()
    }

    #[test]
    fn literal_whitespace_becomes_spaces() {
        let xml = "<a t=\"x\ty\" n=\"x\ny\" crlf=\"x\r\ny\" cr=\"x\ry\" two=\"\r\n\r\n\"/>";
        assert_eq!(values(xml), ["x y", "x y", "x y", "x y", "  "]);
    }

    #[test]
    fn references_stay_characters() {
        let xml = "<a e=\"x&#9;y&#10;z&#13;w&#xD;&#xa;\" m=\"&amp;&#9;\t&lt;&quot;&apos;&gt;\"/>";
        assert_eq!(values(xml), ["x\ty\nz\rw\r\n", "&\t <\"'>"]);
    }

    #[test]
    fn prefixed_attributes_and_single_quotes() {
        let xml = "<a xmlns:p=\"urn:p\" p:v='a\tb' w = \"c\nd\" xml:lang='e\r\nf'/>";
        assert_eq!(values(xml), ["a b", "c d", "e f"]);
    }

    #[test]
    fn values_without_whitespace_are_untouched() {
        let xml = "<a v=\"plain &amp; simple\"><b w=\"&#x1F600;\"/></a>";
        assert_eq!(values(xml), ["plain & simple"]);
    }

    #[test]
    fn namespace_names_with_literal_whitespace_are_refused() {
        let err = parse("<a xmlns:p=\"urn:p\tq\"/>").unwrap_err();
        assert!(err.to_string().contains("xmlns:p"), "{err}");
        // Written as a reference, the tab is part of the name.
        assert!(parse("<a xmlns:p=\"urn:p&#9;q\"/>").is_ok());
    }

    #[test]
    fn raw_attributes_of_tags() {
        assert_eq!(
            raw_attributes("<a x=\"1\" y = '2>' z=\"\"/>"),
            [("x", "1"), ("y", "2>"), ("z", "")]
        );
        assert_eq!(raw_attributes("<a>"), []);
        assert_eq!(raw_attributes("<p:a\n\tp:b=\"&amp;\">"), [("p:b", "&amp;")]);
    }
}
