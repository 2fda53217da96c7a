//! Limits on the shape of the markup, checked before any XML parser runs.
//!
//! The XML parsers this project uses (roxmltree here, uppsala in the trust
//! crate, quick-xml under oxrdfxml) check an element's attributes for
//! duplicates by comparing each new one with every earlier one: a start tag
//! with 80,000 attributes — possible in a 1 MiB upload — cost over 30 s of
//! CPU before a single rule or signature was looked at (roxmltree issue
//! #153). Nesting is unbounded in roxmltree and oxrdfxml, while uppsala, which
//! verifies the signature, refuses more than 128 levels. Namespace
//! declarations cost more than their bytes: roxmltree copies every prefix in
//! scope into each element that declares one, checking each copy against
//! the element's own declarations (quadratic in the prefixes in scope), so
//! 126 nested elements declaring 62 prefixes each — 159 KB — cost 2.5 s of
//! CPU; quick-xml resolves each name by a linear search of the prefixes in
//! scope, and oxrdfxml writes every namespace in scope again on each
//! top-level element of an `rdf:parseType="Literal"` value. The values that
//! descendants inherit (namespace URIs, `xml:base`, `xml:lang`) are copied
//! into the name, IRI or literal of every descendant that uses them. And
//! every element and attribute costs each parser and the RDF pass a few
//! allocations, so their number, not only the bytes, bounds the work.
//!
//! [`check`] refuses all of these in one linear pass over the text, so that
//! every parser after it sees at most [`MAX_ELEMENTS`] elements and
//! [`MAX_DOCUMENT_ATTRIBUTES`] attributes, [`MAX_ATTRIBUTES`] attributes on
//! one element, [`MAX_DEPTH`] levels, [`MAX_NAMESPACES_PER_ELEMENT`]
//! namespace declarations on one element, [`MAX_NAMESPACES_IN_SCOPE`] (and
//! [`MAX_NAMESPACE_BYTES_IN_SCOPE`] bytes of URIs) in scope at any element,
//! [`MAX_NAMESPACE_DECLARATIONS`] in the whole document, and no namespace
//! URI, `xml:base` or `xml:lang` value longer than its limit. Every limit is
//! far above what real documents have: the conformance corpus's documents
//! and ours declare four to nine namespaces, five at most on one element
//! (the root), have at most 90 elements and 40 attributes, and are seven
//! levels deep. The
//! refusal says which limit, and where: its line, and the column in the
//! message.
//!
//! Written by hand because the scan must be total: a tokenizer (quick-xml)
//! stops at the first thing it finds malformed, and a more lenient parser
//! behind it could still meet the costly tag further on. This scan never
//! stops early; it only needs to tell start tags, end tags, comments,
//! CDATA sections, processing instructions and declarations apart, quoted
//! attribute values from the rest of a tag, and the names of the attributes
//! that declare namespaces or set `xml:base` and `xml:lang`. Anything it
//! cannot make sense of is left for the parser to report. It counts
//! conservatively: a prefix declared again below is counted twice in scope,
//! and values are measured as written (a reference decodes to fewer bytes
//! than it takes).

use crate::problem::{Problem, Rule};
use std::ops::Range;

/// The most attributes (namespace declarations included) one element may
/// have. Real documents have at most a dozen, on the root.
pub const MAX_ATTRIBUTES: usize = 64;

/// The deepest nesting of elements allowed (the signature verifier's own
/// limit). Real documents are seven levels deep.
pub const MAX_DEPTH: usize = 128;

/// The most elements a document may have. The conformance corpus's
/// documents have 9 to 88 (signatures included); one listing a hundred
/// mirrors and a hundred related images stays under 400.
pub const MAX_ELEMENTS: usize = 4_000;

/// The most attributes a document may have in all (namespace declarations
/// included). The conformance corpus's documents have 11 to 38.
pub const MAX_DOCUMENT_ATTRIBUTES: usize = 10_000;

/// The most namespaces one element may declare (`xmlns` and `xmlns:p`).
/// Real documents declare four or five, on the root.
pub const MAX_NAMESPACES_PER_ELEMENT: usize = 16;

/// The most namespace declarations in scope at an element: its own and its
/// ancestors' (a prefix declared again counts again). Real documents have
/// seven at most (those of the root, `mp:` and the signature's default).
pub const MAX_NAMESPACES_IN_SCOPE: usize = 32;

/// The most bytes of namespace URIs in scope at an element (summed over the
/// declarations counted by [`MAX_NAMESPACES_IN_SCOPE`]). Real documents
/// have about 250.
pub const MAX_NAMESPACE_BYTES_IN_SCOPE: usize = 2_048;

/// The most namespace declarations in a whole document. Real documents have
/// four to nine; a serializer that declares the prefix again on every
/// element using it stays well under this.
pub const MAX_NAMESPACE_DECLARATIONS: usize = 1_024;

/// The longest namespace URI (value of `xmlns` or `xmlns:p`) and `xml:base`
/// value, in bytes as written. Real ones have 24 to 45 (the longest in
/// common use, OASIS WS-Security's, 81). Every name in the namespace, and
/// every IRI resolved against the base, repeats it.
pub const MAX_NAMESPACE_URI_BYTES: usize = 128;

/// The longest `xml:lang` value, in bytes as written (language tags have 2
/// to 10; BCP 47 asks implementations to support 35).
pub const MAX_XML_LANG_BYTES: usize = 128;

/// Refuses a text whose markup breaks one of this module's limits (see the
/// module documentation); linear in the text.
pub fn check(text: &str) -> Result<(), Problem> {
    let bytes = text.as_bytes();
    let mut counts = Counts::default();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset;
        let rest = &bytes[start + 1..];
        i = if rest.starts_with(b"!--") {
            skip_past(bytes, start + 4, b"-->")
        } else if rest.starts_with(b"![CDATA[") {
            skip_past(bytes, start + 9, b"]]>")
        } else if rest.starts_with(b"?") {
            skip_past(bytes, start + 2, b"?>")
        } else if rest.starts_with(b"!") || rest.starts_with(b"/") {
            if rest.starts_with(b"/") {
                counts.close();
            }
            skip_past(bytes, start + 1, b">")
        } else {
            let tag = start_tag(bytes, start + 1);
            counts.count(text, start, &tag)?;
            counts.enter(text, start, &tag)?;
            tag.end
        };
    }
    Ok(())
}

/// What [`check`] has counted so far.
#[derive(Default)]
struct Counts {
    /// The namespace declarations (count, URI bytes) of each open element.
    open: Vec<(usize, usize)>,
    in_scope: usize,
    in_scope_bytes: usize,
    elements: usize,
    attributes: usize,
    declarations: usize,
}

impl Counts {
    /// An end tag: the namespaces its element declared go out of scope.
    fn close(&mut self) {
        if let Some((count, uri_bytes)) = self.open.pop() {
            self.in_scope -= count;
            self.in_scope_bytes -= uri_bytes;
        }
    }

    /// Counts the start tag at `start` as an element with its attributes,
    /// refusing it when a count or a value is over its limit.
    fn count(&mut self, text: &str, start: usize, tag: &StartTag) -> Result<(), Problem> {
        let at = |what: String| refused(text, start, what);
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(at(format!(
                "the document has more than {MAX_ELEMENTS} elements \
                 (the one over the limit starts at {})",
                column(text, start)
            )));
        }
        if tag.attributes > MAX_ATTRIBUTES {
            return Err(at(format!(
                "the element at {} has more than {MAX_ATTRIBUTES} attributes \
                 (namespace declarations included)",
                column(text, start)
            )));
        }
        self.attributes += tag.attributes;
        if self.attributes > MAX_DOCUMENT_ATTRIBUTES {
            return Err(at(format!(
                "the document has more than {MAX_DOCUMENT_ATTRIBUTES} attributes \
                 (namespace declarations included; the limit is passed at the element \
                 at {})",
                column(text, start)
            )));
        }
        if let Some(long) = &tag.too_long {
            return Err(refused(
                text,
                long.offset,
                format!(
                    "{} at {} has {} bytes; the limit is {}",
                    long.what(text),
                    column(text, long.offset),
                    long.len,
                    long.kind.limit()
                ),
            ));
        }
        Ok(())
    }

    /// Opens the element of the start tag at `start` (unless it is empty),
    /// refusing it when its namespace declarations or its depth are over
    /// their limits.
    fn enter(&mut self, text: &str, start: usize, tag: &StartTag) -> Result<(), Problem> {
        let at = |what: String| refused(text, start, what);
        if tag.declarations > MAX_NAMESPACES_PER_ELEMENT {
            return Err(at(format!(
                "the element at {} declares {} namespaces; \
                 at most {MAX_NAMESPACES_PER_ELEMENT} may be declared on one element",
                column(text, start),
                tag.declarations
            )));
        }
        self.declarations += tag.declarations;
        if self.declarations > MAX_NAMESPACE_DECLARATIONS {
            return Err(at(format!(
                "the document has more than {MAX_NAMESPACE_DECLARATIONS} namespace \
                 declarations (the limit is passed at the element at {})",
                column(text, start)
            )));
        }
        if self.in_scope + tag.declarations > MAX_NAMESPACES_IN_SCOPE {
            return Err(at(format!(
                "the element at {} has {} namespace declarations in scope (its own \
                 and its ancestors'); at most {MAX_NAMESPACES_IN_SCOPE} are allowed",
                column(text, start),
                self.in_scope + tag.declarations
            )));
        }
        if self.in_scope_bytes + tag.uri_bytes > MAX_NAMESPACE_BYTES_IN_SCOPE {
            return Err(at(format!(
                "the element at {} has {} bytes of namespace URIs in scope (its own \
                 declarations and its ancestors'); at most \
                 {MAX_NAMESPACE_BYTES_IN_SCOPE} are allowed",
                column(text, start),
                self.in_scope_bytes + tag.uri_bytes
            )));
        }
        if !tag.empty {
            if self.open.len() >= MAX_DEPTH {
                return Err(at(format!(
                    "the element at {} is nested more than {MAX_DEPTH} levels deep",
                    column(text, start)
                )));
            }
            self.open.push((tag.declarations, tag.uri_bytes));
            self.in_scope += tag.declarations;
            self.in_scope_bytes += tag.uri_bytes;
        }
        Ok(())
    }
}

/// An attribute whose value descendants inherit, so that its length is
/// bounded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inherited {
    /// `xmlns` or `xmlns:p`: a namespace declaration.
    Namespace,
    /// `xml:base`.
    Base,
    /// `xml:lang`.
    Lang,
}

impl Inherited {
    /// The kind of the attribute named `name`, if it is one.
    fn of(name: &[u8]) -> Option<Inherited> {
        match name {
            b"xmlns" => Some(Inherited::Namespace),
            _ if name.starts_with(b"xmlns:") => Some(Inherited::Namespace),
            b"xml:base" => Some(Inherited::Base),
            b"xml:lang" => Some(Inherited::Lang),
            _ => None,
        }
    }

    /// The longest value allowed, in bytes as written.
    fn limit(self) -> usize {
        match self {
            Inherited::Namespace | Inherited::Base => MAX_NAMESPACE_URI_BYTES,
            Inherited::Lang => MAX_XML_LANG_BYTES,
        }
    }
}

/// A value over its length limit.
struct TooLong {
    /// Which kind of value.
    kind: Inherited,
    /// Where the attribute's name is.
    name: Range<usize>,
    /// Where its value starts.
    offset: usize,
    /// Its length in bytes, as written.
    len: usize,
}

impl TooLong {
    /// What the value is, for the message.
    fn what(&self, text: &str) -> String {
        let name = text.get(self.name.clone()).unwrap_or("?");
        match self.kind {
            Inherited::Namespace if name == "xmlns" => "the default namespace URI (xmlns)".into(),
            Inherited::Namespace => format!("the namespace URI of {name}"),
            Inherited::Base | Inherited::Lang => format!("the {name} value"),
        }
    }
}

/// What [`start_tag`] read.
struct StartTag {
    /// Attributes seen (each `=` outside a quoted value), counted only up to
    /// one past the limit.
    attributes: usize,
    /// Namespace declarations among them (`xmlns`, `xmlns:p`).
    declarations: usize,
    /// The bytes of their values (as written).
    uri_bytes: usize,
    /// The first namespace URI, `xml:base` or `xml:lang` value over its
    /// limit.
    too_long: Option<TooLong>,
    /// Whether the tag ends with `/>`.
    empty: bool,
    /// The offset just past the tag (or the end of the text).
    end: usize,
}

/// Whether `b` may be part of a name in a tag (anything but white space,
/// quotes and the tag's own punctuation; the parser checks the rest).
fn is_name_byte(b: u8) -> bool {
    !matches!(
        b,
        b' ' | b'\t' | b'\r' | b'\n' | b'=' | b'"' | b'\'' | b'<' | b'>' | b'/'
    )
}

/// Reads the start tag whose name begins at `from`, up to its `>` outside
/// quotes.
fn start_tag(bytes: &[u8], from: usize) -> StartTag {
    let mut tag = StartTag {
        attributes: 0,
        declarations: 0,
        uri_bytes: 0,
        too_long: None,
        empty: false,
        end: bytes.len(),
    };
    let mut quote: Option<u8> = None;
    // The last name outside quotes (the attribute's, at its `=`), and the
    // start of the name being read.
    let mut name = from..from;
    let mut name_start: Option<usize> = None;
    // The inherited attribute whose value comes next (its kind and name),
    // and where the value starts.
    let mut pending: Option<(Inherited, Range<usize>)> = None;
    let mut value_start = from;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => {
                quote = None;
                if let Some((kind, name)) = pending.take() {
                    let len = i - value_start;
                    if kind == Inherited::Namespace {
                        tag.uri_bytes += len;
                    }
                    if len > kind.limit() && tag.too_long.is_none() {
                        tag.too_long = Some(TooLong {
                            kind,
                            name,
                            offset: value_start,
                            len,
                        });
                    }
                }
            }
            Some(_) => {}
            None if is_name_byte(b) => {
                name_start.get_or_insert(i);
            }
            None => {
                if let Some(s) = name_start.take() {
                    name = s..i;
                }
                match b {
                    b'"' | b'\'' => {
                        quote = Some(b);
                        value_start = i + 1;
                    }
                    b'=' => {
                        tag.attributes += 1;
                        if tag.attributes > MAX_ATTRIBUTES {
                            break;
                        }
                        pending = Inherited::of(&bytes[name.clone()]).map(|kind| {
                            if kind == Inherited::Namespace {
                                tag.declarations += 1;
                            }
                            (kind, name.clone())
                        });
                    }
                    b'>' => {
                        tag.empty = i > from && bytes[i - 1] == b'/';
                        tag.end = i + 1;
                        return tag;
                    }
                    _ => {}
                }
            }
        }
        i += 1;
    }
    tag
}

/// The offset just past the first `needle` at or after `from` (the end of
/// the text when there is none).
fn skip_past(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    let from = from.min(bytes.len());
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map_or(bytes.len(), |p| from + p + needle.len())
}

/// `column N` of byte `offset` of `text` (1-based, in characters, as the
/// parsers count them).
fn column(text: &str, offset: usize) -> String {
    let line_start = text.as_bytes()[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    format!("column {}", text[line_start..offset].chars().count() + 1)
}

/// The problem at byte `offset` of `text`, with its line.
fn refused(text: &str, offset: usize, message: String) -> Problem {
    let line = text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    Problem::new("document", Rule::XmlSyntax, message).at(u32::try_from(line).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element_with(attributes: usize) -> String {
        let mut tag = String::from("<r");
        for i in 0..attributes {
            tag.push_str(&format!(" a{i}=\"v\""));
        }
        tag.push_str("/>");
        tag
    }

    fn nested(depth: usize) -> String {
        "<e>".repeat(depth) + &"</e>".repeat(depth)
    }

    #[test]
    fn attributes_up_to_the_limit_pass() {
        assert!(check(&element_with(MAX_ATTRIBUTES)).is_ok());
        let problem = check(&element_with(MAX_ATTRIBUTES + 1)).unwrap_err();
        assert_eq!(problem.rule, Rule::XmlSyntax);
        assert!(
            problem.message.contains("more than 64 attributes"),
            "{problem}"
        );
    }

    #[test]
    fn many_attributes_are_refused_where_they_are() {
        let text = format!(
            "<?xml version=\"1.0\"?>\n<root>\n{}</root>",
            element_with(80_000)
        );
        let problem = check(&text).unwrap_err();
        assert_eq!(problem.line, Some(3));
    }

    #[test]
    fn depth_up_to_the_limit_passes() {
        assert!(check(&nested(MAX_DEPTH)).is_ok());
        let problem = check(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(
            problem.message.contains("nested more than 128"),
            "{problem}"
        );
        // Siblings do not add up; empty elements do not nest.
        assert!(check(&nested(100).repeat(30)).is_ok());
        assert!(check(&format!("<a>{}</a>", "<e/>".repeat(1_000))).is_ok());
    }

    #[test]
    fn equals_signs_and_brackets_outside_tags_do_not_count() {
        let many = "=".repeat(1_000);
        let text = format!(
            "<?xml version=\"1.0\"?><!-- {many} <x {many}> --><r a=\"{many}\" b='{many}>'>\
             text {many} &gt; <![CDATA[<x {many}>]]><?pi {many}?></r>"
        );
        assert!(check(&text).is_ok());
    }

    #[test]
    fn an_unterminated_tag_is_left_to_the_parser_unless_it_is_too_long() {
        assert!(check("<r a=\"1\" b=\"2").is_ok());
        assert!(check("<!-- never closed").is_ok());
        let open = element_with(MAX_ATTRIBUTES + 1);
        assert!(check(&open[..open.len() - 2]).is_err());
    }

    /// A start tag `<name ...>` declaring `n` prefixes `{prefix}0..` bound
    /// to URIs of `uri_len` bytes or more.
    fn declaring(name: &str, prefix: &str, n: usize, uri_len: usize, empty: bool) -> String {
        let mut tag = format!("<{name}");
        for k in 0..n {
            tag.push_str(&format!(
                " xmlns:{prefix}{k}=\"urn:{}{k}\"",
                "u".repeat(uri_len.saturating_sub(4))
            ));
        }
        tag.push_str(if empty { "/>" } else { ">" });
        tag
    }

    #[test]
    fn the_issue_s_namespace_bomb_is_refused_at_its_first_element() {
        // 126 nested elements each declaring 62 prefixes (159 KB): 2.5 s of
        // CPU in the XML parse before this check.
        let mut text = String::from("<?xml version=\"1.0\"?>\n<root>\n  ");
        for level in 0..126 {
            text.push_str(&declaring("n", &format!("p{level}x"), 62, 12, false));
        }
        text.push_str(&"</n>".repeat(126));
        text.push_str("</root>");
        let problem = check(&text).unwrap_err();
        assert_eq!(problem.rule, Rule::XmlSyntax);
        assert_eq!(problem.line, Some(3));
        assert_eq!(
            problem.message,
            "the element at column 3 declares 62 namespaces; at most 16 may be declared on \
             one element"
        );
    }

    #[test]
    fn declarations_per_element_up_to_the_limit_pass() {
        let at_limit = declaring("r", "p", MAX_NAMESPACES_PER_ELEMENT, 10, true);
        assert!(check(&at_limit).is_ok());
        let over = declaring("r", "p", MAX_NAMESPACES_PER_ELEMENT + 1, 10, true);
        let problem = check(&over).unwrap_err();
        assert!(
            problem.message.contains("declares 17 namespaces"),
            "{problem}"
        );
        // The default namespace counts; other attributes do not.
        let mut tag = declaring("r", "p", MAX_NAMESPACES_PER_ELEMENT, 10, false);
        tag.insert_str(2, " a=\"1\" xmlnsx=\"2\" b:xmlns=\"3\"");
        assert!(check(&format!("{tag}</r>")).is_ok(), "{tag}");
        tag.insert_str(2, " xmlns = 'urn:d'");
        assert!(check(&format!("{tag}</r>")).is_err(), "{tag}");
    }

    #[test]
    fn declarations_in_scope_add_up_along_the_ancestors_only() {
        let half = MAX_NAMESPACES_IN_SCOPE / 2;
        let nest = |levels: usize| {
            let mut text = String::new();
            for level in 0..levels {
                text.push_str(&declaring("e", &format!("l{level}x"), half, 10, false));
            }
            text + &"</e>".repeat(levels)
        };
        assert!(check(&nest(2)).is_ok());
        let problem = check(&format!("<r>\n{}</r>", nest(3))).unwrap_err();
        assert_eq!(problem.line, Some(2));
        assert!(
            problem.message.contains(&format!(
                "has 48 namespace declarations in scope (its own and its ancestors'); at \
                 most {MAX_NAMESPACES_IN_SCOPE} are allowed"
            )),
            "{problem}"
        );
        // Siblings do not add up, closed elements leave the scope, and an
        // empty element's declarations never enter it.
        let siblings = format!("<r>{}</r>", nest(2).repeat(20));
        assert!(check(&siblings).is_ok());
        let empty = declaring("x", "y", half, 10, true).repeat(2);
        assert!(check(&format!("<r>{}{empty}</r>", nest(1))).is_ok());
    }

    #[test]
    fn namespace_uri_bytes_in_scope_are_bounded() {
        // Seventeen declarations of 121 bytes each: 2,057 bytes in scope.
        let problem = check(&format!(
            "{}{}</e></e>",
            declaring("e", "a", 9, 120, false),
            declaring("e", "b", 8, 120, false)
        ))
        .unwrap_err();
        assert!(
            problem
                .message
                .contains("bytes of namespace URIs in scope (its own declarations and its"),
            "{problem}"
        );
        assert!(
            problem.message.contains("has 2057 bytes of namespace URIs"),
            "{problem}"
        );
        assert!(check(&declaring("e", "a", 16, 120, true)).is_ok());
    }

    #[test]
    fn declarations_in_a_document_are_bounded() {
        let one = |k: usize| format!("<e xmlns:p{k}=\"urn:p\"/>");
        let within: String = (0..MAX_NAMESPACE_DECLARATIONS).map(one).collect();
        assert!(check(&format!("<r>{within}</r>")).is_ok());
        let problem = check(&format!("<r>{within}\n{}</r>", one(0))).unwrap_err();
        assert_eq!(problem.line, Some(2));
        assert_eq!(
            problem.message,
            "the document has more than 1024 namespace declarations (the limit is passed at \
             the element at column 1)"
        );
    }

    #[test]
    fn inherited_values_are_bounded_where_they_are_written() {
        let uri = "u".repeat(MAX_NAMESPACE_URI_BYTES);
        assert!(check(&format!("<r xmlns:p=\"{uri}\" xmlns='{uri}'/>")).is_ok());
        let problem = check(&format!("<r>\n <e a=\"1\" xmlns:p=\"{uri}x\"/></r>")).unwrap_err();
        assert_eq!(problem.line, Some(2));
        assert_eq!(
            problem.message,
            format!(
                "the namespace URI of xmlns:p at column 20 has {} bytes; the limit is {}",
                MAX_NAMESPACE_URI_BYTES + 1,
                MAX_NAMESPACE_URI_BYTES
            )
        );
        let problem = check(&format!("<r xmlns=\"{uri}x\"/>")).unwrap_err();
        assert!(
            problem
                .message
                .starts_with("the default namespace URI (xmlns)"),
            "{problem}"
        );
        let problem = check(&format!("<r xml:base=\"{uri}x\"/>")).unwrap_err();
        assert!(
            problem.message.starts_with(&format!(
                "the xml:base value at column 14 has {} bytes",
                MAX_NAMESPACE_URI_BYTES + 1
            )),
            "{problem}"
        );
        let lang = "x".repeat(MAX_XML_LANG_BYTES);
        assert!(check(&format!("<r xml:lang='{lang}'/>")).is_ok());
        let problem = check(&format!("<r xml:lang='{lang}-'/>")).unwrap_err();
        assert!(
            problem
                .message
                .contains("xml:lang value at column 14 has 129 bytes; the limit is 128"),
            "{problem}"
        );
        // Other attributes may be long; a declaration inside a value is text.
        let long = "v".repeat(100_000);
        assert!(check(&format!("<r a=\"{long}\" b='xmlns:p=\"{long}\"'/>")).is_ok());
    }

    #[test]
    fn elements_and_attributes_in_a_document_are_bounded() {
        let elements = format!("<r>{}</r>", "<e/>".repeat(MAX_ELEMENTS - 1));
        assert!(check(&elements).is_ok());
        let problem = check(&format!("<r>{}</r>", "<e/>".repeat(MAX_ELEMENTS))).unwrap_err();
        assert!(
            problem.message.starts_with(&format!(
                "the document has more than {} elements",
                MAX_ELEMENTS
            )),
            "{problem}"
        );
        // Comments, CDATA sections and processing instructions are not
        // elements.
        assert!(
            check(&format!(
                "<r>{}</r>",
                "<!--<e/>--><?e?>".repeat(MAX_ELEMENTS)
            ))
            .is_ok()
        );
        let per = 50;
        let attributes = element_with(per).repeat(MAX_DOCUMENT_ATTRIBUTES / per);
        assert!(check(&format!("<r>{attributes}</r>")).is_ok());
        let problem = check(&format!("<r>{attributes}<e a='1'/></r>")).unwrap_err();
        assert!(
            problem
                .message
                .starts_with("the document has more than 10000 attributes"),
            "{problem}"
        );
    }

    #[test]
    fn real_documents_are_far_below_every_limit() {
        let Some(dir) = marketplace_test_pki::corpus::require() else {
            return;
        };
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "xml") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(check(&text).is_ok(), "{}", path.display());
                read += 1;
            }
        }
        assert!(read >= 40);
    }
}
