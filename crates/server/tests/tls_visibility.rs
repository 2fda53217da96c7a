//! Restricted entries end to end over real TLS: the marketplace with
//! optional client certificates (the test PKI of `scripts/make-test-pki.sh`,
//! VOMS proxies made by `voms-proxy-fake`), and the every-route checks of
//! `common/visibility.rs` for a member of the VO (a VOMS proxy of it), a
//! proxy of another VO, a certificate without VOMS attributes, and a client
//! without a certificate.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use common::visibility::{self, Expect, Fixture};
use common::{Backend, TestServer, https_base, serve_tls_with};
use marketplace_server::runtime::config::ServerConfig;
use marketplace_test_pki::TestPki;
use marketplace_trust::credential::Credential;
use openssl::pkey::PKey;
use openssl::x509::X509;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

/// The VO of the test PKI's VOMS proxies.
const VO: &str = "testvo";

/// The test PKI with VOMS proxies, or None (skipped; never in CI) without
/// openssl or voms-proxy-fake.
fn pki() -> Option<&'static TestPki> {
    static PKI: OnceLock<Option<TestPki>> = OnceLock::new();
    PKI.get_or_init(|| marketplace_test_pki::generate(&["openssl", "voms-proxy-fake"], true))
        .as_ref()
}

/// Always presents one certificate chain (an RFC 3820 proxy chain
/// included, which rustls's own client-certificate checks would refuse).
#[derive(Debug)]
struct Present(Arc<CertifiedKey>);

impl ResolvesClientCert for Present {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A client trusting the Test CA, presenting the certificates and key of
/// the PEM files `credential` (certificate file, key file) when given.
fn client(pki: &TestPki, credential: Option<(&str, &str)>) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    let ca = X509::from_pem(&std::fs::read(pki.path().join("ca.pem")).unwrap()).unwrap();
    roots
        .add(CertificateDer::from(ca.to_der().unwrap()))
        .unwrap();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match credential {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> =
                X509::stack_from_pem(&std::fs::read(pki.path().join(cert)).unwrap())
                    .unwrap()
                    .iter()
                    .map(|c| CertificateDer::from(c.to_der().unwrap()))
                    .collect();
            let key = PKey::private_key_from_pem(&std::fs::read(pki.path().join(key)).unwrap())
                .unwrap()
                .private_key_to_pkcs8()
                .unwrap();
            let key = provider
                .key_provider
                .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
                .unwrap();
            builder.with_client_cert_resolver(Arc::new(Present(Arc::new(CertifiedKey::new(
                chain, key,
            )))))
        }
    };
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(config)
        .build()
        .unwrap()
}

fn credential(pki: &TestPki, name: &str) -> Credential {
    Credential::from_pem_files(
        &pki.path().join(format!("{name}.pem")),
        &pki.path().join(format!("{name}.key")),
        None,
    )
    .unwrap()
}

async fn every_route_over_tls(backend: Backend) {
    let Some(pki) = pki() else { return };
    let Some(server) = TestServer::start_with(backend, move |c: &mut ServerConfig| {
        serve_tls_with(c, pki);
        // Bob's certificate carries no e-mail: his document claims one.
        c.require_certified_email = false;
    })
    .await
    else {
        return;
    };
    let base = https_base(&server);
    let now: chrono::DateTime<chrono::Utc> = pki.generated_at().parse().unwrap();
    let fixture = Fixture::dated(
        VO,
        &credential(pki, "alice"),
        &credential(pki, "bob"),
        now - chrono::Duration::hours(6),
        "2080-01-01T00:00:00Z",
    );
    let anonymous = client(pki, None);
    fixture.upload(&anonymous, &base).await;

    let member = client(pki, Some(("alice-voms.pem", "alice-voms.pem")));
    let other_vo = client(
        pki,
        Some(("alice-voms-othervo.pem", "alice-voms-othervo.pem")),
    );
    let no_vo = client(pki, Some(("bob.pem", "bob.key")));
    visibility::check_every_route(&member, &base, &fixture, Expect::MEMBER).await;
    visibility::check_every_route(&other_vo, &base, &fixture, Expect::NON_MEMBER).await;
    visibility::check_every_route(&no_vo, &base, &fixture, Expect::NON_MEMBER).await;
    visibility::check_every_route(&anonymous, &base, &fixture, Expect::ANONYMOUS).await;
    for path in [
        "/metadata",
        "/api/v1/images?status=all",
        "/feeds/entries.atom",
    ] {
        visibility::check_validators_by_audience(&member, &anonymous, &base, path).await;
        visibility::check_validators_by_audience(&member, &other_vo, &base, path).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_over_tls_on_sqlite() {
    every_route_over_tls(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_over_tls_on_postgres() {
    every_route_over_tls(Backend::Postgres).await;
}
