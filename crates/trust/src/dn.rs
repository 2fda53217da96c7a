//! Distinguished names as strings, in the two forms the marketplace meets.
//!
//! * [`rfc2253`]: exactly what Java's `X500Principal.getName()` returns (checked against
//!   OpenJDK 17). The original StratusLab tools wrote this form into signed metadata
//!   (`slreq:subject`, `slreq:issuer`), so the strings must match byte for byte.
//! * [`openssl_oneline`]: the grid form `/C=EU/O=.../CN=...` produced by OpenSSL's
//!   `X509_NAME_oneline`, used in VOMS `.lsc` files, whitelists and messages.
//!
//! [`DistinguishedName`] parses either form (and certificate names) into the one value every
//! consumer compares: the server's endorser whitelist and upload rules, and site policies.

mod name;

pub use name::{DistinguishedName, DnError};

use std::ffi::{CStr, c_char, c_int};
use std::fmt::Write as _;

use foreign_types::ForeignTypeRef;
use openssl::nid::Nid;
use openssl::x509::{X509NameEntryRef, X509NameRef};
use openssl_sys as ffi;

// Both are stable public OpenSSL APIs that openssl-sys does not declare; libcrypto is linked
// through openssl-sys.
unsafe extern "C" {
    fn X509_NAME_ENTRY_set(ne: *const ffi::X509_NAME_ENTRY) -> c_int;
    fn X509_NAME_oneline(name: *const ffi::X509_NAME, buf: *mut c_char, size: c_int)
    -> *mut c_char;
}

/// Characters Java's `AVA.toRFC2253String` escapes with a backslash wherever they occur.
const JAVA_ESCAPEES: &str = ",=+<>#;\"\\";

/// Formats `name` exactly as Java's `X500Principal.getName()` (RFC 2253 form) does.
///
/// RDNs are written most specific first (reverse of DER order) and joined by `,`; the
/// attributes of a multi-valued RDN are joined by `+` in DER order. Only `CN C L ST O OU
/// STREET DC UID` have keywords; other attribute types are written as dotted OIDs, and their
/// values, like any value that is not a Printable/T61/IA5/General/UTF8/BMP string, as `#` and
/// the lower-case hex of the DER encoding (`2.5.4.5=#1303...`, `L=#1c04...`).
/// String values are decoded as UTF-8 (as Java does, whatever the string type), the
/// characters `,=+<>#;"\` are backslash-escaped anywhere, NUL becomes `\00`, and leading and
/// trailing spaces and carriage returns are backslash-escaped.
pub fn rfc2253(name: &X509NameRef) -> String {
    let mut rdns: Vec<Vec<String>> = Vec::new();
    let mut last_set = None;
    for entry in name.entries() {
        let set = entry_set(entry);
        let ava = java_ava(entry);
        match rdns.last_mut() {
            Some(rdn) if last_set == Some(set) => rdn.push(ava),
            _ => rdns.push(vec![ava]),
        }
        last_set = Some(set);
    }
    rdns.iter()
        .rev()
        .map(|rdn| rdn.join("+"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Formats `name` as OpenSSL's `X509_NAME_oneline` does: `/C=EU/O=Org/CN=Name`, in DER
/// order, OpenSSL short names (`emailAddress`, `DC`, `UID`, ...) or dotted OIDs, bytes outside
/// printable ASCII as `\xHH`, and (OpenSSL 3) `+` between attributes of a multi-valued RDN.
pub fn openssl_oneline(name: &X509NameRef) -> String {
    // SAFETY: `name` is a valid X509_NAME; with a null buffer OpenSSL allocates the result
    // (or returns null on failure), which we copy and then free with OPENSSL_free.
    unsafe {
        let p = X509_NAME_oneline(name.as_ptr(), std::ptr::null_mut(), 0);
        if p.is_null() {
            return String::new();
        }
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        ffi::OPENSSL_free(p.cast());
        s
    }
}

/// Index of the RDN (SET) an entry belongs to, as OpenSSL records it.
fn entry_set(entry: &X509NameEntryRef) -> c_int {
    // SAFETY: `entry` is a valid X509_NAME_ENTRY for the duration of the call.
    unsafe { X509_NAME_ENTRY_set(entry.as_ptr()) }
}

/// The RFC 2253 keyword Java uses for an attribute type, if it has one.
fn java_keyword(nid: Nid) -> Option<&'static str> {
    Some(match nid {
        Nid::COMMONNAME => "CN",
        Nid::COUNTRYNAME => "C",
        Nid::LOCALITYNAME => "L",
        Nid::STATEORPROVINCENAME => "ST",
        Nid::ORGANIZATIONNAME => "O",
        Nid::ORGANIZATIONALUNITNAME => "OU",
        Nid::STREETADDRESS => "STREET",
        Nid::DOMAINCOMPONENT => "DC",
        Nid::USERID => "UID",
        _ => return None,
    })
}

/// One `type=value` pair in Java's RFC 2253 form.
fn java_ava(entry: &X509NameEntryRef) -> String {
    let data = entry.data();
    // SAFETY: `data` is a valid ASN1_STRING.
    let tag = unsafe { ffi::ASN1_STRING_type(data.as_ptr()) };
    let bytes = data.as_slice();
    match java_keyword(entry.object().nid()) {
        Some(keyword) if is_java_string(tag) => {
            format!("{keyword}={}", java_escape(&String::from_utf8_lossy(bytes)))
        }
        Some(keyword) => format!("{keyword}=#{}", hex(&der_value(tag, bytes))),
        None => format!("{}=#{}", dotted_oid(entry), hex(&der_value(tag, bytes))),
    }
}

/// The string types Java's `AVA.isDerString(value, false)` accepts (not UniversalString).
fn is_java_string(tag: c_int) -> bool {
    matches!(
        tag,
        ffi::V_ASN1_PRINTABLESTRING
            | ffi::V_ASN1_T61STRING
            | ffi::V_ASN1_IA5STRING
            | ffi::V_ASN1_GENERALSTRING
            | ffi::V_ASN1_UTF8STRING
            | ffi::V_ASN1_BMPSTRING
    )
}

/// Escapes a decoded value as `AVA.toRFC2253String` does.
fn java_escape(value: &str) -> String {
    let mut escaped: Vec<char> = Vec::with_capacity(value.len());
    for c in value.chars() {
        if JAVA_ESCAPEES.contains(c) {
            escaped.extend(['\\', c]);
        } else if c == '\0' {
            escaped.extend(['\\', '0', '0']);
        } else {
            escaped.push(c);
        }
    }
    let is_ws = |c: &char| *c == ' ' || *c == '\r';
    let lead = escaped.iter().take_while(|c| is_ws(c)).count();
    let trail_start = escaped.len() - escaped.iter().rev().take_while(|c| is_ws(c)).count();
    let mut out = String::with_capacity(escaped.len() + 4);
    for (i, c) in escaped.into_iter().enumerate() {
        if i < lead || i >= trail_start {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Dotted-decimal OID of an entry's attribute type.
fn dotted_oid(entry: &X509NameEntryRef) -> String {
    let obj = entry.object();
    let mut buf = [0u8; 128];
    // SAFETY: `obj` is a valid ASN1_OBJECT; OBJ_obj2txt writes a NUL-terminated string of at
    // most `buf.len()` bytes and returns the full length (which may exceed the buffer).
    let n =
        unsafe { ffi::OBJ_obj2txt(buf.as_mut_ptr().cast(), buf.len() as c_int, obj.as_ptr(), 1) };
    let n = usize::try_from(n).unwrap_or(0).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Re-creates the DER encoding (tag, length, content) of a name attribute value.
fn der_value(tag: c_int, content: &[u8]) -> Vec<u8> {
    // For SEQUENCE, SET and "other" types OpenSSL keeps the whole encoding as the content.
    if matches!(tag, ffi::V_ASN1_SEQUENCE | ffi::V_ASN1_SET) || !(0..31).contains(&tag) {
        return content.to_vec();
    }
    let mut der = vec![u8::try_from(tag).unwrap_or(0)];
    let len = content.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        der.push(0x80 | (be.len() - skip) as u8);
        der.extend_from_slice(&be[skip..]);
    }
    der.extend_from_slice(content);
    der
}

/// Lower-case hex, as Java writes `#` values.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Splits `text` at `separator` outside double-quoted strings (a `\` in
/// quotes escapes the next character), so that a quoted RDN value — or a
/// quoted value of an OCCI header — may hold the separator.
pub fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::X509Name;

    /// Names built with a raw DER generator; expected strings come from OpenJDK 17
    /// (`new X500Principal(der).getName()`) and OpenSSL 3.0 (`X509_NAME_oneline`).
    fn name(hex_der: &str) -> X509Name {
        let der: Vec<u8> = (0..hex_der.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex_der[i..i + 2], 16).unwrap())
            .collect();
        X509Name::from_der(&der).unwrap()
    }

    const BASIC: &str = "303f310b3009060355040613024555311b3019060355040a0c12537472617475734c61622050726f6a6563743113301106035504030c0a4a696d20546573746572";
    const EMAIL: &str = "306531133011060a0992268993f22c64011916036f726731173015060a0992268993f22c64011916076578616d706c65311430120603550403130b4a616e6520546573746572311f301d06092a864886f70d01090116106a616e65406578616d706c652e6f7267";
    const MULTI: &str = "3031310c300a060355040a0c034f72673121300a06035504030c03426f623013060a0992268993f22c6401010c05626f623432";
    const MULTI2: &str = "303a310b3009060355040613024555312b300a06035504030c03426f62300b060355040b0c04556e6974301006092a864886f70d0109011603624078";
    const OTHERS: &str = "30819e310e300c060355040513053132333435310b3009060355040c0c0244723112301006035504090c094d61696e2053742031310b300906042a0304050c0178310c300a06035504040c03446f6531143012060a0992268993f22c6401010c046a646f6531133011060a0992268993f22c64011916036f7267311630140603550408130d4e6f6f72642d486f6c6c616e64310d300b060355042a0c044a6f686e";
    const SPACE: &str =
        "3026310a300806035504030c012031093007060355040a0c00310d300b060355040b130461202062";
    const SPECIAL: &str = "3068310b3009060355040613024555311e301c06035504030c15612c622b6322645c653c663e673b683d69236a2f6b31123010060355040b0c0923206c656164696e6731133011060355040a0c0a747261696c696e6720203110300e06035504070c070d20610062200d";
    const UTF: &str = "3056311c301a06035504030c134ac3bc7267656e204dc3bc6c6c657220e282ac310d300b060355040b1e0400410042310b3009060355040a14024de9310d300b06035504071c0400000041310b300906035504031e0200e9";

    #[test]
    fn rfc2253_basic_reverses_der_order() {
        assert_eq!(
            rfc2253(&name(BASIC)),
            "CN=Jim Tester,O=StratusLab Project,C=EU"
        );
    }

    #[test]
    fn rfc2253_email_and_dc() {
        assert_eq!(
            rfc2253(&name(EMAIL)),
            "1.2.840.113549.1.9.1=#16106a616e65406578616d706c652e6f7267,CN=Jane Tester,DC=example,DC=org"
        );
    }

    #[test]
    fn rfc2253_multi_valued_rdn() {
        assert_eq!(rfc2253(&name(MULTI)), "CN=Bob+UID=bob42,O=Org");
        assert_eq!(
            rfc2253(&name(MULTI2)),
            "CN=Bob+OU=Unit+1.2.840.113549.1.9.1=#1603624078,C=EU"
        );
    }

    #[test]
    fn rfc2253_keywords_and_oids() {
        assert_eq!(
            rfc2253(&name(OTHERS)),
            "2.5.4.42=#0c044a6f686e,ST=Noord-Holland,DC=org,UID=jdoe,2.5.4.4=#0c03446f65,\
             1.2.3.4.5=#0c0178,STREET=Main St 1,2.5.4.12=#0c024472,2.5.4.5=#13053132333435"
        );
    }

    #[test]
    fn rfc2253_escaping() {
        assert_eq!(rfc2253(&name(SPACE)), "OU=a  b,O=,CN=\\ ");
        assert_eq!(
            rfc2253(&name(SPECIAL)),
            "L=\\\r\\ a\\00b\\ \\\r,O=trailing\\ \\ ,OU=\\# leading,\
             CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i\\#j/k,C=EU"
        );
    }

    #[test]
    fn rfc2253_string_types_decoded_like_java() {
        assert_eq!(
            rfc2253(&name(UTF)),
            "CN=\\00\u{fffd},L=#1c0400000041,O=M\u{fffd},OU=\\00A\\00B,CN=Jürgen Müller €"
        );
    }

    #[test]
    fn rfc2253_empty_name() {
        assert_eq!(rfc2253(&name("3000")), "");
    }

    #[test]
    fn oneline_forms() {
        assert_eq!(
            openssl_oneline(&name(BASIC)),
            "/C=EU/O=StratusLab Project/CN=Jim Tester"
        );
        assert_eq!(
            openssl_oneline(&name(EMAIL)),
            "/DC=org/DC=example/CN=Jane Tester/emailAddress=jane@example.org"
        );
        assert_eq!(openssl_oneline(&name(MULTI)), "/O=Org/CN=Bob+UID=bob42");
        assert_eq!(
            openssl_oneline(&name(OTHERS)),
            "/serialNumber=12345/title=Dr/street=Main St 1/1.2.3.4.5=x/SN=Doe/UID=jdoe/DC=org/\
             ST=Noord-Holland/GN=John"
        );
        assert_eq!(
            openssl_oneline(&name(SPECIAL)),
            "/C=EU/CN=a,b\\+c\"d\\e<f>g;h=i#j\\/k/OU=# leading/O=trailing  /L=\\x0D a\\x00b \\x0D"
        );
        assert_eq!(
            openssl_oneline(&name(UTF)),
            "/CN=J\\xC3\\xBCrgen M\\xC3\\xBCller \\xE2\\x82\\xAC/OU=\\x00A\\x00B/O=M\\xE9/\
             L=\\x00\\x00\\x00A/CN=\\x00\\xE9"
        );
        assert_eq!(openssl_oneline(&name("3000")), "");
    }

    #[test]
    fn hex_value_encoding_uses_long_lengths() {
        let content = vec![b'a'; 200];
        let der = der_value(ffi::V_ASN1_UTF8STRING, &content);
        assert_eq!(&der[..3], &[0x0c, 0x81, 200]);
        assert_eq!(der.len(), 203);
    }
}
