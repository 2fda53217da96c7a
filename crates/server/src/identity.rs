//! Who is making a request.
//!
//! Reading public entries is anonymous. When a client authenticates — with
//! a client certificate (or RFC 3820 proxy chain) in the TLS handshake, or
//! through a TLS-terminating proxy that passes the chain in a trusted
//! header — the connection layer verifies the chain with the trust core and
//! inserts a [`ClientIdentity`] (as `Arc<ClientIdentity>`) into the
//! request's extensions. Handlers read it with the [`Caller`] extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::sync::Arc;

/// How a [`ClientIdentity`] was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySource {
    /// A client certificate chain verified in this server's TLS handshake.
    TlsClientCertificate,
    /// A chain passed by a configured TLS-terminating proxy in the
    /// configured header, verified by this server.
    TrustedHeader,
}

/// An authenticated client: the end-entity identity behind its certificate
/// or proxy chain, and the VOMS attributes the chain carried (verified
/// against the vomsdir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Subject DN of the end-entity certificate (RFC 2253, the form the
    /// trust core gives signers).
    pub subject: String,
    /// Issuer DN of that certificate.
    pub issuer: String,
    /// VOs whose verified attribute certificates the chain carries.
    pub vos: Vec<String>,
    /// FQANs of those attribute certificates (e.g. `/biomed/Role=VO-Admin`).
    pub fqans: Vec<String>,
    /// How the identity was established.
    pub source: IdentitySource,
}

impl ClientIdentity {
    /// Whether the identity is a member of `vo` (a verified attribute
    /// certificate of that VO).
    pub fn is_member_of(&self, vo: &str) -> bool {
        self.vos.iter().any(|v| v == vo)
    }
}

/// The caller of a request: `None` when anonymous.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Arc<ClientIdentity>>);

impl Caller {
    /// An anonymous caller.
    pub fn anonymous() -> Self {
        Caller(None)
    }

    /// The identity, when authenticated.
    pub fn identity(&self) -> Option<&ClientIdentity> {
        self.0.as_deref()
    }

    /// The VOs the caller is a verified member of (empty when anonymous).
    pub fn vos(&self) -> &[String] {
        self.0.as_deref().map_or(&[], |i| i.vos.as_slice())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(parts.extensions.get::<Arc<ClientIdentity>>().cloned()))
    }
}
