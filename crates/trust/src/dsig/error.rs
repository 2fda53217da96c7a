//! Why a signature is refused: [`SignatureError`], and for the strict
//! profile a [`ProfileViolation`] saying which rule broke and where, so that
//! callers and tests can tell refusals apart without reading the message.

use marketplace_format::ns::DS;

/// Why a signature is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The document has no signature.
    #[error("the document is not signed (no ds:Signature)")]
    Unsigned,
    /// The document is not XML the profile can read.
    #[error("cannot read the document: {0}")]
    Xml(String),
    /// The signature does not follow the strict profile.
    #[error("signature profile: {0}")]
    Profile(#[from] ProfileViolation),
    /// The signed content changed after signing.
    #[error("the signed content was modified: the reference digest does not match")]
    DigestMismatch,
    /// No certificate in KeyInfo verifies the signature value.
    #[error("the signature value does not verify with the certificate in KeyInfo")]
    BadSignatureValue,
    /// A certificate or key could not be read or used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(#[from] SigningFailure),
}

/// Why [`sign`](fn@super::sign) writes nothing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningFailure {
    /// The key is neither RSA nor EC.
    #[error("keys of type {key_type:?} cannot sign; use an RSA or EC key")]
    KeyType {
        /// The key's type.
        key_type: openssl::pkey::Id,
    },
    /// The document already holds a `ds:Signature`.
    #[error("the document is already signed; remove the old signature first")]
    AlreadySigned,
    /// The root element is written without an end tag.
    #[error("the root element has no end tag")]
    NoEndTag,
    /// Around the root element is something a signed document cannot hold
    /// (a comment, a processing instruction, XML 1.1).
    #[error(
        "{part} cannot be signed: a signed document holds only an XML 1.0 declaration and a line \
         feed outside the root element"
    )]
    OutsideRoot {
        /// Which side of the root element.
        part: OutsideRoot,
    },
    /// What would be written is a document the profile refuses.
    #[error("the signed document would be refused: {0}")]
    WouldBeRefused(Box<SignatureError>),
    /// OpenSSL failed to sign (its message).
    #[error("{0}")]
    OpenSsl(String),
}

/// The two sides of the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideRoot {
    /// Before the root element.
    Before,
    /// After the root element.
    After,
}

impl std::fmt::Display for OutsideRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutsideRoot::Before => "what comes before the root element",
            OutsideRoot::After => "what follows the root element",
        })
    }
}

impl From<openssl::error::ErrorStack> for SigningFailure {
    fn from(e: openssl::error::ErrorStack) -> Self {
        SigningFailure::OpenSsl(e.to_string())
    }
}

/// A place in a document: `line L, column C` (1-based; columns count
/// characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a part must be exactly as signers write it: inside `ds:SignedInfo`
/// it is signed (but no signer writes anything else), elsewhere it is not.
fn why(signed: bool) -> &'static str {
    if signed {
        "the profile allows nothing else there"
    } else {
        UNSIGNED
    }
}

/// Why a part of the signature must be exactly a signer's.
const UNSIGNED: &str = "it is not signed, so anyone could change it";

/// The rule of the strict profile a document breaks, with where it breaks
/// it. The message of each is what the profile has always answered.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileViolation {
    // --- where ds:Signature is ------------------------------------------------------------------
    /// The root element is not `rdf:RDF`.
    #[error("the root element must be rdf:RDF")]
    RootNotRdf,
    /// More than one `ds:Signature` in the document.
    #[error("exactly one ds:Signature is allowed, found {found}")]
    SignatureCount {
        /// How many there are.
        found: usize,
    },
    /// An element follows `ds:Signature` in `rdf:RDF`.
    #[error("ds:Signature must be the last child of rdf:RDF")]
    SignatureNotLast,
    /// Text follows `ds:Signature` in `rdf:RDF`.
    #[error("text after ds:Signature")]
    TextAfterSignature,
    /// `ds:Signature` is deeper in the document than a child of `rdf:RDF`.
    #[error("ds:Signature must be a child of rdf:RDF")]
    SignatureNotChildOfRoot,

    // --- the elements of the signature ----------------------------------------------------------
    /// An element outside the XML Signature namespaces inside `ds:Signature`.
    #[error("only XML Signature elements are allowed inside ds:Signature, found {element}")]
    ForeignElement {
        /// Its name, `{namespace}local`.
        element: String,
    },
    /// A `ds:Object` in `ds:Signature`.
    #[error(
        "ds:Object is not allowed in ds:Signature ({at}): it is not signed, so anyone could add \
         one"
    )]
    Object {
        /// Where it starts.
        at: Position,
    },
    /// Text or a node other than an element among the children of an element
    /// the profile reads.
    #[error("unexpected content inside {element}")]
    UnexpectedContent {
        /// The element, e.g. `ds:SignedInfo`.
        element: String,
    },
    /// A child of the signature is missing or is not the one the profile
    /// names at its place.
    #[error("expected ds:{element}")]
    Expected {
        /// Local name of the element expected.
        element: String,
    },
    /// An element that holds a value holds elements.
    #[error("ds:{element} must hold only text")]
    NotText {
        /// Local name of the element.
        element: String,
    },
    /// `ds:Signature` does not hold exactly its three parts.
    #[error("ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo")]
    SignatureChildren,
    /// `ds:SignedInfo` does not hold exactly its three parts.
    #[error(
        "ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and exactly one Reference"
    )]
    SignedInfoChildren,
    /// CanonicalizationMethod has children.
    #[error("CanonicalizationMethod must be empty")]
    CanonicalizationMethodNotEmpty,
    /// SignatureMethod has children (an HMACOutputLength).
    #[error("SignatureMethod must be empty (no HMACOutputLength)")]
    SignatureMethodNotEmpty,
    /// An algorithm element without its `Algorithm` attribute.
    #[error("an Algorithm attribute is missing")]
    MissingAlgorithm,
    /// A canonicalization method outside the profile's.
    #[error("canonicalization {uri} is not allowed")]
    Canonicalization {
        /// Its URI.
        uri: String,
    },
    /// A digest method outside the profile's.
    #[error("digest {uri} is not allowed")]
    Digest {
        /// Its URI.
        uri: String,
    },
    /// A signature method outside the profile's.
    #[error("signature method {uri} is not allowed")]
    SignatureMethod {
        /// Its URI.
        uri: String,
    },
    /// The Reference does not cover the whole document.
    #[error("the Reference must have URI=\"\" (the whole document)")]
    ReferenceUri,
    /// The Reference does not hold its three parts.
    #[error("Reference must hold Transforms, DigestMethod and DigestValue")]
    ReferenceChildren,
    /// The Reference has no Transforms.
    #[error("the Reference must use the enveloped-signature transform")]
    NotEnveloped,
    /// A Transform with parameters.
    #[error("Transform parameters are not allowed")]
    TransformParameters,
    /// Transforms other than enveloped-signature and one canonicalization.
    #[error(
        "the transforms must be enveloped-signature, optionally followed by one canonicalization"
    )]
    Transforms,
    /// A DigestValue, SignatureValue or X509Certificate that is not base64.
    #[error("invalid base64: {0}")]
    Base64(base64::DecodeError),
    /// A signature being written has no SignedInfo.
    #[error("no SignedInfo")]
    NoSignedInfo,

    // --- KeyInfo --------------------------------------------------------------------------------
    /// KeyInfo carries no certificate.
    #[error("KeyInfo must carry the signer's certificate in X509Data")]
    NoCertificate,
    /// Something other than `ds:X509Data` in KeyInfo.
    #[error(
        "{element} is not allowed in the signature's KeyInfo ({at}): it is not signed, so anyone \
         could change it; KeyInfo holds only the X509Data with the signer's certificates"
    )]
    KeyInfoChild {
        /// Its name, e.g. `ds:KeyName`.
        element: String,
        /// Where it starts.
        at: Position,
    },
    /// A second `ds:X509Data` in KeyInfo.
    #[error(
        "only one ds:X509Data is allowed in KeyInfo (another at {at}): it is not signed, so \
         anyone could add one"
    )]
    SecondX509Data {
        /// Where the second starts.
        at: Position,
    },
    /// Something other than `ds:X509Certificate` in `ds:X509Data`.
    #[error(
        "{element} is not allowed in ds:X509Data ({at}): it is not signed, so anyone could change \
         it; X509Data holds only the signer's certificate and the chain that issued it"
    )]
    X509DataChild {
        /// Its name, e.g. `ds:X509SubjectName`.
        element: String,
        /// Where it starts.
        at: Position,
    },
    /// The certificate that verified is not the first of KeyInfo.
    #[error(
        "the signing certificate must be the first ds:X509Certificate, as signers write it (it is \
         number {number}): KeyInfo is not signed, so anyone could reorder it"
    )]
    SignerNotFirst {
        /// Its place among the certificates, from 1.
        number: usize,
    },
    /// A certificate of KeyInfo did not issue the one before it.
    #[error(
        "ds:X509Certificate number {number} did not issue the one before it: KeyInfo carries only \
         the signer's certificate and the chain that issued it; {UNSIGNED}, and anyone could add \
         certificates"
    )]
    NotIssuer {
        /// Its place among the certificates, from 1.
        number: usize,
    },

    // --- what the signature leaves unsigned -----------------------------------------------------
    /// A CDATA section anywhere in the document.
    #[error(
        "CDATA sections are not allowed in a signed document (one at {at}): canonicalization \
         reads them as plain text, so anyone could add or remove them without breaking the \
         signature; write the text with &lt; and &amp;"
    )]
    CData {
        /// Where it starts.
        at: Position,
    },
    /// A comment anywhere in the document.
    #[error(
        "comments and processing instructions are not allowed inside a signed document (a \
         comment at {at}): they are not signed, so anyone could add them"
    )]
    Comment {
        /// Where it starts.
        at: Position,
    },
    /// A processing instruction anywhere in the document.
    #[error(
        "comments and processing instructions are not allowed inside a signed document (a \
         processing instruction at {at}): they are not signed, so anyone could add them"
    )]
    ProcessingInstruction {
        /// Where it starts.
        at: Position,
    },
    /// A byte-order mark at the start.
    #[error(
        "a byte-order mark is not allowed at the start of a signed document (line 1, column 1): \
         it is outside what the signature covers, so anyone could add or remove it; signers \
         write UTF-8 without one"
    )]
    ByteOrderMark,
    /// An XML declaration of another version than 1.0.
    #[error(
        "XML version {version} is not allowed (line 1): a signed document is XML 1.0, as signers \
         write it; the declaration is not signed, and XML 1.1 reads line ends and characters \
         differently"
    )]
    XmlVersion {
        /// The version declared.
        version: String,
    },
    /// What comes before the root element is not the signers' declaration.
    #[error(
        "a signed document starts with the XML declaration {prolog} directly followed by the \
         root element, as signers write it; at {at} this one has {found} where a signer writes \
         {wanted}: what comes before the root element is not signed, so anyone could change it",
        prolog = super::form::PROLOG
    )]
    Prolog {
        /// Where it first differs.
        at: Position,
        /// The start of what it has there, quoted.
        found: String,
        /// The start of what a signer writes there, quoted (or `the root element`).
        wanted: String,
    },
    /// Something follows the root element.
    #[error(
        "a signed document ends with its root element's end tag, as signers write it; at {at} \
         this one has {found}: what follows the root element is not signed, so anyone could \
         change it"
    )]
    Epilog {
        /// Where it starts.
        at: Position,
        /// The start of it, quoted.
        found: String,
    },
    /// `ds:Signature` does not declare its own namespace.
    #[error(
        "ds:Signature must declare its namespace itself ({declaration}=\"{DS}\" at {at}), as \
         signers write it"
    )]
    SignatureNamespaceMissing {
        /// The declaration a signer writes (`xmlns:ds`, `xmlns`).
        declaration: String,
        /// Where `ds:Signature` starts.
        at: Position,
    },
    /// `ds:Signature` declares another namespace than its own.
    #[error(
        "the namespace declaration {declaration} is not allowed on ds:Signature ({at}): only \
         the signature's own namespace is declared there, as signers write it"
    )]
    SignatureNamespaceExtra {
        /// The declaration (`xmlns:x`).
        declaration: String,
        /// Where `ds:Signature` starts.
        at: Position,
    },
    /// A namespace declaration on an element inside `ds:Signature`.
    #[error(
        "the namespace declaration {declaration} is not allowed on {element} ({at}): {}",
        why(*signed)
    )]
    NamespaceDeclaration {
        /// The declaration (`xmlns:x`).
        declaration: String,
        /// The element's name.
        element: String,
        /// Where the element starts.
        at: Position,
        /// Whether the element is inside `ds:SignedInfo`.
        signed: bool,
    },
    /// An attribute the profile does not write (`Id`, `Type`, `xml:*`, ...).
    #[error(
        "the {attribute} attribute is not allowed on {element} ({at}): {}",
        why(*signed)
    )]
    Attribute {
        /// The attribute, as written.
        attribute: String,
        /// The element's name.
        element: String,
        /// Where the element starts.
        at: Position,
        /// Whether the element is inside `ds:SignedInfo`.
        signed: bool,
    },
    /// Text between the elements of a signature element.
    #[error(
        "text (whitespace included) is not allowed between the elements of {element} ({at}): {}",
        why(*signed)
    )]
    TextBetweenElements {
        /// The element holding the text.
        element: String,
        /// Where the text starts.
        at: Position,
        /// Whether the element is inside `ds:SignedInfo`.
        signed: bool,
    },
    /// `ds:Signature` is not written byte for byte as a signer writes it.
    #[error(
        "ds:Signature is not written as signers write it: at {at} it has {found} where a signer \
         writes {wanted}; only SignedInfo is signed, and only as canonical XML, so the \
         signature's other bytes must be exactly a signer's"
    )]
    SignatureBytes {
        /// Where it first differs.
        at: Position,
        /// The start of what it has there, quoted.
        found: String,
        /// The start of what a signer writes there, quoted.
        wanted: String,
    },
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
