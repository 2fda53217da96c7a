//! An endorsement means what it says: the endorser binding (trust on first
//! use of an e-mail's key, renewals under a CA directory, the operator's
//! rebind, imports), what a certificate proves (`email_certified`,
//! self-asserted identities), e-mails in any case, and key sizes.
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
use marketplace_server::runtime::admin;
use marketplace_server::runtime::config::{MinKeyBits, ServerConfig};
use marketplace_server::runtime::state::{AppState, TrustSettings};
use marketplace_server::upload::continuity;
use marketplace_server::upload::ingest::{IngestError, Ingestor};
use marketplace_store::{EndorserBinding, SqliteStore, Store};
use marketplace_test_pki::TestPki;
use marketplace_test_pki::certs::{CertificateBuilder, Issued};
use marketplace_trust::credential::Credential;
use marketplace_trust::document::PublicKeySummary;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509NameRef};
use std::sync::{Arc, OnceLock};

const FIRST: &str = "2014-03-08T14:10:40Z";
const LATER: &str = "2014-06-01T00:00:00Z";

/// A certificate for `subject` with `email` in its subjectAltName and a
/// fresh RSA key of `bits`, signed by `issuer` (self-signed when `None`).
fn certificate(
    subject: &X509NameRef,
    email: Option<&str>,
    bits: u32,
    issuer: Option<(&X509, &PKey<Private>)>,
) -> Credential {
    let mut b = CertificateBuilder::named(subject.to_owned().unwrap())
        .rsa_bits(bits)
        .valid_unix(1_300_000_000, 3_000_000_000);
    if let Some(email) = email {
        b = b.email(email);
    }
    let issued = match issuer {
        Some((ca, key)) => b.issued_by(&Issued {
            key: key.clone(),
            cert: ca.clone(),
        }),
        None => b.self_signed(),
    };
    let key = issued.key;
    let mut chain = vec![issued.cert];
    if let Some((ca, _)) = issuer {
        chain.push(ca.clone());
    }
    Credential::new(key, chain).unwrap()
}

/// A self-signed copy of Jane's certificate: her subject and her e-mail,
/// another key. What anyone can make without a CA directory.
fn impostor_of_jane() -> Credential {
    certificate(jane().identity().subject_name(), Some(JANE), 2048, None)
}

/// The message of a refused upload.
async fn refusal(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    (status, texts(&r.text().await.unwrap(), "error").remove(0))
}

/// The `endorser` object of the API's item for `id`.
async fn api_endorser(s: &TestServer, id: &str) -> serde_json::Value {
    let (status, _, body) = s.fetch(&format!("/api/v1/images/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let entries = v["current"].as_array().unwrap().iter();
    let mut all = entries.chain(v["inactive"].as_array().unwrap());
    all.next().expect("an entry")["endorser"].clone()
}

#[tokio::test]
async fn a_copied_self_signed_certificate_cannot_endorse_in_anothers_name() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(FIRST)).await;

    // Without a CA directory nobody vouches for Jane's certificate.
    let endorser = api_endorser(&s, BEE8).await;
    assert_eq!(endorser["email_certified"], false, "{endorser}");
    assert_eq!(endorser["identity"], "self-asserted", "{endorser}");
    let (_, _, html) = s.fetch(&format!("/images/{BEE8}"), Some(HTML)).await;
    assert!(html.contains("badge-self-asserted"), "{html}");

    // The impostor's deprecation of Jane's image, in Jane's name.
    let mut deprecation = Doc::bee8();
    deprecation.deprecated = Some("replaced".into());
    let forged = deprecation.signed_by(&impostor_of_jane(), LATER);
    let (status, message) = refusal(s.upload(&forged).await).await;
    assert_eq!(status, 403, "{message}");
    assert!(message.starts_with("upload refused: "), "{message}");
    let jane_key = PublicKeySummary::of(jane().identity()).sha256;
    for part in [JANE, "CN=Jane Tester", &jane_key, " since "] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert_eq!(s.keys().await.len(), 1, "nothing stored");
    assert_eq!(api_endorser(&s, BEE8).await["email"], JANE);

    // The same e-mail in capitals is the same endorser, and as bound.
    let shouting = deprecation
        .signed_with(&impostor_of_jane(), LATER, None)
        .replace(JANE, &JANE.to_uppercase());
    let (status, _) = refusal(s.upload(&shouting).await).await;
    // The signature no longer matches the edited text, or the binding
    // refuses: either way nothing is stored in Jane's name.
    assert!(status == 400 || status == 403, "{status}");
    assert_eq!(s.keys().await.len(), 1);

    // Jane herself continues.
    s.upload_ok(&deprecation.signed(LATER)).await;
}

#[tokio::test]
async fn an_email_in_any_case_is_one_endorser() {
    let s = TestServer::start_with(Backend::Sqlite, |c: &mut ServerConfig| {
        c.require_certified_email = false;
    })
    .await
    .unwrap();
    let attacker = generated("Attacker", None);
    s.upload_ok(&Doc::bee8().signed_with(&attacker, FIRST, Some("ATTACKER@EXAMPLE.ORG")))
        .await;
    s.upload_ok(&Doc::with_id(NEWID).signed_with(&attacker, FIRST, Some("attacker@example.org")))
        .await;
    let keys = s.keys().await;
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| k.contains("/attacker@example.org/")),
        "{keys:?}"
    );
    let (_, _, body) = s.fetch("/api/v1/endorsers", None).await;
    let endorsers: serde_json::Value = serde_json::from_str(&body).unwrap();
    let emails: Vec<&str> = endorsers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["attacker@example.org"], "{body}");
    // Another key cannot take the address in another case either.
    let other = generated("Someone Else", None);
    let (status, message) = refusal(
        s.upload(&Doc::with_id(EXPIRED_ID).signed_with(
            &other,
            FIRST,
            Some("Attacker@Example.Org"),
        ))
        .await,
    )
    .await;
    assert_eq!(status, 403, "{message}");
}

#[tokio::test]
async fn small_keys_are_refused_for_new_entries_and_configurable() {
    let weak = generated_with_bits("Weak Key", Some("weak@example.org"), 1024);
    let doc = Doc::bee8().signed_by(&weak, FIRST);
    let s = TestServer::start().await;
    let (status, message) = refusal(s.upload(&doc).await).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("1024-bit RSA key"), "{message}");
    assert!(message.contains("at least 2048 bits"), "{message}");
    assert!(s.keys().await.is_empty());

    let lenient = TestServer::start_with(Backend::Sqlite, |c: &mut ServerConfig| {
        c.min_key_bits = MinKeyBits { rsa: 1024, ec: 256 };
    })
    .await
    .unwrap();
    lenient.upload_ok(&doc).await;
}

/// [`generated`] with a key of `bits`.
fn generated_with_bits(common_name: &str, email: Option<&str>, bits: u32) -> Credential {
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    certificate(&name.build(), email, bits, None)
}

#[tokio::test]
async fn the_operator_rebinds_an_email() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(FIRST)).await;
    let newcomer = impostor_of_jane();
    let doc = Doc::with_id(NEWID).signed_by(&newcomer, LATER);
    assert_eq!(s.upload(&doc).await.status(), 403);

    // Jane lost her key: the operator binds her new certificate.
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("new.pem");
    std::fs::write(&pem, newcomer.identity().to_pem().unwrap()).unwrap();
    let binding = continuity::binding_of_certificate(
        JANE,
        &pem,
        &TrustSettings::default(),
        NOW.parse().unwrap(),
    )
    .unwrap();
    let previous = continuity::rebind(s.store.as_ref(), "Jane.Tester@Example.org", Some(binding))
        .await
        .unwrap()
        .expect("Jane was bound");
    assert_eq!(
        previous.key_sha256,
        PublicKeySummary::of(jane().identity()).sha256
    );
    s.upload_ok(&doc).await;
    // Her old key no longer speaks for her.
    let r = s.upload(&Doc::with_id(EXPIRED_ID).signed(LATER)).await;
    assert_eq!(r.status(), 403);

    // Released: the next accepted entry binds it again.
    continuity::rebind(s.store.as_ref(), JANE, None)
        .await
        .unwrap();
    assert!(s.store.binding(JANE).await.unwrap().is_none());
    s.upload_ok(&Doc::with_id(EXPIRED_ID).signed(LATER)).await;
    let bound = s.store.binding(JANE).await.unwrap().unwrap();
    assert_eq!(
        bound.key_sha256,
        PublicKeySummary::of(jane().identity()).sha256
    );
    assert!(bound.created.is_some());
}

#[tokio::test]
async fn uploads_waiting_for_confirmation_follow_the_binding() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(FIRST)).await;
    let config = ServerConfig {
        validate_email: true,
        ..s.config.clone()
    };
    let state = AppState::new(s.store.clone(), config, TrustSettings::default()).unwrap();
    let ingestor = Ingestor::from_state(&state);
    // A certificate without e-mail claiming Jane's: it would wait for a
    // confirmation mail to Jane, but it is not Jane's key.
    let stranger = generated("Stranger", None);
    let doc = Doc::with_id(NEWID).signed_with(&stranger, LATER, Some(JANE));
    match ingestor.ingest(doc.into_bytes()).await {
        Err(IngestError::EndorserBound(binding)) => assert_eq!(binding.email, JANE),
        other => panic!("expected a binding refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_import_keeps_every_key_and_binds_the_newest() {
    let source = tempfile::tempdir().unwrap();
    let newer = impostor_of_jane();
    std::fs::write(source.path().join("a.xml"), Doc::bee8().signed(FIRST)).unwrap();
    std::fs::write(
        source.path().join("b.xml"),
        Doc::with_id(NEWID).signed_by(&newer, LATER),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(data.path().join("m.db")).await.unwrap());
    let state = AppState::new(
        store.clone(),
        test_config(data.path()),
        TrustSettings::default(),
    )
    .unwrap();
    let summary = admin::import_dir(
        source.path(),
        Ingestor::from_state(&state),
        &state.log,
        2,
        |_, r| {
            assert!(r.is_ok(), "{r:?}");
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 2);
    assert_eq!(summary.several_keys.len(), 1, "{:?}", summary.several_keys);
    assert_eq!(summary.several_keys[0].email, JANE);
    assert_eq!(summary.several_keys[0].keys.len(), 2);
    let bound = store.binding(JANE).await.unwrap().unwrap();
    assert_eq!(
        bound.key_sha256,
        PublicKeySummary::of(newer.identity()).sha256
    );
    assert_eq!(bound.created.as_deref(), Some(LATER));
}

#[tokio::test]
async fn entries_stored_before_bindings_are_bound_at_start() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(FIRST)).await;
    s.upload_ok(&Doc::with_id(NEWID).signed(LATER)).await;
    // As a store from before bindings: no binding at all (a release by the
    // operator, by contrast, is kept: see the CLI's endorser tests).
    rusqlite::Connection::open(s.config.sqlite_path())
        .unwrap()
        .execute("DELETE FROM endorser_bindings", [])
        .unwrap();
    let bound = continuity::bind_stored_endorsers(
        s.store.as_ref(),
        &TrustSettings::default(),
        NOW.parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(bound, 1);
    let binding: EndorserBinding = s.store.binding(JANE).await.unwrap().unwrap();
    assert_eq!(binding.created.as_deref(), Some(LATER));
    assert_eq!(
        binding.key_sha256,
        PublicKeySummary::of(jane().identity()).sha256
    );
    // Idempotent.
    let again = continuity::bind_stored_endorsers(
        s.store.as_ref(),
        &TrustSettings::default(),
        NOW.parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

// ------------------------------------------------ with a CA directory

/// The test PKI (skipped without openssl, never in CI).
fn pki() -> Option<&'static TestPki> {
    static PKI: OnceLock<Option<TestPki>> = OnceLock::new();
    PKI.get_or_init(|| marketplace_test_pki::generate(&["openssl"], false))
        .as_ref()
}

/// The Test CA's certificate and key.
fn test_ca(pki: &TestPki) -> (X509, PKey<Private>) {
    let cert = X509::from_pem(&std::fs::read(pki.path().join("ca.pem")).unwrap()).unwrap();
    let key =
        PKey::private_key_from_pem(&std::fs::read(pki.path().join("ca.key")).unwrap()).unwrap();
    (cert, key)
}

#[tokio::test]
async fn under_a_ca_directory_a_renewal_continues_and_another_subject_does_not() {
    let Some(pki) = pki() else { return };
    let ca_dir = pki.path().join("certificates");
    let s = TestServer::start_with(Backend::Sqlite, |c: &mut ServerConfig| {
        c.ca_dir = Some(ca_dir);
        c.now = Some("2030-01-01T00:00:00Z".parse().unwrap());
    })
    .await
    .unwrap();
    let alice = Credential::from_pem_files(
        &pki.path().join("alice.pem"),
        &pki.path().join("alice.key"),
        None,
    )
    .unwrap();
    s.upload_ok(&Doc::bee8().signed_by(&alice, "2029-01-01T00:00:00Z"))
        .await;
    let endorser = api_endorser(&s, BEE8).await;
    assert_eq!(endorser["email_certified"], true, "{endorser}");
    assert_eq!(endorser["identity"], "certified", "{endorser}");

    // Alice's proxy: the identity behind it holds the same key.
    let proxy = Credential::from_proxy_file(&pki.path().join("alice-proxy.pem")).unwrap();
    s.upload_ok(&Doc::with_id(NEWID).signed_by(&proxy, "2029-02-01T00:00:00Z"))
        .await;

    // The CA renews Alice's certificate with a new key: she continues.
    let (ca, ca_key) = test_ca(pki);
    let renewed = certificate(
        alice.identity().subject_name(),
        Some("alice@example.org"),
        2048,
        Some((&ca, &ca_key)),
    );
    s.upload_ok(&Doc::with_id(EXPIRED_ID).signed_by(&renewed, "2029-03-01T00:00:00Z"))
        .await;
    let bound = s.store.binding("alice@example.org").await.unwrap().unwrap();
    assert_eq!(
        bound.key_sha256,
        PublicKeySummary::of(renewed.identity()).sha256
    );
    assert!(bound.chained);

    // A certificate of the same CA for another subject carrying her
    // address does not.
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "EU").unwrap();
    name.append_entry_by_text("O", "Marketplace Test Grid")
        .unwrap();
    name.append_entry_by_text("CN", "Not Alice").unwrap();
    let other = certificate(
        &name.build(),
        Some("alice@example.org"),
        2048,
        Some((&ca, &ca_key)),
    );
    let mut deprecation = Doc::bee8();
    deprecation.deprecated = Some("not hers to deprecate".into());
    let (status, message) = refusal(
        s.upload(&deprecation.signed_by(&other, "2029-04-01T00:00:00Z"))
            .await,
    )
    .await;
    assert_eq!(status, 403, "{message}");
    assert!(message.contains("Alice Example"), "{message}");
}
