//! A process-wide cache of the certificates decoded from KeyInfo: the same
//! endorsers sign most documents, and decoding a certificate costs more than
//! half of a whole verification.

use super::SignatureError;
use super::tree::b64;
use openssl::x509::X509;

/// How many decoded certificates [`decode_certificate`] keeps.
const CERTIFICATE_CACHE_SIZE: usize = 256;

/// Larger certificates are decoded every time (real ones are 1–8 KiB), so
/// that the cache stays within a few MiB whatever documents come in.
const CERTIFICATE_CACHE_MAX_DER: usize = 16 * 1024;

/// Longer `X509Certificate` texts are decoded every time (the base64 of
/// [`CERTIFICATE_CACHE_MAX_DER`] bytes is 21.3 KiB, plus line breaks).
const CERTIFICATE_CACHE_MAX_TEXT: usize = 24 * 1024;

/// The certificate in the base64 `text` of an `X509Certificate` element:
/// `X509::from_der` of its bytes, remembering the last few certificates by
/// the exact text they came from. With OpenSSL 3.0 decoding a certificate
/// costs ~100 µs (the public key goes through `OSSL_DECODER_CTX_new_for_pkey`),
/// over half of a whole `verify`, and documents come from a few endorsers;
/// keyed by the text, a hit skips the base64 decoding too. The same text always
/// decodes to the same bytes, so a hit is what decoding it again would give:
/// the same certificate (an `X509` is immutable and reference-counted), and
/// never an error (only texts that decoded are kept). The cache holds at most
/// [`CERTIFICATE_CACHE_SIZE`] entries, of texts up to
/// [`CERTIFICATE_CACHE_MAX_TEXT`] bytes holding certificates up to
/// [`CERTIFICATE_CACHE_MAX_DER`] bytes, and is emptied when full.
pub(super) fn decode_certificate(text: &str) -> Result<X509, SignatureError> {
    type Cache = std::sync::Mutex<std::collections::HashMap<Box<str>, X509>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(cert) = lock().get(text) {
        return Ok(cert.clone());
    }
    let der = b64(text)?;
    let cert = X509::from_der(&der)
        .map_err(|e| SignatureError::Certificate(format!("unreadable X509Certificate: {e}")))?;
    if der.len() > CERTIFICATE_CACHE_MAX_DER || text.len() > CERTIFICATE_CACHE_MAX_TEXT {
        return Ok(cert);
    }
    let mut map = lock();
    if map.len() >= CERTIFICATE_CACHE_SIZE {
        map.clear();
    }
    map.insert(text.into(), cert.clone());
    Ok(cert)
}
