//! Limits on the shape of the markup, checked before any XML parser runs.
//!
//! The XML parsers this project uses (roxmltree here, uppsala in the trust
//! crate, quick-xml under oxrdfxml) check an element's attributes for
//! duplicates by comparing each new one with every earlier one: a start tag
//! with 80,000 attributes — possible in a 1 MiB upload — cost over 30 s of
//! CPU before a single rule or signature was looked at (roxmltree issue
//! #153). Nesting is unbounded in roxmltree and oxrdfxml, while uppsala, which
//! verifies the signature, refuses more than 128 levels. [`check`] refuses
//! both shapes in one linear pass over the text, so every parser after it
//! sees at most [`MAX_ATTRIBUTES`] attributes per element and
//! [`MAX_DEPTH`] levels.
//!
//! Written by hand because the scan must be total: a tokenizer (quick-xml)
//! stops at the first thing it finds malformed, and a more lenient parser
//! behind it could still meet the costly tag further on. This scan never
//! stops early; it only needs to tell start tags, end tags, comments,
//! CDATA sections, processing instructions and declarations apart, and quoted
//! attribute values from the rest of a tag. Anything it cannot make sense of
//! is left for the parser to report.

use crate::problem::{Problem, Rule};

/// The most attributes (namespace declarations included) one element may
/// have. Real documents have at most a dozen, on the root.
pub const MAX_ATTRIBUTES: usize = 64;

/// The deepest nesting of elements allowed (the signature verifier's own
/// limit). Real documents are seven levels deep.
pub const MAX_DEPTH: usize = 128;

/// Refuses a text with an element of more than [`MAX_ATTRIBUTES`]
/// attributes or nested more than [`MAX_DEPTH`] deep; linear in the text.
pub fn check(text: &str) -> Result<(), Problem> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
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
                depth = depth.saturating_sub(1);
            }
            skip_past(bytes, start + 1, b">")
        } else {
            let tag = start_tag(bytes, start + 1);
            if tag.attributes > MAX_ATTRIBUTES {
                return Err(refused(
                    text,
                    start,
                    format!(
                        "an element has more than {MAX_ATTRIBUTES} attributes \
                         (namespace declarations included)"
                    ),
                ));
            }
            if !tag.empty {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(refused(
                        text,
                        start,
                        format!("elements are nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
            }
            tag.end
        };
    }
    Ok(())
}

/// What [`start_tag`] read.
struct StartTag {
    /// Attributes seen (each `=` outside a quoted value), counted only up to
    /// one past the limit.
    attributes: usize,
    /// Whether the tag ends with `/>`.
    empty: bool,
    /// The offset just past the tag (or the end of the text).
    end: usize,
}

/// Reads the start tag whose name begins at `from`, up to its `>` outside
/// quotes.
fn start_tag(bytes: &[u8], from: usize) -> StartTag {
    let mut attributes = 0;
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'=' => {
                    attributes += 1;
                    if attributes > MAX_ATTRIBUTES {
                        break;
                    }
                }
                b'>' => {
                    return StartTag {
                        attributes,
                        empty: i > from && bytes[i - 1] == b'/',
                        end: i + 1,
                    };
                }
                _ => {}
            },
        }
        i += 1;
    }
    StartTag {
        attributes,
        empty: false,
        end: bytes.len(),
    }
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
        assert!(check(&nested(100).repeat(50)).is_ok());
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
}
