//! E-mail confirmation of uploads over real HTTP, with a real SMTP server on
//! loopback: Debian's `python3-aiosmtpd` with its Mailbox handler, which
//! writes every message it receives into a Maildir the tests read. Without
//! aiosmtpd the tests that need it print "skipped" (they fail in CI).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use marketplace_server::runtime::config::ServerConfig;
use marketplace_server::upload::smtp::SmtpTls;
use marketplace_test_pki::smtp::SmtpServer;
use marketplace_trust::credential::Credential;
use openssl::x509::{X509, X509Crl};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CREATED: &str = "2014-03-08T14:10:40Z";
const LATER: &str = "2014-06-01T00:00:00Z";
const CAROL: &str = "carol@example.org";
const ADMIN: &str = "marketplace-admin@example.net";

/// The SMTP server the marketplace mails through.
struct Smtp(SmtpServer);

impl Smtp {
    /// Starts the server, or returns `None` (the test skipped by name) when
    /// aiosmtpd is missing outside CI.
    fn start() -> Option<Smtp> {
        SmtpServer::start().map(Smtp)
    }

    /// Every message received so far, oldest first.
    fn messages(&self) -> Vec<Mail> {
        self.0.messages().iter().map(|m| Mail::parse(m)).collect()
    }

    /// Waits until `n` messages arrived (at most 10 s) and returns them.
    async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                assert_eq!(m.len(), n, "messages received");
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server settings of a marketplace that mails through it.
    fn configure(&self, c: &mut ServerConfig) {
        mail_to(c, self.0.port());
    }
}

/// Confirmation on, mail through plain SMTP on `port` of 127.0.0.1.
fn mail_to(c: &mut ServerConfig, port: u16) {
    c.validate_email = true;
    c.smtp_host = Some("127.0.0.1".into());
    c.smtp_port = Some(port);
    c.smtp_tls = SmtpTls::None;
    c.mail_from = Some(ADMIN.into());
}

/// A received message.
#[derive(Debug)]
struct Mail {
    headers: Vec<(String, String)>,
    body: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = headers.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut mail = Mail {
            headers,
            body: body.to_string(),
        };
        if mail
            .header("content-transfer-encoding")
            .eq_ignore_ascii_case("quoted-printable")
        {
            mail.body = decode_qp(&mail.body);
        }
        mail
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The links of the body.
    fn links(&self) -> Vec<String> {
        self.body
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_string)
            .collect()
    }

    /// The link ending with `/{command}`.
    fn link(&self, command: &str) -> String {
        self.links()
            .into_iter()
            .find(|l| l.contains("/action/") && l.ends_with(&format!("/{command}")))
            .unwrap_or_else(|| panic!("no {command} link in {}", self.body))
    }
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(b) = joined
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path of a mailed link on the test server (links use PUBLIC_URL).
fn path_of(link: &str) -> String {
    link.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{link} is not under {PUBLIC_URL}"))
        .to_string()
}

/// The token of a mailed link.
fn token_of(link: &str) -> String {
    path_of(link).split('/').nth(2).unwrap().to_string()
}

/// A credential whose certificate carries no e-mail (so every claimed
/// address is uncertified).
fn no_mail() -> &'static Credential {
    static CRED: OnceLock<Credential> = OnceLock::new();
    CRED.get_or_init(|| generated("Carol Uncertified", None))
}

/// BEE8 endorsed by Carol at `created`, her address not certified.
fn carol_doc(created: &str, title: &str) -> String {
    let mut doc = Doc::bee8();
    doc.title = Some(title.into());
    doc.signed_with(no_mail(), created, Some(CAROL))
}

async fn post(
    s: &TestServer,
    path: &str,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut r = s
        .client
        .post(s.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded");
    if let Some(a) = accept {
        r = r.header("Accept", a);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn entry_url(created: &str) -> String {
    format!("{PUBLIC_URL}/metadata/{BEE8}/{CAROL}/{created}")
}

#[tokio::test]
async fn confirm_by_mail_over_real_smtp() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();

    // The upload, with a hostile Host header.
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Content-Type", "application/rdf+xml")
        .header("Host", "evil.example")
        .body(carol_doc(CREATED, "Ubuntu 14.04 base"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert!(r.headers().get("location").is_none());
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("confirmation email sent for new metadata entry"),
        "{body}"
    );
    assert!(body.contains(CAROL), "{body}");
    assert!(
        s.keys().await.is_empty(),
        "nothing stored before confirmation"
    );

    // The mail: to the endorser, from the administrator, naming the image,
    // its title and the signer; links under the configured public URL.
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.header("x-rcptto"), CAROL);
    assert!(mail.header("from").contains(ADMIN), "{mail:?}");
    let subject = mail.header("subject");
    assert!(subject.contains(BEE8), "{subject}");
    assert!(subject.contains("Ubuntu 14.04 base"), "{subject}");
    for needle in [
        BEE8,
        "Ubuntu 14.04 base",
        "CN=Carol Uncertified,O=Marketplace Tests,C=EU",
        CREATED,
    ] {
        assert!(mail.body.contains(needle), "{needle} in {}", mail.body);
    }
    assert!(!mail.body.contains("evil.example"), "{}", mail.body);
    assert!(!mail.body.contains(&s.base), "{}", mail.body);
    let confirm = mail.link("confirm");
    let abort = mail.link("abort");
    assert!(
        confirm.starts_with(&format!("{PUBLIC_URL}/action/")),
        "{confirm}"
    );
    assert!(
        abort.starts_with(&format!("{PUBLIC_URL}/action/")),
        "{abort}"
    );
    let token = token_of(&confirm);
    assert_eq!(token, token_of(&abort));
    assert_eq!(token.len(), 43, "256 bits in base64url");

    // Following the link shows a page whose button POSTs; nothing changes.
    for _ in 0..2 {
        let r = s.get(&path_of(&confirm), Some("text/html")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let page = r.text().await.unwrap();
        assert!(
            page.contains(&format!(
                "<form action=\"action/{token}/confirm\" method=\"post\">"
            )),
            "{page}"
        );
        assert!(page.contains("Ubuntu 14.04 base"), "{page}");
    }
    let (status, _, page) = s.fetch(&path_of(&abort), None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("action=\"action/{token}/abort\"")),
        "{page}"
    );
    assert!(s.keys().await.is_empty(), "GET changed nothing");
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert!(s.store.get_pending(&token, now).await.unwrap().is_some());

    // The POST publishes it.
    let (status, headers, body) = post(&s, &path_of(&confirm), None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, "metadata entry created\n");
    assert_eq!(headers["location"], entry_url(CREATED).as_str());
    assert_eq!(s.keys().await, vec![format!("{BEE8}/{CAROL}/{CREATED}")]);
    let (status, _, _) = s
        .fetch(&format!("/metadata/{BEE8}/{CAROL}/{CREATED}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _, listed) = s.fetch("/metadata?media=json", None).await;
    assert_eq!(status, 200);
    assert!(listed.contains(CAROL), "{listed}");

    // The token is used up.
    for (method, path) in [
        ("POST", path_of(&confirm)),
        ("POST", path_of(&abort)),
        ("GET", path_of(&confirm)),
    ] {
        let (status, _, body) = if method == "POST" {
            post(&s, &path, None).await
        } else {
            let (st, _, b) = s.fetch(&path, None).await;
            (st, Default::default(), b)
        };
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert!(
            body.contains("unknown or expired confirmation link"),
            "{body}"
        );
        assert!(!body.contains(&token), "{body}");
    }
    assert_eq!(s.keys().await.len(), 1);

    // Metrics never carry tokens.
    let (_, _, metrics) = s.fetch("/metrics", None).await;
    assert!(!metrics.contains(&token));
    assert!(metrics.contains("/action/{token}/{command}"), "{metrics}");
}

#[tokio::test]
async fn abort_stores_nothing() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();
    // A browser upload gets the HTML status page.
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Content-Type", "application/rdf+xml")
        .header("Accept", "text/html")
        .body(carol_doc(CREATED, "<b>bold</b> title"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let page = r.text().await.unwrap();
    assert!(page.contains("confirmation email sent"), "{page}");
    let mail = smtp.wait_for(1).await.remove(0);
    let abort = mail.link("abort");
    let token = token_of(&abort);

    let r = s.get(&path_of(&abort), Some("text/html")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(!page.contains("<b>bold</b>"), "escaped: {page}");
    assert!(page.contains("&#60;b&#62;bold"), "{page}");

    let (status, _, body) = post(&s, &path_of(&abort), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!("aborted addition of metadata entry {BEE8}/{CAROL}/{CREATED}\n")
    );
    assert!(s.keys().await.is_empty());
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert!(s.store.get_pending(&token, now).await.unwrap().is_none());
    for link in [mail.link("confirm"), abort] {
        let (status, _, _) = post(&s, &path_of(&link), Some("text/html")).await;
        assert_eq!(status, 404);
    }
    assert!(s.keys().await.is_empty());
    // Malformed tokens and other commands: 404 as well.
    for path in [
        "/action/short/confirm".to_string(),
        format!("/action/{token}/abuse"),
        format!("/action/{token}/delete"),
        "/action/..%2F..%2Fetc%2Fpasswd/confirm".to_string(),
    ] {
        let (status, _, body) = post(&s, &path, None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}

/// "I did not upload this": the upload is dropped (it can no longer be
/// confirmed, unlike the original server, which kept it), and the
/// administrators get a mail naming the entry and its signer. When that
/// mail cannot go out the upload is dropped all the same.
#[tokio::test]
async fn abuse_drops_the_upload_and_tells_the_administrators() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();
    let upload = |title: &'static str| {
        let s = &s;
        async move {
            let r = s
                .client
                .post(s.url("/metadata"))
                .header("Content-Type", "application/rdf+xml")
                .body(carol_doc(CREATED, title))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    };
    upload("Not Carol's image").await;
    let mail = smtp.wait_for(1).await.remove(0);
    let abuse = mail.link("abuse");
    let token = token_of(&abuse);
    assert_eq!(token, token_of(&mail.link("confirm")));
    assert!(
        abuse.starts_with(&format!("{PUBLIC_URL}/action/")),
        "{abuse}"
    );

    // The page shows the entry and a button; GET changes nothing.
    let r = s.get(&path_of(&abuse), Some("text/html")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("Report abuse"), "{page}");
    assert!(
        page.contains(&format!(
            "<form action=\"action/{token}/abuse\" method=\"post\">"
        )),
        "{page}"
    );
    assert!(page.contains("Not Carol&#39;s image"), "{page}");
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert!(s.store.get_pending(&token, now).await.unwrap().is_some());

    // The POST drops it and mails the administrators.
    let (status, _, body) = post(&s, &path_of(&abuse), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            "abuse reported for metadata entry {BEE8}/{CAROL}/{CREATED}: the upload was \
             dropped; the marketplace administrators were notified and may get in touch\n"
        )
    );
    assert!(s.store.get_pending(&token, now).await.unwrap().is_none());
    for link in [mail.link("confirm"), abuse.clone()] {
        let (status, _, _) = post(&s, &path_of(&link), None).await;
        assert_eq!(status, 404, "{link}");
    }
    assert!(s.keys().await.is_empty());
    let report = smtp.wait_for(2).await.remove(1);
    assert_eq!(report.header("x-rcptto"), ADMIN);
    assert!(report.header("from").contains(ADMIN), "{report:?}");
    assert!(report.header("subject").contains(CAROL), "{report:?}");
    for needle in [
        BEE8,
        CAROL,
        CREATED,
        "Not Carol's image",
        "CN=Carol Uncertified,O=Marketplace Tests,C=EU",
        PUBLIC_URL,
    ] {
        assert!(report.body.contains(needle), "{needle} in {}", report.body);
    }
    assert!(!report.body.contains(&token), "{}", report.body);
    assert!(report.links().iter().all(|l| !l.contains("/action/")));

    // The same upload again; the mail server goes away before the report:
    // the upload is dropped all the same, and the answer says so.
    upload("Not Carol's image").await;
    let again = smtp.wait_for(3).await.remove(2);
    let abuse = again.link("abuse");
    drop(smtp);
    let (status, _, body) = post(&s, &path_of(&abuse), Some("text/html")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("the report was logged for the marketplace administrators"),
        "{body}"
    );
    assert!(
        s.store
            .get_pending(&token_of(&abuse), now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.keys().await.is_empty());
}

#[tokio::test]
async fn expired_uploads_are_purged() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();
    let r = s.upload(&carol_doc(CREATED, "soon expired")).await;
    assert_eq!(r.status(), 202);
    let mail = smtp.wait_for(1).await.remove(0);
    let confirm = mail.link("confirm");
    let token = token_of(&confirm);
    let now: DateTime<Utc> = NOW.parse().unwrap();
    let expires = now + TimeDelta::days(3);
    assert!(mail.body.contains("2015-01-04T00:00:00Z"), "{}", mail.body);

    // The same store seen by a server whose clock is past the wait.
    let later = TestServer::start_on(s.store.clone(), |c| {
        smtp.configure(c);
        // One database, one log key.
        c.log_key_file = Some(s.config.log_key_path());
        c.now = Some(expires + TimeDelta::seconds(1));
    })
    .await;
    let (status, _, _) = later.fetch(&path_of(&confirm), None).await;
    assert_eq!(status, 404);
    let (status, _, _) = post(&later, &path_of(&confirm), None).await;
    assert_eq!(status, 404);
    // Purged at start-up: gone even for a reader at the upload's instant.
    assert!(s.store.get_pending(&token, now).await.unwrap().is_none());
    let (status, _, _) = post(&s, &path_of(&confirm), None).await;
    assert_eq!(status, 404);
    assert!(s.keys().await.is_empty());
}

#[tokio::test]
async fn entry_superseded_meanwhile_is_not_rolled_back() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();
    assert_eq!(s.upload(&carol_doc(CREATED, "old")).await.status(), 202);
    let old = smtp.wait_for(1).await.remove(0).link("confirm");
    // Meanwhile a newer entry arrives signed by a certificate that carries
    // her address (stored at once: one upload per address waits).
    let certified = generated("Carol Certified", Some(CAROL));
    let mut newer = Doc::bee8();
    newer.title = Some("new".into());
    let newer = newer.signed_by(&certified, LATER);
    assert_eq!(s.upload(&newer).await.status(), 201);

    let (status, _, body) = post(&s, &path_of(&old), None).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        texts(&body, "error")[0].contains("older than latest entry"),
        "{body}"
    );
    assert_eq!(s.keys().await, vec![format!("{BEE8}/{CAROL}/{LATER}")]);
    // The refused upload is gone, and uploading it again is refused at once
    // (no mail for an entry that could never be stored): the stored entry
    // bound her address to the certified key.
    let (status, _, _) = post(&s, &path_of(&old), None).await;
    assert_eq!(status, 404);
    let r = s.upload(&carol_doc(CREATED, "old")).await;
    assert_eq!(r.status(), 403);
    // And with that key, an entry older than the latest.
    let mut older = Doc::bee8();
    older.title = Some("old".into());
    let r = s.upload(&older.signed_by(&certified, CREATED)).await;
    assert_eq!(r.status(), 400);
    // The very same document again: already there, no mail.
    let r = s.upload(&newer).await;
    assert_eq!(r.status(), 200);
    notes_after(&r.text().await.unwrap(), "metadata entry already present");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
}

/// A CA directory with the conformance CA and an empty CRL.
fn conformance_ca_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read(corpus().join("test-ca.pem")).unwrap();
    let ca = X509::from_pem(&pem).unwrap();
    let hash = format!("{:08x}", ca.subject_name_hash());
    std::fs::write(dir.path().join(format!("{hash}.0")), &pem).unwrap();
    let crl_pem = std::fs::read(corpus().join("test-crl-empty.pem")).unwrap();
    X509Crl::from_pem(&crl_pem).unwrap();
    std::fs::write(dir.path().join(format!("{hash}.r0")), crl_pem).unwrap();
    dir
}

#[tokio::test]
async fn whitelisted_signers_skip_confirmation() {
    if marketplace_test_pki::corpus::require().is_none() {
        return;
    }
    let Some(smtp) = Smtp::start() else { return };
    // Jim Tester: issued by the conformance CA, no e-mail in the certificate.
    let jim = Credential::from_pkcs12(&corpus().join("test-ca-signed.p12"), "XYZXYZ").unwrap();
    let jim_dn = marketplace_trust::dn::openssl_oneline(jim.identity().subject_name());
    assert!(jim_dn.starts_with('/'), "{jim_dn}");
    let ca = conformance_ca_dir();
    let lists = tempfile::tempdir().unwrap();
    let listed = lists.path().join("listed");
    std::fs::write(&listed, format!("# endorsers\n{jim_dn}\n")).unwrap();
    let other = lists.path().join("other");
    std::fs::write(&other, "/C=EU/O=Elsewhere/CN=Someone Else\n").unwrap();
    let doc = Doc::bee8().signed_with(&jim, "2012-05-01T00:00:00Z", Some("jim.tester@example.org"));

    let server = |whitelist: PathBuf| {
        let ca = ca.path().to_path_buf();
        let smtp = &smtp;
        async move {
            TestServer::start_with(Backend::Sqlite, move |c| {
                smtp.configure(c);
                c.ca_dir = Some(ca);
                c.endorser_whitelist = Some(whitelist);
                c.now = Some("2012-06-01T00:00:00Z".parse().unwrap());
            })
            .await
            .unwrap()
        }
    };
    let s = server(listed).await;
    let r = s.upload(&doc).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(s.keys().await.len(), 1);

    let s = server(other).await;
    let r = s.upload(&doc).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    assert!(s.keys().await.is_empty());
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.header("x-rcptto"), "jim.tester@example.org");
    assert!(mail.body.contains("CN=Jim Tester"), "{}", mail.body);
}

#[tokio::test]
async fn smtp_down_leaves_nothing_pending() {
    let port = marketplace_test_pki::free_port();
    let s = TestServer::start_with(Backend::Sqlite, |c| mail_to(c, port))
        .await
        .unwrap();
    let r = s.upload(&carol_doc(CREATED, "no mail server")).await;
    assert_eq!(r.status(), 503);
    let message = texts(&r.text().await.unwrap(), "error").remove(0);
    assert!(
        message.contains("cannot send the confirmation e-mail"),
        "{message}"
    );
    assert!(message.contains("nothing was stored"), "{message}");
    assert!(s.keys().await.is_empty());
    let far: DateTime<Utc> = "2100-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        s.store.purge_pending(far).await.unwrap(),
        0,
        "no pending upload left behind"
    );
}

#[tokio::test]
async fn browser_confirms_through_the_page_form() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| smtp.configure(c))
        .await
        .unwrap();
    assert_eq!(
        s.upload(&carol_doc(CREATED, "by browser")).await.status(),
        202
    );
    let confirm = smtp.wait_for(1).await.remove(0).link("confirm");
    let path = path_of(&confirm);

    // The page, as a browser opens it from a mail client.
    let r = s
        .client
        .get(s.url(&path))
        .header("Accept", "text/html")
        .header("Sec-Fetch-Site", "none")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|c| c.starts_with("mp_csrf=")))
        .map(str::to_string);
    let page = r.text().await.unwrap();
    // Every hidden field of the form, posted back as the browser would.
    let form: Vec<(String, String)> = page
        .split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tag| {
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                Some(tag[start..].split('"').next()?.to_string())
            };
            Some((attr("name")?, attr("value")?))
        })
        .collect();

    // A forged POST from another site is refused and changes nothing.
    let forged = s
        .client
        .post(s.url(&path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(s.keys().await.is_empty());

    // The button.
    let mut post = s
        .client
        .post(s.url(&path))
        .header("Accept", "text/html")
        .header("Origin", s.base.as_str())
        .header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap());
    if let Some(c) = &cookie {
        post = post.header("Cookie", c.as_str());
    }
    let r = post.send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], entry_url(CREATED).as_str());
    let page = r.text().await.unwrap();
    assert!(page.contains("metadata entry created"), "{page}");
    assert_eq!(s.keys().await.len(), 1);
}

#[tokio::test]
async fn confirm_and_abort_on_postgres() {
    let Some(smtp) = Smtp::start() else { return };
    let Some(s) = TestServer::start_with(Backend::Postgres, |c| smtp.configure(c)).await else {
        return;
    };
    assert_eq!(s.upload(&carol_doc(CREATED, "pg old")).await.status(), 202);
    // One upload per address waits.
    assert_eq!(s.upload(&carol_doc(LATER, "pg new")).await.status(), 409);
    let first = smtp.wait_for(1).await.remove(0);
    let (status, _, body) = post(&s, &path_of(&first.link("abort")), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.upload(&carol_doc(LATER, "pg new")).await.status(), 202);
    let mails = smtp.wait_for(2).await;
    let (status, _, body) = post(&s, &path_of(&mails[1].link("confirm")), None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(s.keys().await, vec![format!("{BEE8}/{CAROL}/{LATER}")]);
    for mail in &mails {
        let (status, _, _) = post(&s, &path_of(&mail.link("confirm")), None).await;
        assert_eq!(status, 404);
    }
}

/// An upload as `email` (not certified), at `created`: status, headers,
/// body.
async fn upload_as(s: &TestServer, email: &str, created: &str) -> (u16, String, String) {
    let r = s
        .upload(&Doc::bee8().signed_with(no_mail(), created, Some(email)))
        .await;
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, retry, r.text().await.unwrap())
}

/// Nobody can make the server mail an address again and again: one upload
/// per address waits, and mails are limited per recipient and per client.
#[tokio::test]
async fn one_waiting_upload_per_address_and_mails_are_limited() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        smtp.configure(c);
        c.mail_quotas = marketplace_server::runtime::config::MailQuotas {
            per_recipient: 2,
            per_client: 3,
            total: 100,
        };
    })
    .await
    .unwrap();
    let (status, _, body) = upload_as(&s, CAROL, CREATED).await;
    assert_eq!(status, 202, "{body}");
    let first = smtp.wait_for(1).await.remove(0);
    // The very same upload again: still waiting, no second mail.
    let (status, _, body) = upload_as(&s, CAROL, CREATED).await;
    assert_eq!(status, 202, "{body}");
    assert!(
        body.contains("already waits for e-mail confirmation"),
        "{body}"
    );
    assert!(body.contains("no new mail was sent"), "{body}");

    // A second upload while the first waits: refused, no second mail.
    let (status, _, body) = upload_as(&s, "Carol@Example.org", LATER).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("already waits for e-mail confirmation"),
        "{body}"
    );
    assert!(body.contains("carol@example.org"), "{body}");

    // Once aborted, the address may wait again (the second mail).
    let (status, _, _) = post(&s, &path_of(&first.link("abort")), None).await;
    assert_eq!(status, 200);
    let (status, _, body) = upload_as(&s, CAROL, LATER).await;
    assert_eq!(status, 202, "{body}");
    let second = smtp.wait_for(2).await.remove(1);
    let (status, _, _) = post(&s, &path_of(&second.link("abort")), None).await;
    assert_eq!(status, 200);

    // A third mail to her within the hour: 429, nothing kept.
    let (status, retry, body) = upload_as(&s, CAROL, "2014-07-01T00:00:00Z").await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("too many confirmation mails to this address"),
        "{body}"
    );
    assert!(body.contains("at most 2 an hour"), "{body}");
    let retry: u64 = retry.parse().expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    // Nothing waits: another address is not refused as a second pending
    // upload, but this client has asked for three mails this hour.
    let (status, _, body) = upload_as(&s, "dave@example.org", CREATED).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("for your address"), "{body}");
    assert!(s.keys().await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 2, "no further mail");
}

/// The total limit holds whoever asks.
#[tokio::test]
async fn mails_in_all_are_limited() {
    let Some(smtp) = Smtp::start() else { return };
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        smtp.configure(c);
        c.mail_quotas.total = 1;
    })
    .await
    .unwrap();
    assert_eq!(upload_as(&s, CAROL, CREATED).await.0, 202);
    let (status, _, body) = upload_as(&s, "dave@example.org", CREATED).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("from this marketplace"), "{body}");
    smtp.wait_for(1).await;
}
