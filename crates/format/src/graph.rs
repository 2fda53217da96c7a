//! The RDF pass: the document's triples (oxrdfxml, every RDF/XML form of a
//! statement read as RDF defines it), grouped by subject for the term
//! passes.

use crate::ns;
use crate::problem::{Problem, Rule};
use oxrdf::{NamedOrBlankNode, Term, Triple};
use std::collections::HashMap;

/// Reads the triples of `text` (the document without its `ds:Signature`),
/// IRIs resolved against the StratusLab base.
// The base is a constant IRI (every parse in the tests goes through here).
#[allow(clippy::expect_used)]
pub(crate) fn read_triples(text: &str) -> Result<Vec<Triple>, Problem> {
    let parser = oxrdfxml::RdfXmlParser::new()
        .with_base_iri(ns::XML_BASE)
        .expect("the StratusLab base is a valid IRI");
    parser
        .for_slice(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Problem::new(
                "document",
                Rule::RdfModel,
                format!("not valid RDF/XML: {e}"),
            )
        })
}

/// The objects of one subject, by predicate IRI.
pub(crate) type Properties<'a> = HashMap<&'a str, Vec<&'a Term>>;

/// Triples grouped by subject, then by predicate IRI.
pub(crate) struct Graph<'a> {
    by_subject: HashMap<&'a NamedOrBlankNode, Properties<'a>>,
}

impl<'a> Graph<'a> {
    /// Groups `triples` by subject, then by predicate IRI.
    pub(crate) fn new(triples: &'a [Triple]) -> Self {
        let mut by_subject: HashMap<&NamedOrBlankNode, Properties<'a>> = HashMap::new();
        for tr in triples {
            by_subject
                .entry(&tr.subject)
                .or_default()
                .entry(tr.predicate.as_str())
                .or_default()
                .push(&tr.object);
        }
        Graph { by_subject }
    }

    /// The properties of `node` (none when it is no subject).
    pub(crate) fn properties(&self, node: &NamedOrBlankNode) -> Properties<'a> {
        self.by_subject.get(node).cloned().unwrap_or_default()
    }

    /// The subjects that are IRIs (not blank nodes), in no particular order.
    pub(crate) fn named_subjects(&self) -> Vec<&'a NamedOrBlankNode> {
        self.by_subject
            .keys()
            .copied()
            .filter(|s| matches!(s, NamedOrBlankNode::NamedNode(_)))
            .collect()
    }
}

/// The text of a literal or IRI object (none for a blank node).
pub(crate) fn term_text(term: &Term) -> Option<String> {
    match term {
        Term::Literal(l) => Some(l.value().to_string()),
        Term::NamedNode(n) => Some(n.as_str().to_string()),
        _ => None,
    }
}
