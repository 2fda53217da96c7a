//! Signing with grid credentials (PKCS#12, proxies, VOMS proxies) and
//! validating against a CA directory and vomsdir made by
//! `scripts/make-test-pki.sh`.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_test_pki::TestPki;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The test PKI, generated once per test binary; None (skipped) without openssl.
fn pki() -> Option<&'static TestPki> {
    static PKI: OnceLock<Option<TestPki>> = OnceLock::new();
    PKI.get_or_init(|| marketplace_test_pki::generate(&["openssl"], false))
        .as_ref()
}

fn marketplace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(args)
        .env_remove("X509_USER_PROXY")
        .env_remove("X509_CERT_DIR")
        .output()
        .expect("the binary runs")
}

fn template(dir: &Path) -> String {
    let corpus = marketplace_test_pki::corpus::dir();
    let file = dir.join("image.xml");
    std::fs::copy(corpus.join("valid-minimal-empty-endorsement.xml"), &file).unwrap();
    file.to_str().unwrap().to_string()
}

/// "now" for the fixtures: a few minutes after they were generated.
fn now(pki: &TestPki) -> String {
    let at: chrono::DateTime<chrono::Utc> = pki.generated_at().parse().unwrap();
    (at + chrono::Duration::minutes(5)).to_rfc3339()
}

fn validate(pki: &TestPki, file: &str, extra: &[&str]) -> Output {
    let ca = pki.file("certificates");
    let at = now(pki);
    marketplace(&[&["validate", "--ca-dir", &ca, "--at", &at], extra, &[file]].concat())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn good_user_signs_with_pkcs12_and_the_chain_is_trusted() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let file = template(work.path());
    let o = marketplace(&[
        "sign",
        "--p12-cert",
        &pki.file("alice.p12"),
        "--p12-password",
        "secret",
        &file,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = validate(pki, &file, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("signed by CN=Alice Example"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("chain trusted"));
}

#[test]
fn legacy_pkcs12_signs() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let file = template(work.path());
    let o = marketplace(&[
        "sign",
        "--p12-cert",
        &pki.file("alice-legacy.p12"),
        "--p12-password",
        "secret",
        &file,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(validate(pki, &file, &[]).status.code(), Some(0));
}

#[test]
fn proxy_and_proxy_of_proxy_sign_for_the_user_behind_them() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    for (proxy, depth) in [("alice-proxy", 1), ("alice-proxy2", 2)] {
        let work = tempfile::tempdir().unwrap();
        let file = template(work.path());
        // A proxy file carries the proxy, its key and the chain (grid layout).
        let combined = work.path().join("x509up");
        let mut pem = std::fs::read(pki.file(&format!("{proxy}.pem"))).unwrap();
        pem.extend(std::fs::read(pki.file(&format!("{proxy}.key"))).unwrap());
        std::fs::write(&combined, pem).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_marketplace"))
            .args(["sign", &file])
            .env("X509_USER_PROXY", &combined)
            .output()
            .unwrap();
        assert!(o.status.success(), "{proxy}: {}", text(&o));
        let signed = std::fs::read_to_string(&file).unwrap();
        assert!(
            signed.contains("<slreq:subject>CN=Alice Example,OU=Users,O=Marketplace Test Grid,C=EU</slreq:subject>"),
            "the endorser is the user, not the proxy"
        );
        let o = validate(pki, &file, &[]);
        assert_eq!(o.status.code(), Some(0), "{proxy}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("through {depth} proxy")),
            "{proxy}: {}",
            text(&o)
        );
    }
}

#[test]
fn voms_proxy_endorsement_says_which_vo_and_role() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    if !pki.has_voms() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let file = template(work.path());
    let o = marketplace(&["sign", "--proxy", &pki.file("alice-voms.pem"), &file]);
    assert!(o.status.success(), "{}", text(&o));
    let vomsdir = pki.file("vomsdir");
    let o = validate(pki, &file, &["--vomsdir", &vomsdir, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let voms = &report["chain"]["voms"][0];
    assert_eq!(voms["vo"], "testvo");
    let fqans: Vec<&str> = voms["fqans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(fqans.contains(&"/testvo/Role=endorser"), "{fqans:?}");
}

#[test]
fn forged_attribute_certificate_is_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    if !pki.has_voms() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let file = template(work.path());
    let o = marketplace(&["sign", "--proxy", &pki.file("alice-voms-forged.pem"), &file]);
    assert!(o.status.success(), "{}", text(&o));
    let vomsdir = pki.file("vomsdir");
    let o = validate(pki, &file, &["--vomsdir", &vomsdir]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("forged"), "{}", text(&o));
}

#[test]
fn revoked_expired_and_untrusted_signers_are_refused() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    for (user, expect) in [("mallory", "revoked"), ("expired", "expired"), ("eve", "")] {
        let work = tempfile::tempdir().unwrap();
        let file = template(work.path());
        let o = marketplace(&[
            "sign",
            "--cert",
            &pki.file(&format!("{user}.pem")),
            "--key",
            &pki.file(&format!("{user}.key")),
            "--email",
            &format!("{user}@example.org"),
            &file,
        ]);
        assert!(o.status.success(), "{user}: {}", text(&o));
        let o = validate(pki, &file, &[]);
        assert_eq!(o.status.code(), Some(1), "{user}: {}", text(&o));
        assert!(text(&o).contains("chain:"), "{user}: {}", text(&o));
        assert!(text(&o).contains(expect), "{user}: {}", text(&o));
        // Without a CA directory only format and signature are checked.
        let o = marketplace(&["validate", &file]);
        assert_eq!(o.status.code(), Some(0), "{user}: {}", text(&o));
    }
}

#[test]
fn expired_user_was_trusted_while_the_certificate_was_current() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let file = template(work.path());
    let o = marketplace(&[
        "sign",
        "--cert",
        &pki.file("expired.pem"),
        "--key",
        &pki.file("expired.key"),
        "--email",
        "expired@example.org",
        &file,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ca = pki.file("certificates");
    let o = marketplace(&[
        "validate",
        "--ca-dir",
        &ca,
        "--at",
        "2020-06-01T00:00:00Z",
        &file,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
