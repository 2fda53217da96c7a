//! Shared test harness: credentials (the conformance `test.p12` and
//! in-process generated ones), documents with the shapes of the original
//! server's fixtures, signed by the tests, and a real server on loopback
//! over SQLite (or PostgreSQL in a fresh schema).
#![allow(dead_code)]

pub mod visibility;

use chrono::{DateTime, Utc};
use marketplace_format::{edit, identifier};
use marketplace_server::runtime::config::ServerConfig;
use marketplace_server::runtime::state::{AppState, TrustSettings};
use marketplace_store::{PgStore, SqliteStore, Store};
use marketplace_test_pki::certs::CertificateBuilder;
use marketplace_test_pki::pg::SchemaGuard;
use marketplace_trust::credential::Credential;
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use reqwest::header::HeaderMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The instant the original suite runs at: every expectation of it holds then.
pub const NOW: &str = "2015-01-01T00:00:00Z";
/// The public URL the test servers are configured with (not their address).
pub const PUBLIC_URL: &str = "https://marketplace.example.net/mp";
/// The identifier of most original fixtures.
pub const BEE8: &str = "BEE8-MMAw-Lk_IgsEExAy3d9R8h";
/// The identifier of the expired fixture.
pub const EXPIRED_ID: &str = "Ce3uQbAaxJMbTBaCXWO2FZPRFTT";
/// The identifier of the second tagged image.
pub const NEWID: &str = "F49uQGH1uwT4mG9Lqj2pYnWkApd";
/// Jane's e-mail (the conformance credential).
pub const JANE: &str = "jane.tester@example.org";

/// The conformance corpus directory (tests that read it call
/// `marketplace_test_pki::corpus::require` first).
pub fn corpus() -> PathBuf {
    marketplace_test_pki::corpus::dir()
}

/// Jane Tester (self-signed, e-mail in the subjectAltName): the corpus's
/// `test.p12`, which signed its documents, or without the corpus one
/// generated with the same subject (the tests that need her very key read
/// the corpus, and are skipped without it).
pub fn jane() -> &'static Credential {
    static JANE_CRED: OnceLock<Credential> = OnceLock::new();
    JANE_CRED.get_or_init(|| {
        if marketplace_test_pki::corpus::available() {
            Credential::from_pkcs12(&corpus().join("test.p12"), "XYZXYZ")
                .expect("the conformance credential opens")
        } else {
            generated_as(
                &[
                    ("C", "EU"),
                    ("O", "StratusLab Project"),
                    ("OU", "Testing Department"),
                    ("CN", "Jane Tester"),
                ],
                Some(JANE),
            )
        }
    })
}

/// A self-signed RSA credential generated in-process; `email` goes into an
/// rfc822Name subjectAltName when given.
pub fn generated(common_name: &str, email: Option<&str>) -> Credential {
    generated_as(
        &[("C", "EU"), ("O", "Marketplace Tests"), ("CN", common_name)],
        email,
    )
}

/// [`generated`] with the subject `entries` (attribute, value), in order.
pub fn generated_as(entries: &[(&str, &str)], email: Option<&str>) -> Credential {
    let mut b = CertificateBuilder::new(entries);
    if let Some(email) = email {
        b = b.email(email);
    }
    let issued = b.self_signed();
    Credential::new(issued.key, vec![issued.cert]).unwrap()
}

/// A generated credential shared by the tests that need a second endorser.
pub fn alice() -> &'static Credential {
    static ALICE: OnceLock<Credential> = OnceLock::new();
    ALICE.get_or_init(|| generated("Alice Example", Some("alice@example.org")))
}

/// The content of a test document (the original fixtures' shape).
#[derive(Debug, Clone)]
pub struct Doc {
    /// `dcterms:identifier`.
    pub identifier: String,
    /// `dcterms:valid`.
    pub valid: Option<String>,
    /// `dcterms:title`.
    pub title: Option<String>,
    /// `dcterms:description`.
    pub description: Option<String>,
    /// `dcterms:alternative` (the tag).
    pub alternative: Option<String>,
    /// `slterms:deprecated`.
    pub deprecated: Option<String>,
    /// `slterms:version`.
    pub version: Option<String>,
    /// `slterms:location`s.
    pub locations: Vec<String>,
    /// Raw XML added to the description (trusted test input).
    pub extra: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Doc {
    /// Identifier BEE8…, ttylinux 9.3 i686, valid until 2016-03-05T14:12:57Z.
    pub fn bee8() -> Doc {
        Doc::with_id(BEE8)
    }

    /// The same shape for another identifier.
    pub fn with_id(identifier: &str) -> Doc {
        Doc {
            identifier: identifier.into(),
            valid: Some("2016-03-05T14:12:57Z".into()),
            title: None,
            description: None,
            alternative: None,
            deprecated: None,
            version: None,
            locations: Vec::new(),
            extra: String::new(),
        }
    }

    /// The unsigned document without an endorsement.
    pub fn xml(&self) -> String {
        let sha1 = identifier::to_sha1_hex(&self.identifier).unwrap();
        let mut body = String::new();
        let mut opt = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                body.push_str(&format!("\t\t<{name}>{}</{name}>\n", esc(v)));
            }
        };
        opt("dcterms:valid", &self.valid);
        opt("dcterms:title", &self.title);
        opt("dcterms:description", &self.description);
        opt("dcterms:alternative", &self.alternative);
        opt("slterms:version", &self.version);
        opt("slterms:deprecated", &self.deprecated);
        for l in &self.locations {
            body.push_str(&format!(
                "\t\t<slterms:location>{}</slterms:location>\n",
                esc(l)
            ));
        }
        format!(
            r##"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	xmlns:dcterms="http://purl.org/dc/terms/" xmlns:slreq="http://mp.stratuslab.eu/slreq#"
	xmlns:slterms="http://mp.stratuslab.eu/slterms#" xml:base="http://mp.stratuslab.eu/">
	<rdf:Description rdf:about="#{id}">
		<dcterms:identifier>{id}</dcterms:identifier>
		<slreq:bytes>1024</slreq:bytes>
		<slreq:checksum rdf:parseType="Resource">
			<slreq:algorithm>SHA-1</slreq:algorithm>
			<slreq:value>{sha1}</slreq:value>
		</slreq:checksum>
		<dcterms:type>base</dcterms:type>
		<slterms:kind>machine</slterms:kind>
		<slterms:os>ttylinux</slterms:os>
		<slterms:os-version>9.3</slterms:os-version>
		<slterms:os-arch>i686</slterms:os-arch>
{body}{extra}	</rdf:Description>
</rdf:RDF>
"##,
            id = self.identifier,
            extra = self.extra,
        )
    }

    /// The document endorsed by `credential` at `created` and signed (a
    /// certificate without e-mail claims `someone@example.org`).
    pub fn signed_by(&self, credential: &Credential, created: &str) -> String {
        self.signed_with(credential, created, None)
    }

    /// As [`Doc::signed_by`], claiming `email` when the certificate has none.
    pub fn signed_with(
        &self,
        credential: &Credential,
        created: &str,
        email: Option<&str>,
    ) -> String {
        let at: DateTime<Utc> = created.parse().unwrap();
        let (endorsement, _) = endorsement_for(credential.identity(), email, at)
            .or_else(|_| endorsement_for(credential.identity(), Some("someone@example.org"), at))
            .unwrap();
        let text = edit::set_endorsement(&self.xml(), &endorsement)
            .unwrap()
            .text;
        dsig::sign(
            &text,
            credential.key(),
            &credential.key_info_certificates(),
            SignOptions::default(),
        )
        .unwrap()
    }

    /// Signed by Jane at `created`.
    pub fn signed(&self, created: &str) -> String {
        self.signed_by(jane(), created)
    }
}

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite,
    /// PostgreSQL in a fresh schema.
    Postgres,
}

/// A fresh store on `backend` for `config`: SQLite in its data directory,
/// or PostgreSQL in a new schema (from the workspace's one harness,
/// [`marketplace_test_pki::pg`]) with the guard that drops the schema —
/// keep it as long as the store. `None` (printing why) when PostgreSQL is
/// unreachable outside CI; in CI (`CI=true`) it must be there.
pub async fn open_store(
    backend: Backend,
    config: &ServerConfig,
) -> Option<(Arc<dyn Store>, Option<SchemaGuard>)> {
    match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(config.sqlite_path()).await.unwrap();
            Some((Arc::new(store), None))
        }
        Backend::Postgres => {
            let (options, guard) = marketplace_test_pki::pg::schema().await?;
            let store = PgStore::connect_with(options).await.unwrap();
            Some((Arc::new(store), Some(guard)))
        }
    }
}

/// A server on a loopback port with its own store.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store behind it.
    pub store: Arc<dyn Store>,
    /// A client (no redirects, no compression).
    pub client: reqwest::Client,
    /// The configuration it runs with.
    pub config: ServerConfig,
    /// The application state it serves.
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    /// Drops the PostgreSQL schema (after the server) on PostgreSQL.
    _schema: Option<SchemaGuard>,
}

/// The test configuration: clock at [`NOW`], public URL [`PUBLIC_URL`].
pub fn test_config(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        public_url: PUBLIC_URL.into(),
        now: Some(NOW.parse().unwrap()),
        ..ServerConfig::default()
    }
}

impl TestServer {
    /// A server over SQLite with the test configuration.
    pub async fn start() -> TestServer {
        Self::start_with(Backend::Sqlite, |_| {}).await.unwrap()
    }

    /// A server on `backend` (None when PostgreSQL is unavailable outside
    /// CI), with the configuration adjusted by `adjust`.
    pub async fn start_with(
        backend: Backend,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Option<TestServer> {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let (store, schema) = open_store(backend, &config).await?;
        let mut server = Self::launch(store, config, dir).await;
        server._schema = schema;
        Some(server)
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `doc` as `application/rdf+xml` (no Accept: XML errors).
    pub async fn upload(&self, doc: &str) -> reqwest::Response {
        self.client
            .post(self.url("/metadata"))
            .header("Content-Type", "application/rdf+xml")
            .body(doc.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Uploads and asserts the status.
    pub async fn upload_ok(&self, doc: &str) {
        let r = self.upload(doc).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(status == 201 || status == 200, "upload: {status} {body}");
    }

    /// GET with an optional Accept header.
    pub async fn get(&self, path: &str, accept: Option<&str>) -> reqwest::Response {
        let mut r = self.client.get(self.url(path));
        if let Some(a) = accept {
            r = r.header("Accept", a);
        }
        r.send().await.unwrap()
    }

    /// GET: (status, content type, body).
    pub async fn fetch(&self, path: &str, accept: Option<&str>) -> (u16, String, String) {
        let r = self.get(path, accept).await;
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }

    /// Every stored entry's key, in acceptance order.
    pub async fn keys(&self) -> Vec<String> {
        self.store
            .entries_after(None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.entry.key.to_string())
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The text of every element `local` (any namespace) in `xml`, in order.
pub fn texts(xml: &str, local: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == local)
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// The endorsement `created` values in a body (they are `dcterms:created`
/// inside `slreq:endorsement`).
pub fn endorsement_dates(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "endorsement")
        .flat_map(|e| {
            e.children()
                .filter(|c| c.is_element() && c.tag_name().name() == "created")
                .map(|c| c.text().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Signs an arbitrary unsigned document `xml` (e.g. [`Doc::xml`] edited)
/// as `credential`, endorsed at `created`.
pub fn sign_xml(xml: &str, credential: &Credential, created: &str) -> String {
    let at: DateTime<Utc> = created.parse().unwrap();
    let (endorsement, _) = endorsement_for(credential.identity(), None, at).unwrap();
    let text = edit::set_endorsement(xml, &endorsement).unwrap().text;
    dsig::sign(
        &text,
        credential.key(),
        &credential.key_info_certificates(),
        SignOptions::default(),
    )
    .unwrap()
}

/// A well-formed identifier made from one repeated SHA-1 byte.
pub fn test_identifier(byte: u8) -> String {
    identifier::from_sha1_bytes(&[byte; 20])
}

impl TestServer {
    /// Serves `store` with `config` on a loopback port; `dir` holds its
    /// files until the server is dropped.
    async fn launch(store: Arc<dyn Store>, config: ServerConfig, dir: tempfile::TempDir) -> Self {
        let trust = TrustSettings::from_config(&config).unwrap();
        let state = AppState::new(store.clone(), config.clone(), trust).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            marketplace_server::runtime::serve::serve(listener, served, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            base: format!("http://{addr}"),
            store,
            client,
            config,
            state,
            shutdown: Some(tx),
            _dir: dir,
            _schema: None,
        }
    }

    /// A server over an existing `store` (e.g. another server's, to see it
    /// at another instant), with the test configuration adjusted by `adjust`.
    pub async fn start_on(
        store: Arc<dyn Store>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        adjust(&mut config);
        Self::launch(store, config, dir).await
    }
}

/// Configures a test server for HTTPS with the test PKI: its host
/// certificate, optional client certificates verified against the PKI's
/// CA directory and vomsdir, and the clock at the instant the PKI was made.
pub fn serve_tls_with(c: &mut ServerConfig, pki: &marketplace_test_pki::TestPki) {
    c.tls_cert = Some(pki.path().join("server-chain.pem"));
    c.tls_key = Some(pki.path().join("server.key"));
    c.tls_client_auth = marketplace_server::auth::authn::TlsClientAuth::Optional;
    c.ca_dir = Some(pki.path().join("certificates"));
    c.vomsdir = Some(pki.path().join("vomsdir"));
    c.now = Some(pki.generated_at().parse().unwrap());
}

/// The `https://` base URL of a server started with [`serve_tls_with`].
pub fn https_base(server: &TestServer) -> String {
    server.base.replace("http://", "https://")
}

/// The `Accept` header of a browser.
pub const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// `path` as a browser gets it: status, headers, body.
pub async fn page(s: &TestServer, path: &str) -> (u16, HeaderMap, String) {
    let r = s.get(path, Some(HTML)).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// The CSRF cookie and token of the form at `path` (checking how they are set).
pub async fn form_token(s: &TestServer, path: &str) -> (String, String) {
    let (status, headers, body) = page(s, path).await;
    assert_eq!(status, 200);
    let cookie = headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("mp_csrf="), "{cookie}");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert_eq!(headers["cache-control"], "no-store");
    let value = cookie["mp_csrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(value.len(), 43);
    assert!(body.contains(&format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{value}\">"
    )));
    (format!("mp_csrf={value}"), value)
}

/// The upload form's body: the CSRF token (when given) and `doc` as the file.
pub fn multipart(token: Option<&str>, doc: &str) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    if let Some(t) = token {
        form = form.text("csrf_token", t.to_string());
    }
    form.part(
        "Metadata File",
        reqwest::multipart::Part::text(doc.to_string()).file_name("image.xml"),
    )
}

/// The notes of an accepted upload's text answer `body`, which must be
/// `message` on its first line and one `note: …` line per note after it
/// (returned without the `note: `).
pub fn notes_after(body: &str, message: &str) -> Vec<String> {
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some(message), "{body}");
    lines
        .map(|l| {
            l.strip_prefix("note: ")
                .unwrap_or_else(|| panic!("not a note: {l}\n{body}"))
                .to_string()
        })
        .collect()
}
