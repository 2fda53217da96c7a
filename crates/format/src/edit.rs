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
    let name_end =
        new.find("<slreq:endorsement").expect("written by us") + "<slreq:endorsement".len();
    new.insert_str(name_end, &declarations);
    let new = new.trim_start().to_string();
    let replaced = existing.first().and_then(|node| {
        let inner: String = node
            .descendants()
            .skip(1)
            .filter(|n| n.is_element())
            .map(|n| {
                let t = n.tag_name();
                ns::qname(t.namespace().unwrap_or(""), t.name())
            })
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
