//! Reading the unqualified RDF attributes the original tools wrote.
//!
//! `stratus-deprecate-metadata` (Python ElementTree) writes the endorsement
//! it rebuilds as `<ns1:endorsement parseType="Resource"/>`: the attribute
//! has no namespace. The RDF/XML grammar (W3C RDF/XML Syntax Specification,
//! §6.1.4) has processors read the unqualified attributes `ID`, `about`,
//! `resource`, `parseType` and `type` as the `rdf:` ones, and the original
//! server's parser (Sesame) did so with a warning; any other unqualified
//! attribute stays an error, as there. oxrdfxml refuses all of them, so this
//! module rewrites the few bytes of each such attribute name into its
//! qualified form (the text the RDF pass reads, never the stored or signed
//! bytes) and says so in a [`Note`]. The rewrite keeps every byte offset
//! before the first change and never adds a line, so line numbers hold.
//!
//! Not rewritten: the `ds:Signature` (not RDF) and the content of a
//! `parseType="Literal"` property (XML literal content, not RDF syntax).

use crate::lines::NewLines;
use crate::ns::{self, DS, RDF};
use crate::problem::{Note, Problem, Rule};
use std::ops::Range;

/// The attributes RDF/XML reads as `rdf:` ones when they have no namespace.
const UNQUALIFIED_RDF_ATTRIBUTES: [&str; 5] = ["ID", "about", "resource", "parseType", "type"];

/// The outcome of [`qualify_rdf_attributes`].
#[derive(Debug, Default)]
pub(crate) struct Qualified {
    /// The text with every unqualified RDF attribute qualified, when there
    /// was one (`None`: read the original text).
    pub text: Option<String>,
    /// One note per attribute read as its `rdf:` form.
    pub notes: Vec<Note>,
    /// Elements carrying both forms of one attribute (ambiguous).
    pub problems: Vec<Problem>,
}

/// One change of the text: `range` replaced by `with`.
struct Edit {
    range: Range<usize>,
    with: String,
}

/// Finds the unqualified RDF attributes of the elements under `rdf:RDF` and
/// returns the text with each of them qualified.
pub(crate) fn qualify_rdf_attributes(doc: &roxmltree::Document<'_>) -> Qualified {
    let mut out = Qualified::default();
    let root = doc.root_element();
    if !root.has_tag_name((RDF, "RDF")) {
        return out;
    }
    let text = doc.input_text();
    let mut newlines: Option<NewLines> = None;
    let mut edits = Vec::new();
    let mut stack: Vec<roxmltree::Node<'_, '_>> = root
        .children()
        .filter(|n| n.is_element() && !n.has_tag_name((DS, "Signature")))
        .collect();
    stack.reverse();
    while let Some(element) = stack.pop() {
        let literal = qualify_element(element, text, &mut edits, &mut out, &mut newlines);
        if !literal {
            let before = stack.len();
            stack.extend(element.children().filter(|n| n.is_element()));
            stack[before..].reverse();
        }
    }
    if !edits.is_empty() {
        edits.sort_by_key(|e| e.range.start);
        let mut rewritten = String::with_capacity(text.len() + 32 * edits.len());
        let mut from = 0;
        for edit in &edits {
            rewritten.push_str(&text[from..edit.range.start]);
            rewritten.push_str(&edit.with);
            from = edit.range.end;
        }
        rewritten.push_str(&text[from..]);
        out.text = Some(rewritten);
    }
    out
}

/// Qualifies the unqualified RDF attributes of one element; returns whether
/// the element is a `parseType="Literal"` property (its content is not RDF).
fn qualify_element<'a, 'input>(
    element: roxmltree::Node<'a, 'input>,
    text: &str,
    edits: &mut Vec<Edit>,
    out: &mut Qualified,
    newlines: &mut Option<NewLines>,
) -> bool {
    let mut literal = element.attribute((RDF, "parseType")) == Some("Literal");
    let mut declared: Option<String> = None;
    for attribute in element.attributes() {
        let name = attribute.name();
        if attribute.namespace().is_some() || !UNQUALIFIED_RDF_ATTRIBUTES.contains(&name) {
            continue;
        }
        if name == "parseType" && attribute.value() == "Literal" {
            literal = true;
        }
        let qname = ns::element_qname(element);
        let line = Some(
            newlines
                .get_or_insert_with(|| NewLines::of(text))
                .line_of(element),
        );
        if element.attribute((RDF, name)).is_some() {
            out.problems.push(
                Problem::new(
                    format!("{qname}/@{name}"),
                    Rule::RdfModel,
                    format!(
                        "{qname} has both {name} and rdf:{name}; RDF/XML reads the unqualified \
                         one as rdf:{name}, so the element has it twice"
                    ),
                )
                .at(line),
            );
            continue;
        }
        let prefix = match rdf_prefix(element) {
            Some(p) => p.to_string(),
            None => {
                let p = declared.get_or_insert_with(|| fresh_prefix(element));
                edits.push(Edit {
                    range: attribute.range().end..attribute.range().end,
                    with: format!(" xmlns:{p}=\"{RDF}\""),
                });
                p.clone()
            }
        };
        edits.push(Edit {
            range: attribute.range_qname(),
            with: format!("{prefix}:{name}"),
        });
        out.notes.push(
            Note::new(
                format!("{qname}/@{name}"),
                format!(
                    "the attribute {name} has no namespace: read as rdf:{name}, as RDF/XML \
                     (§6.1.4) and the original server did (the original \
                     stratus-deprecate-metadata writes it so)"
                ),
            )
            .at(line),
        );
    }
    literal
}

/// A prefix bound to the RDF namespace in the element's scope (the default
/// namespace does not apply to attributes).
fn rdf_prefix<'input>(element: roxmltree::Node<'_, 'input>) -> Option<&'input str> {
    element
        .namespaces()
        .filter(|n| n.uri() == RDF)
        .find_map(|n| n.name())
}

/// A prefix not in scope at `element`, to declare for the RDF namespace.
fn fresh_prefix(element: roxmltree::Node<'_, '_>) -> String {
    (0..)
        .map(|i| {
            if i == 0 {
                "rdfq".to_string()
            } else {
                format!("rdfq{i}")
            }
        })
        .find(|p| element.lookup_namespace_uri(Some(p)).is_none())
        .unwrap_or_else(|| "rdfq".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qualify(text: &str) -> Qualified {
        let doc = roxmltree::Document::parse(text).unwrap();
        qualify_rdf_attributes(&doc)
    }

    const RDF_OPEN: &str = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                            xmlns:s=\"http://mp.stratuslab.eu/slreq#\">";

    #[test]
    fn nothing_to_do_keeps_the_text() {
        let q = qualify(&format!(
            "{RDF_OPEN}<rdf:Description rdf:about=\"#x\"/></rdf:RDF>"
        ));
        assert!(q.text.is_none() && q.notes.is_empty() && q.problems.is_empty());
    }

    #[test]
    fn unqualified_attributes_get_the_bound_prefix() {
        let q = qualify(&format!(
            "{RDF_OPEN}\n<rdf:Description about=\"#x\">\n<s:endorsement parseType=\"Resource\" \
             other=\"kept\"/></rdf:Description></rdf:RDF>"
        ));
        let text = q.text.unwrap();
        assert!(
            text.contains("<rdf:Description rdf:about=\"#x\">"),
            "{text}"
        );
        assert!(
            text.contains("<s:endorsement rdf:parseType=\"Resource\" other=\"kept\"/>"),
            "{text}"
        );
        assert_eq!(q.notes.len(), 2);
        assert_eq!(q.notes[0].element, "rdf:Description/@about");
        assert_eq!(q.notes[0].line, Some(2));
        assert_eq!(q.notes[1].element, "slreq:endorsement/@parseType");
        assert_eq!(q.notes[1].line, Some(3));
    }

    #[test]
    fn a_default_namespace_rdf_gets_a_declared_prefix() {
        let q = qualify(
            "<RDF xmlns=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:rdfq=\"urn:taken\">\
             <Description about=\"#x\"/></RDF>",
        );
        let text = q.text.unwrap();
        assert!(
            text.contains(&format!(
                "<Description rdfq1:about=\"#x\" xmlns:rdfq1=\"{RDF}\"/>"
            )),
            "{text}"
        );
        roxmltree::Document::parse(&text).unwrap();
    }

    #[test]
    fn both_forms_are_ambiguous() {
        let q = qualify(&format!(
            "{RDF_OPEN}<rdf:Description about=\"#x\" rdf:about=\"#y\"/></rdf:RDF>"
        ));
        assert_eq!(q.problems.len(), 1);
        assert!(q.problems[0].message.contains("twice"));
        assert!(q.text.is_none());
    }

    #[test]
    fn signatures_and_literals_are_left_alone() {
        let q = qualify(&format!(
            "{RDF_OPEN}<rdf:Description rdf:about=\"#x\"><s:x rdf:parseType=\"Literal\">\
             <b type=\"t\"/></s:x></rdf:Description>\
             <ds:Signature xmlns:ds=\"{DS}\"><ds:Reference URI=\"\" type=\"t\"/></ds:Signature>\
             </rdf:RDF>"
        ));
        assert!(q.text.is_none(), "{:?}", q.text);
    }

    #[test]
    fn other_unqualified_attributes_are_not_touched() {
        let q = qualify(&format!(
            "{RDF_OPEN}<rdf:Description rdf:about=\"#x\" lang=\"en\"/></rdf:RDF>"
        ));
        assert!(q.text.is_none());
    }
}
