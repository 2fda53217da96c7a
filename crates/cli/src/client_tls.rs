//! TLS of the marketplace client (design note `rust-stack.md` §3.10): the
//! server is trusted through the grid CA directory (with its CRLs), not the
//! system's CAs unless asked, and the user's grid credential — a proxy, a
//! PEM certificate or a PKCS#12 file, as [`crate::credentials`] resolves it —
//! is the client certificate.
//!
//! The client certificate goes through a [`ResolvesClientCert`] that returns
//! `CertifiedKey::new(chain, key)`: rustls's `with_client_auth_cert` checks
//! the chain in ways an RFC 3820 proxy chain does not pass. The
//! [`rustls::ClientConfig`] is handed to reqwest with
//! `ClientBuilder::tls_backend_preconfigured`.
//!
//! Only HTTPS connections carry a certificate (plain HTTP has no TLS). A
//! credential that has expired, or is not valid yet, is not sent: a warning
//! says so before connecting. [`TlsState`] records what the handshake saw
//! so that a failure says which side refused what.

use crate::config_file::Source;
use crate::credentials::CredentialChoice;
use crate::failure::Failure;
use crate::settings::Settings;
use chrono::{DateTime, TimeDelta, Utc};
use marketplace_trust::chain::is_proxy;
use marketplace_trust::credential::Credential;
use marketplace_trust::dn::openssl_oneline;
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::{X509, X509Crl};
use reqwest::Url;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
    UnixTime,
};
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What the TLS layer of one client saw, for the messages of failures.
#[derive(Debug, Default)]
pub(crate) struct TlsState {
    /// The CAs the server must chain to ("the CA directory D").
    pub trust: String,
    /// The client certificate offered ("proxy F (DN)"), if any.
    pub client: Option<String>,
    /// Why the credential is not sent, when it is not.
    pub withheld: Option<String>,
    server_error: Mutex<Option<rustls::Error>>,
    requested: AtomicBool,
    sent: AtomicBool,
}

impl TlsState {
    /// Forgets what the previous connection saw (before each request).
    pub(crate) fn reset(&self) {
        *self.server_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.requested.store(false, Ordering::SeqCst);
        self.sent.store(false, Ordering::SeqCst);
    }

    fn server_error(&self) -> Option<rustls::Error> {
        self.server_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The failure for a request to `url` that failed in TLS; None when
    /// `error` is not a TLS failure.
    pub(crate) fn explain(&self, url: &Url, error: &reqwest::Error) -> Option<Failure> {
        if let Some(e) = self.server_error() {
            return Some(self.untrusted_server(url, &e));
        }
        let sent = self.sent.load(Ordering::SeqCst);
        let requested = self.requested.load(Ordering::SeqCst);
        match find_rustls_error(error)? {
            rustls::Error::InvalidCertificate(_) => None,
            rustls::Error::AlertReceived(alert) if sent => Some(Failure::auth(format!(
                "the server at {url} refused the client certificate ({}): TLS alert {}{}",
                self.client.as_deref().unwrap_or("?"),
                alert_name(*alert),
                refusal_hint(*alert)
            ))),
            rustls::Error::AlertReceived(alert)
                if requested
                    || matches!(
                        alert,
                        AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure
                    ) =>
            {
                let why = match &self.withheld {
                    Some(w) => format!("{w}, so it was not sent; renew it"),
                    None => "none was sent: give --proxy FILE (or set X509_USER_PROXY), \
                             --cert/--key, or --p12-cert with --p12-password"
                        .to_string(),
                };
                Some(Failure::auth(format!(
                    "the server at {url} requires a client certificate (TLS alert {}); {why}",
                    alert_name(*alert)
                )))
            }
            e => Some(Failure::network(format!(
                "the TLS connection to {url} failed: {e}"
            ))),
        }
    }

    fn untrusted_server(&self, url: &Url, e: &rustls::Error) -> Failure {
        let host = url.host_str().unwrap_or("?");
        let (why, hint) = match e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => (
                    "it is not issued by one of these CAs".to_string(),
                    "; give --ca-dir DIR holding the CA of the server's certificate (or set \
                     X509_CERT_DIR), or --system-roots if a public CA issued it",
                ),
                CertificateError::Revoked => ("it is revoked (CRL of its CA)".to_string(), ""),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    ("it has expired".to_string(), "")
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    ("it is not valid yet".to_string(), "")
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => (
                    format!("it is not valid for the host name {host} ({c})"),
                    "; use the host name the certificate names in the endpoint",
                ),
                other => (other.to_string(), ""),
            },
            other => (other.to_string(), ""),
        };
        Failure::network(format!(
            "the certificate of the server at {url} is not trusted by {}: {why}{hint}",
            self.trust
        ))
    }
}

fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::DecryptError => "decrypt_error",
        other => return format!("{other:?}"),
    };
    name.to_string()
}

fn refusal_hint(alert: AlertDescription) -> &'static str {
    match alert {
        AlertDescription::UnknownCA => {
            " — the server does not trust the CA that issued your certificate"
        }
        AlertDescription::CertificateRevoked => " — your certificate is revoked",
        AlertDescription::CertificateExpired => " — a certificate of your chain has expired",
        AlertDescription::AccessDenied => " — you are not allowed to connect",
        AlertDescription::BadCertificate
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateUnknown => {
            " — the server could not verify it (a proxy needs a server that accepts RFC 3820 \
             proxy certificates)"
        }
        _ => "",
    }
}

/// The rustls error somewhere in `error`'s chain (also inside `io::Error`s,
/// whose `source` skips the error they wrap).
fn find_rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| find_rustls_error(inner as &(dyn StdError + 'static)))
        {
            return Some(inner);
        }
        current = e.source();
    }
    None
}

/// A rustls configuration and the state its verifier and resolver record.
pub(crate) struct Setup {
    /// For `ClientBuilder::tls_backend_preconfigured`.
    pub config: ClientConfig,
    /// What the handshakes see.
    pub state: Arc<TlsState>,
}

/// The TLS configuration of a client of the HTTPS marketplace `url`:
/// trust from the settings' CA directory (and the system's CAs with
/// `system_roots`), the client certificate from the settings' credential.
/// Warns on stderr, before any connection, about a credential that is not
/// sent.
pub(crate) fn setup(settings: &Settings, url: &Url) -> Result<Setup, Failure> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (verifier, trust) = server_verifier(settings, &provider)?;
    let mut state = TlsState {
        trust,
        ..TlsState::default()
    };
    let key = client_key(settings, url, &provider, &mut state)?;
    let state = Arc::new(state);
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::usage(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recording {
            inner: verifier,
            state: state.clone(),
        }))
        .with_client_cert_resolver(Arc::new(Resolver {
            key,
            state: state.clone(),
        }));
    Ok(Setup { config, state })
}

/// The webpki verifier over the CA directory (and the system's CAs), and
/// how to name those CAs in messages.
fn server_verifier(
    settings: &Settings,
    provider: &Arc<CryptoProvider>,
) -> Result<(Arc<WebPkiServerVerifier>, String), Failure> {
    let dir = settings.server_ca_dir();
    let path = dir.value.clone().unwrap_or_default();
    let system = settings.system_roots();
    let mut roots = RootCertStore::empty();
    let mut crls = Vec::new();
    let mut names = Vec::new();
    match load_ca_dir(&path) {
        Ok(loaded) => {
            for cert in loaded.certificates {
                // A CA certificate webpki cannot take as an anchor is skipped.
                let _ = roots.add(cert);
            }
            crls = loaded.crls;
            names.push(format!("the CA directory {}", path.display()));
        }
        // The grid default may be absent when the system's CAs are asked for.
        Err(CaDirError::Missing) if system && matches!(dir.source, Source::Grid(_)) => {}
        Err(e) => {
            let from = match dir.source {
                Source::Grid(_) => "the grid default".to_string(),
                other => other.to_string(),
            };
            return Err(Failure::usage(format!(
                "cannot check the marketplace's certificate: the CA directory {} ({from}) {e}; \
                 give --ca-dir DIR (the grid's CA certificates, `<hash>.0` files), set \
                 X509_CERT_DIR, or give --system-roots to trust the system's CAs",
                path.display(),
            )));
        }
    }
    if system {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            return Err(Failure::usage(
                "--system-roots: no CA certificates found in the system's store (install \
                 ca-certificates, or set SSL_CERT_FILE / SSL_CERT_DIR)",
            ));
        }
        names.push("the system's CAs".into());
    }
    if roots.is_empty() {
        return Err(Failure::usage(format!(
            "the CA directory {} holds no CA certificate usable for TLS; give --ca-dir DIR or \
             --system-roots",
            path.display()
        )));
    }
    let roots = Arc::new(roots);
    let build = |crls: Vec<CertificateRevocationListDer<'static>>| {
        let mut builder =
            WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone());
        if !crls.is_empty() {
            // A CA without a CRL (or with an outdated one) does not block;
            // a certificate its CRL lists is refused.
            builder = builder.with_crls(crls).allow_unknown_revocation_status();
        }
        builder.build()
    };
    let verifier = match build(crls.clone()) {
        Ok(v) => v,
        // A CRL webpki cannot parse would refuse every server: leave it out.
        Err(_) => {
            let usable = crls
                .into_iter()
                .filter(|c| build(vec![c.clone()]).is_ok())
                .collect();
            build(usable).map_err(|e| Failure::usage(format!("cannot set up TLS: {e}")))?
        }
    };
    Ok((verifier, names.join(" and ")))
}

/// Why a CA directory cannot be used.
#[derive(Debug)]
enum CaDirError {
    Missing,
    Unreadable(std::io::Error),
    Empty,
}

impl std::fmt::Display for CaDirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaDirError::Missing => f.write_str("does not exist"),
            CaDirError::Unreadable(e) => write!(f, "cannot be read ({e})"),
            CaDirError::Empty => f.write_str("holds no CA certificate (`<hash>.0` file)"),
        }
    }
}

/// The certificates and CRLs of a CA directory.
struct CaDir {
    certificates: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

/// Whether `name` is `<8 hex digits>.<digits>` (a certificate) or
/// `<8 hex digits>.r<digits>` (a CRL): `Some(false)`, `Some(true)`.
fn hashed_name(name: &str) -> Option<bool> {
    let (hash, suffix) = name.split_once('.')?;
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let (crl, digits) = match suffix.strip_prefix('r') {
        Some(d) => (true, d),
        None => (false, suffix),
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(crl)
}

/// Reads a CA directory in the IGTF layout: `<hash>.N` CA certificates and
/// `<hash>.rN` CRLs, PEM or DER; other files (`.signing_policy`,
/// `.namespaces`, `.info`, …) are ignored, and so are unreadable entries.
fn load_ca_dir(dir: &Path) -> Result<CaDir, CaDirError> {
    let entries = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CaDirError::Missing,
        _ => CaDirError::Unreadable(e),
    })?;
    let mut files: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let crl = hashed_name(&e.file_name().to_string_lossy())?;
            Some((e.path(), crl))
        })
        .collect();
    files.sort();
    let mut loaded = CaDir {
        certificates: Vec::new(),
        crls: Vec::new(),
    };
    for (path, crl) in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if crl {
            let parsed = X509Crl::from_pem(&bytes).or_else(|_| X509Crl::from_der(&bytes));
            if let Ok(der) = parsed.and_then(|c| c.to_der()) {
                loaded.crls.push(CertificateRevocationListDer::from(der));
            }
        } else {
            let certs = X509::stack_from_pem(&bytes)
                .ok()
                .filter(|c| !c.is_empty())
                .or_else(|| X509::from_der(&bytes).ok().map(|c| vec![c]))
                .unwrap_or_default();
            for cert in certs {
                if let Ok(der) = cert.to_der() {
                    loaded.certificates.push(CertificateDer::from(der));
                }
            }
        }
    }
    if loaded.certificates.is_empty() {
        return Err(CaDirError::Empty);
    }
    Ok(loaded)
}

/// The client certificate and key to send, if any; fills `state.client`
/// and `state.withheld`.
fn client_key(
    settings: &Settings,
    url: &Url,
    provider: &CryptoProvider,
    state: &mut TlsState,
) -> Result<Option<Arc<CertifiedKey>>, Failure> {
    let choice = settings.credentials.choice(&settings.file);
    let Some(which) = choice.value else {
        return Ok(None);
    };
    let credential = match settings.credentials.load_choice(&which) {
        Ok(c) => c,
        // A credential found only by grid habit (not named by the user) that
        // cannot be used does not stop an anonymous request.
        Err(f) if matches!(choice.source, Source::Grid(_)) => {
            eprintln!(
                "marketplace: warning: {}; connecting to {url} without a client certificate",
                f.message
            );
            return Ok(None);
        }
        Err(f) => {
            return Err(Failure::usage(format!(
                "{}; it is named by {} as the client certificate for {url}",
                f.message, choice.source
            )));
        }
    };
    let subject = openssl_oneline(credential.signer().subject_name());
    let description = format!("{which}, {subject}");
    if let Some(problem) = validity_problem(&credential, &which, Utc::now()) {
        eprintln!(
            "marketplace: warning: {problem}; it is not sent to {url}{}",
            renew_hint(&which, &credential)
        );
        state.withheld = Some(problem);
        return Ok(None);
    }
    let chain: Vec<CertificateDer<'static>> = credential
        .key_info_certificates()
        .iter()
        .map(|c| c.to_der().map(CertificateDer::from))
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::usage(format!("cannot use the credential ({which}): {e}")))?;
    let pkcs8 = credential
        .key()
        .private_key_to_pkcs8()
        .map_err(|e| Failure::usage(format!("cannot use the key of {which}: {e}")))?;
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8)))
        .map_err(|e| {
            Failure::usage(format!(
                "the key of {which} cannot be used for TLS ({e}); RSA keys need at least \
                 2048 bits"
            ))
        })?;
    state.client = Some(description);
    Ok(Some(Arc::new(CertifiedKey::new(chain, key))))
}

fn renew_hint(which: &CredentialChoice, credential: &Credential) -> &'static str {
    if matches!(which, CredentialChoice::Proxy { .. }) || is_proxy(credential.signer()) {
        " (make a new proxy: voms-proxy-init or grid-proxy-init)"
    } else {
        ""
    }
}

/// The instant of an ASN.1 time.
fn asn1_to_utc(t: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    DateTime::from_timestamp(0, 0)?
        .checked_add_signed(TimeDelta::days(diff.days.into()))?
        .checked_add_signed(TimeDelta::seconds(diff.secs.into()))
}

/// Why the credential cannot authenticate at `now`: a certificate of the
/// chain it sends (the proxies and the user certificate) is expired or not
/// valid yet.
fn validity_problem(
    credential: &Credential,
    which: &CredentialChoice,
    now: DateTime<Utc>,
) -> Option<String> {
    let format = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for cert in credential.key_info_certificates() {
        let what = if is_proxy(&cert) {
            "proxy certificate"
        } else {
            "certificate"
        };
        let subject = openssl_oneline(cert.subject_name());
        if let Some(end) = asn1_to_utc(cert.not_after())
            && end < now
        {
            return Some(format!(
                "the {what} {subject} of your credential ({which}) expired at {}",
                format(end)
            ));
        }
        if let Some(start) = asn1_to_utc(cert.not_before())
            && start > now
        {
            return Some(format!(
                "the {what} {subject} of your credential ({which}) is not valid before {}",
                format(start)
            ));
        }
    }
    None
}

/// The client certificate resolver: always the same certificate and key,
/// whatever the server hints (grid servers often send no CA names).
#[derive(Debug)]
struct Resolver {
    key: Option<Arc<CertifiedKey>>,
    state: Arc<TlsState>,
}

impl ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.state.requested.store(true, Ordering::SeqCst);
        if self.key.is_some() {
            self.state.sent.store(true, Ordering::SeqCst);
        }
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// The webpki verifier, recording why it refused a server certificate.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    state: Arc<TlsState>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .inspect_err(|e| {
                *self
                    .state
                    .server_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_of_a_ca_directory() {
        assert_eq!(hashed_name("1a2b3c4d.0"), Some(false));
        assert_eq!(hashed_name("1A2B3C4D.12"), Some(false));
        assert_eq!(hashed_name("1a2b3c4d.r0"), Some(true));
        assert_eq!(hashed_name("1a2b3c4d.signing_policy"), None);
        assert_eq!(hashed_name("1a2b3c4d.namespaces"), None);
        assert_eq!(hashed_name("1a2b3c4d.r"), None);
        assert_eq!(hashed_name("1a2b3c4.0"), None);
        assert_eq!(hashed_name("CERN-Root.pem"), None);
    }

    #[test]
    fn asn1_times_convert() {
        let t = Asn1Time::from_str("20210101000000Z").unwrap();
        assert_eq!(
            asn1_to_utc(&t).unwrap().to_rfc3339(),
            "2021-01-01T00:00:00+00:00"
        );
    }
}
