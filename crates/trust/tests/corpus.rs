//! The original library's conformance corpus, end to end: format, signature,
//! endorser binding, chain with CRLs, and signing of the templates.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use chrono::{DateTime, Utc};
use marketplace_trust::chain::{CaDirectory, ChainError};
use marketplace_trust::credential::Credential;
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureRefusal, SignatureStatus, TrustFailure,
    check_document,
};
use marketplace_trust::dsig::{self, SignOptions, SignatureError};
use marketplace_trust::endorsement::{BindingError, endorsement_for};
use openssl::x509::{X509, X509Crl};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    marketplace_test_pki::corpus::dir()
}

/// An instant when the corpus certificates and CRLs were current.
fn when_current() -> DateTime<Utc> {
    "2012-06-01T00:00:00Z".parse().unwrap()
}

fn rows() -> Vec<(String, String)> {
    std::fs::read_to_string(corpus().join("expected.tsv"))
        .expect("the conformance corpus must be in ../shared")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}

fn jane() -> Credential {
    Credential::from_pkcs12(&corpus().join("test.p12"), "XYZXYZ").expect("legacy PKCS#12 opens")
}

fn sign_template(path: &Path, credential: &Credential) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (endorsement, _) = endorsement_for(credential.identity(), None, when_current())
        .expect("Jane's certificate has an e-mail");
    let edited = marketplace_format::edit::set_endorsement(&text, &endorsement).unwrap();
    dsig::sign(
        &edited.text,
        credential.key(),
        &credential.key_info_certificates(),
        SignOptions::default(),
    )
    .unwrap()
}

#[test]
fn every_document_has_its_expected_outcome() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let options = CheckOptions {
        at: Some(when_current()),
        ..CheckOptions::default()
    };
    let credential = jane();
    let mut failures = Vec::new();
    for (file, outcome) in rows() {
        let path = corpus().join(&file);
        let report = check_document(&std::fs::read(&path).unwrap(), &options);
        let ok = match outcome.as_str() {
            "valid" => report.is_valid(),
            "format-invalid" => !report.problems.is_empty() && !report.is_valid(),
            "signature-invalid" => {
                report.problems.is_empty()
                    && matches!(report.signature, SignatureStatus::Invalid { .. })
            }
            "profile-invalid" => matches!(
                &report.signature,
                SignatureStatus::Invalid {
                    reason: SignatureRefusal::Signature(SignatureError::Profile(_))
                }
            ),
            "sign-input" => {
                let signed = sign_template(&path, &credential);
                let after = check_document(signed.as_bytes(), &options);
                let e = after.metadata.endorsement.clone().unwrap_or_default();
                matches!(after.signature, SignatureStatus::Valid { .. })
                    && e.endorser.email == "jane.tester@example.org"
                    && e.endorser.subject
                        == "CN=Jane Tester,OU=Testing Department,O=StratusLab Project,C=EU"
                    && e.created == "2012-06-01T00:00:00Z"
                    && !signed.contains("ex:marker")
                    && after.problems.iter().all(|p| {
                        !p.element.contains("endorse") && !p.element.contains("slreq:email")
                    })
            }
            other => panic!("unknown outcome {other} for {file}"),
        };
        if !ok {
            failures.push(format!(
                "{file}: expected {outcome}, got problems {:?}, signature {:?}",
                report.problems, report.signature
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn minimal_template_signed_with_the_corpus_credential_is_fully_valid() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let signed = sign_template(
        &corpus().join("valid-minimal-empty-endorsement.xml"),
        &jane(),
    );
    let report = check_document(signed.as_bytes(), &CheckOptions::default());
    assert!(report.is_signed_and_valid(), "{report:?}");
}

fn pem_x509(path: &Path) -> X509 {
    X509::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

/// A CA directory in the IGTF layout holding the corpus CA and one CRL.
fn ca_dir_with(crl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ca = pem_x509(&corpus().join("test-ca.pem"));
    let crl_pem = std::fs::read(corpus().join(crl)).unwrap();
    X509Crl::from_pem(&crl_pem).expect("a PEM CRL");
    let hash = format!("{:08x}", ca.subject_name_hash());
    std::fs::write(dir.path().join(format!("{hash}.0")), ca.to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join(format!("{hash}.r0")), crl_pem).unwrap();
    dir
}

/// The document checked at [`when_current`] against the CA directory `dir`.
fn check_with_ca(doc: &[u8], dir: &tempfile::TempDir) -> DocumentReport {
    let ca = CaDirectory::open(dir.path()).unwrap();
    check_document(
        doc,
        &CheckOptions {
            ca_dir: Some(&ca),
            at: Some(when_current()),
            ..CheckOptions::default()
        },
    )
}

#[test]
fn ca_signed_document_chain_is_trusted_with_the_empty_crl_and_revoked_with_the_other() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = std::fs::read(corpus().join("valid-ca-signed.xml")).unwrap();
    let good = ca_dir_with("test-crl-empty.pem");
    let report = check_with_ca(&doc, &good);
    assert!(
        matches!(&report.chain, ChainStatus::Trusted { subject, .. } if subject.contains("Jim Tester")),
        "{:?}",
        report.chain
    );
    assert!(report.is_valid());

    let revoked = ca_dir_with("test-crl-revoked.pem");
    let report = check_with_ca(&doc, &revoked);
    assert!(
        matches!(
            &report.chain,
            ChainStatus::Untrusted {
                reason: TrustFailure::Chain(ChainError::Revoked { .. })
            }
        ),
        "{:?}",
        report.chain
    );
    assert!(!report.is_valid());
}

#[test]
fn self_signed_document_is_untrusted_by_the_corpus_ca() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = std::fs::read(corpus().join("valid-full-signature.xml")).unwrap();
    let dir = ca_dir_with("test-crl-empty.pem");
    let report = check_with_ca(&doc, &dir);
    assert!(
        matches!(report.chain, ChainStatus::Untrusted { .. }),
        "{:?}",
        report.chain
    );
}

#[test]
fn expiry_is_judged_at_the_injected_instant() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = std::fs::read(corpus().join("valid-full-signature.xml")).unwrap();
    let before = check_document(
        &doc,
        &CheckOptions {
            at: Some("2011-06-01T00:00:00Z".parse().unwrap()),
            certificates_at: None,
            ..CheckOptions::default()
        },
    );
    assert!(!before.expired);
    let after = check_document(&doc, &CheckOptions::default());
    assert!(after.expired, "valid until 2011-07-23, so expired now");
}

#[test]
fn legacy_signature_is_reported_as_such() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let doc = std::fs::read(corpus().join("valid-full-signature.xml")).unwrap();
    let report = check_document(&doc, &CheckOptions::default());
    assert!(matches!(
        report.signature,
        SignatureStatus::Valid {
            legacy_sha1: true,
            ..
        }
    ));
}

#[test]
fn a_certificate_without_email_needs_one_given_and_marks_it_unverified() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let jim = Credential::from_pkcs12(&corpus().join("test-ca-signed.p12"), "XYZXYZ").unwrap();
    assert!(endorsement_for(jim.identity(), None, Utc::now()).is_err());
    let (e, _) = endorsement_for(jim.identity(), Some("jim@example.org"), Utc::now()).unwrap();
    assert!(e.endorser.email_unverified);
    let text =
        std::fs::read_to_string(corpus().join("valid-minimal-empty-endorsement.xml")).unwrap();
    let edited = marketplace_format::edit::set_endorsement(&text, &e).unwrap();
    let signed = dsig::sign(
        &edited.text,
        jim.key(),
        &jim.key_info_certificates(),
        SignOptions::default(),
    )
    .unwrap();
    let report = check_document(signed.as_bytes(), &CheckOptions::default());
    assert!(report.is_signed_and_valid(), "{report:?}");
    assert!(
        report
            .metadata
            .endorsement
            .unwrap()
            .endorser
            .email_unverified
    );
    assert!(report.notes.iter().any(|n| n.contains("not verified")));
}

#[test]
fn a_certificate_with_email_cannot_endorse_as_someone_else() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let jane = jane();
    assert!(endorsement_for(jane.identity(), Some("mallory@example.org"), Utc::now()).is_err());
    // And a document naming another address fails the binding check.
    let signed = sign_template(&corpus().join("valid-minimal-empty-endorsement.xml"), &jane);
    let forged = signed.replace("jane.tester@example.org", "mallory@example.org");
    let resigned = dsig::sign(
        &dsig::strip_signature(&forged).unwrap(),
        jane.key(),
        &jane.key_info_certificates(),
        SignOptions::default(),
    )
    .unwrap();
    let report = check_document(resigned.as_bytes(), &CheckOptions::default());
    assert!(
        matches!(
            &report.signature,
            SignatureStatus::Invalid {
                reason: SignatureRefusal::Binding(BindingError::Email { .. })
            }
        ),
        "{:?}",
        report.signature
    );
}
