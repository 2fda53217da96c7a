//! Reading a document: XML structure first, then the RDF model, then the
//! typed [`Metadata`] and every rule it breaks.
//!
//! The XML pass (roxmltree, DTDs refused) checks what RDF cannot see: the
//! root, `xml:base`, `rdf:about`, `rdf:parseType` of the structured terms and
//! the children of `rdf:RDF`. The RDF pass (oxrdfxml, on the document without
//! its `ds:Signature`) gives the triples the metadata is built from, so that
//! every RDF/XML form of a statement (attributes, `parseType="Resource"`
//! blank nodes, `xml:lang`, entities) is read as RDF defines it.

mod structure;

use crate::build;
use crate::compat;
use crate::graph;
use crate::lines::Lines;
use crate::model::Metadata;
use crate::ns;
use crate::problem::{Note, Problem, Rule};
use crate::terms::Findings;

/// The largest document accepted, in bytes. Real documents are a few KiB.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The most notes listed for one document; the last one then says how many
/// more there were. The original tools' documents have at most a dozen; a
/// document made of thousands of empty elements would otherwise turn every
/// answer about it (an upload's, a validation's) into megabytes of notes.
pub const MAX_NOTES: usize = 100;

/// The most problems listed for one document; the last one then says how
/// many more there were (with the rule of the first one left out). Every
/// answer about a document (an upload's, a validation's, the upload page)
/// lists its problems: thousands of repeated elements, each wrong, would
/// otherwise make megabytes of them.
pub const MAX_PROBLEMS: usize = 100;

/// The outcome of reading a document.
#[derive(Debug, Clone, Default)]
pub struct ParsedDocument {
    /// What could be read (fields the document lacks stay empty).
    pub metadata: Metadata,
    /// Every problem found, in document order where possible.
    pub problems: Vec<Problem>,
    /// What was accepted with a remark (forms of the original tools read
    /// leniently), in document order where possible.
    pub notes: Vec<Note>,
    /// Number of `ds:Signature` elements directly under `rdf:RDF`.
    pub signature_count: usize,
}

impl ParsedDocument {
    /// Whether the document satisfies every format rule.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Parses and validates a document. Never panics; every problem is reported.
pub fn parse(bytes: &[u8]) -> ParsedDocument {
    let mut out = ParsedDocument::default();
    if bytes.len() > MAX_DOCUMENT_BYTES {
        out.problems.push(Problem::new(
            "document",
            Rule::XmlSyntax,
            format!(
                "the document has {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
                bytes.len()
            ),
        ));
        return out;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            out.problems.push(Problem::new(
                "document",
                Rule::XmlSyntax,
                format!("the document is not UTF-8: {e}"),
            ));
            return out;
        }
    };
    let doc = match parse_xml(text) {
        Ok(d) => d,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    let qualified = compat::qualify_rdf_attributes(&doc);
    out.notes = qualified.notes;
    out.problems = qualified.problems;
    match qualified.text {
        None => read_document(&doc, &mut out),
        Some(rewritten) => {
            drop(doc);
            match parse_xml(&rewritten) {
                Ok(doc) => read_document(&doc, &mut out),
                Err(p) => out.problems.push(p),
            }
        }
    }
    if out.notes.len() > MAX_NOTES {
        let more = out.notes.len() - (MAX_NOTES - 1);
        out.notes.truncate(MAX_NOTES - 1);
        out.notes.push(Note::new(
            "document",
            format!("{more} more notes like these are not listed"),
        ));
    }
    if out.problems.len() > MAX_PROBLEMS {
        let more = out.problems.len() - (MAX_PROBLEMS - 1);
        let rule = out.problems[MAX_PROBLEMS - 1].rule;
        out.problems.truncate(MAX_PROBLEMS - 1);
        out.problems.push(Problem::new(
            "document",
            rule,
            format!("{more} more problems are not listed"),
        ));
    }
    out
}

/// The structure, RDF and term passes over a well-formed document.
fn read_document(doc: &roxmltree::Document<'_>, out: &mut ParsedDocument) {
    let mut lines = Lines::default();
    let structure = structure::check_structure(doc, &mut lines, &mut out.problems);
    out.signature_count = structure.signature_count;
    if !structure.has_description {
        return;
    }
    let stripped = strip_root_signatures(doc, doc.input_text());
    match graph::read_triples(&stripped) {
        Ok(triples) => {
            let mut findings = Findings {
                problems: &mut out.problems,
                notes: &mut out.notes,
            };
            out.metadata = build::build_metadata(
                &triples,
                structure.subject.as_deref(),
                &lines,
                &mut findings,
            );
            structure::check_about(&structure, &out.metadata, &lines, &mut out.problems);
        }
        Err(p) => out.problems.push(p),
    }
}

/// Parses XML with DTDs refused and the markup within
/// [`crate::markup`]'s limits, mapping errors to a located [`Problem`].
pub fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, Problem> {
    crate::markup::check(text)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 200_000,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let line = Some(e.pos().row);
        match e {
            roxmltree::Error::DtdDetected => Problem::new(
                "document",
                Rule::Dtd,
                "a DOCTYPE is not allowed (DTDs and entities are refused)",
            )
            .at(line),
            other => Problem::new(
                "document",
                Rule::XmlSyntax,
                format!("not well-formed XML: {other}"),
            )
            .at(line),
        }
    })
}

/// The text without the `ds:Signature` elements that are children of the
/// root (the enveloped signature), everything else byte for byte.
pub fn strip_root_signatures(doc: &roxmltree::Document<'_>, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for sig in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((ns::DS, "Signature")))
    {
        let r = sig.range();
        out.push_str(&text[from..r.start]);
        from = r.end;
    }
    out.push_str(&text[from..]);
    out
}
