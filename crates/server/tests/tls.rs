//! HTTPS with client certificates, RFC 3820 proxies and VOMS attributes,
//! the trusted-proxy header, and the upload authorization rules: real TLS
//! handshakes on loopback with `curl` (OpenSSL), using the test PKI of
//! `scripts/make-test-pki.sh` (generated once per run; every server's clock
//! is frozen at its generation instant, when the VOMS proxies are valid).
//!
//! Two kinds of server: a small `/whoami` router behind the real
//! identification middleware and accept loop (it prints the identity each
//! request gets), and the marketplace itself (upload outcomes).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use common::*;
use marketplace_server::auth::authn::{self, AddrRange, Authenticator, TlsClientAuth};
use marketplace_server::auth::authz::{UploadAccess, UploadRules};
use marketplace_server::auth::identity::Caller;
use marketplace_server::auth::tls::{self, Tls};
use marketplace_server::http::middleware::MiddlewareLayer;
use marketplace_server::runtime::clock::Clock;
use marketplace_server::runtime::config::ServerConfig;
use marketplace_test_pki::TestPki;
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::credential::Credential;
use marketplace_trust::voms::VomsDir;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The test PKI with VOMS proxies, or None (the test is skipped; never in
/// CI) without openssl, voms-proxy-fake or curl.
fn pki() -> Option<&'static TestPki> {
    static PKI: OnceLock<Option<TestPki>> = OnceLock::new();
    PKI.get_or_init(|| {
        marketplace_test_pki::generate(&["openssl", "voms-proxy-fake", "curl"], true)
    })
    .as_ref()
}

/// A clock frozen at the PKI's generation instant.
fn clock(pki: &TestPki) -> Clock {
    Clock::frozen(pki.generated_at().parse().unwrap())
}

const ALICE: &str = "CN=Alice Example,OU=Users,O=Marketplace Test Grid,C=EU";
const BOB: &str = "CN=Bob Example,OU=Users,O=Marketplace Test Grid,C=EU";

/// The client credential curl presents.
#[derive(Clone, Copy)]
enum Cred {
    /// No certificate.
    Anonymous,
    /// `NAME.pem` + `NAME.key` (an end-entity certificate).
    User(&'static str),
    /// `NAME.pem`: a grid proxy file (certificate, key, chain).
    Proxy(&'static str),
}

/// What curl saw.
#[derive(Debug)]
struct Answer {
    /// curl's exit code (0, or e.g. 35/56 when the handshake failed).
    exit: i32,
    /// HTTP status (0 without a response).
    status: u16,
    body: String,
    stderr: String,
}

impl Answer {
    /// The handshake (or the first read after it, in TLS 1.3) failed with
    /// an alert mentioning `alert`.
    fn assert_refused(&self, alert: &str) {
        assert!(
            self.exit != 0 && self.status == 0,
            "expected a refused handshake: {self:?}"
        );
        assert!(
            self.stderr.to_ascii_lowercase().contains(alert),
            "expected '{alert}' in: {}",
            self.stderr
        );
    }
}

/// `curl` against `url` as `cred`, trusting the Test CA; `extra` are more
/// curl arguments (method, body, headers).
async fn curl(pki: &TestPki, url: &str, cred: Cred, extra: &[&str]) -> Answer {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--cacert", &pki.file("ca.pem")]);
    cmd.args(["-w", "\n%{http_code}"]);
    match cred {
        Cred::Anonymous => {}
        Cred::User(name) => {
            cmd.args(["--cert", &pki.file(&format!("{name}.pem"))]);
            cmd.args(["--key", &pki.file(&format!("{name}.key"))]);
        }
        Cred::Proxy(name) => {
            let file = pki.file(&format!("{name}.pem"));
            cmd.args(["--cert", &file, "--key", &file]);
        }
    }
    cmd.args(extra).arg(url);
    let out = cmd.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    Answer {
        exit: out.status.code().unwrap_or(-1),
        status: code.trim().parse().unwrap_or(0),
        body: body.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Prints the identity the request carries (and whether the trusted
/// header reached the handler).
async fn whoami(caller: Caller, headers: HeaderMap) -> String {
    let header = headers.contains_key("x-ssl-client-cert");
    match caller.identity() {
        None => format!("anonymous\nheader={header}"),
        Some(i) => format!(
            "subject={}\nissuer={}\nvos={}\nfqans={}\nsource={:?}\nheader={header}",
            i.subject,
            i.issuer,
            i.vos.join(","),
            i.fqans.join(","),
            i.source
        ),
    }
}

/// A `/whoami` server on loopback (TLS with `mode` when given, else plain
/// HTTP), trusting `X-SSL-Client-Cert` from `proxies`. Stops when the
/// returned sender is dropped.
async fn whoami_server(
    pki: &TestPki,
    mode: Option<TlsClientAuth>,
    proxies: &[&str],
) -> (String, oneshot::Sender<()>) {
    let ca = CaDirectory::open(pki.path().join("certificates")).unwrap();
    let vomsdir = VomsDir::open(pki.path().join("vomsdir")).unwrap();
    let proxies: Vec<AddrRange> = proxies.iter().map(|p| p.parse().unwrap()).collect();
    let auth = Arc::new(Authenticator::with(
        Some(ca.clone()),
        Some(vomsdir),
        clock(pki),
        Some("x-ssl-client-cert"),
        proxies,
    ));
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(MiddlewareLayer::new(authn::Identify(auth.clone())));
    let tls = mode.map(|mode| {
        let config = tls::server_config(
            &pki.path().join("server.pem"),
            &pki.path().join("server.key"),
            mode,
            Some(ca),
            clock(pki),
        )
        .unwrap();
        Tls::new(config, auth)
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let gate = std::sync::Arc::new(marketplace_server::http::connections::ConnectionGate::new(
        64,
        16,
        Vec::new(),
    ));
    tokio::spawn(tls::serve_connections(listener, app, tls, gate, async {
        let _ = rx.await;
    }));
    (format!("{scheme}://{addr}/whoami"), tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_identities_with_optional_client_certificates() {
    let Some(pki) = pki() else { return };
    let (url, _stop) = whoami_server(pki, Some(TlsClientAuth::Optional), &[]).await;

    // No certificate: anonymous.
    let a = curl(pki, &url, Cred::Anonymous, &[]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "anonymous\nheader=false")
    );

    // An end-entity certificate.
    let a = curl(pki, &url, Cred::User("alice"), &[]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(
        a.body.starts_with(&format!("subject={ALICE}\n")),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("issuer=CN=Marketplace Test CA,O=Marketplace Test Grid,C=EU"),
        "{}",
        a.body
    );
    assert!(a.body.contains("vos=\nfqans=\nsource=TlsClientCertificate"));

    // A proxy, and a proxy of a proxy: the identity is the user behind them.
    for proxy in ["alice-proxy", "alice-proxy2"] {
        let a = curl(pki, &url, Cred::Proxy(proxy), &[]).await;
        assert_eq!(a.status, 200, "{proxy}: {a:?}");
        assert!(
            a.body.starts_with(&format!("subject={ALICE}\n")),
            "{proxy}: {}",
            a.body
        );
        assert!(a.body.contains("vos=\n"), "{proxy}: {}", a.body);
    }

    // A VOMS proxy: its VO and FQANs, verified against the vomsdir.
    let a = curl(pki, &url, Cred::Proxy("alice-voms"), &[]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body.starts_with(&format!("subject={ALICE}\n")));
    assert!(
        a.body
            .contains("vos=testvo\nfqans=/testvo,/testvo/Role=endorser\n"),
        "{}",
        a.body
    );

    // A forged attribute certificate, and one of a VO the vomsdir does not
    // know: the (valid) proxy authenticates alice, but with no VO.
    for proxy in ["alice-voms-forged", "alice-voms-othervo"] {
        let a = curl(pki, &url, Cred::Proxy(proxy), &[]).await;
        assert_eq!(a.status, 200, "{proxy}: {a:?}");
        assert!(a.body.starts_with(&format!("subject={ALICE}\n")), "{proxy}");
        assert!(a.body.contains("vos=\nfqans=\n"), "{proxy}: {}", a.body);
    }

    // Presented but invalid: the handshake fails with an alert naming why.
    curl(pki, &url, Cred::User("mallory"), &[])
        .await
        .assert_refused("revoked");
    curl(pki, &url, Cred::User("expired"), &[])
        .await
        .assert_refused("expired");
    curl(pki, &url, Cred::Proxy("alice-proxy-expired"), &[])
        .await
        .assert_refused("expired");
    curl(pki, &url, Cred::User("eve"), &[])
        .await
        .assert_refused("unknown ca");

    // The header of a peer that is not a trusted proxy is ignored and
    // removed, also over TLS.
    let a = curl(
        pki,
        &url,
        Cred::Anonymous,
        &[
            "-H",
            &format!("X-SSL-Client-Cert: {}", escaped_chain(pki, "alice.pem")),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "anonymous\nheader=false")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_client_certificates() {
    let Some(pki) = pki() else { return };
    let (url, _stop) = whoami_server(pki, Some(TlsClientAuth::Required), &[]).await;
    curl(pki, &url, Cred::Anonymous, &[])
        .await
        .assert_refused("alert");
    let a = curl(pki, &url, Cred::Proxy("alice-proxy2"), &[]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body.starts_with(&format!("subject={ALICE}\n")));
    curl(pki, &url, Cred::User("mallory"), &[])
        .await
        .assert_refused("revoked");

    // none: no certificate is asked for; a client that has one is anonymous.
    let (url, _stop2) = whoami_server(pki, Some(TlsClientAuth::None), &[]).await;
    let a = curl(pki, &url, Cred::User("alice"), &[]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "anonymous\nheader=false")
    );
}

/// The certificates of a PKI file (not its key), PEM, URL-escaped as
/// nginx's `$ssl_client_escaped_cert`.
fn escaped_chain(pki: &TestPki, file: &str) -> String {
    let pem = std::fs::read_to_string(pki.path().join(file)).unwrap();
    let mut certs = String::new();
    let mut inside = false;
    for line in pem.lines() {
        if line == "-----BEGIN CERTIFICATE-----" {
            inside = true;
        }
        if inside {
            certs.push_str(line);
            certs.push('\n');
        }
        if line == "-----END CERTIFICATE-----" {
            inside = false;
        }
    }
    certs
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxy_header() {
    let Some(pki) = pki() else { return };
    let client = reqwest::Client::new();
    let ask = |url: String, value: Option<String>| {
        let client = client.clone();
        async move {
            let mut r = client.get(url);
            if let Some(v) = value {
                r = r.header("X-SSL-Client-Cert", v);
            }
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // From a trusted proxy: the chain in the header, with its VOMS
    // attributes; the header itself does not reach the handler.
    let (url, _stop) = whoami_server(pki, None, &["127.0.0.0/8"]).await;
    let (status, body) = ask(url.clone(), Some(escaped_chain(pki, "alice-voms.pem"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            "subject={ALICE}\nissuer=CN=Marketplace Test CA,O=Marketplace Test Grid,C=EU\n\
             vos=testvo\nfqans=/testvo,/testvo/Role=endorser\nsource=TrustedHeader\nheader=false"
        )
    );
    // PEM with spaces for line breaks (as some proxies send it) works too.
    let spaced = std::fs::read_to_string(pki.path().join("bob.pem"))
        .unwrap()
        .trim()
        .replace('\n', " ");
    let (status, body) = ask(url.clone(), Some(spaced)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(&format!("subject={BOB}\n")), "{body}");
    // Without the header: anonymous.
    let (status, body) = ask(url.clone(), None).await;
    assert_eq!((status, body.as_str()), (200, "anonymous\nheader=false"));
    // A chain that does not verify is refused, saying why.
    let (status, body) = ask(url.clone(), Some(escaped_chain(pki, "mallory.pem"))).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("client certificate refused: certificate revoked"),
        "{body}"
    );
    let (status, body) = ask(url.clone(), Some("garbage".into())).await;
    assert_eq!(status, 403);
    assert!(body.contains("no PEM certificate"), "{body}");

    // From a peer that is not a trusted proxy: ignored and removed.
    let (url, _stop2) = whoami_server(pki, None, &["10.0.0.0/8", "::1"]).await;
    let (status, body) = ask(url.clone(), Some(escaped_chain(pki, "alice.pem"))).await;
    assert_eq!((status, body.as_str()), (200, "anonymous\nheader=false"));
    let (status, body) = ask(url, Some(escaped_chain(pki, "mallory.pem"))).await;
    assert_eq!((status, body.as_str()), (200, "anonymous\nheader=false"));
}

/// A document signed by alice (her certificate carries her e-mail),
/// endorsed an hour before the PKI instant, valid until 2080.
fn alice_document(pki: &TestPki, id_byte: u8) -> String {
    let alice = Credential::from_pem_files(
        &pki.path().join("alice.pem"),
        &pki.path().join("alice.key"),
        None,
    )
    .unwrap();
    let at: chrono::DateTime<chrono::Utc> = pki.generated_at().parse().unwrap();
    let created = (at - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut doc = Doc::with_id(&test_identifier(id_byte));
    doc.valid = Some("2080-01-01T00:00:00Z".into());
    doc.signed_by(&alice, &created)
}

/// A marketplace over TLS (optional client certificates, the PKI's CA
/// directory and vomsdir, clock at the PKI instant) with upload `rules`.
async fn marketplace(pki: &'static TestPki, rules: UploadRules) -> (TestServer, String) {
    let s = TestServer::start_with(Backend::Sqlite, move |c: &mut ServerConfig| {
        serve_tls_with(c, pki);
        c.upload = rules;
    })
    .await
    .unwrap();
    let base = https_base(&s);
    (s, base)
}

/// POSTs `file` to `/metadata` as `application/rdf+xml`.
async fn upload(pki: &TestPki, base: &str, cred: Cred, file: &Path) -> Answer {
    let data = format!("@{}", file.display());
    curl(
        pki,
        &format!("{base}/metadata"),
        cred,
        &[
            "-H",
            "Content-Type: application/rdf+xml",
            "-H",
            "Accept: text/plain",
            "--data-binary",
            &data,
        ],
    )
    .await
}

/// Served over HTTPS, every response tells browsers to use nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_responses_carry_strict_transport_security() {
    let Some(pki) = pki() else { return };
    let rules = UploadRules::new(None, &[], &[], &[], false).unwrap();
    let (_s, base) = marketplace(pki, rules).await;
    for path in ["/metadata", "/api/v1/images", "/no/such/page"] {
        let a = curl(pki, &format!("{base}{path}"), Cred::Anonymous, &["-i"]).await;
        let headers = a.body.to_ascii_lowercase();
        assert!(
            headers.contains("\nstrict-transport-security: max-age=31536000\r\n"),
            "{path}: {a:?}"
        );
    }
}

/// A document signed with a VOMS proxy records the proxy's VO and FQANs
/// (checked against the vomsdir): the API shows them and `vo=` finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voms_signed_upload_records_vo_and_fqans() {
    let Some(pki) = pki() else { return };
    let rules = UploadRules::new(None, &[], &[], &[], false).unwrap();
    let (_s, base) = marketplace(pki, rules).await;
    let proxy = Credential::from_proxy_file(&pki.path().join("alice-voms.pem")).unwrap();
    let at: chrono::DateTime<chrono::Utc> = pki.generated_at().parse().unwrap();
    let created = (at - chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut doc = Doc::with_id(&test_identifier(0x76));
    doc.valid = Some("2080-01-01T00:00:00Z".into());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("voms.xml");
    std::fs::write(&file, doc.signed_by(&proxy, &created)).unwrap();
    let a = upload(pki, &base, Cred::Anonymous, &file).await;
    assert_eq!(a.status, 201, "{a:?}");

    let search = |vo: &'static str| {
        let url = format!("{base}/api/v1/images?vo={vo}");
        async move {
            let a = curl(pki, &url, Cred::Anonymous, &[]).await;
            assert_eq!(a.status, 200, "{a:?}");
            serde_json::from_str::<serde_json::Value>(&a.body).unwrap()
        }
    };
    let found = search("testvo").await;
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    let endorser = &items[0]["endorser"];
    assert_eq!(endorser["vo"], "testvo", "{endorser}");
    let fqans: Vec<&str> = endorser["fqans"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(fqans.contains(&"/testvo/Role=endorser"), "{fqans:?}");
    assert_eq!(endorser["subject"], ALICE);
    let other = search("othervo").await;
    assert_eq!(other["items"].as_array().map(Vec::len), Some(0), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_by_vo_membership() {
    let Some(pki) = pki() else { return };
    let rules = UploadRules::new(None, &[], &["testvo".into()], &[], false).unwrap();
    let (s, base) = marketplace(pki, rules).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, alice_document(pki, 0x61)).unwrap();

    let a = upload(pki, &base, Cred::Anonymous, &file).await;
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.body.contains(
            "upload refused: this marketplace accepts uploads only from authenticated clients \
             (upload_access = listed)"
        ),
        "{}",
        a.body
    );
    let not_member = format!(
        "upload refused: the client certificate ({ALICE}) is not a member of any allowed VO \
         (allowed: testvo)"
    );
    // Wrong VO, forged attribute certificate, no VOMS at all: refused.
    for proxy in ["alice-voms-othervo", "alice-voms-forged", "alice-proxy"] {
        let a = upload(pki, &base, Cred::Proxy(proxy), &file).await;
        assert_eq!(a.status, 403, "{proxy}: {a:?}");
        assert!(a.body.contains(&not_member), "{proxy}: {}", a.body);
    }
    let a = upload(pki, &base, Cred::User("bob"), &file).await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains("is not a member of any allowed VO"),
        "{}",
        a.body
    );
    assert!(s.keys().await.is_empty());

    // A member of testvo may upload (a document someone else could have
    // signed: the endorser rule is off here).
    let a = upload(pki, &base, Cred::Proxy("alice-voms"), &file).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(s.keys().await.len(), 1);

    // The multipart routes apply the same rules: POST /metadata …
    let form = format!("file=@{};type=application/rdf+xml", file.display());
    let a = curl(
        pki,
        &format!("{base}/metadata"),
        Cred::User("bob"),
        &["-F", &form, "-H", "Accept: text/plain"],
    )
    .await;
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.body.contains("not a member of any allowed VO"),
        "{}",
        a.body
    );
    // … and the web form's POST /upload (the page shows the refusal).
    let a = curl(
        pki,
        &format!("{base}/upload"),
        Cred::Anonymous,
        &["-F", &form],
    )
    .await;
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.body
            .contains("upload refused: this marketplace accepts uploads only from authenticated"),
        "{}",
        a.body
    );
    let a = curl(
        pki,
        &format!("{base}/upload"),
        Cred::Proxy("alice-voms"),
        &["-F", &form],
    )
    .await;
    assert_eq!(a.status, 200, "already there: {a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_by_listed_fqan_and_dn() {
    let Some(pki) = pki() else { return };
    let rules = UploadRules::new(
        Some(UploadAccess::Listed),
        &["/C=EU/O=Marketplace Test Grid/OU=Users/CN=Bob Example".into()],
        &[],
        &["/testvo/Role=endorser".into()],
        false,
    )
    .unwrap();
    let (_s, base) = marketplace(pki, rules).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, alice_document(pki, 0x62)).unwrap();
    // alice without the FQAN (forged AC) and not listed.
    let a = upload(pki, &base, Cred::Proxy("alice-voms-forged"), &file).await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains(
            "is not one of the allowed DNs (1 listed in upload_dns) and holds none of the \
             allowed FQANs (allowed: /testvo/Role=endorser)"
        ),
        "{}",
        a.body
    );
    // Bob is listed (by DN, behind a proxy).
    let a = upload(pki, &base, Cred::Proxy("bob-proxy"), &file).await;
    assert_eq!(a.status, 201, "{a:?}");
    // alice holds the FQAN.
    let a = upload(pki, &base, Cred::Proxy("alice-voms"), &file).await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_of_own_endorsements_only() {
    let Some(pki) = pki() else { return };
    let rules = UploadRules::new(Some(UploadAccess::Authenticated), &[], &[], &[], true).unwrap();
    let (s, base) = marketplace(pki, rules).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, alice_document(pki, 0x63)).unwrap();
    let a = upload(pki, &base, Cred::Anonymous, &file).await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains("(upload_access = authenticated)"),
        "{}",
        a.body
    );
    // Bob is authenticated but is not the endorser.
    let a = upload(pki, &base, Cred::User("bob"), &file).await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains(&format!(
            "upload refused: the document is endorsed by {ALICE}, but the client certificate \
             is {BOB}: clients may upload only their own endorsements (upload_match_endorser)"
        )),
        "{}",
        a.body
    );
    // A revoked user does not get that far.
    upload(pki, &base, Cred::User("mallory"), &file)
        .await
        .assert_refused("revoked");
    assert!(s.keys().await.is_empty());
    // alice, behind a proxy of a proxy, uploads her own document.
    let a = upload(pki, &base, Cred::Proxy("alice-proxy2"), &file).await;
    assert_eq!(a.status, 201, "{a:?}");
    // Reading stays anonymous.
    let a = curl(pki, &format!("{base}/healthz"), Cred::Anonymous, &[]).await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_through_a_trusted_proxy() {
    let Some(pki) = pki() else { return };
    let start = |proxies: &'static str| async move {
        TestServer::start_with(Backend::Sqlite, move |c: &mut ServerConfig| {
            c.ca_dir = Some(pki.path().join("certificates"));
            c.vomsdir = Some(pki.path().join("vomsdir"));
            c.now = Some(pki.generated_at().parse().unwrap());
            c.trusted_proxy_header = Some("x-ssl-client-cert".into());
            c.trusted_proxies = vec![proxies.parse().unwrap()];
            c.upload =
                UploadRules::new(Some(UploadAccess::Authenticated), &[], &[], &[], true).unwrap();
        })
        .await
        .unwrap()
    };
    let doc = alice_document(pki, 0x64);
    let post = |s: &TestServer, header: Option<String>| {
        let mut r = s
            .client
            .post(s.url("/metadata"))
            .header("Content-Type", "application/rdf+xml")
            .header("Accept", "text/plain")
            .body(doc.clone());
        if let Some(v) = header {
            r = r.header("X-SSL-Client-Cert", v);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // From a peer that is not a trusted proxy, the header is ignored.
    let untrusted = start("192.0.2.0/24").await;
    let (status, body) = post(&untrusted, Some(escaped_chain(pki, "alice-proxy.pem"))).await;
    assert_eq!(status, 403);
    assert!(body.contains("only from authenticated clients"), "{body}");
    // From the trusted proxy: bob is not the endorser, alice is.
    let trusted = start("127.0.0.1").await;
    let (status, body) = post(&trusted, Some(escaped_chain(pki, "bob.pem"))).await;
    assert_eq!(status, 403);
    assert!(body.contains("(upload_match_endorser)"), "{body}");
    let (status, body) = post(&trusted, Some(escaped_chain(pki, "alice-proxy.pem"))).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_server_shuts_down_gracefully() {
    let Some(pki) = pki() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.tls_cert = Some(pki.path().join("server.pem"));
    config.tls_key = Some(pki.path().join("server.key"));
    let store: Arc<dyn marketplace_store::Store> = Arc::new(
        marketplace_store::SqliteStore::open(config.sqlite_path())
            .await
            .unwrap(),
    );
    let trust = marketplace_server::TrustSettings::from_config(&config).unwrap();
    let state = marketplace_server::AppState::new(store, config, trust).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(marketplace_server::runtime::serve::serve(
        listener,
        state,
        async {
            let _ = rx.await;
        },
    ));
    let a = curl(
        pki,
        &format!("https://{addr}/healthz"),
        Cred::Anonymous,
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    let a = curl(
        pki,
        &format!("https://{addr}/healthz"),
        Cred::Anonymous,
        &[],
    )
    .await;
    assert_ne!(a.exit, 0, "nothing listens any more");

    // A key that is not the certificate's is refused before serving.
    let mut config = test_config(dir.path());
    config.tls_cert = Some(pki.path().join("server.pem"));
    config.tls_key = Some(pki.path().join("alice.key"));
    let store: Arc<dyn marketplace_store::Store> = Arc::new(
        marketplace_store::SqliteStore::open(config.sqlite_path())
            .await
            .unwrap(),
    );
    let state = marketplace_server::AppState::new(store, config, Default::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = marketplace_server::runtime::serve::serve(listener, state, async {})
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("is not the key of the certificate"),
        "{e}"
    );
}
