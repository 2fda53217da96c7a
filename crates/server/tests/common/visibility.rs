//! Restricted entries (`mp:visible-to`), route by route: a fixture of
//! signed documents, some restricted to a VO, and [`check_every_route`],
//! which asserts what one client sees on every route that reads entries.
//!
//! The checks only need a base URL and a `reqwest::Client` that carries
//! the caller's identity, so the same assertions serve the in-process
//! tests (`tests/visibility.rs`, where a test layer attaches the identity)
//! and the end-to-end test over real TLS (`tests/tls_visibility.rs`, where
//! the client presents a certificate or a VOMS proxy):
//!
//! ```ignore
//! let fixture = visibility::Fixture::new("biomed", &endorser_a, &endorser_b);
//! fixture.upload(&uploader, &base).await;
//! visibility::check_every_route(&member, &base, &fixture, Expect::MEMBER).await;
//! visibility::check_every_route(&wrong_vo, &base, &fixture, Expect::NON_MEMBER).await;
//! visibility::check_every_route(&anonymous, &base, &fixture, Expect::ANONYMOUS).await;
//! ```
//!
//! The fixture ([`Fixture::new`]: valid at the test servers' instant,
//! 2015-01-01):
//!
//! - `public`: image P, endorsed by A, public, tag `open-tag`;
//! - `restricted`: image R, endorsed by B — B's only entry — restricted to
//!   the VO, tag `secret-tag`, with the word "quasar" in its title;
//! - `superseded` then `replacement`: image S, endorsed by A, an older
//!   public entry then a newer one restricted to the VO, both tagged
//!   `moving-tag`. A non-member sees no current state of (S, A): S is not
//!   listed, its image page is 404, the tag resolves to nothing, but the
//!   older entry is history (not latest).

use super::Doc;
use chrono::{DateTime, Utc};
use marketplace_format::Metadata;
use marketplace_store::EntryKey;
use marketplace_trust::credential::Credential;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use serde_json::Value;

/// What a client is expected to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// A member of the fixture's VO: sees the restricted entries.
    pub member: bool,
    /// Authenticated (its responses must not be shared by caches).
    pub authenticated: bool,
}

impl Expect {
    /// A client authenticated as a member of the VO.
    pub const MEMBER: Expect = Expect {
        member: true,
        authenticated: true,
    };
    /// A client authenticated, but not as a member of the VO.
    pub const NON_MEMBER: Expect = Expect {
        member: false,
        authenticated: true,
    };
    /// A client without a certificate.
    pub const ANONYMOUS: Expect = Expect {
        member: false,
        authenticated: false,
    };
}

/// A signed document and its coordinates.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The coordinates.
    pub key: EntryKey,
    /// The signed document.
    pub document: String,
    /// What it says.
    pub metadata: Metadata,
}

impl Signed {
    fn new(document: String) -> Signed {
        let metadata = marketplace_format::parse(document.as_bytes()).metadata;
        let endorsement = metadata.endorsement.clone().expect("an endorsement");
        Signed {
            key: EntryKey {
                identifier: metadata.identifier.parse().unwrap(),
                email: endorsement.endorser.email.parse().unwrap(),
                created: endorsement.created.parse().unwrap(),
            },
            document,
            metadata,
        }
    }

    /// `/metadata/{identifier}/{email}/{created}` (percent-encoded).
    pub fn path(&self) -> String {
        format!(
            "/{}",
            marketplace_server::http::links::entry_path(&self.key)
        )
    }

    /// `/api/v1/entries/{identifier}/{email}/{created}`.
    pub fn api_path(&self) -> String {
        format!("/api/v1/entries{}", &self.path()["/metadata".len()..])
    }
}

/// The documents of the fixture (see the module documentation).
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The VO the restricted entries are visible to.
    pub vo: String,
    /// P by A, public.
    pub public: Signed,
    /// R by B, restricted.
    pub restricted: Signed,
    /// S by A, public, older.
    pub superseded: Signed,
    /// S by A, restricted, newer (the pair's latest entry).
    pub replacement: Signed,
}

/// An identifier from a repeated byte (as `super::test_identifier`).
fn identifier(byte: u8) -> String {
    super::test_identifier(byte)
}

fn visible_to(vo: &str) -> String {
    format!(
        "\t\t<mp:visible-to xmlns:mp=\"{}\">{}</mp:visible-to>\n",
        marketplace_format::ns::MARKETPLACE,
        vo
    )
}

impl Fixture {
    /// The documents, signed by `a` (P and S) and `b` (R), endorsed in
    /// 2014 and valid until 2016 (for the test servers' 2015-01-01). `vo`
    /// must be plain text (no XML markup).
    pub fn new(vo: &str, a: &Credential, b: &Credential) -> Fixture {
        let first: DateTime<Utc> = "2014-01-01T00:00:00Z".parse().unwrap();
        Fixture::dated(vo, a, b, first, "2016-03-05T14:12:57Z")
    }

    /// As [`Fixture::new`], the four entries endorsed an hour apart from
    /// `first` on, valid until `valid` (for a server at another instant).
    pub fn dated(
        vo: &str,
        a: &Credential,
        b: &Credential,
        first: DateTime<Utc>,
        valid: &str,
    ) -> Fixture {
        let created = |hours: i64| {
            (first + chrono::Duration::hours(hours))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let doc = |byte: u8, title: &str, tag: &str, restricted: bool| {
            let mut d = Doc::with_id(&identifier(byte));
            d.valid = Some(valid.into());
            d.title = Some(title.into());
            d.alternative = Some(tag.into());
            if restricted {
                d.extra = visible_to(vo);
            }
            d
        };
        let public =
            doc(0x71, "Open image for everyone", "open-tag", false).signed_by(a, &created(0));
        let restricted =
            doc(0x72, "Secretive quasar image", "secret-tag", true).signed_by(b, &created(1));
        let superseded = doc(0x73, "Moving image", "moving-tag", false).signed_by(a, &created(2));
        let replacement = doc(0x73, "Moving image", "moving-tag", true).signed_by(a, &created(3));
        let fixture = Fixture {
            vo: vo.into(),
            public: Signed::new(public),
            restricted: Signed::new(restricted),
            superseded: Signed::new(superseded),
            replacement: Signed::new(replacement),
        };
        assert_eq!(fixture.restricted.metadata.visible_to, [vo]);
        assert_ne!(
            fixture.public.key.email, fixture.restricted.key.email,
            "two endorsers"
        );
        fixture
    }

    /// Every document, in upload order.
    pub fn all(&self) -> [&Signed; 4] {
        [
            &self.public,
            &self.restricted,
            &self.superseded,
            &self.replacement,
        ]
    }

    /// Uploads every document with `client` (`POST {base}/metadata`),
    /// asserting each is created.
    pub async fn upload(&self, client: &reqwest::Client, base: &str) {
        for s in self.all() {
            let r = client
                .post(format!("{base}/metadata"))
                .header(CONTENT_TYPE, "application/rdf+xml")
                .body(s.document.clone())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert_eq!(status, 201, "upload of {}: {body}", s.key);
        }
    }

    /// The e-mail of endorser A (P and S).
    pub fn a(&self) -> &str {
        &self.public.key.email
    }

    /// The e-mail of endorser B (R only).
    pub fn b(&self) -> &str {
        &self.restricted.key.email
    }
}

/// One response.
#[derive(Debug)]
struct Got {
    status: u16,
    cache_control: Option<String>,
    etag: Option<String>,
    total_count: Option<String>,
    body: String,
}

/// A client and a base URL, with what the responses must carry.
struct Client<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    expect: Expect,
}

impl Client<'_> {
    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Got {
        let r = request.send().await.unwrap();
        let header = |name| {
            r.headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
        };
        let got = Got {
            status: r.status().as_u16(),
            cache_control: header(CACHE_CONTROL),
            etag: header(ETAG),
            total_count: header(reqwest::header::HeaderName::from_static("x-total-count")),
            body: String::new(),
        };
        let got = Got {
            body: r.text().await.unwrap(),
            ..got
        };
        // Responses made for an authenticated caller are never shared;
        // those made for an anonymous one may be (they show public
        // entries only).
        let private = got
            .cache_control
            .as_deref()
            .is_some_and(|c| c.contains("private") || c.contains("no-store"));
        if self.expect.authenticated {
            assert!(
                private,
                "{what}: not private for an authenticated caller: {got:?}"
            );
        } else {
            assert!(
                !got.cache_control
                    .as_deref()
                    .is_some_and(|c| c.contains("private")),
                "{what}: private for an anonymous caller: {got:?}"
            );
        }
        got
    }

    /// GET `path` with `accept`.
    async fn get(&self, path: &str, accept: &str) -> Got {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Accept", accept);
        self.send(request, &format!("GET {path} ({accept})")).await
    }

    /// GET `path` as `accept`, expecting 200.
    async fn ok(&self, path: &str, accept: &str) -> String {
        let got = self.get(path, accept).await;
        assert_eq!(got.status, 200, "GET {path} ({accept}): {}", got.body);
        got.body
    }

    /// GET `path` as JSON, expecting 200.
    async fn json(&self, path: &str) -> Value {
        serde_json::from_str(&self.ok(path, "application/json").await).unwrap()
    }

    /// GET `hidden` must answer exactly what GET `missing` answers (status
    /// and body, once `missing_part` is replaced by `hidden_part` in it):
    /// a hidden entry is indistinguishable from one that does not exist.
    async fn like_missing(&self, hidden: &str, missing: &str, parts: (&str, &str), accept: &str) {
        let got = self.get(hidden, accept).await;
        let reference = self.get(missing, accept).await;
        assert_eq!(reference.status, 404, "GET {missing}: {}", reference.body);
        assert_eq!(got.status, 404, "GET {hidden} ({accept}): {}", got.body);
        let (hidden_part, missing_part) = parts;
        assert_eq!(
            got.body,
            reference.body.replace(missing_part, hidden_part),
            "GET {hidden} ({accept}) differs from a missing entry's answer"
        );
    }

    /// GET `path` as `accept`: 200 with `needle` when `visible`, else
    /// exactly as `missing` (see [`Client::like_missing`]).
    async fn found_or_missing(
        &self,
        visible: bool,
        path: &str,
        missing: &str,
        parts: (&str, &str),
        accept: &str,
        needle: &str,
    ) {
        if visible {
            let body = self.ok(path, accept).await;
            assert!(body.contains(needle), "GET {path} ({accept}): no {needle}");
        } else {
            self.like_missing(path, missing, parts, accept).await;
        }
    }
}

/// An unknown identifier (well formed).
fn unknown_identifier() -> String {
    identifier(0x7e)
}

const UNKNOWN_EMAIL: &str = "nobody.at.all@example.org";

fn contains_iff(body: &str, needle: &str, expected: bool, what: &str) {
    assert_eq!(
        body.contains(needle),
        expected,
        "{what}: {needle} {} expected",
        if expected { "is" } else { "is not" }
    );
}

/// The keys (`identifier/email/created`) of JSON API items.
fn api_keys(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}/{}",
                i["identifier"].as_str().unwrap(),
                i["endorser"]["email"].as_str().unwrap(),
                i["created"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts what `client` (whose identity `expect` describes) sees of
/// `fixture` on every route of the server at `base` that reads entries:
/// lists, searches, counts and totals, direct URLs (signed document,
/// RDF/JSON, HTML), tags and their resolution, endorsers and their
/// histories, the JSON API, the Atom feeds and the web pages. Hidden
/// entries must look exactly as missing ones (404, same body).
///
/// The server must hold the fixture's entries and nothing else, and run
/// at an instant at which they are valid (the test servers' 2015-01-01).
pub async fn check_every_route(
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
    expect: Expect,
) {
    let c = Client {
        client,
        base,
        expect,
    };
    let m = expect.member;
    let f = fixture;
    let (p, r, s_old, s_new) = (&f.public, &f.restricted, &f.superseded, &f.replacement);
    let rid = r.key.identifier.as_str();
    let sid = s_new.key.identifier.as_str();
    let unknown = unknown_identifier();
    let a = f.a();
    let b = f.b();
    // E-mails are path segments as they are (`@` needs no encoding).
    let (a_seg, b_seg) = (a, b);
    assert_eq!(marketplace_server::render::escape::path_segment(a), a);
    assert_eq!(marketplace_server::render::escape::path_segment(b), b);
    // What the caller sees as the latest entries: P, and for members R
    // and S's replacement.
    let latest_count: u64 = if m { 3 } else { 1 };
    const XML: &str = "application/xml";
    const JSON: &str = "application/json";
    const HTML: &str = "text/html";

    // ---- /metadata: the list, as XML, DataTables JSON and HTML.
    let got = c.get("/metadata", XML).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(
        got.total_count.as_deref(),
        Some(latest_count.to_string().as_str())
    );
    contains_iff(&got.body, rid, m, "GET /metadata");
    contains_iff(&got.body, sid, m, "GET /metadata");
    assert!(got.body.contains(p.key.identifier.as_str()));
    let table = c.json("/metadata?media=json&sEcho=1").await;
    assert_eq!(table["iTotalRecords"], latest_count);
    assert_eq!(table["iTotalDisplayRecords"], latest_count);
    contains_iff(&table.to_string(), rid, m, "GET /metadata?media=json");
    let posted = c
        .send(
            c.client
                .post(format!("{base}/metadata"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("sEcho=2&iDisplayLength=10"),
            "POST /metadata (form)",
        )
        .await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    let posted: Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(posted["iTotalRecords"], latest_count);
    contains_iff(&posted.to_string(), rid, m, "POST /metadata");
    // Every status: S has no current state for a non-member.
    let every = c.get("/metadata?status=all", XML).await;
    assert_eq!(every.total_count, got.total_count);
    let page = c.ok("/metadata", HTML).await;
    contains_iff(&page, "Secretive quasar image", m, "search page");
    contains_iff(&page, rid, m, "search page");
    contains_iff(&page, "Moving image", m, "search page");
    contains_iff(&page, b, m, "search page (endorser suggestions)");
    assert!(page.contains(&format!("<strong>{latest_count}</strong>")));
    // Filters and free text that only the hidden entries match.
    let empty_search = |path: &str| format!("{path}&identifier={unknown}");
    for path in [
        "/metadata?q=quasar".to_string(),
        format!("/metadata/{rid}"),
        format!("/metadata/{b_seg}"),
        format!("/metadata/{rid}/{b_seg}"),
        "/metadata?tag=secret-tag".to_string(),
        format!("/metadata?identifier={sid}&status=all"),
    ] {
        let got = c.get(&path, XML).await;
        if m {
            assert_eq!(got.status, 200, "GET {path}: {}", got.body);
            assert_eq!(got.total_count.as_deref(), Some("1"), "GET {path}");
        } else {
            c.like_missing(&path, &empty_search("/metadata?status=all"), ("", ""), XML)
                .await;
        }
        let table = c.json(&format!("{path}{}media=json", sep(&path))).await;
        assert_eq!(table["iTotalDisplayRecords"], u64::from(m), "{path}");
        assert_eq!(table["iTotalRecords"], latest_count, "{path}");
        let html = c.ok(&path, HTML).await;
        contains_iff(
            &html,
            "Secretive quasar image",
            m && !path.contains(sid),
            &path,
        );
    }
    // The older public entry of S is found by its coordinates.
    let by_created = c
        .get(
            &format!(
                "/metadata/{sid}/{a_seg}?created={}",
                s_old.key.created.replace(':', "%3A")
            ),
            XML,
        )
        .await;
    assert_eq!(by_created.status, 200, "{}", by_created.body);

    // ---- One entry: the signed document, RDF/JSON and the entry page.
    let missing_entry = |s: &Signed| {
        let mut k = s.key.clone();
        k.created = "2001-01-01T00:00:00Z".parse().unwrap();
        (
            format!("/{}", marketplace_server::http::links::entry_path(&k)),
            k.created,
        )
    };
    for (s, visible) in [(p, true), (r, m), (s_old, true), (s_new, m)] {
        let (missing, missing_created) = missing_entry(s);
        let parts = (s.key.created.as_str(), missing_created.as_str());
        let path = s.path();
        if visible {
            let document = c.ok(&format!("{path}?media=xml"), XML).await;
            assert_eq!(document, s.document, "the signed bytes of {}", s.key);
        } else {
            c.like_missing(
                &format!("{path}?media=xml"),
                &format!("{missing}?media=xml"),
                parts,
                XML,
            )
            .await;
        }
        // The default representation is the signed document too.
        c.found_or_missing(visible, &path, &missing, parts, "*/*", &s.key.identifier)
            .await;
        c.found_or_missing(visible, &path, &missing, parts, JSON, &s.key.identifier)
            .await;
        c.found_or_missing(visible, &path, &missing, parts, HTML, &s.key.identifier)
            .await;
        // The JSON API's entry.
        let api_missing = format!("/api/v1/entries{}", &missing["/metadata".len()..]);
        c.found_or_missing(
            visible,
            &s.api_path(),
            &api_missing,
            parts,
            JSON,
            &s.key.identifier,
        )
        .await;
    }
    // The older entry of S is never shown as the latest one; members are
    // told what replaced it, non-members are not.
    let old_page = c.ok(&s_old.path(), HTML).await;
    assert!(old_page.contains("superseded"), "{old_page}");
    contains_iff(
        &old_page,
        &s_new.key.created,
        m,
        "entry page of S's older entry",
    );
    let old_item = c.json(&s_old.api_path()).await;
    assert_eq!(old_item["latest"], false);
    assert_eq!(old_item["visible_to"], serde_json::json!([]));
    if m {
        let item = c.json(&r.api_path()).await;
        assert_eq!(item["visible_to"], serde_json::json!([f.vo]));
        assert_eq!(item["latest"], true);
    }

    // ---- Tags: the list, and their resolution.
    for (path, missing) in [
        (
            format!("/metadata/{b_seg}?tag=secret-tag"),
            format!("/metadata/{b_seg}?tag=no-such-tag"),
        ),
        (
            format!("/tag/{b_seg}/secret-tag"),
            format!("/tag/{b_seg}/no-such-tag"),
        ),
        (
            format!("/tag/{a_seg}/moving-tag"),
            format!("/tag/{a_seg}/no-such-tag"),
        ),
    ] {
        let (needle, tag) = if path.contains("moving") {
            (sid, "moving-tag")
        } else {
            (rid, "secret-tag")
        };
        for accept in [XML, JSON, HTML] {
            c.found_or_missing(m, &path, &missing, (tag, "no-such-tag"), accept, needle)
                .await;
        }
    }
    let open = c.ok(&format!("/tag/{a_seg}/open-tag"), XML).await;
    assert_eq!(open, p.document);
    for accept in [XML, JSON, HTML] {
        let tags = c.ok(&format!("/endorsers/{b_seg}/tags"), accept).await;
        contains_iff(&tags, "secret-tag", m, "tags of B");
        let tags = c.ok(&format!("/endorsers/{a_seg}/tags"), accept).await;
        assert!(tags.contains("moving-tag"), "the older entry is public");
        assert!(tags.contains("open-tag"));
    }

    // ---- Endorsers: the list and their histories.
    for accept in [XML, JSON, HTML] {
        let list = c.ok("/endorsers", accept).await;
        contains_iff(&list, b, m, "endorsers");
        assert!(list.contains(a));
        let unknown_history = c
            .ok(&format!("/endorsers/{UNKNOWN_EMAIL}?range=3650"), accept)
            .await;
        let history = c
            .ok(&format!("/endorsers/{b_seg}?range=3650"), accept)
            .await;
        if m {
            assert!(history.contains(rid), "history of B ({accept})");
        } else if accept == HTML {
            assert!(!history.contains(rid) && !history.contains("Secretive"));
            assert_eq!(
                history.replace(b, UNKNOWN_EMAIL),
                unknown_history,
                "B's page is an unknown endorser's"
            );
        } else {
            assert_eq!(history, unknown_history, "B's history ({accept})");
        }
        let history = c
            .ok(&format!("/endorsers/{a_seg}?range=3650"), accept)
            .await;
        contains_iff(&history, &s_new.key.created, m, "history of A");
        assert!(history.contains(s_old.key.created.as_str()));
    }

    // ---- Images (web pages).
    for (id, visible) in [(p.key.identifier.as_str(), true), (rid, m), (sid, m)] {
        c.found_or_missing(
            visible,
            &format!("/images/{id}"),
            &format!("/images/{unknown}"),
            (id, &unknown),
            HTML,
            id,
        )
        .await;
    }

    // ---- The JSON API.
    let search = c.json("/api/v1/images?status=all&sort=identifier").await;
    assert_eq!(search["total"], latest_count);
    assert_eq!(search["matching"], latest_count);
    let mut expected = vec![p.key.to_string()];
    if m {
        expected.extend([r.key.to_string(), s_new.key.to_string()]);
    }
    assert_eq!(api_keys(&search["items"]), expected);
    let text = c.json("/api/v1/images?q=quasar").await;
    assert_eq!(text["matching"], u64::from(m));
    assert_eq!(text["total"], latest_count);
    for (id, visible) in [(rid, m), (sid, m)] {
        c.found_or_missing(
            visible,
            &format!("/api/v1/images/{id}"),
            &format!("/api/v1/images/{unknown}"),
            (id, &unknown),
            JSON,
            id,
        )
        .await;
    }
    c.found_or_missing(
        m,
        &format!("/api/v1/images/{rid}/history"),
        &format!("/api/v1/images/{unknown}/history"),
        (rid, &unknown),
        JSON,
        rid,
    )
    .await;
    let history = c.json(&format!("/api/v1/images/{sid}/history")).await;
    let mut expected = vec![s_old.key.to_string()];
    if m {
        expected.insert(0, s_new.key.to_string());
    }
    assert_eq!(api_keys(&history["items"]), expected);
    assert_eq!(history["count"], expected.len());
    let endorsers = c.json("/api/v1/endorsers").await;
    assert_eq!(endorsers["total"], if m { 2 } else { 1 });
    contains_iff(&endorsers.to_string(), b, m, "API endorsers");
    c.found_or_missing(
        m,
        &format!("/api/v1/endorsers/{b_seg}"),
        &format!("/api/v1/endorsers/{UNKNOWN_EMAIL}"),
        (b, UNKNOWN_EMAIL),
        JSON,
        rid,
    )
    .await;
    let a_view = c.json(&format!("/api/v1/endorsers/{a_seg}")).await;
    assert_eq!(a_view["entry_count"], if m { 3 } else { 2 }, "{a_view}");
    assert_eq!(
        a_view["entries"].as_array().unwrap().len(),
        if m { 3 } else { 2 }
    );

    // ---- Atom feeds.
    let feed = c.ok("/feeds/entries.atom", "*/*").await;
    contains_iff(&feed, rid, m, "feed of every entry");
    contains_iff(&feed, &s_new.key.created, m, "feed of every entry");
    assert!(feed.contains(s_old.key.created.as_str()));
    c.found_or_missing(
        m,
        &format!("/feeds/endorsers/{b_seg}.atom"),
        &format!("/feeds/endorsers/{UNKNOWN_EMAIL}.atom"),
        ("", ""),
        "*/*",
        rid,
    )
    .await;
    c.found_or_missing(
        m,
        &format!("/feeds/images/{rid}.atom"),
        &format!("/feeds/images/{unknown}.atom"),
        ("", ""),
        "*/*",
        rid,
    )
    .await;
    let s_feed = c.ok(&format!("/feeds/images/{sid}.atom"), "*/*").await;
    contains_iff(&s_feed, &s_new.key.created, m, "feed of S");
    assert!(s_feed.contains(s_old.key.created.as_str()));
    let a_feed = c.ok(&format!("/feeds/endorsers/{a_seg}.atom"), "*/*").await;
    contains_iff(&a_feed, &s_new.key.created, m, "feed of A");

    // ---- the transparency log: a restricted entry's place, with the
    // opening of its commitment, and its receipt only for those who may
    // see it; the public leaves never name it.
    let r_log = format!("{}/log", r.api_path());
    let r_receipt = format!("{}/receipt", r.api_path());
    for (path, accept, needle) in [
        (&r_log, JSON, "\"opening\":{"),
        (&r_receipt, "text/plain", "c2sp.org/tlog-proof@v1"),
    ] {
        let missing = path.replace(rid, &unknown);
        c.found_or_missing(m, path, &missing, (rid, &unknown), accept, needle)
            .await;
    }
    let p_log = c.json(&format!("{}/log", p.api_path())).await;
    assert!(p_log["opening"].is_null(), "{p_log}");
    // The public log is the same for every caller (shareable by caches,
    // unlike the responses made for one audience): fetched directly.
    let text = client
        .get(format!("{base}/api/v1/log/leaves?start=0"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let leaves: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(leaves["leaves"].as_array().unwrap().len(), 4, "{leaves}");
    for leaf in leaves["leaves"].as_array().unwrap() {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(leaf.as_str().unwrap())
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains(rid) && !text.contains(b),
            "a public leaf names {rid}: {text}"
        );
    }
}

/// `?` or `&`, whichever continues `path`'s query.
fn sep(path: &str) -> &'static str {
    if path.contains('?') { "&" } else { "?" }
}

/// Asserts that a client's copy (ETag) of `path` made for one audience is
/// never validated for another when the content differs: `other`
/// revalidating `first`'s tag gets the full response (200), not a 304.
pub async fn check_validators_by_audience(
    first: &reqwest::Client,
    other: &reqwest::Client,
    base: &str,
    path: &str,
) {
    let url = format!("{base}{path}");
    let r = first.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tag = r.headers().get(ETAG).expect("an ETag").clone();
    let again = first
        .get(&url)
        .header("If-None-Match", tag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "{path}: the same audience revalidates");
    let r = other
        .get(&url)
        .header("If-None-Match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}: another audience's tag validated");
}
