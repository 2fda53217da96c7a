//! Tests of [`super::DistinguishedName`].

use super::*;

#[test]
fn same_compares_either_notation_and_falls_back_to_the_text() {
    assert!(DistinguishedName::same(
        "/C=EU/O=Marketplace Test Grid/OU=Users/CN=Alice Example",
        "CN=Alice Example, OU=Users,O=Marketplace Test Grid,c=EU"
    ));
    assert!(!DistinguishedName::same("CN=A,O=X", "CN=B,O=X"));
    assert!(DistinguishedName::same("not a DN", "not a DN"));
    assert!(!DistinguishedName::same("not a DN", "CN=not a DN"));
}

fn canonical(dn: &str) -> Option<String> {
    DistinguishedName::parse(dn)
        .ok()
        .map(|d| d.canonical().to_string())
}

fn err(dn: &str) -> String {
    DistinguishedName::parse(dn).unwrap_err().to_string()
}

#[test]
fn both_forms_compare_equal() {
    let a = canonical("CN=Jim Tester,O=StratusLab Project,C=EU").unwrap();
    let b = canonical("/C=EU/O=StratusLab Project/CN=Jim Tester").unwrap();
    let c = canonical("cn = jim  tester , o=STRATUSLAB project;C=eu").unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_ne!(a, canonical("/C=EU/O=StratusLab Project/CN=Jim").unwrap());
    // Order matters.
    assert_ne!(
        a,
        canonical("/CN=Jim Tester/O=StratusLab Project/C=EU").unwrap()
    );
    let x: DistinguishedName = "CN=Jim Tester,O=StratusLab Project,C=EU".parse().unwrap();
    let y: DistinguishedName = " /C=eu/O=StratusLab  Project/CN=jim tester "
        .parse()
        .unwrap();
    assert_eq!(x, y);
    let set: std::collections::HashSet<_> = [x, y].into_iter().collect();
    assert_eq!(set.len(), 1);
}

#[test]
fn email_attribute_in_every_spelling() {
    // Java's form: the e-mail as the hex of its DER IA5String.
    let java = "1.2.840.113549.1.9.1=#16106a616e65406578616d706c652e6f7267,CN=Jane Tester,DC=example,DC=org";
    let openssl = "/DC=org/DC=example/CN=Jane Tester/emailAddress=jane@example.org";
    let rfc = "E=jane@example.org,CN=Jane Tester,DC=example,DC=org";
    assert_eq!(canonical(java), canonical(openssl));
    assert_eq!(canonical(java), canonical(rfc));
    assert_eq!(
        DistinguishedName::parse(java).unwrap().to_string(),
        "emailAddress=jane@example.org,CN=Jane Tester,DC=example,DC=org"
    );
}

#[test]
fn escapes_and_multi_valued() {
    assert_eq!(
        canonical("CN=a\\,b\\+c,O=x\\2Cy"),
        canonical("/O=x,y/CN=a,b+c")
    );
    assert_eq!(
        canonical("CN=Bob+UID=bob42,O=Org"),
        canonical("/O=Org/UID=bob42+CN=Bob")
    );
    assert_eq!(
        canonical("CN=J\\C3\\BCrgen,O=Org"),
        canonical("/O=Org/CN=J\\xC3\\xBCrgen")
    );
    assert_eq!(
        canonical("CN=\"Smith, J\",O=Org"),
        canonical("/O=Org/CN=Smith, J")
    );
    // A '/' inside a value of the one-line form.
    assert_eq!(
        canonical("/O=Org/CN=host/www.example.org").unwrap(),
        "cn=host/www.example.org,o=org"
    );
}

#[test]
fn display_is_rfc2253_and_parses_back() {
    for text in [
        "/C=EU/O=Org/CN=Smith, J/emailAddress=j@x.org",
        "CN=a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h,O=\\#x",
        "CN=Bob+UID=bob42,O=Org",
        "2.5.4.3=#0c03426f62,1.2.3.4=#020105",
        "CN=J\\C3\\BCrgen,serialNumber=42,GN=J,SN=S,title=Dr,ST=x,L=y,STREET=z,DC=w",
    ] {
        let dn = DistinguishedName::parse(text).unwrap();
        let shown = dn.to_string();
        assert_eq!(DistinguishedName::parse(&shown).unwrap(), dn, "{shown}");
    }
    assert_eq!(
        DistinguishedName::parse("/C=EU/O=Org/CN=Smith, J")
            .unwrap()
            .to_string(),
        "CN=Smith\\, J,O=Org,C=EU"
    );
    assert_eq!(
        DistinguishedName::parse("cn=Bob+uid=bob42,1.2.3.4=#020105")
            .unwrap()
            .to_string(),
        "CN=Bob+UID=bob42,1.2.3.4=#020105"
    );
}

#[test]
fn malformed_texts_are_errors() {
    for bad in ["", "/", "just text", "CN=x,,O=y", "CN", "/=x", "CN=x,O"] {
        assert!(canonical(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn errors_say_what_and_where() {
    assert_eq!(err(""), "not a DN: empty text at character 1");
    assert_eq!(err("   "), "not a DN: empty text at character 1");
    assert_eq!(
        err("just text"),
        "not a DN: 'just text' has no '=' (expected type=value) at character 1"
    );
    assert_eq!(
        err("CN=x,O"),
        "not a DN: 'O' has no '=' (expected type=value) at character 6"
    );
    assert_eq!(
        err("CN=x,,O=y"),
        "not a DN: ',' in an attribute type (expected type=value) at character 6"
    );
    assert_eq!(
        err("  CN=x,,O=y"),
        "not a DN: ',' in an attribute type (expected type=value) at character 8"
    );
    assert_eq!(
        err("CN=\"a\"b,O=y"),
        "not a DN: 'b' after a value (expected ',', ';' or '+') at character 7"
    );
    assert_eq!(
        err("CN=\"abc,O=y"),
        "not a DN: unterminated quoted value at character 4"
    );
    assert_eq!(
        err("CN=#12345,O=y"),
        "not a DN: '#' not followed by an even number of hex digits at character 4"
    );
    assert_eq!(
        err("CN=x\\"),
        "not a DN: '\\' at the end of the text escapes nothing at character 5"
    );
    assert_eq!(
        err("C N=x"),
        "not a DN: attribute type 'C N' contains ' ' at character 1"
    );
    assert_eq!(
        err("/"),
        "not a DN: '' has no '=' (expected type=value) at character 2"
    );
    assert_eq!(err("/=x"), "not a DN: empty attribute type at character 2");
    assert_eq!(
        err("  /Ö N=x"),
        "not a DN: attribute type 'Ö N' contains 'Ö' at character 4"
    );
    // In the one-line form a '/' not followed by type= is part of the value.
    assert!(DistinguishedName::parse("/C=EU/O=Org/CN").is_ok());
    let e = DistinguishedName::parse("CN=x,O").unwrap_err();
    assert_eq!(
        (e.reason(), e.position()),
        ("'O' has no '=' (expected type=value)", 6)
    );
}

#[test]
fn from_certificate_names() {
    let der: Vec<u8> = (0..EMAIL.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&EMAIL[i..i + 2], 16).unwrap())
        .collect();
    let name = openssl::x509::X509Name::from_der(&der).unwrap();
    let dn = DistinguishedName::from_x509(&name).unwrap();
    assert_eq!(
        dn,
        DistinguishedName::parse("/DC=org/DC=example/CN=Jane Tester/emailAddress=jane@example.org")
            .unwrap()
    );
    let empty = openssl::x509::X509Name::from_der(&[0x30, 0]).unwrap();
    assert!(DistinguishedName::from_x509(&empty).is_err());
}

const EMAIL: &str = "306531133011060a0992268993f22c64011916036f726731173015060a0992268993f22c64011916076578616d706c65311430120603550403130b4a616e6520546573746572311f301d06092a864886f70d01090116106a616e65406578616d706c652e6f7267";
