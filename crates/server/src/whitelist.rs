//! The endorser whitelist (`endorser_whitelist`): certificate subject DNs
//! whose uploads skip e-mail confirmation (server-spec §6.9).
//!
//! The file has one DN per line, either in RFC 2253 form
//! (`CN=Jim Tester,O=StratusLab Project,C=EU`, most specific first) or in
//! OpenSSL's one-line form (`/C=EU/O=StratusLab Project/CN=Jim Tester`,
//! most general first); blank lines and lines starting with `#` are
//! ignored, and a line that is not a DN stops start-up (as the original).
//! Both forms are reduced to one canonical form before comparing: RDNs
//! most specific first, attribute types by one name (`emailAddress`, `E`
//! and `1.2.840.113549.1.9.1` are the same), `#hex` values decoded, and
//! values compared ignoring case and repeated spaces.
//!
//! A whitelisted signer is trusted only when its chain was verified against
//! the configured CA directory (`ca_dir`), see [`skips_confirmation`].

use marketplace_trust::document::ChainStatus;
use std::collections::HashSet;
use std::path::Path;

/// The whitelisted DNs, in canonical form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whitelist {
    names: HashSet<String>,
}

impl Whitelist {
    /// Reads a whitelist file; an unreadable file or a line that is not a
    /// DN is an error naming the line.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the endorser whitelist {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("endorser whitelist {}: {e}", path.display()))
    }

    /// Parses the text of a whitelist file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut names = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let canonical =
                canonical_dn(line).ok_or_else(|| format!("line {}: not a DN: {line}", n + 1))?;
            names.insert(canonical);
        }
        Ok(Whitelist { names })
    }

    /// Whether `dn` (either form) is on the list.
    pub fn contains(&self, dn: &str) -> bool {
        canonical_dn(dn).is_some_and(|c| self.names.contains(&c))
    }

    /// Number of DNs on the list.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Whether a signer with an uncertified e-mail skips e-mail confirmation:
/// its identity `subject` is on the whitelist **and** its chain was
/// verified against the CA directory (`chain` is trusted). Without a
/// whitelist, or with an unverified chain, never.
pub(crate) fn skips_confirmation(
    whitelist: Option<&Whitelist>,
    chain: &ChainStatus,
    subject: &str,
) -> bool {
    matches!(chain, ChainStatus::Trusted { .. }) && whitelist.is_some_and(|w| w.contains(subject))
}

/// One attribute: canonical type name and normalised value.
type Ava = (String, String);

/// The canonical form of a DN in RFC 2253 or OpenSSL one-line form, or
/// `None` when `dn` is neither.
pub(crate) fn canonical_dn(dn: &str) -> Option<String> {
    let dn = dn.trim();
    let rdns = if dn.starts_with('/') {
        let mut rdns = parse_oneline(dn)?;
        rdns.reverse();
        rdns
    } else {
        parse_rfc2253(dn)?
    };
    if rdns.is_empty() {
        return None;
    }
    let text = rdns
        .into_iter()
        .map(|mut rdn| {
            rdn.sort();
            rdn.iter()
                .map(|(t, v)| format!("{t}={}", escape(v)))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",");
    Some(text)
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if ",+=\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The canonical name of an attribute type (keywords, aliases, OIDs).
fn attribute_type(name: &str) -> Option<String> {
    let name = name.trim();
    let name = name
        .strip_prefix("OID.")
        .or_else(|| name.strip_prefix("oid."))
        .unwrap_or(name);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return None;
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
        other => return Some(other.to_ascii_lowercase()),
    };
    Some(canonical.to_string())
}

/// A value for comparison: trimmed, runs of spaces collapsed, lower case.
fn normalise_value(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Decodes a `#hex` value holding a DER string; other DER stays as hex.
fn hex_value(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    Some(der_string(&bytes).unwrap_or_else(|| format!("#{}", hex.to_ascii_lowercase())))
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

/// Parses an RFC 2253 DN into RDNs (most specific first).
fn parse_rfc2253(dn: &str) -> Option<Vec<Vec<Ava>>> {
    let chars: Vec<char> = dn.chars().collect();
    let mut rdns: Vec<Vec<Ava>> = Vec::new();
    let mut rdn: Vec<Ava> = Vec::new();
    let mut i = 0;
    loop {
        // Attribute type up to '='.
        let start = i;
        while i < chars.len() && chars[i] != '=' {
            if ",+;\\\"".contains(chars[i]) {
                return None;
            }
            i += 1;
        }
        if i >= chars.len() {
            return None;
        }
        let kind = attribute_type(&chars[start..i].iter().collect::<String>())?;
        i += 1;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        // Value.
        let value = if chars.get(i) == Some(&'#') {
            i += 1;
            let start = i;
            while i < chars.len() && chars[i].is_ascii_hexdigit() {
                i += 1;
            }
            hex_value(&chars[start..i].iter().collect::<String>())?
        } else if chars.get(i) == Some(&'"') {
            let mut bytes = Vec::new();
            i += 1;
            loop {
                match chars.get(i)? {
                    '"' => break,
                    '\\' => {
                        i += 1;
                        push_char(&mut bytes, *chars.get(i)?);
                    }
                    c => push_char(&mut bytes, *c),
                }
                i += 1;
            }
            i += 1;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let mut bytes = Vec::new();
            while i < chars.len() && !",+;".contains(chars[i]) {
                if chars[i] == '\\' {
                    let a = *chars.get(i + 1)?;
                    match (
                        a.to_digit(16),
                        chars.get(i + 2).and_then(|b| b.to_digit(16)),
                    ) {
                        (Some(h), Some(l)) => {
                            bytes.push((h * 16 + l) as u8);
                            i += 3;
                        }
                        _ => {
                            push_char(&mut bytes, a);
                            i += 2;
                        }
                    }
                } else {
                    push_char(&mut bytes, chars[i]);
                    i += 1;
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        };
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        rdn.push((kind, normalise_value(&value)));
        match chars.get(i) {
            None => {
                rdns.push(rdn);
                return Some(rdns);
            }
            Some('+') => {}
            Some(',') | Some(';') => rdns.push(std::mem::take(&mut rdn)),
            Some(_) => return None,
        }
        i += 1;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
    }
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
fn parse_oneline(dn: &str) -> Option<Vec<Vec<Ava>>> {
    let mut rdns: Vec<Vec<Ava>> = Vec::new();
    let mut rest = dn.strip_prefix('/')?;
    let mut current: Vec<(String, String, bool)> = Vec::new();
    // Split into (type, raw value, starts a new RDN) pieces.
    let mut new_rdn = true;
    loop {
        let (kind, after) = rest.split_once('=')?;
        let mut end = after.len();
        let mut next_new = None;
        for (idx, c) in after.char_indices() {
            if (c == '/' || c == '+') && starts_attribute(&after[idx + 1..]) {
                end = idx;
                next_new = Some(c == '/');
                break;
            }
        }
        current.push((kind.to_string(), after[..end].to_string(), new_rdn));
        match next_new {
            Some(is_new) => {
                new_rdn = is_new;
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    for (kind, raw, starts) in current {
        let kind = attribute_type(&kind)?;
        let value = normalise_value(&unescape_oneline(&raw));
        match rdns.last_mut() {
            Some(rdn) if !starts => rdn.push((kind, value)),
            _ => rdns.push(vec![(kind, value)]),
        }
    }
    Some(rdns)
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
mod tests {
    use super::*;

    #[test]
    fn both_forms_compare_equal() {
        let a = canonical_dn("CN=Jim Tester,O=StratusLab Project,C=EU").unwrap();
        let b = canonical_dn("/C=EU/O=StratusLab Project/CN=Jim Tester").unwrap();
        let c = canonical_dn("cn = jim  tester , o=STRATUSLAB project;C=eu").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_ne!(
            a,
            canonical_dn("/C=EU/O=StratusLab Project/CN=Jim").unwrap()
        );
        // Order matters.
        assert_ne!(
            a,
            canonical_dn("/CN=Jim Tester/O=StratusLab Project/C=EU").unwrap()
        );
    }

    #[test]
    fn email_attribute_in_every_spelling() {
        // Java's form: the e-mail as the hex of its DER IA5String.
        let java = "1.2.840.113549.1.9.1=#16106a616e65406578616d706c652e6f7267,CN=Jane Tester,DC=example,DC=org";
        let openssl = "/DC=org/DC=example/CN=Jane Tester/emailAddress=jane@example.org";
        let rfc = "E=jane@example.org,CN=Jane Tester,DC=example,DC=org";
        assert_eq!(canonical_dn(java), canonical_dn(openssl));
        assert_eq!(canonical_dn(java), canonical_dn(rfc));
    }

    #[test]
    fn escapes_and_multi_valued() {
        assert_eq!(
            canonical_dn("CN=a\\,b\\+c,O=x\\2Cy"),
            canonical_dn("/O=x,y/CN=a,b+c")
        );
        assert_eq!(
            canonical_dn("CN=Bob+UID=bob42,O=Org"),
            canonical_dn("/O=Org/UID=bob42+CN=Bob")
        );
        assert_eq!(
            canonical_dn("CN=J\\C3\\BCrgen,O=Org"),
            canonical_dn("/O=Org/CN=J\\xC3\\xBCrgen")
        );
        assert_eq!(
            canonical_dn("CN=\"Smith, J\",O=Org"),
            canonical_dn("/O=Org/CN=Smith, J")
        );
        // A '/' inside a value of the one-line form.
        assert_eq!(
            canonical_dn("/O=Org/CN=host/www.example.org").unwrap(),
            "cn=host/www.example.org,o=org"
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in ["", "/", "just text", "CN=x,,O=y", "CN", "/=x", "CN=x,O"] {
            assert!(canonical_dn(bad).is_none(), "{bad:?}");
        }
        let err = Whitelist::parse("# comment\n\nCN=ok,C=EU\nnot a dn\n").unwrap_err();
        assert!(err.starts_with("line 4:"), "{err}");
        let w =
            Whitelist::parse("# admins\n/C=EU/O=Grid/CN=Alice\n\nCN=Bob,O=Grid,C=EU\n").unwrap();
        assert_eq!(w.len(), 2);
        assert!(w.contains("CN=Alice,O=Grid,C=EU"));
        assert!(w.contains("/C=EU/O=Grid/CN=Bob"));
        assert!(!w.contains("CN=Mallory,O=Grid,C=EU"));
    }

    #[test]
    fn only_verified_chains_skip() {
        let w = Whitelist::parse("CN=Alice,O=Grid,C=EU").unwrap();
        let trusted = ChainStatus::Trusted {
            subject: "CN=Alice,O=Grid,C=EU".into(),
            issuer: "CN=CA".into(),
            proxy_depth: 0,
            voms: Vec::new(),
        };
        assert!(skips_confirmation(
            Some(&w),
            &trusted,
            "CN=Alice,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(
            Some(&w),
            &trusted,
            "CN=Eve,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(
            Some(&w),
            &ChainStatus::NotChecked,
            "CN=Alice,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(None, &trusted, "CN=Alice,O=Grid,C=EU"));
    }
}
