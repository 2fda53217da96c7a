//! The XML pass: what RDF cannot see. The root must be `rdf:RDF` with the
//! StratusLab `xml:base`, its children one `rdf:Description` and the
//! `ds:Signature`, the structured terms must carry
//! `rdf:parseType="Resource"`, and `rdf:about` must name the image. Each
//! element's first line is recorded here for the messages of later passes.

use crate::lines::{Lines, NewLines};
use crate::model::Metadata;
use crate::ns::{self, DCTERMS, RDF, SLREQ};
use crate::problem::{Problem, Rule};

/// What the XML pass learnt about the document's shape.
#[derive(Debug, Default)]
pub(crate) struct Structure {
    pub has_description: bool,
    pub signature_count: usize,
    /// `rdf:about` of the description, as written.
    pub about: Option<String>,
    /// The description's subject IRI (about resolved against the base).
    pub subject: Option<String>,
    pub about_line: Option<u32>,
}

/// Terms that must carry `rdf:parseType="Resource"`.
const RESOURCE_TERMS: [(&str, &str); 3] = [
    (SLREQ, "checksum"),
    (SLREQ, "endorsement"),
    (SLREQ, "endorser"),
];

/// Checks the root, its `xml:base` and its children, and the elements of
/// the description; records each element's first line in `lines`.
pub(crate) fn check_structure(
    doc: &roxmltree::Document<'_>,
    lines: &mut Lines,
    problems: &mut Vec<Problem>,
) -> Structure {
    let mut s = Structure::default();
    let root = doc.root_element();
    let newlines = NewLines::of(doc.input_text());
    if !root.has_tag_name((RDF, "RDF")) {
        problems.push(
            Problem::new(
                ns::element_qname(root),
                Rule::Structure,
                "the root element must be rdf:RDF",
            )
            .at(Some(newlines.line_of(root))),
        );
        return s;
    }
    check_base(root, Some(newlines.line_of(root)), problems);
    let mut descriptions = 0;
    let mut seen_signature = false;
    for child in root.children().filter(|n| n.is_element()) {
        let line = Some(newlines.line_of(child));
        if child.has_tag_name((RDF, "Description")) {
            descriptions += 1;
            if descriptions > 1 {
                problems.push(
                    Problem::new(
                        "rdf:Description",
                        Rule::Cardinality,
                        "a document describes one image: only one rdf:Description is allowed",
                    )
                    .at(line),
                );
                continue;
            }
            if seen_signature {
                problems.push(
                    Problem::new(
                        "rdf:Description",
                        Rule::Structure,
                        "rdf:Description must come before ds:Signature",
                    )
                    .at(line),
                );
            }
            s.has_description = true;
            s.about = child.attribute((RDF, "about")).map(str::to_string);
            s.about_line = line;
            s.subject = s.about.as_deref().map(|about| subject_iri(about, root));
            check_description_elements(child, &newlines, lines, problems);
        } else if child.has_tag_name((ns::DS, "Signature")) {
            seen_signature = true;
            s.signature_count += 1;
        } else {
            problems.push(
                Problem::new(
                    ns::element_qname(child),
                    Rule::Structure,
                    "only rdf:Description and the ds:Signature may be children of rdf:RDF",
                )
                .at(line),
            );
        }
    }
    if descriptions == 0 {
        problems.push(
            Problem::new(
                "rdf:Description",
                Rule::Cardinality,
                "the document has no rdf:Description: it describes no image",
            )
            .at(Some(newlines.line_of(root))),
        );
    }
    s
}

/// Checks that the root's `xml:base` is the StratusLab one.
fn check_base(root: roxmltree::Node<'_, '_>, line: Option<u32>, problems: &mut Vec<Problem>) {
    match root.attribute((ns::XML, "base")) {
        Some(ns::XML_BASE) => {}
        Some(other) => problems.push(
            Problem::new(
                "rdf:RDF/@xml:base",
                Rule::XmlBase,
                format!("xml:base is '{other}' but must be '{}'", ns::XML_BASE),
            )
            .at(line),
        ),
        None => problems.push(
            Problem::new(
                "rdf:RDF/@xml:base",
                Rule::XmlBase,
                format!("xml:base is missing; it must be '{}'", ns::XML_BASE),
            )
            .at(line),
        ),
    }
}

/// The subject IRI that `about` names: a fragment is resolved against the
/// root's `xml:base` (the StratusLab one when it has none), anything else
/// is taken as written.
fn subject_iri(about: &str, root: roxmltree::Node<'_, '_>) -> String {
    let base = root.attribute((ns::XML, "base")).unwrap_or(ns::XML_BASE);
    if about.starts_with('#') {
        format!("{}{about}", base.split('#').next().unwrap_or(base))
    } else {
        about.to_string()
    }
}

fn check_description_elements(
    description: roxmltree::Node<'_, '_>,
    newlines: &NewLines,
    lines: &mut Lines,
    problems: &mut Vec<Problem>,
) {
    for node in description.descendants().skip(1).filter(|n| n.is_element()) {
        let qname = ns::element_qname(node);
        let line = newlines.line_of(node);
        lines.record(qname.clone(), line);
        let name = node.tag_name();
        let key = (name.namespace().unwrap_or(""), name.name());
        if RESOURCE_TERMS.contains(&key) && node.attribute((RDF, "parseType")) != Some("Resource") {
            problems.push(
                Problem::new(
                    qname.clone(),
                    Rule::ParseType,
                    format!("{qname} must have rdf:parseType=\"Resource\""),
                )
                .at(Some(line)),
            );
        }
        let direct_child = node.parent() == Some(description);
        if direct_child && key == (DCTERMS, "type") && node.children().any(|c| c.is_element()) {
            problems.push(
                Problem::new(
                    "dcterms:type",
                    Rule::Datatype,
                    "dcterms:type must be plain text, without child elements",
                )
                .at(Some(line)),
            );
        }
    }
}

/// The first characters of `text`, for a message that quotes a value of
/// unbounded size.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 64;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
        None => text.to_string(),
    }
}

/// Checks that `rdf:about` is `#` followed by the identifier the metadata
/// holds (reported only when the document has an identifier).
pub(crate) fn check_about(
    structure: &Structure,
    m: &Metadata,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) {
    if m.identifier.is_empty() {
        return; // already reported: dcterms:identifier is required
    }
    let expected = format!("#{}", m.identifier);
    match &structure.about {
        Some(about) if *about == expected => {}
        Some(about) => problems.push(
            Problem::new(
                "rdf:Description/@rdf:about",
                Rule::About,
                format!(
                    "rdf:about '{}' is not consistent with the identifier: it must be \
                     '{expected}'",
                    excerpt(about)
                ),
            )
            .at(structure.about_line),
        ),
        None => problems.push(
            Problem::new(
                "rdf:Description/@rdf:about",
                Rule::About,
                format!("rdf:about is missing; it must be '{expected}'"),
            )
            .at(structure.about_line.or(lines.of("dcterms:identifier"))),
        ),
    }
}
