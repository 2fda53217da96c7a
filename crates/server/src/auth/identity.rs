//! Who is making a request.
//!
//! Reading public entries is anonymous. When a client authenticates — with
//! a client certificate (or RFC 3820 proxy chain) in the TLS handshake, or
//! through a TLS-terminating proxy that passes the chain in a trusted
//! header — the connection layer verifies the chain with the trust core and
//! inserts a [`ClientIdentity`] (as `Arc<ClientIdentity>`) into the
//! request's extensions. Handlers read it with the [`Caller`] extractor.
//!
//! A handler whose response depends on the caller (every one that reads
//! entries: restricted entries are shown to their VOs' members only) takes
//! a [`Caller`]; extracting an authenticated one raises the request's
//! [`CallerUsed`] flag, so that [`crate::http::conditional`] keeps the response
//! out of shared caches.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use marketplace_store::Audience;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

    /// What the caller may read: the entries restricted to one of its VOs
    /// besides the public ones ([`Audience::Public`] when anonymous or a
    /// member of no VO). Every handler that reads entries passes it to the
    /// store.
    pub fn audience(&self) -> Audience {
        Audience::members(self.vos())
    }
}

/// A request extension (put by [`crate::http::conditional::Conditional`])
/// raised when a handler extracted an authenticated [`Caller`]: the
/// response was made for that caller.
#[derive(Debug, Clone, Default)]
pub struct CallerUsed(Arc<AtomicBool>);

impl CallerUsed {
    /// Whether an authenticated caller was extracted.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let identity = parts.extensions.get::<Arc<ClientIdentity>>().cloned();
        if identity.is_some()
            && let Some(used) = parts.extensions.get::<CallerUsed>()
        {
            used.raise();
        }
        Ok(Caller(identity))
    }
}
