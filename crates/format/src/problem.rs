//! Problems found in a document (what is wrong, where, and which rule it
//! breaks) and notes (what was accepted although the original tools' output
//! differs from the format's canonical form, and how it was read).

use serde::Serialize;
use std::fmt;

/// The rule a [`Problem`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The bytes are not well-formed XML (or are too large, or not UTF-8).
    XmlSyntax,
    /// A DOCTYPE / DTD is present; documents must not have one.
    Dtd,
    /// The document's overall shape (root, children of `rdf:RDF`).
    Structure,
    /// `xml:base` is missing or not the StratusLab one.
    XmlBase,
    /// `rdf:about` does not name the identifier.
    About,
    /// An element occurs too often or too rarely.
    Cardinality,
    /// A value does not have the required datatype.
    Datatype,
    /// A date is not an XML Schema dateTime in UTC.
    DateTime,
    /// A checksum algorithm or value is wrong.
    Checksum,
    /// The identifier is malformed or does not match the SHA-1 checksum.
    Identifier,
    /// An e-mail address is malformed.
    Email,
    /// A number is outside its allowed range.
    Range,
    /// A structured term lacks `rdf:parseType="Resource"`.
    ParseType,
    /// The document is not valid RDF/XML.
    RdfModel,
    /// A value is longer, or a term repeated more often, than the format's
    /// limits allow (see [`crate::limits`]).
    Size,
}

impl Rule {
    /// Short kebab-case name used in messages and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::XmlSyntax => "xml-syntax",
            Rule::Dtd => "no-dtd",
            Rule::Structure => "structure",
            Rule::XmlBase => "xml-base",
            Rule::About => "rdf-about",
            Rule::Cardinality => "cardinality",
            Rule::Datatype => "datatype",
            Rule::DateTime => "datetime",
            Rule::Checksum => "checksum",
            Rule::Identifier => "identifier",
            Rule::Email => "email",
            Rule::Range => "range",
            Rule::ParseType => "parse-type",
            Rule::RdfModel => "rdf-model",
            Rule::Size => "size",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The element (or attribute) concerned, as `prefix:name`.
    pub element: String,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in a sentence.
    pub message: String,
    /// 1-based line of the element in the document, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Problem {
    /// A new problem without a position.
    pub fn new(element: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Problem {
            element: element.into(),
            rule,
            message: message.into(),
            line: None,
        }
    }

    /// The same problem, located at `line` (if known).
    pub fn at(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "{}: {} [{}]", self.element, self.message, self.rule)
    }
}

/// Something accepted with a remark: a form the original tools wrote that
/// this project reads leniently (see `docs/compatibility.md`), and how it
/// was read. A note never makes a document invalid; it is shown wherever a
/// document enters (validation, uploads, imports, policy checks, downloads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The element (or attribute) concerned, as `prefix:name`.
    pub element: String,
    /// What was found and how it was read, in a sentence.
    pub message: String,
    /// 1-based line of the element in the document, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Note {
    /// A new note without a position.
    pub fn new(element: impl Into<String>, message: impl Into<String>) -> Self {
        Note {
            element: element.into(),
            message: message.into(),
            line: None,
        }
    }

    /// The same note, located at `line` (if known).
    pub fn at(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "{}: {}", self.element, self.message)
    }
}
