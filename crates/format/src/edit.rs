//! Editing an existing document in place, keeping every other byte as it is
//! (foreign elements, layout and comments stay untouched).

use crate::model::Endorsement;
use crate::ns::{self, DCTERMS, RDF, SLREQ};
use crate::parse::parse_xml;
use crate::write::endorsement_xml;

/// The result of [`set_endorsement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The new document text.
    pub text: String,
    /// What the replaced endorsement held, when it was not empty.
    pub replaced: Option<String>,
}

/// Replaces the `slreq:endorsement` of the description with `endorsement`
/// (adding one when the document has none). Namespace declarations are added
/// on the new element when the document does not bind the usual prefixes.
pub fn set_endorsement(text: &str, endorsement: &Endorsement) -> Result<Edited, String> {
    let doc = parse_xml(text).map_err(|p| p.to_string())?;
    let description = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((RDF, "Description")))
        .ok_or("the document has no rdf:Description")?;
    let existing = description
        .children()
        .filter(|n| n.has_tag_name((SLREQ, "endorsement")))
        .collect::<Vec<_>>();
    if existing.len() > 1 {
        return Err("the document has more than one slreq:endorsement".into());
    }
    let scope = existing.first().copied().unwrap_or(description);
    let mut declarations = String::new();
    for (prefix, uri) in [("rdf", RDF), ("dcterms", DCTERMS), ("slreq", SLREQ)] {
        if scope.lookup_namespace_uri(Some(prefix)) != Some(uri) {
            declarations.push_str(&format!(" xmlns:{prefix}=\"{uri}\""));
        }
    }
    let (start, end, indent) = match existing.first() {
        Some(node) => {
            let r = node.range();
            (r.start, r.end, indentation(text, r.start))
        }
        None => {
            let r = description.range();
            let close = text[r.clone()]
                .rfind("</")
                .ok_or("rdf:Description has no content to add an endorsement to")?;
            let at = r.start + close;
            (at, at, "    ".to_string())
        }
    };
    let mut new = endorsement_xml(Some(endorsement), &indent);
    let name_end = new
        .find("<slreq:endorsement")
        .ok_or("the endorsement written has no slreq:endorsement element")?
        + "<slreq:endorsement".len();
    new.insert_str(name_end, &declarations);
    let new = new.trim_start().to_string();
    let replaced = existing.first().and_then(|node| {
        let inner: String = node
            .descendants()
            .skip(1)
            .filter(|n| n.is_element())
            .map(ns::element_qname)
            .collect::<Vec<_>>()
            .join(", ");
        (!inner.is_empty()).then_some(inner)
    });
    let mut out = String::with_capacity(text.len() + new.len());
    out.push_str(&text[..start]);
    if existing.is_empty() {
        out.push_str(&indent);
        out.push_str(&new);
        out.push('\n');
    } else {
        out.push_str(&new);
    }
    out.push_str(&text[end..]);
    Ok(Edited {
        text: out,
        replaced,
    })
}

fn indentation(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    text[line_start..at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect()
}

/// Sets the text of the simple term `{namespace}local` of the description
/// (e.g. `slterms:deprecated`, `dcterms:alternative`) to `value`, keeping
/// every other byte: an existing element keeps its name and attributes and
/// only its content changes; otherwise a new element is added before the
/// `slreq:endorsement` (or at the end of the description), indented like
/// its neighbour, with the prefix the document binds to `namespace` (or a
/// declaration of the conventional one).
///
/// Fails when the description has the term more than once, or when the
/// existing element has child elements or an `rdf:resource`.
pub fn set_term(text: &str, namespace: &str, local: &str, value: &str) -> Result<String, String> {
    let doc = parse_xml(text).map_err(|p| p.to_string())?;
    let description = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((RDF, "Description")))
        .ok_or("the document has no rdf:Description")?;
    let name = ns::qname(namespace, local);
    let existing = description
        .children()
        .filter(|n| n.has_tag_name((namespace, local)))
        .collect::<Vec<_>>();
    let escaped = crate::write::escape(value);
    match existing.as_slice() {
        [] => {
            let new = new_term_element(description, namespace, local, &escaped);
            insert_term(text, description, &new)
        }
        [node] => replace_content(text, *node, &name, &escaped),
        _ => Err(format!("the description has more than one {name}")),
    }
}

/// `text` with the content of the element `node` (named `name` in
/// messages) replaced by `escaped`; an empty-element tag gets an end tag.
fn replace_content(
    text: &str,
    node: roxmltree::Node<'_, '_>,
    name: &str,
    escaped: &str,
) -> Result<String, String> {
    if node.children().any(|c| c.is_element()) || node.attribute((RDF, "resource")).is_some() {
        return Err(format!("{name} is not a plain literal; edit it by hand"));
    }
    let r = node.range();
    let element = &text[r.clone()];
    let start_tag_end = start_tag_end(element).ok_or("malformed start tag")?;
    let mut out = String::with_capacity(text.len() + escaped.len());
    out.push_str(&text[..r.start]);
    if element[..start_tag_end].ends_with("/>") {
        let open = &element[..start_tag_end - 2];
        let qname_end = open.find(|c: char| c.is_whitespace()).unwrap_or(open.len());
        out.push_str(open.trim_end());
        out.push('>');
        out.push_str(escaped);
        out.push_str(&format!("</{}>", &open[1..qname_end]));
    } else {
        let close = element.rfind("</").ok_or("malformed end tag")?;
        out.push_str(&element[..start_tag_end]);
        out.push_str(escaped);
        out.push_str(&element[close..]);
    }
    out.push_str(&text[r.end..]);
    Ok(out)
}

/// The new element `{namespace}local` holding `escaped`, with the prefix
/// the description binds to `namespace` (or a declaration of the
/// conventional one).
fn new_term_element(
    description: roxmltree::Node<'_, '_>,
    namespace: &str,
    local: &str,
    escaped: &str,
) -> String {
    let (qname, declaration) = match description.lookup_prefix(namespace) {
        Some(prefix) if !prefix.is_empty() => (format!("{prefix}:{local}"), String::new()),
        _ if description.default_namespace() == Some(namespace) => {
            (local.to_string(), String::new())
        }
        _ => {
            let prefix = match ns::prefix_of(namespace) {
                "" => "ns",
                p => p,
            };
            (
                format!("{prefix}:{local}"),
                format!(" xmlns:{prefix}=\"{namespace}\""),
            )
        }
    };
    format!("<{qname}{declaration}>{escaped}</{qname}>")
}

/// `text` with the element `new` added to the description: before the
/// `slreq:endorsement`, or on its own line at the end, indented like its
/// neighbour.
fn insert_term(
    text: &str,
    description: roxmltree::Node<'_, '_>,
    new: &str,
) -> Result<String, String> {
    let anchor = description
        .children()
        .find(|n| n.has_tag_name((SLREQ, "endorsement")));
    let mut out = String::with_capacity(text.len() + new.len() + 16);
    match anchor {
        Some(node) => {
            let at = node.range().start;
            out.push_str(&text[..at]);
            out.push_str(new);
            out.push('\n');
            out.push_str(&indentation(text, at));
            out.push_str(&text[at..]);
        }
        None => {
            let r = description.range();
            let close = text[r.clone()]
                .rfind("</")
                .ok_or("rdf:Description has no content to add a term to")?;
            let at = r.start + close;
            let indent = description
                .children()
                .find(|n| n.is_element())
                .map(|n| indentation(text, n.range().start))
                .unwrap_or_else(|| "    ".to_string());
            // Insert on its own line before the closing tag's line.
            let line_start = text[..at].rfind('\n').map_or(at, |i| i + 1);
            let (at, prefix) = if text[line_start..at].trim().is_empty() {
                (line_start, String::new())
            } else {
                (at, "\n".to_string())
            };
            out.push_str(&text[..at]);
            out.push_str(&prefix);
            out.push_str(&indent);
            out.push_str(new);
            out.push('\n');
            out.push_str(&text[at..]);
        }
    }
    Ok(out)
}

/// The offset just after the `>` closing the start tag at the beginning of
/// `element` (quotes in attribute values respected).
fn start_tag_end(element: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in element.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '>' => return Some(i + 1),
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::{DCTERMS, SLTERMS};

    const DOC: &str = r##"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:slreq="http://mp.stratuslab.eu/slreq#" xml:base="http://mp.stratuslab.eu/">
	<rdf:Description rdf:about="#X">
		<dcterms:alternative xml:lang="en">old</dcterms:alternative>
		<!-- keep me -->
		<slreq:endorsement rdf:parseType="Resource"/>
	</rdf:Description>
</rdf:RDF>
"##;

    #[test]
    fn replaces_the_content_of_an_existing_term() {
        let out = set_term(DOC, DCTERMS, "alternative", "new & <b>").unwrap();
        assert_eq!(
            out,
            DOC.replace(">old<", ">new &amp; &lt;b&gt;<"),
            "only the content changes"
        );
        let empty = DOC.replace(
            r#"<dcterms:alternative xml:lang="en">old</dcterms:alternative>"#,
            r#"<dcterms:alternative xml:lang="en" />"#,
        );
        let out = set_term(&empty, DCTERMS, "alternative", "t").unwrap();
        assert!(out.contains(r#"<dcterms:alternative xml:lang="en">t</dcterms:alternative>"#));
    }

    #[test]
    fn adds_a_term_before_the_endorsement_with_a_declaration() {
        let out = set_term(DOC, SLTERMS, "deprecated", "gone").unwrap();
        let expected = DOC.replace(
            "\t\t<slreq:endorsement",
            "\t\t<slterms:deprecated xmlns:slterms=\"http://mp.stratuslab.eu/slterms#\">gone</slterms:deprecated>\n\t\t<slreq:endorsement",
        );
        assert_eq!(out, expected);
        let parsed = crate::parse(out.as_bytes());
        assert_eq!(parsed.metadata.deprecated.as_deref(), Some("gone"));
        assert_eq!(parsed.metadata.alternative.as_deref(), Some("old"));
    }

    #[test]
    fn adds_a_term_at_the_end_without_endorsement() {
        let doc = DOC.replace("\t\t<slreq:endorsement rdf:parseType=\"Resource\"/>\n", "");
        let out = set_term(&doc, DCTERMS, "valid", "2030-01-01T00:00:00Z").unwrap();
        assert!(
            out.contains("<!-- keep me -->\n\t\t<dcterms:valid>2030-01-01T00:00:00Z</dcterms:valid>\n\t</rdf:Description>"),
            "{out}"
        );
    }

    #[test]
    fn refuses_repeated_terms() {
        let doc = DOC.replace(
            "<!-- keep me -->",
            "<dcterms:alternative>b</dcterms:alternative>",
        );
        assert!(set_term(&doc, DCTERMS, "alternative", "x").is_err());
    }

    #[test]
    fn replaces_an_endorsement_whose_parse_type_has_no_namespace() {
        // As the original stratus-deprecate-metadata writes it (ElementTree).
        let doc = DOC
            .replace("slreq:", "ns2:")
            .replace("xmlns:slreq=", "xmlns:ns2=")
            .replace(
                "<ns2:endorsement rdf:parseType=",
                "<ns2:endorsement parseType=",
            );
        assert!(doc.contains("<ns2:endorsement parseType=\"Resource\"/>"));
        let endorsement = Endorsement {
            created: "2025-01-01T00:00:00Z".into(),
            endorser: crate::model::Endorser {
                email: "a@example.org".into(),
                subject: "CN=A".into(),
                issuers: vec!["CN=CA".into()],
                email_unverified: false,
            },
        };
        let out = set_endorsement(&doc, &endorsement).unwrap().text;
        let at = doc.find("<ns2:endorsement").unwrap();
        let after = at + "<ns2:endorsement parseType=\"Resource\"/>".len();
        assert!(out.starts_with(&doc[..at]), "{out}");
        assert!(out.ends_with(&doc[after..]), "{out}");
        assert!(out.contains("<slreq:endorsement xmlns:slreq="), "{out}");
        let parsed = crate::parse(out.as_bytes());
        assert_eq!(parsed.metadata.endorser_email(), "a@example.org");
    }
}
