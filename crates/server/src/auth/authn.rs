//! Who is calling: client certificate chains turned into a
//! [`ClientIdentity`], from the TLS handshake ([`crate::auth::tls`]) or from a
//! trusted TLS-terminating proxy's header.
//!
//! Every chain — end-entity certificate or RFC 3820 proxy chain — is
//! verified by the trust core against the configured CA directory with CRLs
//! ([`CaDirectory::verify_chain`]) at the server clock's instant. The
//! identity is the end-entity certificate behind the proxies. The VOMS
//! attribute certificates the chain carries are each verified against the
//! vomsdir ([`VomsDir::verify_ac`]); one that fails (forged, unknown VO or
//! AA, expired) gives the identity no VO, and the reason is logged.
//!
//! Trusted proxies: with `trusted_proxy_header` (e.g. `X-SSL-Client-Cert`)
//! and `trusted_proxies` (addresses or CIDR ranges), a request whose TCP
//! peer is a trusted proxy and that carries the header gets the identity of
//! the chain in the header: PEM certificates, leaf first, optionally
//! URL-escaped as nginx's `$ssl_client_escaped_cert` (line breaks may also
//! be spaces). The header of any other peer is ignored. The header is
//! always removed before the request reaches a handler. A chain in the
//! header that does not verify refuses the request (403), as a
//! presented-but-invalid certificate fails the TLS handshake.
//!
//! The [`Identify`] middleware does this for every request, reading the
//! [`Connection`] the accept loop attached.

use crate::auth::identity::{ClientIdentity, IdentitySource};
use crate::http::error::AppError;
use crate::http::middleware::{Before, Middleware};
use crate::runtime::clock::Clock;
use crate::runtime::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use marketplace_trust::certificate::{self, PemChainError, X509};
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::voms::{VomsDir, parse_chain};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most certificates accepted in one chain.
pub const MAX_CHAIN: usize = 10;

/// How long a verified header chain is remembered (wall-clock time).
pub const HEADER_CACHE_TTL: Duration = Duration::from_secs(60);

/// Most header chains remembered at once.
const HEADER_CACHE_SIZE: usize = 1024;

/// Client-certificate authentication in the TLS handshake (`tls_client_auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsClientAuth {
    /// No certificate is asked for.
    None,
    /// A certificate is asked for; clients without one are anonymous, a
    /// presented certificate that does not verify fails the handshake.
    Optional,
    /// Clients without a valid certificate cannot connect.
    Required,
}

impl TlsClientAuth {
    /// The configuration value.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsClientAuth::None => "none",
            TlsClientAuth::Optional => "optional",
            TlsClientAuth::Required => "required",
        }
    }
}

impl FromStr for TlsClientAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TlsClientAuth::None),
            "optional" => Ok(TlsClientAuth::Optional),
            "required" => Ok(TlsClientAuth::Required),
            _ => Err("expected none, optional or required".into()),
        }
    }
}

/// An address or a CIDR range (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    network: IpAddr,
    prefix: u8,
}

impl AddrRange {
    /// Whether `addr` is in the range (IPv4-mapped IPv6 addresses count as
    /// IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network.to_canonical(), addr.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

impl FromStr for AddrRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("'{s}' is not an IP address or CIDR range");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(AddrRange { network, prefix })
    }
}

impl std::fmt::Display for AddrRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// What the accept loop knows about a connection, attached to each of its
/// requests.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The identity verified in the TLS handshake, if any.
    pub tls_identity: Option<Arc<ClientIdentity>>,
}

type Cached = (Instant, Result<Arc<ClientIdentity>, String>);

/// Verifies client chains and keeps what the [`Identify`] middleware needs.
pub struct Authenticator {
    ca_dir: Option<CaDirectory>,
    vomsdir: Option<VomsDir>,
    clock: Clock,
    header: Option<HeaderName>,
    proxies: Vec<AddrRange>,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("ca_dir", &self.ca_dir)
            .field("header", &self.header)
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The authenticator of an application.
    pub fn new(state: &AppState) -> Self {
        Self::with(
            state.trust.ca_dir.clone(),
            state.trust.vomsdir.clone(),
            state.clock,
            state.config.trusted_proxy_header.as_deref(),
            state.config.trusted_proxies.clone(),
        )
    }

    /// An authenticator from its parts: chains are verified against
    /// `ca_dir` (none: every chain is refused) and VOMS attributes against
    /// `vomsdir` at `clock`'s instant; `header` from `proxies` is trusted.
    pub fn with(
        ca_dir: Option<CaDirectory>,
        vomsdir: Option<VomsDir>,
        clock: Clock,
        header: Option<&str>,
        proxies: Vec<AddrRange>,
    ) -> Self {
        Authenticator {
            ca_dir,
            vomsdir,
            clock,
            header: header.and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok()),
            proxies,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `peer` is a configured trusted proxy.
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.proxies.iter().any(|r| r.contains(peer))
    }

    /// Verifies a chain (leaf first, DER) and reads its VOMS attributes.
    /// CPU-bound and reads the CA directory: call from a blocking thread.
    pub fn identify_der(
        &self,
        chain: &[Vec<u8>],
        source: IdentitySource,
    ) -> Result<ClientIdentity, String> {
        let certs = certificate::chain_from_der(chain)
            .map_err(|e| format!("unreadable certificate: {e}"))?;
        self.identify(&certs, source)
    }

    /// Verifies a chain (leaf first) and reads its VOMS attributes.
    pub fn identify(
        &self,
        chain: &[X509],
        source: IdentitySource,
    ) -> Result<ClientIdentity, String> {
        let ca = self
            .ca_dir
            .as_ref()
            .ok_or("no CA directory is configured to verify client certificates")?;
        let (leaf, rest) = chain.split_first().ok_or("no certificate")?;
        if chain.len() > MAX_CHAIN {
            return Err(format!("more than {MAX_CHAIN} certificates in the chain"));
        }
        let at = self.clock.now();
        let verified = ca.verify_chain(leaf, rest, at).map_err(|e| e.to_string())?;
        let mut identity = ClientIdentity {
            subject: verified.subject().to_string(),
            issuer: verified.issuer().to_string(),
            vos: Vec::new(),
            fqans: Vec::new(),
            source,
        };
        let acs = match parse_chain(verified.certificates()) {
            Ok(acs) => acs,
            Err(e) => {
                tracing::info!(subject = %identity.subject, reason = %e,
                    "client chain: VOMS attributes ignored");
                Vec::new()
            }
        };
        if acs.is_empty() {
            return Ok(identity);
        }
        let Some(vomsdir) = &self.vomsdir else {
            tracing::debug!(subject = %identity.subject,
                "client chain: VOMS attributes ignored (no vomsdir configured)");
            return Ok(identity);
        };
        for ac in &acs {
            match vomsdir.verify_ac(ac, &verified, ca, at) {
                Ok(attributes) => {
                    if !identity.vos.contains(&attributes.vo) {
                        identity.vos.push(attributes.vo.clone());
                    }
                    for fqan in attributes.fqans {
                        if !identity.fqans.contains(&fqan) {
                            identity.fqans.push(fqan);
                        }
                    }
                }
                Err(e) => tracing::info!(
                    subject = %identity.subject,
                    vo = %ac.claimed().vo,
                    reason = %e,
                    "client chain: VOMS attribute certificate not accepted; no VO from it"
                ),
            }
        }
        Ok(identity)
    }

    /// The identity of a header value (cached for [`HEADER_CACHE_TTL`]).
    async fn from_header(self: &Arc<Self>, value: &[u8]) -> Result<Arc<ClientIdentity>, String> {
        let key: [u8; 32] = Sha256::digest(value).into();
        let now = Instant::now();
        if let Some((at, cached)) = self.lock_cache().get(&key)
            && now.duration_since(*at) < HEADER_CACHE_TTL
        {
            return cached.clone();
        }
        let chain = header_chain(value)?;
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            this.identify(&chain, IdentitySource::TrustedHeader)
                .map(Arc::new)
        })
        .await
        .map_err(|e| format!("verification task failed: {e}"))?;
        let mut cache = self.lock_cache();
        if cache.len() >= HEADER_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(key, (now, result.clone()));
        result
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The certificates of a trusted header: PEM blocks, optionally
/// URL-escaped, whitespace inside the base64 ignored.
pub fn header_chain(value: &[u8]) -> Result<Vec<X509>, String> {
    let text = percent_decode(value).ok_or("the header is not URL-escaped PEM")?;
    certificate::chain_from_pem_text(&text, MAX_CHAIN).map_err(|e| match e {
        PemChainError::Unterminated => "a PEM certificate in the header is not terminated".into(),
        PemChainError::NotBase64 => "a PEM certificate in the header is not base64".into(),
        PemChainError::Unreadable => "a certificate in the header cannot be read".into(),
        PemChainError::TooMany(max) => format!("more than {max} certificates in the header"),
        PemChainError::Empty => "no PEM certificate in the header".into(),
    })
}

/// `%XX` decoding (a `+` stays a `+`: it is a base64 character).
fn percent_decode(value: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%' {
            let hex = std::str::from_utf8(value.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Middleware: strips the trusted header, and attaches the caller's
/// identity (`Arc<ClientIdentity>`) — the trusted proxy's header chain for
/// requests from a trusted proxy that carry it, else the TLS handshake's.
#[derive(Clone)]
pub struct Identify(pub Arc<Authenticator>);

impl Middleware for Identify {
    type Carry = ();

    fn before(&self, mut request: Request) -> Before<()> {
        let connection = request.extensions().get::<Connection>().cloned();
        let auth = &self.0;
        let mut header = None;
        if let Some(name) = &auth.header {
            let values: Vec<Vec<u8>> = request
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            request.headers_mut().remove(name);
            let trusted = connection
                .as_ref()
                .is_some_and(|c| auth.is_trusted_proxy(c.peer.ip()));
            if trusted {
                header = match values.as_slice() {
                    [] => None,
                    [one] if one.iter().all(u8::is_ascii_whitespace) => None,
                    [one] => Some(one.clone()),
                    _ => {
                        return Before::Answer(refused(&format!("several {name} headers")));
                    }
                };
            } else if !values.is_empty() {
                tracing::debug!(peer = ?connection.as_ref().map(|c| c.peer),
                    "ignoring {name}: the peer is not a trusted proxy");
            }
        }
        let Some(value) = header else {
            if let Some(identity) = connection.and_then(|c| c.tls_identity) {
                request.extensions_mut().insert(identity);
            }
            return Before::Pass(request, ());
        };
        let auth = Arc::clone(auth);
        Before::Prepare(Box::pin(async move {
            match auth.from_header(&value).await {
                Ok(identity) => {
                    request.extensions_mut().insert(identity);
                    Ok((request, ()))
                }
                Err(reason) => {
                    tracing::info!(peer = ?connection.as_ref().map(|c| c.peer), %reason,
                        "client certificate from the trusted proxy refused");
                    Err(refused(&reason))
                }
            }
        }))
    }

    async fn after(&self, _: (), response: Response) -> Response {
        response
    }
}

fn refused(reason: &str) -> Response {
    AppError::new(
        StatusCode::FORBIDDEN,
        format!("client certificate refused: {reason}"),
    )
    .into_response()
}

/// The caller of a request (anonymous without an identity).
pub fn caller_of(request: &axum::extract::Request) -> crate::auth::identity::Caller {
    crate::auth::identity::Caller(
        request
            .extensions()
            .get::<std::sync::Arc<crate::auth::identity::ClientIdentity>>()
            .cloned(),
    )
}

/// The client's address (the TCP peer the accept loop attached), if known.
pub fn client_of(request: &axum::extract::Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<crate::auth::authn::Connection>()
        .map(|c| c.peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r: AddrRange = "10.1.0.0/16".parse().unwrap();
        assert!(r.contains("10.1.2.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.1.9.9".parse().unwrap()));
        let one: AddrRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: AddrRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        let odd: AddrRange = "192.168.1.128/25".parse().unwrap();
        assert!(odd.contains("192.168.1.200".parse().unwrap()));
        assert!(!odd.contains("192.168.1.100".parse().unwrap()));
        for bad in ["10.0.0.0/33", "host", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<AddrRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn client_auth_values() {
        assert_eq!(
            "Required".parse::<TlsClientAuth>().unwrap(),
            TlsClientAuth::Required
        );
        assert!("maybe".parse::<TlsClientAuth>().is_err());
    }

    #[test]
    fn header_decoding() {
        assert_eq!(percent_decode(b"a%20b+c%2F").unwrap(), "a b+c/");
        assert!(percent_decode(b"%zz").is_none());
        assert!(header_chain(b"nothing").is_err());
        assert!(
            header_chain(b"-----BEGIN CERTIFICATE-----%0AAAAA").is_err(),
            "unterminated"
        );
    }
}
