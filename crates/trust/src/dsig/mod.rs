//! Enveloped XML Signatures under a strict profile.
//!
//! The profile is what the original Java tools produced, and nothing more:
//! one `ds:Signature`, the last child of `rdf:RDF`; one `Reference` with
//! `URI=""` whose transforms are the enveloped-signature transform optionally
//! followed by a canonicalization; allow-listed algorithms; `KeyInfo` holding
//! one `X509Data` with the signer's certificate first, then only the chain
//! that issued it. Anything else is refused before any cryptography runs (the
//! certificate chain as soon as the signing certificate is known), so
//! that what the signature covers is exactly the document the format crate
//! reads (no wrapping). What the signature does not cover (around the root
//! element, and in `ds:Signature` outside `SignedInfo`) must be byte for byte
//! what a signer writes, and CDATA sections and comments are refused
//! anywhere (see `form`): otherwise anyone could make a variant of a signed
//! document that still verifies and upload it before its signer.
//!
//! Canonicalization of the two node-sets the profile signs is [`crate::c14n`]
//! (on the `uppsala` parser), written straight into the digest; other
//! canonicalization methods the profile allows (exclusive C14N) and subsets
//! holding comments come from `bergshamra-c14n`, whose output `c14n` matches
//! byte for byte (checked on every call in debug builds). Digests and
//! public-key operations come from OpenSSL.
//!
//! The modules, in the order a verification runs: `tree` reads the parts of
//! the uppsala tree, `algorithm` maps the profile's URIs to OpenSSL and
//! bergshamra, `profile` checks the strict profile, `cert_cache` decodes the
//! KeyInfo certificates, `digest` canonicalizes and hashes, `verify` checks
//! the values, and `sign` writes the one form the profile accepts.

mod algorithm;
mod cert_cache;
mod digest;
mod error;
pub(crate) mod form;
pub mod parse;
mod profile;
mod sign;
mod tree;
mod verify;

use self::parse::parse;
use marketplace_format::ns::DS;
use openssl::x509::X509;

pub use error::{OutsideRoot, Position, ProfileViolation, SignatureError, SigningFailure};
pub use sign::{SignOptions, sign, strip_signature};
pub(crate) use tree::subtree;
pub use verify::{public_key, signed_identity, verify, verify_with};

/// Algorithm URIs of the profile.
pub mod uri {
    /// Inclusive C14N 1.0.
    pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    /// Inclusive C14N 1.0 with comments.
    pub const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
    /// Exclusive C14N 1.0.
    pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    /// Exclusive C14N 1.0 with comments.
    pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
    /// The enveloped-signature transform.
    pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    /// SHA-1 digest (legacy, verify only).
    pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
    /// SHA-256 digest.
    pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    /// SHA-512 digest.
    pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
    /// RSA with SHA-1 (legacy, verify only).
    pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    /// RSA with SHA-256.
    pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    /// RSA with SHA-512.
    pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
    /// ECDSA with SHA-256.
    pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    /// ECDSA with SHA-384.
    pub const ECDSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
    /// ECDSA with SHA-512.
    pub const ECDSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
}

/// How strictly the parts a signature does not cover are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// A new upload: outside what is signed, only what signers write,
    /// byte for byte (see `form`), so that nobody can upload a variant
    /// of someone's document before them.
    #[default]
    Signers,
    /// A document the marketplace already accepted (rebuilding the index,
    /// checking the store): the signature must verify, with no wrapping and
    /// no comments, as when it was accepted; how its unsigned parts are
    /// laid out is not asked again (entries signed before the layout rules
    /// existed stay valid: nothing accepted is ever dropped).
    Stored,
}

/// A verified signature.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The certificate whose key verified the signature.
    pub signer: X509,
    /// Every certificate of `KeyInfo/X509Data`, in document order: the
    /// signer's, then the certificates that issued it, each the issuer of the
    /// one before.
    pub certificates: Vec<X509>,
    /// The SignatureMethod URI.
    pub signature_method: String,
    /// The DigestMethod URI.
    pub digest_method: String,
}

impl VerifiedSignature {
    /// Whether the signature uses SHA-1 (legacy, accepted for old documents).
    pub fn is_legacy_sha1(&self) -> bool {
        self.signature_method == uri::RSA_SHA1 || self.digest_method == uri::SHA1
    }

    /// Whether the original Java tools (`stratus-validate-metadata`,
    /// `stratus-download-image`, the original server) can check this
    /// signature: their key selector only accepts RSA-SHA1 (and DSA-SHA1,
    /// which this profile refuses) and answers "cannot find validation key"
    /// for anything else.
    pub fn readable_by_original_tools(&self) -> bool {
        self.signature_method == uri::RSA_SHA1
    }

    /// The signature algorithm's short name (`rsa-sha256`, `ecdsa-sha256`).
    pub fn algorithm_name(&self) -> &str {
        self.signature_method
            .rsplit_once('#')
            .map_or(self.signature_method.as_str(), |(_, name)| name)
    }
}

/// Whether the document contains a `ds:Signature` element anywhere.
pub fn is_signed(xml: &str) -> bool {
    parse(xml)
        .map(|doc| !tree::descendants_named(&doc, doc.root(), DS, "Signature").is_empty())
        .unwrap_or(false)
}
