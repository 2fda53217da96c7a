//! [`DistinguishedName`]: a DN parsed from either written form, printed in RFC 2253 form and
//! compared by one canonical form.
//!
//! The canonical form (the one the server's endorser whitelist has always used): RDNs most
//! specific first, the attributes of a multi-valued RDN sorted, attribute types by one
//! lower-case name (`emailAddress`, `E` and `1.2.840.113549.1.9.1` are the same), `#hex`
//! values holding a DER string decoded, and values compared ignoring case, leading and
//! trailing spaces and runs of spaces.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use openssl::x509::X509NameRef;

/// A distinguished name, in either of the forms the grid writes.
///
/// Parse one with [`DistinguishedName::parse`] (or `str::parse`); `Display` writes it in RFC
/// 2253 form (most specific RDN first, values escaped); `Eq`, `Ord` and `Hash` compare the
/// [canonical form](DistinguishedName::canonical).
#[derive(Debug, Clone)]
pub struct DistinguishedName {
    /// RDNs, most specific first; each one's attributes as written.
    rdns: Vec<Vec<Attribute>>,
    /// The canonical form, computed once.
    canonical: String,
}

/// One `type=value` of a DN.
#[derive(Debug, Clone)]
struct Attribute {
    /// Canonical (lower-case) type name: `cn`, `emailaddress`, or a dotted OID.
    kind: String,
    /// The decoded value, without leading and trailing spaces.
    value: String,
    /// Whether `value` is `#` and the hex of DER that is not a string (printed as is).
    hex: bool,
}

/// Why a text is not a DN, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnError {
    reason: String,
    position: usize,
}

impl DnError {
    fn new(reason: impl Into<String>, position: usize) -> Self {
        DnError {
            reason: reason.into(),
            position,
        }
    }

    /// What is wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Where: the 1-based character position in the text given to the parser.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a DN: {} at character {}",
            self.reason, self.position
        )
    }
}

impl std::error::Error for DnError {}

impl DistinguishedName {
    /// Parses a DN in RFC 2253 form (`CN=Jim Tester,O=StratusLab Project,C=EU`) or, when it
    /// starts with `/`, OpenSSL's one-line form (`/C=EU/O=StratusLab Project/CN=Jim Tester`).
    /// Surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<Self, DnError> {
        if text.trim().is_empty() {
            return Err(DnError::new("empty text", 1));
        }
        if text.trim_start().starts_with('/') {
            Self::parse_oneline(text)
        } else {
            Self::parse_rfc2253(text)
        }
    }

    /// Parses the RFC 2253 form (RFC 4514 escapes, `"quoted"` values, `#hex` values, `;` as
    /// well as `,` between RDNs, `+` within one, spaces around separators).
    pub fn parse_rfc2253(text: &str) -> Result<Self, DnError> {
        let (offset, dn) = trimmed(text);
        let rdns = parse_rfc2253(dn).map_err(|e| DnError::new(e.reason, e.position + offset))?;
        Ok(Self::from_rdns(rdns))
    }

    /// Parses OpenSSL's one-line form `/C=EU/O=Org/CN=Name` (most general RDN first, `+`
    /// between the attributes of one RDN, `\xHH` escapes); a `/` or `+` not followed by
    /// `type=` belongs to the value.
    pub fn parse_oneline(text: &str) -> Result<Self, DnError> {
        let (offset, dn) = trimmed(text);
        let mut rdns =
            parse_oneline(dn).map_err(|e| DnError::new(e.reason, e.position + offset))?;
        rdns.reverse();
        Ok(Self::from_rdns(rdns))
    }

    /// The DN of a certificate's subject or issuer name (an empty name is an error).
    pub fn from_x509(name: &X509NameRef) -> Result<Self, DnError> {
        Self::parse_rfc2253(&super::rfc2253(name))
    }

    /// Whether two written DNs (either notation) name the same subject: what the server's
    /// upload rules and a site's policy both ask. Text that is not a DN equals only the very
    /// same text.
    pub fn same(a: &str, b: &str) -> bool {
        match (Self::parse(a), Self::parse(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        }
    }

    /// The canonical form `Eq` and `Hash` compare: `cn=jim tester,o=stratuslab project,c=eu`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    fn from_rdns(rdns: Vec<Vec<Attribute>>) -> Self {
        let canonical = rdns
            .iter()
            .map(|rdn| {
                let mut avas: Vec<(&str, String)> = rdn
                    .iter()
                    .map(|a| (a.kind.as_str(), normalise_value(&a.value)))
                    .collect();
                avas.sort();
                avas.iter()
                    .map(|(t, v)| format!("{t}={}", canonical_escape(v)))
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect::<Vec<_>>()
            .join(",");
        DistinguishedName { rdns, canonical }
    }
}

impl FromStr for DistinguishedName {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for DistinguishedName {}

impl Hash for DistinguishedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for DistinguishedName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DistinguishedName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl fmt::Display for DistinguishedName {
    /// RFC 2253 form: RDNs most specific first joined by `,`, attributes of one RDN by `+`,
    /// the usual keywords (`CN`, `O`, ..., `emailAddress`) or dotted OIDs, and values escaped
    /// as RFC 4514 asks. Parsing the output gives an equal DN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, a) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                f.write_str(keyword(&a.kind))?;
                f.write_str("=")?;
                if a.hex {
                    f.write_str(&a.value)?;
                } else {
                    f.write_str(&rfc4514_escape(&a.value))?;
                }
            }
        }
        Ok(())
    }
}

/// `text` without surrounding whitespace, and the number of characters removed before it.
fn trimmed(text: &str) -> (usize, &str) {
    let start = text.trim_start();
    (
        text.chars().count() - start.chars().count(),
        start.trim_end(),
    )
}

/// The keyword `Display` writes for a canonical type name (the name itself when none).
fn keyword(kind: &str) -> &str {
    match kind {
        "cn" => "CN",
        "c" => "C",
        "l" => "L",
        "st" => "ST",
        "street" => "STREET",
        "o" => "O",
        "ou" => "OU",
        "dc" => "DC",
        "uid" => "UID",
        "emailaddress" => "emailAddress",
        "serialnumber" => "serialNumber",
        "sn" => "SN",
        "gn" => "GN",
        "title" => "title",
        other => other,
    }
}

/// Escapes a value as RFC 4514 asks: `"+,;<>\` anywhere, `#` and space first, space last,
/// NUL as `\00`.
fn rfc4514_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => out.push('\\'),
            '#' if i == 0 => out.push('\\'),
            ' ' if i == 0 || i == last => out.push('\\'),
            '\0' => {
                out.push_str("\\00");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Escapes a normalised value in the canonical form.
fn canonical_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if ",+=\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A parse error inside the trimmed text (1-based character position).
struct At {
    reason: String,
    position: usize,
}

fn at(reason: impl Into<String>, index: usize) -> At {
    At {
        reason: reason.into(),
        position: index + 1,
    }
}

/// The canonical name of an attribute type (keywords, aliases, OIDs).
fn attribute_type(name: &str) -> Result<String, String> {
    let name = name.trim();
    let name = name
        .strip_prefix("OID.")
        .or_else(|| name.strip_prefix("oid."))
        .unwrap_or(name);
    if name.is_empty() {
        return Err("empty attribute type".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '-'))
    {
        return Err(format!("attribute type '{name}' contains '{c}'"));
    }
    let canonical = match name.to_ascii_uppercase().as_str() {
        "CN" | "COMMONNAME" | "2.5.4.3" => "cn",
        "C" | "COUNTRYNAME" | "2.5.4.6" => "c",
        "L" | "LOCALITYNAME" | "2.5.4.7" => "l",
        "ST" | "S" | "STATEORPROVINCENAME" | "2.5.4.8" => "st",
        "STREET" | "STREETADDRESS" | "2.5.4.9" => "street",
        "O" | "ORGANIZATIONNAME" | "2.5.4.10" => "o",
        "OU" | "ORGANIZATIONALUNITNAME" | "2.5.4.11" => "ou",
        "DC" | "DOMAINCOMPONENT" | "0.9.2342.19200300.100.1.25" => "dc",
        "UID" | "USERID" | "0.9.2342.19200300.100.1.1" => "uid",
        "E" | "EMAIL" | "EMAILADDRESS" | "1.2.840.113549.1.9.1" => "emailaddress",
        "SERIALNUMBER" | "2.5.4.5" => "serialnumber",
        "SN" | "SURNAME" | "2.5.4.4" => "sn",
        "GN" | "GIVENNAME" | "2.5.4.42" => "gn",
        "T" | "TITLE" | "2.5.4.12" => "title",
        other => return Ok(other.to_ascii_lowercase()),
    };
    Ok(canonical.to_string())
}

/// A value for comparison: trimmed, runs of spaces collapsed, lower case.
fn normalise_value(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Decodes a `#hex` value holding a DER string (`(text, false)`); other DER stays as
/// `#` and lower-case hex (`(text, true)`). `None` when `hex` is not an even number of
/// hex digits.
fn hex_value(hex: &str) -> Option<(String, bool)> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    Some(match der_string(&bytes) {
        Some(s) => (s, false),
        None => (format!("#{}", hex.to_ascii_lowercase()), true),
    })
}

/// The text of a DER-encoded string type, if `der` is one.
fn der_string(der: &[u8]) -> Option<String> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, content) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
        0x82 => (
            usize::from(*rest.first()?) << 8 | usize::from(*rest.get(1)?),
            rest.get(2..)?,
        ),
        _ => return None,
    };
    if content.len() != len {
        return None;
    }
    match tag {
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a | 0x1b => {
            Some(String::from_utf8_lossy(content).into_owned())
        }
        0x1e if len.is_multiple_of(2) => {
            let units: Vec<u16> = content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        0x1c if len.is_multiple_of(4) => Some(
            content
                .chunks(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect(),
        ),
        _ => None,
    }
}

fn attribute(kind: String, value: &str, hex: bool) -> Attribute {
    Attribute {
        kind,
        value: value.trim().to_string(),
        hex,
    }
}

/// Parses an RFC 2253 DN into RDNs (most specific first).
fn parse_rfc2253(dn: &str) -> Result<Vec<Vec<Attribute>>, At> {
    let chars: Vec<char> = dn.chars().collect();
    let mut rdns: Vec<Vec<Attribute>> = Vec::new();
    let mut rdn: Vec<Attribute> = Vec::new();
    let mut i = 0;
    loop {
        let kind = type_at(&chars, &mut i)?;
        skip_spaces(&chars, &mut i);
        let (value, hex) = match chars.get(i) {
            Some('#') => hex_value_at(&chars, &mut i)?,
            Some('"') => quoted_value_at(&chars, &mut i)?,
            _ => plain_value_at(&chars, &mut i)?,
        };
        skip_spaces(&chars, &mut i);
        rdn.push(attribute(kind, &value, hex));
        match chars.get(i) {
            None => {
                rdns.push(rdn);
                return Ok(rdns);
            }
            Some('+') => {}
            Some(',') | Some(';') => rdns.push(std::mem::take(&mut rdn)),
            Some(c) => {
                return Err(at(
                    format!("'{c}' after a value (expected ',', ';' or '+')"),
                    i,
                ));
            }
        }
        i += 1;
        skip_spaces(&chars, &mut i);
    }
}

/// Moves `i` past spaces.
fn skip_spaces(chars: &[char], i: &mut usize) {
    while *i < chars.len() && chars[*i] == ' ' {
        *i += 1;
    }
}

/// The attribute type from `i` up to its '=' (which `i` is moved past).
fn type_at(chars: &[char], i: &mut usize) -> Result<String, At> {
    let start = *i;
    while *i < chars.len() && chars[*i] != '=' {
        if ",+;\\\"".contains(chars[*i]) {
            return Err(at(
                format!("'{}' in an attribute type (expected type=value)", chars[*i]),
                *i,
            ));
        }
        *i += 1;
    }
    let name: String = chars[start..*i].iter().collect();
    if *i >= chars.len() {
        return Err(at(
            format!("'{}' has no '=' (expected type=value)", name.trim()),
            start,
        ));
    }
    let kind = attribute_type(&name).map_err(|e| at(e, start))?;
    *i += 1;
    Ok(kind)
}

/// A `#`-prefixed hexadecimal value (its BER encoding) at `i`.
fn hex_value_at(chars: &[char], i: &mut usize) -> Result<(String, bool), At> {
    let value_start = *i;
    *i += 1;
    let start = *i;
    while *i < chars.len() && chars[*i].is_ascii_hexdigit() {
        *i += 1;
    }
    hex_value(&chars[start..*i].iter().collect::<String>()).ok_or_else(|| {
        at(
            "'#' not followed by an even number of hex digits",
            value_start,
        )
    })
}

/// A `"`-quoted value at `i` (backslash escapes one character).
fn quoted_value_at(chars: &[char], i: &mut usize) -> Result<(String, bool), At> {
    let value_start = *i;
    let mut bytes = Vec::new();
    *i += 1;
    loop {
        match chars.get(*i) {
            None => return Err(at("unterminated quoted value", value_start)),
            Some('"') => break,
            Some('\\') => {
                *i += 1;
                let c = chars
                    .get(*i)
                    .ok_or_else(|| at("unterminated quoted value", value_start))?;
                push_char(&mut bytes, *c);
            }
            Some(c) => push_char(&mut bytes, *c),
        }
        *i += 1;
    }
    *i += 1;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), false))
}

/// An unquoted value at `i`, up to the next unescaped ',', '+' or ';'
/// (`\c` escapes a character, `\hh` gives a byte).
fn plain_value_at(chars: &[char], i: &mut usize) -> Result<(String, bool), At> {
    let mut bytes = Vec::new();
    while *i < chars.len() && !",+;".contains(chars[*i]) {
        if chars[*i] == '\\' {
            let a = *chars
                .get(*i + 1)
                .ok_or_else(|| at("'\\' at the end of the text escapes nothing", *i))?;
            match (
                a.to_digit(16),
                chars.get(*i + 2).and_then(|b| b.to_digit(16)),
            ) {
                (Some(h), Some(l)) => {
                    bytes.push((h * 16 + l) as u8);
                    *i += 3;
                }
                _ => {
                    push_char(&mut bytes, a);
                    *i += 2;
                }
            }
        } else {
            push_char(&mut bytes, chars[*i]);
            *i += 1;
        }
    }
    Ok((String::from_utf8_lossy(&bytes).into_owned(), false))
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Whether `text` starts with `type=` (so a `/` or `+` before it separates
/// attributes rather than being part of a value).
fn starts_attribute(text: &str) -> bool {
    text.split_once('=').is_some_and(|(t, _)| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    })
}

/// Parses OpenSSL's one-line form `/C=EU/O=Org/CN=Name` into RDNs (most
/// general first, as written). `\xHH` escapes are decoded; a `/` or `+`
/// not followed by `type=` belongs to the value.
fn parse_oneline(dn: &str) -> Result<Vec<Vec<Attribute>>, At> {
    let char_at = |byte: usize| dn[..byte].chars().count();
    let mut rest = dn
        .strip_prefix('/')
        .ok_or_else(|| at("the one-line form starts with '/'", 0))?;
    let mut rest_start = 1;
    // Split into (type, its position, raw value, starts a new RDN) pieces.
    let mut pieces: Vec<(&str, usize, &str, bool)> = Vec::new();
    let mut new_rdn = true;
    loop {
        let Some((kind, after)) = rest.split_once('=') else {
            return Err(at(
                format!("'{rest}' has no '=' (expected type=value)"),
                char_at(rest_start),
            ));
        };
        let mut end = after.len();
        let mut next_new = None;
        for (idx, c) in after.char_indices() {
            if (c == '/' || c == '+') && starts_attribute(&after[idx + 1..]) {
                end = idx;
                next_new = Some(c == '/');
                break;
            }
        }
        pieces.push((kind, rest_start, &after[..end], new_rdn));
        match next_new {
            Some(is_new) => {
                new_rdn = is_new;
                rest_start += kind.len() + 1 + end + 1;
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    let mut rdns: Vec<Vec<Attribute>> = Vec::new();
    for (kind, start, raw, starts) in pieces {
        let kind = attribute_type(kind).map_err(|e| at(e, char_at(start)))?;
        let value = attribute(kind, &unescape_oneline(raw), false);
        match rdns.last_mut() {
            Some(rdn) if !starts => rdn.push(value),
            _ => rdns.push(vec![value]),
        }
    }
    Ok(rdns)
}

/// Decodes OpenSSL's `\xHH` escapes (bytes, read as UTF-8).
fn unescape_oneline(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(b) = raw
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
