//! `marketplace sign` and `marketplace validate`, driven as a user would.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    marketplace_test_pki::corpus::dir()
}

fn marketplace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(args)
        .env_remove("X509_USER_PROXY")
        .env_remove("X509_CERT_DIR")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn validate_accepts_original_signed_documents() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let o = marketplace(&["validate", path(&corpus().join("valid-full-signature.xml"))]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("valid, signed by CN=Jane Tester"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("note: the entry expired"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn validate_reports_each_problem_with_line_element_and_rule() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let file = corpus().join("invalid-multiple-os.xml");
    let o = marketplace(&["validate", path(&file)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(":28: slterms:os: ") && out.contains("[cardinality]"),
        "{out}"
    );
}

#[test]
fn validate_fails_when_any_file_fails() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let o = marketplace(&[
        "validate",
        path(&corpus().join("valid-minimal.xml")),
        path(&corpus().join("valid-minimal-signature.xml")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("valid-minimal-signature.xml: signature:"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("valid-minimal.xml: note: the document is not signed"));
}

#[test]
fn validate_json_gives_one_object_per_file() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let o = marketplace(&[
        "validate",
        "--json",
        path(&corpus().join("valid-full-signature.xml")),
        path(&corpus().join("invalid-email.xml")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["signature"]["status"], "valid");
    assert_eq!(lines[0]["identifier"], "MMZu9WvwKIro-rtBQfDk4PsKO7_");
    assert_eq!(lines[1]["valid"], false);
    assert!(
        lines[1]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["rule"] == "email" && p["element"] == "slreq:email")
    );
}

fn ca_dir(crl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read(corpus().join("test-ca.pem")).unwrap();
    let ca = openssl::x509::X509::from_pem(&pem).unwrap();
    let hash = format!("{:08x}", ca.subject_name_hash());
    std::fs::write(dir.path().join(format!("{hash}.0")), &pem).unwrap();
    std::fs::copy(corpus().join(crl), dir.path().join(format!("{hash}.r0"))).unwrap();
    dir
}

#[test]
fn validate_with_a_ca_dir_checks_chain_and_crl_at_the_given_instant() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = corpus().join("valid-ca-signed.xml");
    let good = ca_dir("test-crl-empty.pem");
    let o = marketplace(&[
        "validate",
        "--ca-dir",
        path(good.path()),
        "--at",
        "2012-06-01T00:00:00Z",
        path(&doc),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("chain trusted"));

    let revoked = ca_dir("test-crl-revoked.pem");
    let o = marketplace(&[
        "validate",
        "--ca-dir",
        path(revoked.path()),
        "--at",
        "2012-06-01T00:00:00Z",
        path(&doc),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("revoked"), "{}", stdout(&o));
}

#[test]
fn sign_replaces_the_input_and_keeps_the_original() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("image.xml");
    std::fs::copy(corpus().join("valid-minimal-empty-endorsement.xml"), &file).unwrap();
    let o = marketplace(&[
        "sign",
        "--p12-cert",
        path(&corpus().join("test.p12")),
        "--p12-password",
        "XYZXYZ",
        path(&file),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let orig = dir.path().join("image.xml.orig");
    assert_eq!(
        std::fs::read(&orig).unwrap(),
        std::fs::read(corpus().join("valid-minimal-empty-endorsement.xml")).unwrap()
    );
    let signed = std::fs::read_to_string(&file).unwrap();
    assert!(signed.contains("<slreq:email>jane.tester@example.org</slreq:email>"));
    assert!(signed.contains("rsa-sha256"));
    let o = marketplace(&["validate", path(&file)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn sign_writes_to_output_and_uses_given_email_only_without_certificate_email() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("signed.xml");
    let template = corpus().join("valid-minimal-empty-endorsement.xml");
    let p12 = corpus().join("test-ca-signed.p12");
    let base = ["sign", "--p12-cert", path(&p12), "--p12-password", "XYZXYZ"];
    let o = marketplace(&[&base[..], &["--output", path(&out), path(&template)]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--email"), "{}", stderr(&o));
    let o = marketplace(
        &[
            &base[..],
            &[
                "--email",
                "jim@example.org",
                "--output",
                path(&out),
                path(&template),
            ],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = marketplace(&["validate", path(&out)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("not verified"), "{}", stdout(&o));
}

#[test]
fn sign_with_a_wrong_password_says_so() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("image.xml");
    std::fs::copy(corpus().join("valid-minimal-empty-endorsement.xml"), &file).unwrap();
    let o = marketplace(&[
        "sign",
        "--p12-cert",
        path(&corpus().join("test.p12")),
        "--p12-password",
        "wrong",
        path(&file),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("wrong password"), "{}", stderr(&o));
    assert!(!dir.path().join("image.xml.orig").exists());
}

#[test]
fn sign_refuses_invalid_documents_unless_asked() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xml");
    std::fs::copy(corpus().join("invalid-multiple-os.xml"), &file).unwrap();
    let p12 = corpus().join("test.p12");
    let args = ["sign", "--p12-cert", path(&p12), "--p12-password", "XYZXYZ"];
    let o = marketplace(&[&args[..], &[path(&file)]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("slterms:os"), "{}", stderr(&o));
    let o = marketplace(&[&args[..], &["--allow-invalid", path(&file)]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn sign_with_pem_certificate_and_key() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p12 = std::fs::read(corpus().join("test.p12")).unwrap();
    // Convert with the library the command uses to read PKCS#12.
    let ks = marketplace_trust::credential::Credential::from_pkcs12(
        &corpus().join("test.p12"),
        "XYZXYZ",
    )
    .unwrap();
    assert!(!p12.is_empty());
    let cert = dir.path().join("usercert.pem");
    let key = dir.path().join("userkey.pem");
    std::fs::write(&cert, ks.signer().to_pem().unwrap()).unwrap();
    std::fs::write(&key, ks.key().private_key_to_pem_pkcs8().unwrap()).unwrap();
    let file = dir.path().join("image.xml");
    std::fs::copy(corpus().join("valid-minimal-empty-endorsement.xml"), &file).unwrap();
    let o = marketplace(&[
        "sign",
        "--cert",
        path(&cert),
        "--key",
        path(&key),
        path(&file),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        marketplace(&["validate", path(&file)]).status.code(),
        Some(0)
    );
}

#[test]
fn every_command_help_has_an_example() {
    for command in ["build", "sign", "validate"] {
        let o = marketplace(&[command, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stdout(&o).contains("marketplace "),
            "{command}: {}",
            stdout(&o)
        );
        assert!(
            stdout(&o).contains("Example"),
            "{command} --help lacks an example"
        );
    }
}
