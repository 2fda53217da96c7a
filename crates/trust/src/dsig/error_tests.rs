//! Every error message word for word, as the original wording had it.

use super::*;

// A table of every message: long by nature, and a test.
#[allow(clippy::too_many_lines)]
/// Each message word for word, as the profile wrote it when its refusals
/// were strings: the server and the CLI show them, and their tests and
/// users' scripts read them.
#[test]
fn messages_are_the_profiles_words() {
    use ProfileViolation as V;
    let at = Position { line: 3, column: 7 };
    let s = String::from;
    let cases: Vec<(ProfileViolation, String)> = vec![
        (V::RootNotRdf, s("the root element must be rdf:RDF")),
        (
            V::SignatureCount { found: 2 },
            s("exactly one ds:Signature is allowed, found 2"),
        ),
        (
            V::SignatureNotLast,
            s("ds:Signature must be the last child of rdf:RDF"),
        ),
        (V::TextAfterSignature, s("text after ds:Signature")),
        (
            V::SignatureNotChildOfRoot,
            s("ds:Signature must be a child of rdf:RDF"),
        ),
        (
            V::ForeignElement {
                element: s("{urn:x}y"),
            },
            s("only XML Signature elements are allowed inside ds:Signature, found {urn:x}y"),
        ),
        (
            V::Object { at },
            s(
                "ds:Object is not allowed in ds:Signature (line 3, column 7): it is not \
               signed, so anyone could add one",
            ),
        ),
        (
            V::UnexpectedContent {
                element: s("ds:SignedInfo"),
            },
            s("unexpected content inside ds:SignedInfo"),
        ),
        (
            V::Expected {
                element: s("KeyInfo"),
            },
            s("expected ds:KeyInfo"),
        ),
        (
            V::NotText {
                element: s("DigestValue"),
            },
            s("ds:DigestValue must hold only text"),
        ),
        (
            V::SignatureChildren,
            s("ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo"),
        ),
        (
            V::SignedInfoChildren,
            s(
                "ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and exactly \
               one Reference",
            ),
        ),
        (
            V::CanonicalizationMethodNotEmpty,
            s("CanonicalizationMethod must be empty"),
        ),
        (
            V::SignatureMethodNotEmpty,
            s("SignatureMethod must be empty (no HMACOutputLength)"),
        ),
        (V::MissingAlgorithm, s("an Algorithm attribute is missing")),
        (
            V::Canonicalization { uri: s("urn:c") },
            s("canonicalization urn:c is not allowed"),
        ),
        (
            V::Digest { uri: s("urn:d") },
            s("digest urn:d is not allowed"),
        ),
        (
            V::SignatureMethod { uri: s("urn:s") },
            s("signature method urn:s is not allowed"),
        ),
        (
            V::ReferenceUri,
            s("the Reference must have URI=\"\" (the whole document)"),
        ),
        (
            V::ReferenceChildren,
            s("Reference must hold Transforms, DigestMethod and DigestValue"),
        ),
        (
            V::NotEnveloped,
            s("the Reference must use the enveloped-signature transform"),
        ),
        (
            V::TransformParameters,
            s("Transform parameters are not allowed"),
        ),
        (
            V::Transforms,
            s(
                "the transforms must be enveloped-signature, optionally followed by one \
               canonicalization",
            ),
        ),
        (
            V::Base64(base64::DecodeError::InvalidLength(5)),
            format!("invalid base64: {}", base64::DecodeError::InvalidLength(5)),
        ),
        (V::NoSignedInfo, s("no SignedInfo")),
        (
            V::NoCertificate,
            s("KeyInfo must carry the signer's certificate in X509Data"),
        ),
        (
            V::KeyInfoChild {
                element: s("ds:KeyName"),
                at,
            },
            s(
                "ds:KeyName is not allowed in the signature's KeyInfo (line 3, column 7): it \
               is not signed, so anyone could change it; KeyInfo holds only the X509Data \
               with the signer's certificates",
            ),
        ),
        (
            V::SecondX509Data { at },
            s(
                "only one ds:X509Data is allowed in KeyInfo (another at line 3, column 7): it \
               is not signed, so anyone could add one",
            ),
        ),
        (
            V::X509DataChild {
                element: s("ds:X509SubjectName"),
                at,
            },
            s(
                "ds:X509SubjectName is not allowed in ds:X509Data (line 3, column 7): it is \
               not signed, so anyone could change it; X509Data holds only the signer's \
               certificate and the chain that issued it",
            ),
        ),
        (
            V::SignerNotFirst { number: 2 },
            s(
                "the signing certificate must be the first ds:X509Certificate, as signers \
               write it (it is number 2): KeyInfo is not signed, so anyone could reorder it",
            ),
        ),
        (
            V::NotIssuer { number: 3 },
            s(
                "ds:X509Certificate number 3 did not issue the one before it: KeyInfo carries \
               only the signer's certificate and the chain that issued it; it is not \
               signed, so anyone could change it, and anyone could add certificates",
            ),
        ),
        (
            V::CData { at },
            s(
                "CDATA sections are not allowed in a signed document (one at line 3, column \
               7): canonicalization reads them as plain text, so anyone could add or remove \
               them without breaking the signature; write the text with &lt; and &amp;",
            ),
        ),
        (
            V::Comment { at },
            s(
                "comments and processing instructions are not allowed inside a signed \
               document (a comment at line 3, column 7): they are not signed, so anyone \
               could add them",
            ),
        ),
        (
            V::ProcessingInstruction { at },
            s(
                "comments and processing instructions are not allowed inside a signed \
               document (a processing instruction at line 3, column 7): they are not \
               signed, so anyone could add them",
            ),
        ),
        (
            V::ByteOrderMark,
            s(
                "a byte-order mark is not allowed at the start of a signed document (line 1, \
               column 1): it is outside what the signature covers, so anyone could add or \
               remove it; signers write UTF-8 without one",
            ),
        ),
        (
            V::XmlVersion { version: s("1.1") },
            s(
                "XML version 1.1 is not allowed (line 1): a signed document is XML 1.0, as \
               signers write it; the declaration is not signed, and XML 1.1 reads line \
               ends and characters differently",
            ),
        ),
        (
            V::Prolog {
                at,
                found: s("'<?xml'"),
                wanted: s("the root element"),
            },
            s(
                "a signed document starts with the XML declaration <?xml version=\"1.0\" \
               encoding=\"UTF-8\" standalone=\"no\"?> directly followed by the root \
               element, as signers write it; at line 3, column 7 this one has '<?xml' \
               where a signer writes the root element: what comes before the root element \
               is not signed, so anyone could change it",
            ),
        ),
        (
            V::Epilog {
                at,
                found: s("'x'"),
            },
            s(
                "a signed document ends with its root element's end tag, as signers write \
               it; at line 3, column 7 this one has 'x': what follows the root element \
               is not signed, so anyone could change it",
            ),
        ),
        (
            V::SignatureNamespaceMissing {
                declaration: s("xmlns:ds"),
                at,
            },
            s(
                "ds:Signature must declare its namespace itself (xmlns:ds=\"http://www.w3.org/\
               2000/09/xmldsig#\" at line 3, column 7), as signers write it",
            ),
        ),
        (
            V::SignatureNamespaceExtra {
                declaration: s("xmlns:ex"),
                at,
            },
            s(
                "the namespace declaration xmlns:ex is not allowed on ds:Signature (line 3, \
               column 7): only the signature's own namespace is declared there, as signers \
               write it",
            ),
        ),
        (
            V::NamespaceDeclaration {
                declaration: s("xmlns"),
                element: s("ds:KeyInfo"),
                at,
                signed: false,
            },
            s(
                "the namespace declaration xmlns is not allowed on ds:KeyInfo (line 3, column \
               7): it is not signed, so anyone could change it",
            ),
        ),
        (
            V::Attribute {
                attribute: s("Id"),
                element: s("ds:SignedInfo"),
                at,
                signed: true,
            },
            s(
                "the Id attribute is not allowed on ds:SignedInfo (line 3, column 7): the \
               profile allows nothing else there",
            ),
        ),
        (
            V::TextBetweenElements {
                element: s("ds:X509Data"),
                at,
                signed: false,
            },
            s(
                "text (whitespace included) is not allowed between the elements of \
               ds:X509Data (line 3, column 7): it is not signed, so anyone could change it",
            ),
        ),
        (
            V::SignatureBytes {
                at,
                found: s("'a'"),
                wanted: s("'b'"),
            },
            s(
                "ds:Signature is not written as signers write it: at line 3, column 7 it has \
               'a' where a signer writes 'b'; only SignedInfo is signed, and only as \
               canonical XML, so the signature's other bytes must be exactly a signer's",
            ),
        ),
    ];
    for (violation, message) in cases {
        assert_eq!(violation.to_string(), message, "{violation:?}");
        assert_eq!(
            SignatureError::Profile(violation).to_string(),
            format!("signature profile: {message}")
        );
    }
}

/// The signing failures, word for word as `sign` wrote them when they
/// were strings.
#[test]
fn signing_messages_are_unchanged() {
    let cases = [
        (
            SigningFailure::KeyType {
                key_type: openssl::pkey::Id::DSA,
            },
            format!(
                "keys of type {:?} cannot sign; use an RSA or EC key",
                openssl::pkey::Id::DSA
            ),
        ),
        (
            SigningFailure::AlreadySigned,
            "the document is already signed; remove the old signature first".into(),
        ),
        (
            SigningFailure::NoEndTag,
            "the root element has no end tag".into(),
        ),
        (
            SigningFailure::OutsideRoot {
                part: OutsideRoot::Before,
            },
            "what comes before the root element cannot be signed: a signed document holds \
             only an XML 1.0 declaration and a line feed outside the root element"
                .into(),
        ),
        (
            SigningFailure::OutsideRoot {
                part: OutsideRoot::After,
            },
            "what follows the root element cannot be signed: a signed document holds only \
             an XML 1.0 declaration and a line feed outside the root element"
                .into(),
        ),
        (
            SigningFailure::WouldBeRefused(Box::new(SignatureError::Profile(
                ProfileViolation::NotIssuer { number: 2 },
            ))),
            "the signed document would be refused: signature profile: ds:X509Certificate \
             number 2 did not issue the one before it: KeyInfo carries only the signer's \
             certificate and the chain that issued it; it is not signed, so anyone could \
             change it, and anyone could add certificates"
                .into(),
        ),
    ];
    for (failure, message) in cases {
        assert_eq!(failure.to_string(), message, "{failure:?}");
        assert_eq!(
            SignatureError::Signing(failure).to_string(),
            format!("signing failed: {message}")
        );
    }
}
