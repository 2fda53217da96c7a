//! Escaping for the formats the server writes: XML text and attributes,
//! URL path segments and query values.

/// Escapes `text` for XML (and HTML) text and attribute values: `& < > " '`.
/// Characters that XML 1.0 cannot carry at all (most C0 controls) are
/// replaced by U+FFFD so that the output is always well-formed.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes `segment` for use as one URL path segment. Unreserved
/// characters and `@ : + ! $ , ;` stay as they are (so e-mails and dates
/// read naturally); everything else, `/` included, is encoded.
pub fn path_segment(segment: &str) -> String {
    encode(segment, |b| {
        b.is_ascii_alphanumeric() || b"-._~@:+!$,;".contains(&b)
    })
}

/// Percent-encodes a query-string value (`&`, `=`, `+`, `#` … encoded).
pub fn query_value(value: &str) -> String {
    encode(value, |b| {
        b.is_ascii_alphanumeric() || b"-._~@:".contains(&b)
    })
}

fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The document without a leading byte-order mark and XML declaration
/// (`<?xml …?>`), so that it can be embedded in another XML document.
pub fn strip_xml_declaration(document: &str) -> &str {
    let text = document.strip_prefix('\u{FEFF}').unwrap_or(document);
    let trimmed = text.trim_start();
    if trimmed.starts_with("<?xml")
        && trimmed[5..].starts_with(|c: char| c.is_whitespace() || c == '?')
        && let Some(end) = trimmed.find("?>")
    {
        return trimmed[end + 2..].trim_start_matches(['\r', '\n']);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            xml("<a href=\"x\">'&'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\u{FFFD}"
        );
    }

    #[test]
    fn segments() {
        assert_eq!(path_segment("jane+x@example.org"), "jane+x@example.org");
        assert_eq!(path_segment("2014-03-08T14:10:40Z"), "2014-03-08T14:10:40Z");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(query_value("a&b=c d\""), "a%26b%3Dc%20d%22");
    }

    #[test]
    fn declaration_removed() {
        assert_eq!(
            strip_xml_declaration("<?xml version=\"1.0\"?>\n<rdf:RDF/>"),
            "<rdf:RDF/>"
        );
        assert_eq!(strip_xml_declaration("\u{FEFF}<a/>"), "<a/>");
        assert_eq!(
            strip_xml_declaration("<?xml-stylesheet x?><a/>"),
            "<?xml-stylesheet x?><a/>"
        );
    }
}
