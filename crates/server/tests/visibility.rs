//! Restricted entries over HTTP: the real router, store and signed
//! documents, with the caller's identity attached by a small test layer
//! (the `x-test-identity` header of the test clients) instead of a TLS
//! handshake. The checks of every route are in `common/visibility.rs`, to
//! be reused by an end-to-end test over real TLS.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use axum::ServiceExt;
use axum::extract::Request;
use common::visibility::{self, Expect, Fixture};
use common::{Backend, Doc, alice, jane, open_store, test_config};
use marketplace_server::auth::identity::{ClientIdentity, IdentitySource};
use marketplace_server::runtime::state::{AppState, TrustSettings};
use marketplace_store::Store;
use reqwest::header::{HeaderMap, HeaderValue};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::Layer;
use tower::util::MapRequestLayer;

/// The VO of the fixture's restricted entries.
const VO: &str = "vo.restricted.example.org";

/// The header the test layer reads the identity from.
const IDENTITY_HEADER: &str = "x-test-identity";

/// The test layer: `x-test-identity: member` is a member of [`VO`],
/// `other` a member of another VO, `none` authenticated without VOMS
/// attributes; no header is anonymous.
fn attach_identity(mut request: Request) -> Request {
    let who = request
        .headers_mut()
        .remove(IDENTITY_HEADER)
        .and_then(|v| v.to_str().ok().map(str::to_string));
    let vos: Vec<String> = match who.as_deref() {
        Some("member") => vec!["other.example.org".into(), VO.into()],
        Some("other") => vec!["other.example.org".into()],
        Some("none") => Vec::new(),
        _ => return request,
    };
    let identity = ClientIdentity {
        subject: format!(
            "CN=Test {},O=Marketplace Tests,C=EU",
            who.unwrap_or_default()
        ),
        issuer: "CN=Test CA,O=Marketplace Tests,C=EU".into(),
        fqans: vos.iter().map(|v| format!("/{v}")).collect(),
        vos,
        source: IdentitySource::TlsClientCertificate,
    };
    request.extensions_mut().insert(Arc::new(identity));
    request
}

/// A server whose requests go through [`attach_identity`], and a client
/// per identity.
struct Harness {
    base: String,
    store: Arc<dyn Store>,
    member: reqwest::Client,
    non_member: reqwest::Client,
    no_vo: reqwest::Client,
    anonymous: reqwest::Client,
    _dir: tempfile::TempDir,
    _schema: Option<marketplace_test_pki::pg::SchemaGuard>,
}

fn client(identity: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(who) = identity {
        headers.insert(IDENTITY_HEADER, HeaderValue::from_str(who).unwrap());
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Harness {
    async fn start(backend: Backend) -> Option<Harness> {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(dir.path());
        let (store, schema) = open_store(backend, &config).await?;
        let trust = TrustSettings::from_config(&config).unwrap();
        let state = AppState::new(store.clone(), config, trust).unwrap();
        let app = MapRequestLayer::new(attach_identity as fn(Request) -> Request)
            .layer(marketplace_server::app(state));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
                .await
                .unwrap();
        });
        Some(Harness {
            base: format!("http://{addr}"),
            store,
            member: client(Some("member")),
            non_member: client(Some("other")),
            no_vo: client(Some("none")),
            anonymous: client(None),
            _dir: dir,
            _schema: schema,
        })
    }

    /// A server holding the fixture.
    async fn with_fixture(backend: Backend) -> Option<(Harness, Fixture)> {
        let h = Harness::start(backend).await?;
        let fixture = Fixture::new(VO, jane(), alice());
        fixture.upload(&h.anonymous, &h.base).await;
        Some((h, fixture))
    }
}

async fn every_route(backend: Backend) {
    let Some((h, f)) = Harness::with_fixture(backend).await else {
        return;
    };
    visibility::check_every_route(&h.member, &h.base, &f, Expect::MEMBER).await;
    visibility::check_every_route(&h.non_member, &h.base, &f, Expect::NON_MEMBER).await;
    visibility::check_every_route(&h.no_vo, &h.base, &f, Expect::NON_MEMBER).await;
    visibility::check_every_route(&h.anonymous, &h.base, &f, Expect::ANONYMOUS).await;
}

#[tokio::test]
async fn every_route_on_sqlite() {
    every_route(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_route_on_postgres() {
    every_route(Backend::Postgres).await;
}

#[tokio::test]
async fn a_copy_is_never_validated_for_another_audience() {
    let (h, _) = Harness::with_fixture(Backend::Sqlite).await.unwrap();
    for path in [
        "/metadata",
        "/metadata?media=json",
        "/api/v1/images?status=all",
        "/api/v1/endorsers",
        "/endorsers",
        "/feeds/entries.atom",
    ] {
        visibility::check_validators_by_audience(&h.member, &h.anonymous, &h.base, path).await;
        visibility::check_validators_by_audience(&h.anonymous, &h.member, &h.base, path).await;
        visibility::check_validators_by_audience(&h.member, &h.non_member, &h.base, path).await;
    }
    // The same content for two audiences is the same representation.
    let public = "/api/v1/images/".to_string() + &common::test_identifier(0x71);
    let tag = |c: reqwest::Client| {
        let url = format!("{}{public}", h.base);
        async move {
            c.get(url).send().await.unwrap().headers()["etag"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(tag(h.member.clone()).await, tag(h.anonymous.clone()).await);
}

#[tokio::test]
async fn uploads_and_the_upload_page_are_unchanged() {
    let (h, f) = Harness::with_fixture(Backend::Sqlite).await.unwrap();
    // A restricted document is accepted from anyone, and uploading it
    // again says it is there (whoever asks).
    for c in [&h.anonymous, &h.member, &h.non_member] {
        let r = c
            .post(format!("{}/metadata", h.base))
            .header("Content-Type", "application/rdf+xml")
            .body(f.restricted.document.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let form = h
        .anonymous
        .get(format!("{}/upload", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert_eq!(h.store.count().await.unwrap(), 4);
}

/// Entries signed with a VOMS proxy record its VO: `vo=` filters on it in
/// `/metadata` (every representation), the API and the search page.
#[tokio::test]
async fn vo_filter() {
    let h = Harness::start(Backend::Sqlite).await.unwrap();
    let mut stored = Vec::new();
    for (byte, vo, title) in [
        (0x61u8, Some("biomed"), "Biomed analysis image"),
        (0x62, Some("atlas"), "Atlas analysis image"),
        (0x63, None, "Plain image"),
    ] {
        let mut d = Doc::with_id(&common::test_identifier(byte));
        d.title = Some(title.into());
        let document = d.signed("2014-05-01T00:00:00Z");
        let metadata = marketplace_format::parse(document.as_bytes()).metadata;
        let endorsement = metadata.endorsement.clone().unwrap();
        // The VO as the upload pipeline records it from a VOMS proxy.
        let entry = marketplace_store::NewEntry {
            key: marketplace_store::EntryKey::parse(
                &metadata.identifier,
                &endorsement.endorser.email,
                &endorsement.created,
            )
            .unwrap(),
            document: document.into_bytes(),
            metadata,
            signer: marketplace_store::Signer {
                subject: "CN=Jane Tester".into(),
                issuer: "CN=Test CA".into(),
                email_certified: true,
                chained: true,
                key_sha256: "key of CN=Jane Tester".into(),
                vo: vo.map(str::to_string),
                fqans: vo.map(|v| vec![format!("/{v}")]).unwrap_or_default(),
            },
        };
        h.store.put(entry.clone()).await.unwrap();
        stored.push(entry);
    }
    let get = |path: String, accept: &'static str| {
        let c = h.anonymous.clone();
        let url = format!("{}{path}", h.base);
        async move {
            let r = c.get(url).header("Accept", accept).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let biomed = &stored[0].key.identifier;
    let atlas = &stored[1].key.identifier;
    // The original list, every representation.
    let (status, body) = get("/metadata?vo=biomed".into(), "application/xml").await;
    assert_eq!(status, 200);
    assert!(body.contains(biomed.as_str()) && !body.contains(atlas.as_str()));
    let (status, _) = get("/metadata?vo=cms".into(), "application/xml").await;
    assert_eq!(status, 404);
    let (_, body) = get("/metadata?vo=atlas&media=json".into(), "*/*").await;
    let table: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(table["iTotalDisplayRecords"], 1);
    assert_eq!(table["iTotalRecords"], 3);
    assert_eq!(table["aaData"][0][7], atlas.as_str());
    let r = h
        .anonymous
        .post(format!("{}/metadata", h.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("vo=biomed&sEcho=4")
        .send()
        .await
        .unwrap();
    let table: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(table["iTotalDisplayRecords"], 1);
    assert_eq!(table["aaData"][0][7], biomed.as_str());
    // The API.
    let (_, body) = get("/api/v1/images?vo=biomed".into(), "application/json").await;
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["matching"], 1);
    assert_eq!(page["items"][0]["endorser"]["vo"], "biomed");
    // The search page: the field, the chip, the results.
    let (status, page) = get("/metadata?vo=atlas".into(), "text/html").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<input id="f-vo" name="vo" value="atlas""#),
        "{page}"
    );
    assert!(page.contains("Atlas analysis image"));
    assert!(!page.contains("Biomed analysis image"));
    assert!(page.contains(r#"<span class="chip-label">VO:</span> atlas"#));
    assert!(page.contains("api/v1/images?vo=atlas"));
    // Combined with free text.
    let (_, page) = get("/metadata?vo=atlas&q=biomed".into(), "text/html").await;
    assert!(page.contains("No entries match"), "{page}");
}
