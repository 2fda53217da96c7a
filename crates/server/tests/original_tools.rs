//! Documents made and signed the way the original StratusLab tools made
//! them (the Python client's template and deprecation rewrite, the Java
//! library's signer: `marketplace_test_pki::original_tools`) go through
//! every server path a document enters by — `POST /metadata`, the web
//! upload form, `admin import` — and are accepted with their notes.
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
use marketplace_server::upload::ingest::{IngestOutcome, Ingestor};
use marketplace_test_pki::TestPki;
use marketplace_test_pki::original_tools::OriginalTools;
use marketplace_trust::dsig;
use std::sync::OnceLock;

/// The signing instants: the first entry, then its deprecation.
const SIGNED: &str = "2025-06-01T00:00:00Z";
const DEPRECATED: &str = "2025-07-01T00:00:00Z";
const EMAIL: &str = "alice@example.org";

struct Fixtures {
    tools: OriginalTools,
    pki: TestPki,
}

fn fixtures() -> Option<&'static Fixtures> {
    static F: OnceLock<Option<Fixtures>> = OnceLock::new();
    F.get_or_init(|| {
        let pki = marketplace_test_pki::generate(&["openssl"], false)?;
        let tools = OriginalTools::compile()?;
        Some(Fixtures { tools, pki })
    })
    .as_ref()
}

/// A server whose clock is after both signing instants.
async fn server() -> TestServer {
    TestServer::start_with(Backend::Sqlite, |c| {
        c.now = Some("2025-08-01T00:00:00Z".parse().unwrap());
    })
    .await
    .unwrap()
}

/// The identifier and SHA-1 of an imaginary image whose content is `seed`.
fn image(seed: &str) -> (String, String) {
    let sha1 = openssl::hash::hash(openssl::hash::MessageDigest::sha1(), seed.as_bytes()).unwrap();
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&sha1);
    let hex = sha1.iter().map(|b| format!("{b:02x}")).collect();
    (marketplace_format::identifier::from_sha1_bytes(&bytes), hex)
}

/// What `stratus-build-metadata --no-md5 --no-sha256 --no-sha512` then
/// `stratus-sign-metadata` wrote for image `seed` (with `location`, or
/// none: then `<slterms:location/>`).
fn original_entry(f: &Fixtures, seed: &str, location: Option<&str>) -> String {
    let (id, sha1) = image(seed);
    let mut fields = vec![
        ("identifier", id.as_str()),
        ("bytes", "1024"),
        ("sha1", sha1.as_str()),
        ("os", "ubuntu"),
        ("title", "An original image"),
        ("valid", "2030-01-01T00:00:00Z"),
    ];
    if let Some(l) = location {
        fields.push(("location", l));
    }
    let built = f.tools.build(&fields);
    f.tools
        .sign(&built, &f.pki.file("alice.p12"), "secret", SIGNED)
        .replace("\r\n", "\n")
}

/// What `stratus-deprecate-metadata` uploads for the stored `entry`.
fn original_deprecation(f: &Fixtures, entry: &str) -> String {
    let rewritten = f.tools.deprecate(entry, "superseded by 2.0");
    f.tools
        .sign(&rewritten, &f.pki.file("alice.p12"), "secret", DEPRECATED)
}

/// Uploads `doc`, which must be created; its notes, one `note: …` line each.
async fn created(s: &TestServer, doc: &str) -> String {
    let r = s.upload(doc).await;
    assert_eq!(r.status(), 201);
    notes_after(&r.text().await.unwrap(), "metadata entry created")
        .iter()
        .map(|n| format!("note: {n}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The JSON of `/api/v1/images/{id}`.
async fn image_json(s: &TestServer, id: &str) -> String {
    s.fetch(&format!("/api/v1/images/{id}"), Some("application/json"))
        .await
        .2
}

/// The shapes the issue names are really there.
fn assert_original_shapes(deprecation: &str) {
    assert!(
        deprecation.contains(":endorsement parseType=\"Resource\">"),
        "{deprecation}"
    );
    assert!(deprecation.contains("xmlns:ns1="), "{deprecation}");
    assert!(
        deprecation.contains("<endorser xmlns=\"http://mp.stratuslab.eu/slreq#\""),
        "{deprecation}"
    );
    assert!(deprecation.contains("&#13;"), "{deprecation}");
    assert!(deprecation.contains("REC-xml-c14n-20010315#WithComments"));
    assert!(deprecation.contains("xmldsig#rsa-sha1"));
}

#[tokio::test]
async fn a_deprecation_made_with_the_original_client_is_accepted_on_post_metadata() {
    let Some(f) = fixtures() else { return };
    let s = server().await;
    let entry = original_entry(f, "post", Some("https://images.example.org/post.img"));
    let body = created(&s, &entry).await;
    assert!(
        body.contains("note: line 11: slreq:value: the MD5 checksum is empty"),
        "{body}"
    );
    assert!(body.contains("note: signed with the legacy SHA-1 algorithms"));

    // The original client fetches the stored entry, rewrites and signs it.
    let (id, _) = image("post");
    let stored = s
        .get(
            &format!("/metadata/{id}/{EMAIL}/{SIGNED}"),
            Some("application/rdf+xml"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(stored, entry, "stored byte for byte");
    let deprecation = original_deprecation(f, &stored);
    assert_original_shapes(&deprecation);
    let body = created(&s, &deprecation).await;
    assert!(
        body.contains(
            "slreq:endorsement/@parseType: the attribute parseType has no namespace: read as \
             rdf:parseType"
        ),
        "{body}"
    );
    // The image is deprecated, with the reason, for everyone reading it.
    let json = image_json(&s, &id).await;
    assert!(json.contains("superseded by 2.0"), "{json}");
    assert!(json.contains("\"deprecated\""), "{json}");
}

#[tokio::test]
async fn the_web_upload_form_lists_the_notes() {
    let Some(f) = fixtures() else { return };
    let s = server().await;
    let entry = original_entry(f, "form", Some("https://images.example.org/form.img"));
    s.upload_ok(&entry).await;
    let deprecation = original_deprecation(f, &entry);
    let (cookie, token) = form_token(&s, "/upload").await;
    let r = s
        .client
        .post(s.url("/upload"))
        .header("Cookie", cookie)
        .header("Accept", HTML)
        .multipart(multipart(Some(&token), &deprecation))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    assert!(page.contains("Notes on the document"), "{page}");
    assert!(
        page.contains("the attribute parseType has no namespace: read as rdf:parseType"),
        "{page}"
    );
    assert!(page.contains("the SHA-512 checksum is empty"), "{page}");
}

#[tokio::test]
async fn admin_import_reports_the_notes() {
    let Some(f) = fixtures() else { return };
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let entry = original_entry(f, "import", None);
    let deprecation = original_deprecation(f, &entry);
    std::fs::write(dir.path().join("1.xml"), &entry).unwrap();
    std::fs::write(dir.path().join("2.xml"), &deprecation).unwrap();
    let ingestor = Ingestor {
        store: s.store.clone(),
        trust: std::sync::Arc::new(Default::default()),
        clock: marketplace_server::runtime::clock::Clock::frozen(s.config.now.unwrap()),
        policy: marketplace_server::upload::ingest::Policy::from_config(&s.config),
    };
    let mut notes = Vec::new();
    let summary = admin::import_dir(dir.path(), ingestor, &s.state.log, 2, |path, result| {
        let ingested = result.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(ingested.outcome, IngestOutcome::Created(_)));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        notes.extend(ingested.notes.iter().map(|n| format!("{name}: {n}")));
    })
    .await
    .unwrap();
    assert_eq!(summary.created, 2);
    let all = notes.join("\n");
    assert!(
        all.contains("2.xml: line") && all.contains("the attribute parseType has no namespace"),
        "{all}"
    );
    assert!(
        all.contains("1.xml: line")
            && all.contains("slterms:location: empty element, read as absent"),
        "{all}"
    );
}

#[tokio::test]
async fn an_empty_location_is_no_link_and_not_indexed() {
    let Some(f) = fixtures() else { return };
    let s = server().await;
    let entry = original_entry(f, "nowhere", None);
    assert!(entry.contains("<slterms:location/>"));
    let body = created(&s, &entry).await;
    assert!(
        body.contains("slterms:location: empty element, read as absent (no link"),
        "{body}"
    );
    let (id, _) = image("nowhere");
    let json = image_json(&s, &id).await;
    assert!(json.contains("\"locations\":[]"), "{json}");
    let (_, _, html) = page(&s, &format!("/images/{id}")).await;
    assert!(!html.contains("href=\"\""), "{html}");
    // Indexed as an entry without location: the original `location=web`
    // filter lists those (and http, https, ftp ones), `pdisk` does not.
    let listed = |filter: &str| {
        let url = format!("/metadata?location={filter}");
        let s = &s;
        async move {
            s.get(&url, Some("application/json"))
                .await
                .text()
                .await
                .unwrap()
        }
    };
    assert!(listed("web").await.contains(&id));
    assert!(!listed("pdisk").await.contains(&id));
}

#[tokio::test]
async fn the_original_validator_checks_legacy_signatures_only() {
    let Some(f) = fixtures() else { return };
    // The Java validator accepts the original signer's documents ...
    let entry = original_entry(f, "java", Some("https://images.example.org/java.img"));
    assert_eq!(f.tools.validate(&entry), Ok(()));
    // ... and ours in the legacy profile, but not the RSA-SHA256 default:
    // hence the note on every upload signed with it.
    let modern = Doc::with_id(&image("ours").0).signed_by(alice(), SIGNED);
    let legacy = dsig::sign(
        &dsig::strip_signature(&modern).unwrap(),
        alice().key(),
        &alice().key_info_certificates(),
        dsig::SignOptions { legacy_sha1: true },
    )
    .unwrap();
    assert_eq!(f.tools.validate(&legacy), Ok(()));
    let refused = f.tools.validate(&modern).unwrap_err();
    assert!(refused.contains("cannot find validation key"), "{refused}");
    let s = server().await;
    let body = created(&s, &modern).await;
    assert!(
        body.contains("note: signed with rsa-sha256, which the original Java tools")
            && body.contains("--legacy-sha1"),
        "{body}"
    );
}
