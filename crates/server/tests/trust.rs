//! Uploads with a CA directory configured: the signer's chain and the CRLs
//! are checked at the clock's instant (the conformance CA, CRLs and Jim
//! Tester's credential, all current on 2012-06-01).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use common::*;
use marketplace_server::runtime::config::ServerConfig;
use marketplace_trust::credential::Credential;
use openssl::x509::{X509, X509Crl};
use std::path::PathBuf;

/// A CA directory with the conformance CA and the given CRL.
fn ca_dir(crl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read(corpus().join("test-ca.pem")).unwrap();
    let ca = X509::from_pem(&pem).unwrap();
    let hash = format!("{:08x}", ca.subject_name_hash());
    std::fs::write(dir.path().join(format!("{hash}.0")), &pem).unwrap();
    let crl_pem = std::fs::read(corpus().join(crl)).unwrap();
    X509Crl::from_pem(&crl_pem).unwrap();
    std::fs::write(dir.path().join(format!("{hash}.r0")), crl_pem).unwrap();
    dir
}

fn jim() -> Credential {
    Credential::from_pkcs12(&corpus().join("test-ca-signed.p12"), "XYZXYZ").unwrap()
}

async fn server(ca: PathBuf) -> TestServer {
    TestServer::start_with(Backend::Sqlite, move |c: &mut ServerConfig| {
        c.ca_dir = Some(ca);
        c.now = Some("2012-06-01T00:00:00Z".parse().unwrap());
        // Jim's certificate carries no e-mail.
        c.require_certified_email = false;
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn chain_and_crl_are_checked_when_configured() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let created = "2012-05-01T00:00:00Z";
    let doc = Doc::bee8().signed_with(&jim(), created, Some("jim.tester@example.org"));

    let good = ca_dir("test-crl-empty.pem");
    let s = server(good.path().to_path_buf()).await;
    let r = s.upload(&doc).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // A self-signed certificate is not trusted by this CA directory.
    let r = s.upload(&Doc::with_id(NEWID).signed(created)).await;
    assert_eq!(r.status(), 400);
    let message = texts(&r.text().await.unwrap(), "error").remove(0);
    assert!(
        message.starts_with("invalid metadata: untrusted certificate"),
        "{message}"
    );

    let revoked = ca_dir("test-crl-revoked.pem");
    let s = server(revoked.path().to_path_buf()).await;
    let r = s.upload(&doc).await;
    assert_eq!(r.status(), 400);
    let message = texts(&r.text().await.unwrap(), "error").remove(0);
    assert!(message.contains("revoked"), "{message}");
    assert!(s.keys().await.is_empty());
}
