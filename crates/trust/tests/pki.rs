//! Chain, CRL, proxy and VOMS checks against the throwaway PKI of `scripts/make-test-pki.sh`,
//! and against the original StratusLab conformance certificates.
//!
//! The PKI is generated once into `<target>/test-pki/<script-hash>/` (a lock file keeps
//! parallel test binaries from racing) and reused while the script is unchanged. Its instants
//! are fixed or recorded in `fixtures.env`, so the tests never depend on the wall clock.
//! Without `openssl` / `voms-proxy-fake` the tests are skipped, or fail when `CI=true`.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use std::collections::HashMap;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use marketplace_trust::chain::{CaDirectory, ChainError, Instants, VerifiedChain, is_proxy};
use marketplace_trust::dn::{openssl_oneline, rfc2253};
use marketplace_trust::voms::{VomsDir, VomsError, parse_chain};
use openssl::x509::{X509, X509Crl};

const ALICE: &str = "CN=Alice Example,OU=Users,O=Marketplace Test Grid,C=EU";
const TEST_CA: &str = "CN=Marketplace Test CA,O=Marketplace Test Grid,C=EU";
const AA: &str = "CN=voms.example.org,OU=Services,O=Marketplace Test Grid,C=EU";

// --- fixtures ---------------------------------------------------------------------------------

/// The generated PKI.
struct Pki {
    dir: PathBuf,
    env: HashMap<String, String>,
}

impl Pki {
    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// All certificates of a PEM file (keys are skipped), in file order.
    fn certs(&self, file: &str) -> Vec<X509> {
        let pem = std::fs::read(self.path(file)).unwrap();
        X509::stack_from_pem(&pem).unwrap()
    }

    fn instant(&self, key: &str) -> DateTime<Utc> {
        self.env[key].parse().unwrap()
    }

    /// "Now" for every test: shortly after the fixtures were generated.
    fn now(&self) -> DateTime<Utc> {
        self.instant("GENERATED_AT") + Duration::minutes(5)
    }

    fn ca(&self) -> CaDirectory {
        CaDirectory::open(self.path("certificates")).unwrap()
    }

    fn vomsdir(&self) -> VomsDir {
        VomsDir::open(self.path("vomsdir")).unwrap()
    }

    fn has_voms(&self) -> bool {
        self.env.get("VOMS").is_some_and(|v| v == "yes")
    }

    /// Verifies a PEM file whose first certificate is the leaf, the rest intermediates.
    fn verify(&self, file: &str, at: DateTime<Utc>) -> Result<VerifiedChain, ChainError> {
        verify_with(&self.ca(), &self.certs(file), at)
    }
}

fn verify_with(
    ca: &CaDirectory,
    certs: &[X509],
    at: DateTime<Utc>,
) -> Result<VerifiedChain, ChainError> {
    ca.verify_chain(&certs[0], &certs[1..], at)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Skips (prints why) or, under `CI=true`, fails.
fn skip(why: &str) {
    marketplace_test_pki::skip(&format!("test PKI unavailable: {why}"));
}

fn has_tool(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// The shared PKI, or `None` (after [`skip`]) when it cannot be made.
fn pki() -> Option<&'static Pki> {
    static PKI: OnceLock<Result<Pki, String>> = OnceLock::new();
    match PKI.get_or_init(generate) {
        Ok(p) => Some(p),
        Err(why) => {
            skip(why);
            None
        }
    }
}

/// The shared PKI with its VOMS proxies, or `None` (after [`skip`]).
fn voms_pki() -> Option<&'static Pki> {
    let p = pki()?;
    if p.has_voms() {
        Some(p)
    } else {
        skip("voms-proxy-fake not found (install the Debian package voms-clients)");
        None
    }
}

fn generate() -> Result<Pki, String> {
    if !has_tool("openssl", "version") {
        return Err("openssl not found (install the Debian package openssl)".into());
    }
    let script = workspace_root().join("scripts/make-test-pki.sh");
    let text = std::fs::read(&script).map_err(|e| format!("{}: {e}", script.display()))?;
    let voms = has_tool("voms-proxy-fake", "-version");
    let mut h = DefaultHasher::new();
    (text, voms).hash(&mut h);
    let key = format!("{:016x}", h.finish());

    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-pki");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let lock = File::create(root.join(".lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let dir = root.join(&key);
    if !dir.join("fixtures.env").exists() {
        run_script(&script, &root, &dir)?;
    }
    drop(lock);
    let env = std::fs::read_to_string(dir.join("fixtures.env"))
        .map_err(|e| e.to_string())?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok(Pki { dir, env })
}

/// Runs the script into a scratch directory, then moves it to `dir`.
fn run_script(script: &Path, root: &Path, dir: &Path) -> Result<(), String> {
    let tmp = root.join(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new("bash")
        .arg(script)
        .arg(&tmp)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Fixtures of older script versions are no longer needed.
    for old in std::fs::read_dir(root)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        if old.path() != tmp && old.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    std::fs::rename(&tmp, dir).map_err(|e| e.to_string())
}

// --- chains -----------------------------------------------------------------------------------

#[test]
fn good_user_verifies() {
    let Some(p) = pki() else { return };
    let chain = p.verify("alice.pem", p.now()).unwrap();
    assert_eq!(chain.subject(), ALICE);
    assert_eq!(chain.issuer(), TEST_CA);
    assert_eq!(chain.proxy_depth(), 0);
    assert_eq!(chain.certificates().len(), 2);
    assert!(!is_proxy(chain.end_entity()));
    assert_eq!(
        openssl_oneline(chain.end_entity().subject_name()),
        "/C=EU/O=Marketplace Test Grid/OU=Users/CN=Alice Example"
    );
}

#[test]
fn revoked_user_refused() {
    let Some(p) = pki() else { return };
    let err = p.verify("mallory.pem", p.now()).unwrap_err();
    assert!(matches!(err, ChainError::Revoked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "certificate revoked: CN=Mallory Example,OU=Users,O=Marketplace Test Grid,C=EU \
             (CRL of {TEST_CA})"
        )
    );
}

#[test]
fn expired_user_refused_now_but_valid_in_2020() {
    let Some(p) = pki() else { return };
    let err = p.verify("expired.pem", p.now()).unwrap_err();
    assert!(matches!(err, ChainError::Expired { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("certificate expired: CN=Expired Example"),
        "{msg}"
    );
    assert!(msg.contains("2021-01-01T00:00:00Z"), "{msg}");
    let inside = p.instant("EXPIRED_NOT_BEFORE") + Duration::days(150);
    let chain = p.verify("expired.pem", inside).unwrap();
    assert!(chain.subject().starts_with("CN=Expired Example,"));
}

#[test]
fn untrusted_ca_refused() {
    let Some(p) = pki() else { return };
    let err = p.verify("eve.pem", p.now()).unwrap_err();
    assert!(matches!(err, ChainError::UntrustedIssuer { .. }), "{err:?}");
    assert!(err.to_string().starts_with(
        "untrusted issuer: CN=Untrusted CA,O=Untrusted Grid,C=EU (issuer of CN=Eve Example,"
    ));
    // Even with its CA supplied as an intermediate.
    let mut certs = p.certs("eve.pem");
    certs.extend(p.certs("untrusted-ca.pem"));
    let err = verify_with(&p.ca(), &certs, p.now()).unwrap_err();
    assert!(matches!(err, ChainError::UntrustedRoot { .. }), "{err:?}");
    assert!(err.to_string().contains("untrusted issuer"), "{err}");
}

#[test]
fn proxy_verifies_to_alice() {
    let Some(p) = pki() else { return };
    let chain = p.verify("alice-proxy.pem", p.now()).unwrap();
    assert_eq!(chain.proxy_depth(), 1);
    assert_eq!(chain.subject(), ALICE);
    assert_eq!(chain.issuer(), TEST_CA);
    assert!(is_proxy(chain.leaf()));
    assert_eq!(
        rfc2253(chain.leaf().subject_name()),
        format!("CN=1234567890,{ALICE}")
    );
    assert_eq!(chain.proxies().len(), 1);
    assert_eq!(chain.certificates().len(), 3);
}

#[test]
fn proxy_of_proxy_verifies_with_depth_two() {
    let Some(p) = pki() else { return };
    let chain = p.verify("alice-proxy2.pem", p.now()).unwrap();
    assert_eq!(chain.proxy_depth(), 2);
    assert_eq!(chain.subject(), ALICE);
    assert_eq!(chain.end_entity_index(), 2);
    assert_eq!(chain.certificates().len(), 4);
}

#[test]
fn missing_crl_refused() {
    let Some(p) = pki() else { return };
    let ca = CaDirectory::open(p.path("certificates-nocrl")).unwrap();
    let err = verify_with(&ca, &p.certs("alice.pem"), p.now()).unwrap_err();
    assert!(matches!(err, ChainError::NoCrl { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("no CRL for issuer {TEST_CA}")),
        "{err}"
    );
}

#[test]
fn crl_past_next_update_refused() {
    let Some(p) = pki() else { return };
    // alice and the CA are still valid in 2085, the CRL (nextUpdate 2080) is not.
    let err = p
        .verify("alice.pem", at("2085-01-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, ChainError::CrlExpired { .. }), "{err:?}");
    assert!(err.to_string().starts_with("CRL expired"), "{err}");
}

// --- VOMS -------------------------------------------------------------------------------------

#[test]
fn voms_proxy_gives_vo_and_fqans() {
    let Some(p) = voms_pki() else { return };
    let chain = p.verify("alice-voms.pem", p.now()).unwrap();
    assert_eq!(chain.subject(), ALICE);
    assert_eq!(chain.proxy_depth(), 1);
    let attrs = p.vomsdir().verify(&chain, &p.ca(), p.now()).unwrap();
    assert_eq!(attrs.len(), 1);
    let a = &attrs[0];
    assert_eq!(a.vo, "testvo");
    assert_eq!(a.fqans, ["/testvo", "/testvo/Role=endorser"]);
    assert_eq!(a.uri, "voms.example.org:15000");
    assert_eq!(a.host(), "voms.example.org");
    assert_eq!(a.issuer, AA);
    assert!(a.not_before < p.now() && p.now() < a.not_after);
}

#[test]
fn new_format_ac_verifies_too() {
    let Some(p) = voms_pki() else { return };
    let chain = p.verify("alice-voms-newformat.pem", p.now()).unwrap();
    let attrs = p.vomsdir().verify(&chain, &p.ca(), p.now()).unwrap();
    assert_eq!(attrs[0].fqans, ["/testvo", "/testvo/Role=endorser"]);
}

#[test]
fn plain_proxy_has_no_voms_attributes() {
    let Some(p) = pki() else { return };
    let chain = p.verify("alice-proxy.pem", p.now()).unwrap();
    assert!(
        p.vomsdir()
            .verify(&chain, &p.ca(), p.now())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn forged_ac_refused() {
    let Some(p) = voms_pki() else { return };
    let chain = p.verify("alice-voms-forged.pem", p.now()).unwrap();
    let err = p.vomsdir().verify(&chain, &p.ca(), p.now()).unwrap_err();
    assert!(matches!(err, VomsError::ForgedSignature { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("forged attribute certificate: signature does not verify"),
        "{err}"
    );
}

#[test]
fn unknown_vo_refused() {
    let Some(p) = voms_pki() else { return };
    let chain = p.verify("alice-voms-othervo.pem", p.now()).unwrap();
    let err = p.vomsdir().verify(&chain, &p.ca(), p.now()).unwrap_err();
    assert!(matches!(err, VomsError::NoLsc { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("no .lsc for VO othervo host voms.example.org"),
        "{err}"
    );
}

#[test]
fn empty_vomsdir_refused() {
    let Some(p) = voms_pki() else { return };
    let empty = tempfile::tempdir().unwrap();
    let chain = p.verify("alice-voms.pem", p.now()).unwrap();
    let err = VomsDir::open(empty.path())
        .unwrap()
        .verify(&chain, &p.ca(), p.now())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no .lsc for VO testvo host voms.example.org"),
        "{err}"
    );
}

#[test]
fn lsc_naming_another_aa_refused() {
    let Some(p) = voms_pki() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("testvo")).unwrap();
    std::fs::write(
        dir.path().join("testvo/voms.example.org.lsc"),
        "/C=EU/O=Marketplace Test Grid/OU=Services/CN=other.example.org\n\
         /C=EU/O=Marketplace Test Grid/CN=Marketplace Test CA\n",
    )
    .unwrap();
    let chain = p.verify("alice-voms.pem", p.now()).unwrap();
    let err = VomsDir::open(dir.path())
        .unwrap()
        .verify(&chain, &p.ca(), p.now())
        .unwrap_err();
    assert!(matches!(err, VomsError::LscMismatch { .. }), "{err:?}");
}

#[test]
fn ac_outside_validity_refused() {
    let Some(p) = voms_pki() else { return };
    // The proxy lives 48 hours, its AC only 12.
    let later = p.now() + Duration::hours(24);
    let chain = p.verify("alice-voms.pem", later).unwrap();
    let err = p.vomsdir().verify(&chain, &p.ca(), later).unwrap_err();
    assert!(matches!(err, VomsError::Expired { .. }), "{err:?}");
    assert!(err.to_string().starts_with("AC expired"), "{err}");
}

#[test]
fn ac_moved_to_another_users_chain_refused() {
    let Some(p) = voms_pki() else { return };
    let acs = parse_chain(&p.certs("alice-voms.pem")).unwrap();
    assert_eq!(acs.len(), 1);
    assert_eq!(acs[0].carrier_index(), 0);
    let bob = p.verify("bob-proxy.pem", p.now()).unwrap();
    let err = p
        .vomsdir()
        .verify_ac(&acs[0], &bob, &p.ca(), p.now())
        .unwrap_err();
    assert!(matches!(err, VomsError::HolderMismatch { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("AC holder does not match"),
        "{err}"
    );
}

#[test]
fn voms_aa_must_chain_to_the_ca_directory() {
    let Some(p) = voms_pki() else { return };
    // The AA is only trusted through the CA directory: without a CRL it is refused too.
    let chain = p.verify("alice-voms.pem", p.now()).unwrap();
    let nocrl = CaDirectory::open(p.path("certificates-nocrl")).unwrap();
    let err = p.vomsdir().verify(&chain, &nocrl, p.now()).unwrap_err();
    assert!(matches!(err, VomsError::UntrustedAa { .. }), "{err:?}");
    assert!(err.to_string().contains("no CRL for issuer"), "{err}");
}

// --- original StratusLab conformance certificates -----------------------------------------------

fn conformance(file: &str) -> PathBuf {
    marketplace_test_pki::corpus::file(file)
}

/// Jim Tester's certificate from the legacy (RC2-40/3DES) PKCS#12 file.
fn jim_tester() -> X509 {
    let p12 = std::fs::read(conformance("test-ca-signed.p12")).unwrap();
    let store = p12_keystore::KeyStore::from_pkcs12(&p12, "XYZXYZ", Default::default()).unwrap();
    let (_, chain) = store.private_key_chain().unwrap();
    X509::from_der(chain.certs()[0].as_der()).unwrap()
}

/// A hashed CA directory with `test-ca.pem` and the given CRL file.
fn stratuslab_ca_dir(crl_file: &str) -> (tempfile::TempDir, CaDirectory) {
    let ca_pem = std::fs::read(conformance("test-ca.pem")).unwrap();
    let crl_pem = std::fs::read(conformance(crl_file)).unwrap();
    let ca = X509::from_pem(&ca_pem).unwrap();
    X509Crl::from_pem(&crl_pem).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hash = ca.subject_name_hash();
    std::fs::write(dir.path().join(format!("{hash:08x}.0")), &ca_pem).unwrap();
    std::fs::write(dir.path().join(format!("{hash:08x}.r0")), &crl_pem).unwrap();
    let ca_dir = CaDirectory::open(dir.path()).unwrap();
    (dir, ca_dir)
}

#[test]
fn stratuslab_jim_tester_valid_with_empty_crl() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let (_tmp, ca) = stratuslab_ca_dir("test-crl-empty.pem");
    let chain = ca
        .verify_chain(&jim_tester(), &[], at("2012-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(
        chain.subject(),
        "CN=Jim Tester,OU=Testing Department,O=StratusLab Project,C=EU"
    );
    assert_eq!(
        chain.issuer(),
        "CN=Certificate Authority,OU=Testing Department,O=StratusLab Project,C=EU"
    );
}

#[test]
fn stratuslab_jim_tester_revoked_with_revoked_crl() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let (_tmp, ca) = stratuslab_ca_dir("test-crl-revoked.pem");
    let err = ca
        .verify_chain(&jim_tester(), &[], at("2012-06-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, ChainError::Revoked { .. }), "{err:?}");
    assert!(err.to_string().starts_with(
        "certificate revoked: CN=Jim Tester,OU=Testing Department,O=StratusLab Project,C=EU"
    ));
}

#[test]
fn stratuslab_jim_tester_expired_in_2014() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let (_tmp, ca) = stratuslab_ca_dir("test-crl-empty.pem");
    // By then the CRL (nextUpdate 2013-03-05) is stale as well; OpenSSL reports it first.
    let err = ca
        .verify_chain(&jim_tester(), &[], at("2014-06-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, ChainError::CrlExpired { .. }), "{err:?}");
}

#[test]
fn stratuslab_ca_subject_matches_the_signed_document() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let ca = X509::from_pem(&std::fs::read(conformance("test-ca.pem")).unwrap()).unwrap();
    let doc = std::fs::read_to_string(conformance("valid-ca-signed.xml")).unwrap();
    let subject = rfc2253(ca.subject_name());
    assert_eq!(
        subject,
        "CN=Certificate Authority,OU=Testing Department,O=StratusLab Project,C=EU"
    );
    assert!(doc.contains(&format!("<issuer>{subject}</issuer>")));
    assert!(doc.contains(&format!(
        "<subject>{}</subject>",
        rfc2253(jim_tester().subject_name())
    )));
}

// --- documents signed with proxies ------------------------------------------------------------

/// A document signed with a proxy carries the proxies and the user certificate in
/// X509Data (the signer's chain path, which the strict profile allows and nothing more),
/// verifies, and its chain is trusted with the proxy depth; the same KeyInfo with a
/// certificate missing from the path, or one more, is refused.
#[test]
fn proxy_signed_documents_verify() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    use marketplace_trust::credential::Credential;
    use marketplace_trust::document::{ChainStatus, CheckOptions, SignatureStatus, check_document};
    use marketplace_trust::dsig::{self, SignOptions};
    use marketplace_trust::endorsement::endorsement_for;

    let Some(p) = voms_pki() else { return };
    let sample = marketplace_test_pki::corpus::file("valid-minimal-empty-endorsement.xml");
    let template = std::fs::read_to_string(sample).expect("the conformance corpus");
    for (file, depth) in [
        ("alice-proxy.pem", 1),
        ("alice-proxy2.pem", 2),
        ("alice-voms.pem", 1),
    ] {
        let credential = Credential::from_proxy_file(&p.path(file)).unwrap();
        let (endorsement, _) = endorsement_for(credential.identity(), None, p.now()).unwrap();
        let unsigned = marketplace_format::edit::set_endorsement(&template, &endorsement)
            .unwrap()
            .text;
        let certificates = credential.key_info_certificates();
        assert_eq!(
            certificates.len(),
            depth + 1,
            "{file}: proxies and the user certificate"
        );
        let signed = dsig::sign(
            &unsigned,
            credential.key(),
            &certificates,
            SignOptions::default(),
        )
        .unwrap();
        let (ca, vomsdir) = (p.ca(), p.vomsdir());
        let report = check_document(
            signed.as_bytes(),
            &CheckOptions {
                ca_dir: Some(&ca),
                vomsdir: Some(&vomsdir),
                at: Some(p.now()),
                ..CheckOptions::default()
            },
        );
        assert!(
            report.is_signed_and_valid(),
            "{file}: {:?} {:?}",
            report.signature,
            report.chain
        );
        match &report.chain {
            ChainStatus::Trusted { proxy_depth, .. } => assert_eq!(*proxy_depth, depth),
            other => panic!("{file}: {other:?}"),
        }
        assert!(matches!(report.signature, SignatureStatus::Valid { .. }));
        // One certificate of the path left out: the rest no longer chains to the signer.
        if depth == 2 {
            let gapped = [certificates[0].clone(), certificates[2].clone()];
            let err = dsig::sign(&unsigned, credential.key(), &gapped, SignOptions::default())
                .unwrap_err();
            assert!(
                err.to_string().contains("did not issue the one before it"),
                "{err}"
            );
        }
    }
}

/// A chain judged at two instants (a policy's `signing_time = "log"`): the
/// validity periods at the instant a transparency log dates the document,
/// revocation now.
#[test]
fn a_certificate_expired_since_counts_at_the_instant_a_log_dates() {
    let Some(p) = pki() else { return };
    let dated = |file: &str, certificates: DateTime<Utc>| {
        let certs = p.certs(file);
        p.ca().verify_chain_at(
            &certs[0],
            &certs[1..],
            Instants {
                now: p.now(),
                certificates,
            },
        )
    };
    let then = p.instant("EXPIRED_NOT_BEFORE") + Duration::days(150);
    let chain = dated("expired.pem", then).unwrap();
    assert!(chain.subject().starts_with("CN=Expired Example,"));
    // Not valid at the instant dated: refused.
    let err = dated("expired.pem", at("2022-01-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, ChainError::Expired { .. }), "{err:?}");
    let err = dated("expired.pem", at("2019-01-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, ChainError::NotYetValid { .. }), "{err:?}");
    // Revocation is judged now, whatever the instant dated.
    let err = dated("mallory.pem", then).unwrap_err();
    assert!(matches!(err, ChainError::Revoked { .. }), "{err:?}");
    // A chain valid now is valid, dated or not.
    dated("alice.pem", then).unwrap();
}

/// VOMS attribute certificates are dated the same way.
#[test]
fn an_attribute_certificate_expired_since_counts_at_the_instant_a_log_dates() {
    let Some(p) = voms_pki() else { return };
    // The proxy lives 48 hours, its AC only 12: a day later the AC has
    // expired, but it was valid when the document was dated.
    let later = p.now() + Duration::hours(24);
    let chain = p.verify("alice-voms.pem", later).unwrap();
    let dated = Instants {
        now: later,
        certificates: p.now(),
    };
    let attributes = p.vomsdir().verify(&chain, &p.ca(), dated).unwrap();
    assert!(!attributes.is_empty());
    let err = p.vomsdir().verify(&chain, &p.ca(), later).unwrap_err();
    assert!(matches!(err, VomsError::Expired { .. }), "{err:?}");
}
