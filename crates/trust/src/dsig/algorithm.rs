//! The algorithms the profile allows, from their URIs to the OpenSSL and
//! bergshamra values that compute them; any other URI is refused.

use super::{ProfileViolation, SignatureError, uri};
use bergshamra_c14n::C14nMode;
use openssl::hash::MessageDigest;
use openssl::pkey::Id;

pub(super) fn c14n_mode(uri: &str) -> Result<C14nMode, SignatureError> {
    match uri {
        uri::C14N => Ok(C14nMode::Inclusive),
        uri::C14N_COMMENTS => Ok(C14nMode::InclusiveWithComments),
        uri::EXC_C14N => Ok(C14nMode::Exclusive),
        uri::EXC_C14N_COMMENTS => Ok(C14nMode::ExclusiveWithComments),
        other => Err(ProfileViolation::Canonicalization { uri: other.into() }.into()),
    }
}

pub(super) fn digest_of(uri: &str) -> Result<MessageDigest, SignatureError> {
    match uri {
        uri::SHA1 => Ok(MessageDigest::sha1()),
        uri::SHA256 => Ok(MessageDigest::sha256()),
        uri::SHA512 => Ok(MessageDigest::sha512()),
        other => Err(ProfileViolation::Digest { uri: other.into() }.into()),
    }
}

/// Key type and hash of a SignatureMethod.
pub(super) fn signature_method(uri: &str) -> Result<(Id, MessageDigest), SignatureError> {
    match uri {
        uri::RSA_SHA1 => Ok((Id::RSA, MessageDigest::sha1())),
        uri::RSA_SHA256 => Ok((Id::RSA, MessageDigest::sha256())),
        uri::RSA_SHA512 => Ok((Id::RSA, MessageDigest::sha512())),
        uri::ECDSA_SHA256 => Ok((Id::EC, MessageDigest::sha256())),
        uri::ECDSA_SHA384 => Ok((Id::EC, MessageDigest::sha384())),
        uri::ECDSA_SHA512 => Ok((Id::EC, MessageDigest::sha512())),
        other => Err(ProfileViolation::SignatureMethod { uri: other.into() }.into()),
    }
}
