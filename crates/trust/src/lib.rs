//! Trust in metadata documents: XML signatures, grid credentials,
//! certificate chains and VOMS attributes.
//!
//! - [`parse`]: the XML parse every signature check reads (attribute values
//!   normalised as XML 1.0 says, which C14N depends on);
//! - [`c14n`]: the canonical form of the two node-sets the profile signs;
//! - [`dsig`]: enveloped XML Signatures under a strict profile (verify, sign);
//! - `form`: what a signed document may hold outside what its signature
//!   covers (exactly what the signers write);
//! - [`credential`]: PKCS#12, PEM and RFC 3820 proxy credentials for signing;
//! - [`endorsement`]: the endorsement block filled from a certificate, and the
//!   check that a signature's certificate is the one the endorsement names;
//! - [`chain`]: chains against an IGTF-style CA directory with CRLs and proxies;
//! - [`voms`]: VOMS attribute certificates inside proxies;
//! - [`dn`]: distinguished names in the string forms the grid uses;
//! - [`document`]: everything above applied to one document at one instant.

pub mod c14n;
pub mod certificate;
pub mod chain;
pub mod credential;
pub mod dn;
pub mod document;
pub mod dsig;
pub mod endorsement;
pub mod voms;

/// The one XML parse of the crate (see [`dsig::parse`]).
pub use dsig::parse;
