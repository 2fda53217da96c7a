//! TLS for `marketplace serve` (`tls_cert`, `tls_key`) with optional
//! client-certificate authentication (`tls_client_auth`), and the accept
//! loop that serves the application over plain TCP or TLS.
//!
//! TLS is rustls (aws-lc-rs) with a client-certificate verifier that hands
//! path validation to the trust core ([`CaDirectory::verify_chain`]:
//! OpenSSL with CRLs and RFC 3820 proxies, at the server clock's instant):
//! webpki cannot parse proxy certificates. The handshake signatures are
//! checked against the leaf's raw public key for the same reason.
//!
//! With `optional`, a client that sends no certificate is anonymous; a
//! client that sends one that does not verify (revoked, expired, unknown
//! CA, broken proxy) fails the handshake with a TLS alert naming the
//! problem (`certificate_revoked`, `certificate_expired`, `unknown_ca`,
//! `bad_certificate`), rather than being silently downgraded to anonymous.
//! With `required`, a client without a valid certificate cannot connect.
//!
//! After the handshake the chain is turned into a [`ClientIdentity`](crate::auth::identity::ClientIdentity)
//! (with VOMS attributes, see [`crate::auth::authn`]) once per connection, and
//! the accept loop attaches it to each request as a [`Connection`].

use crate::auth::authn::{Authenticator, Connection, TlsClientAuth};
use crate::auth::identity::IdentitySource;
use crate::http::connections::{Activity, ConnectionGate, IdleWatch};
use crate::runtime::clock::Clock;
use crate::runtime::config::ServerConfig;
use crate::runtime::state::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use marketplace_trust::certificate::{self, TlsIdentityError};
use marketplace_trust::chain::{CaDirectory, ChainError};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::Service;
use tower::ServiceExt;

/// Time a client has to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS side of the server: the acceptor, and the authenticator that
/// turns handshake chains into identities.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    auth: Arc<Authenticator>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS setup of `state`'s configuration: `None` without `tls_cert`.
    pub fn from_state(state: &AppState) -> Result<Option<Tls>, String> {
        let config = &state.config;
        let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
            return Ok(None);
        };
        let ca = match config.tls_client_auth {
            TlsClientAuth::None => None,
            _ => Some(state.trust.ca_dir.clone().ok_or(
                "tls_client_auth needs ca_dir (client certificates are verified against it)",
            )?),
        };
        let server_config = server_config(cert, key, config.tls_client_auth, ca, state.clock)?;
        Ok(Some(Tls::new(
            server_config,
            Arc::new(Authenticator::new(state)),
        )))
    }

    /// TLS with `config` (see [`server_config`]); `auth` turns the
    /// handshake's client chains into identities.
    pub fn new(config: rustls::ServerConfig, auth: Arc<Authenticator>) -> Tls {
        Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            auth,
        }
    }
}

/// The certificate chain and key of `tls_cert` and `tls_key` (PEM; the
/// key unencrypted, PKCS#8, PKCS#1 or SEC1).
pub fn load_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let pem =
        std::fs::read(cert).map_err(|e| format!("cannot read tls_cert {}: {e}", cert.display()))?;
    let key_pem =
        std::fs::read(key).map_err(|e| format!("cannot read tls_key {}: {e}", key.display()))?;
    let identity = certificate::tls_identity(&pem, &key_pem).map_err(|e| match e {
        TlsIdentityError::NotCertificates(_) | TlsIdentityError::NoCertificate => {
            format!("tls_cert {}: {e}", cert.display())
        }
        TlsIdentityError::NotAKey => format!("tls_key {}: {e}", key.display()),
        TlsIdentityError::KeyMismatch => format!(
            "tls_key {} is not the key of the certificate in {}",
            key.display(),
            cert.display()
        ),
        TlsIdentityError::Encoding(e) => e.to_string(),
    })?;
    let ders = identity
        .chain
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    Ok((ders, PrivateKeyDer::Pkcs8(identity.pkcs8_key.into())))
}

/// The rustls configuration: our certificate, the client-certificate
/// verifier of `mode`, HTTP/1.1 by ALPN.
pub fn server_config(
    cert: &Path,
    key: &Path,
    mode: TlsClientAuth,
    ca: Option<CaDirectory>,
    clock: Clock,
) -> Result<rustls::ServerConfig, String> {
    let (chain, key) = load_identity(cert, key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder =
        match (mode, ca) {
            (TlsClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
            (mode, Some(ca)) => builder.with_client_cert_verifier(Arc::new(
                GridClientVerifier::new(ca, clock, mode == TlsClientAuth::Required, &provider),
            )),
        };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("tls_cert/tls_key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Client certificates and RFC 3820 proxy chains, verified by the trust
/// core against a CA directory.
#[derive(Debug)]
pub struct GridClientVerifier {
    ca: CaDirectory,
    clock: Clock,
    mandatory: bool,
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl GridClientVerifier {
    /// A verifier over `ca` at `clock`'s instant.
    pub fn new(ca: CaDirectory, clock: Clock, mandatory: bool, provider: &CryptoProvider) -> Self {
        let hints = ca_subjects(ca.path());
        GridClientVerifier {
            ca,
            clock,
            mandatory,
            hints,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    /// Checks a handshake signature with the raw key of `cert` (TLS 1.2).
    fn check_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let public = public_key(cert)?;
        let key = public.key.as_slice();
        let verified = self
            .algorithms
            .mapping
            .iter()
            .filter(|(scheme, _)| *scheme == dss.scheme)
            .flat_map(|(_, algs)| algs.iter())
            .any(|alg| alg.verify_signature(key, message, dss.signature()).is_ok());
        if verified {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature,
            ))
        }
    }
}

/// The subjects of the CA certificates in a CA directory (hints for
/// browsers choosing a certificate).
fn ca_subjects(dir: &Path) -> Vec<DistinguishedName> {
    certificate::directory_subjects(dir)
        .into_iter()
        .map(DistinguishedName::from)
        .collect()
}

/// The public key of a handshake's certificate; an undecodable one is a
/// `bad_certificate` alert.
fn public_key(cert: &CertificateDer<'_>) -> Result<certificate::PublicKeyDer, rustls::Error> {
    certificate::public_key_der(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))
}

/// The TLS error for a refused chain (the alert the client sees).
fn certificate_error(e: ChainError) -> rustls::Error {
    let error = match e {
        ChainError::Revoked { .. } => CertificateError::Revoked,
        ChainError::Expired { .. } => CertificateError::Expired,
        ChainError::NotYetValid { .. } => CertificateError::NotValidYet,
        ChainError::UntrustedIssuer { .. } | ChainError::UntrustedRoot { .. } => {
            CertificateError::UnknownIssuer
        }
        ChainError::BadSignature { .. } => CertificateError::BadSignature,
        ChainError::NoCrl { .. } => CertificateError::UnknownRevocationStatus,
        ChainError::CrlExpired { .. } => CertificateError::ExpiredRevocationList,
        other => CertificateError::Other(rustls::OtherError(Arc::new(other))),
    };
    rustls::Error::InvalidCertificate(error)
}

impl ClientCertVerifier for GridClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let bad = |_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
        let leaf = certificate::from_der(end_entity.as_ref()).map_err(bad)?;
        if intermediates.len() >= crate::auth::authn::MAX_CHAIN {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding,
            ));
        }
        let chain = intermediates
            .iter()
            .map(|c| certificate::from_der(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        match self.ca.verify_chain(&leaf, &chain, self.clock.now()) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(e) => {
                tracing::info!(reason = %e, "client certificate refused in the TLS handshake");
                Err(certificate_error(e))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let public = public_key(cert)?;
        let spki = SubjectPublicKeyInfoDer::from(public.spki.as_slice());
        rustls::crypto::verify_tls13_signature_with_raw_key(message, &spki, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Serves `app` (the application, or any service of requests, e.g. a test
/// router behind [`crate::auth::authn::Identify`]) on `listener` — over TLS when
/// `tls` is given — until `shutdown` completes; then stops accepting and
/// waits for the requests in flight (idle connections are closed).
pub async fn serve_connections<S>(
    listener: TcpListener,
    app: S,
    tls: Option<Tls>,
    gate: Arc<ConnectionGate>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match gate.admit(peer.ip()) {
            Ok(admitted) => admitted,
            Err(refusal) => {
                // Closed at once: no descriptor held, no backlog filled.
                tracing::debug!(%peer, ?refusal, open = gate.open(), "connection refused");
                drop(tcp);
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let watcher = graceful.watcher();
        let app = app.clone();
        let tls = tls.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            connection(tcp, peer, app, tls, &gate, watcher).await;
            drop(admitted);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Accept errors: per-connection ones are skipped, others (too many open
/// files) are logged and retried after a pause.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One connection: the TLS handshake and the identity (when TLS), then
/// HTTP until the client or the shutdown closes it.
async fn connection<S>(
    tcp: TcpStream,
    peer: SocketAddr,
    app: S,
    tls: Option<Tls>,
    gate: &ConnectionGate,
    watcher: Watcher,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let Some(tls) = tls else {
        let info = Connection {
            peer,
            tls_identity: None,
        };
        serve_http(tcp, info, app, gate, watcher).await;
        return;
    };
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let chain: Option<Vec<Vec<u8>>> = stream
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.as_ref().to_vec()).collect());
    let tls_identity = match chain {
        None => None,
        Some(chain) => {
            let auth = tls.auth.clone();
            let identified = tokio::task::spawn_blocking(move || {
                auth.identify_der(&chain, IdentitySource::TlsClientCertificate)
            })
            .await;
            match identified {
                Ok(Ok(identity)) => {
                    tracing::debug!(%peer, subject = %identity.subject, vos = ?identity.vos,
                        "client authenticated");
                    Some(Arc::new(identity))
                }
                Ok(Err(reason)) => {
                    tracing::info!(%peer, %reason, "client certificate refused");
                    return;
                }
                Err(e) => {
                    tracing::error!(%peer, error = %e, "client identity task failed");
                    return;
                }
            }
        }
    };
    let info = Connection { peer, tls_identity };
    serve_http(stream, info, app, gate, watcher).await;
}

/// HTTP/1.1 on one connection, each request carrying `info` (HTTP/2 is
/// not compiled in; ALPN offers `http/1.1`, as `axum::serve` serves
/// with axum's default features). Headers must arrive within the gate's
/// header timeout, and the connection is closed once idle for its idle
/// timeout ([`crate::http::connections`]).
async fn serve_http<I, S>(io: I, info: Connection, app: S, gate: &ConnectionGate, watcher: Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let activity = Activity::new();
    let io = TokioIo::new(IdleWatch::new(io, activity.clone()));
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(info.clone());
        let in_flight = requests.request();
        let answered = app.clone().oneshot(request);
        async move {
            let response = answered.await;
            drop(in_flight);
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(gate.header_timeout);
    let served = watcher.watch(builder.serve_connection(io, service));
    tokio::select! {
        served = served => {
            if let Err(e) = served {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        }
        () = idle(&activity, gate.idle_timeout) => {
            tracing::trace!("idle connection closed");
        }
    }
}

/// Completes once the connection has been idle for `limit`.
async fn idle(activity: &Activity, limit: Duration) {
    loop {
        let idle_for = activity.idle_for();
        if idle_for >= limit {
            return;
        }
        tokio::time::sleep(limit - idle_for).await;
    }
}

/// The address to print for a server of `config` bound to `addr`.
pub fn display_url(config: &ServerConfig, addr: SocketAddr) -> String {
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{addr}")
}
