//! The web interface over HTTP: the pages render, every value of a document
//! is escaped wherever it appears, no page carries inline script or style,
//! every response has the security headers, forms are protected against
//! cross-site requests, search URLs are canonical and bookmarkable, and
//! the upload page lists every problem next to its line. (The same pages
//! in a real browser: `tests/browser/`.)
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
use marketplace_format::{Algorithm, Checksum, Metadata, identifier, write};
use marketplace_server::runtime::state::TrustSettings;
use marketplace_server::upload::ingest::{self, Policy, Verdict};
use marketplace_trust::credential::Credential;
use reqwest::header::HeaderMap;

const CREATED: &str = "2014-03-08T14:10:40Z";

/// The attributes of every tag of an HTML page (a small scanner: in our
/// pages every `<` and `"` of data is escaped, so each raw `<` opens a tag
/// and each raw `"` delimits an attribute value).
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = rest.find('>').expect("a tag ends");
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        let name_end = inner
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut a = &inner[name_end..];
        loop {
            a = a.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if a.is_empty() {
                break;
            }
            let n_end = a
                .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
                .unwrap_or(a.len());
            let attr = a[..n_end].to_ascii_lowercase();
            a = &a[n_end..];
            let mut value = String::new();
            if let Some(after) = a.strip_prefix('=') {
                let after = after.strip_prefix('"').expect("quoted attribute values");
                let close = after.find('"').expect("closed attribute value");
                value = after[..close].to_string();
                a = &after[close + 1..];
            }
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}

/// No markup from data: no event handler, no inline script or style, no
/// link that is not to the site or the web, no frames or embedded images.
fn assert_inert(path: &str, html: &str) {
    for (name, attrs) in tags(html) {
        assert!(
            !["iframe", "svg", "object", "embed", "style", "b"].contains(&name.as_str()),
            "{path}: <{name}>"
        );
        if name == "img" {
            let src = attrs
                .iter()
                .find(|(k, _)| k == "src")
                .map(|(_, v)| v.as_str());
            assert!(
                src.is_some_and(|s| s.starts_with("static/favicon.svg")),
                "{path}: img {src:?}"
            );
        }
        if name == "script" {
            let src = attrs
                .iter()
                .find(|(k, _)| k == "src")
                .map(|(_, v)| v.as_str());
            assert!(
                src.is_some_and(|s| s.starts_with("static/app.js?v=")),
                "{path}: inline or foreign script"
            );
        }
        for (attr, value) in &attrs {
            assert!(!attr.starts_with("on"), "{path}: <{name} {attr}>");
            assert_ne!(attr, "style", "{path}: style attribute on <{name}>");
            assert!(
                !["autofocus", "formaction", "srcdoc"].contains(&attr.as_str()),
                "{path}: <{name} {attr}>"
            );
            if attr == "href" || attr == "action" || attr == "src" {
                let v = value.trim_start().to_ascii_lowercase();
                assert!(
                    !(v.starts_with("javascript:")
                        || v.starts_with("data:")
                        || v.starts_with("vbscript:")),
                    "{path}: {attr}={value}"
                );
            }
        }
    }
}

/// A page as a browser asks for it: (status, headers, body).
/// The identifier of an imaginary image whose content is `seed`.
fn image(seed: &str) -> Metadata {
    use openssl::hash::{MessageDigest, hash};
    let hex = |md| -> String {
        hash(md, seed.as_bytes())
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let sha1 = hash(MessageDigest::sha1(), seed.as_bytes()).unwrap();
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&sha1);
    Metadata {
        identifier: identifier::from_sha1_bytes(&bytes),
        kind_type: Some("base".into()),
        bytes: Some(1024),
        checksums: vec![
            Checksum {
                algorithm: Algorithm::Sha1,
                value: hex(MessageDigest::sha1()),
            },
            Checksum {
                algorithm: Algorithm::Sha256,
                value: hex(MessageDigest::sha256()),
            },
        ],
        ..Metadata::default()
    }
}

/// Stores `m` signed by `credential` at `created` through the pipeline's
/// checks, with the VO of a VOMS proxy when given.
async fn put(
    s: &TestServer,
    m: &Metadata,
    credential: &Credential,
    created: &str,
    vo: Option<&str>,
) {
    let doc = sign_xml(&write::to_xml(m), credential, created);
    let trust = TrustSettings::default();
    let policy = Policy::from_config(&s.config);
    let verdict = ingest::verify(doc.into_bytes(), &trust, NOW.parse().unwrap(), &policy).unwrap();
    let Verdict::Accept(mut entry) = verdict.verdict else {
        panic!("needs confirmation")
    };
    entry.signer.vo = vo.map(str::to_string);
    s.store.put(entry).await.unwrap();
}

const XSS_EMAIL: &str = "x'onmouseover='alert`1`'@xss.example.org";

/// A server with one image whose every field is an attack, endorsed by an
/// endorser whose names are attacks, and deprecated by another whose
/// reason is one. Returns the identifier.
async fn xss_server() -> (TestServer, String) {
    let s = TestServer::start().await;
    let evil = generated("<script>alert('cn')</script>", Some(XSS_EMAIL));
    let mut m = image("xss");
    m.title = Some("<script>alert('title')</script>".into());
    m.description = Some("<img src=x onerror=alert('description')>".into());
    m.os = Some("<svg onload=alert('os')>".into());
    m.os_version = Some("\"><script>alert('version')</script>".into());
    m.os_arch = Some("' autofocus onfocus='alert(1)".into());
    m.kind_type = Some("<iframe src=javascript:alert('type')>".into());
    m.format = Some("</code><b>format</b>".into());
    m.alternative = Some("<b onmouseover=alert('tag')>tag</b>".into());
    m.valid = Some("2016-01-01T00:00:00Z".into());
    m.locations = vec![
        "javascript:alert('location')".into(),
        "data:text/html,<script>alert('data')</script>".into(),
        "https://evil.example.org/\"><script>alert('url')</script>".into(),
    ];
    put(
        &s,
        &m,
        &evil,
        "2014-06-01T00:00:00Z",
        Some("<script>alert('vo')</script>"),
    )
    .await;
    let mut d = m.clone();
    d.deprecated = Some("<script>alert('reason')</script>".into());
    put(&s, &d, alice(), "2014-06-02T00:00:00Z", None).await;
    (s, m.identifier)
}

#[tokio::test]
async fn every_field_is_escaped_everywhere() {
    let (s, id) = xss_server().await;
    let email = marketplace_server::render::escape::path_segment(XSS_EMAIL);
    let tag =
        marketplace_server::render::escape::path_segment("<b onmouseover=alert('tag')>tag</b>");
    let paths = [
        "/metadata".to_string(),
        "/metadata?status=all".into(),
        "/metadata?q=script&status=all".into(),
        format!("/metadata?endorser={}", marketplace_server::render::escape::query_value(XSS_EMAIL)),
        // Reflected values: the form shows them, escaped.
        "/metadata?os=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&vo=%3Cb%3E&tag=%27%22%3E%3Cb%3E&identifier=%3Cb%3E&created=%3Cb%3E".into(),
        format!("/images/{id}"),
        format!("/metadata/{id}/{email}/2014-06-01T00:00:00Z"),
        format!("/metadata/{id}/alice@example.org/2014-06-02T00:00:00Z"),
        "/endorsers".into(),
        format!("/endorsers/{email}?range=36500"),
        format!("/endorsers/{email}/tags"),
        format!("/tag/{email}/{tag}"),
        "/images/%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "/metadata/%3Cb%3E/a@b.org/2014-01-01T00:00:00Z".into(),
    ];
    for path in &paths {
        let (status, headers, body) = page(&s, path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_inert(path, &body);
        assert!(!body.contains("<script>alert"), "{path}");
        assert!(!body.contains("'onmouseover='"), "{path}");
    }
    // The values are there, as text.
    let (_, _, body) = page(&s, &format!("/images/{id}")).await;
    for escaped in [
        "&#60;script&#62;alert(&#39;title&#39;)&#60;/script&#62;",
        "&#60;img src=x onerror=alert(&#39;description&#39;)&#62;",
        "&#60;svg onload=alert(&#39;os&#39;)&#62;",
        "&#60;iframe src=javascript:alert(&#39;type&#39;)&#62;",
        "&#60;b onmouseover=alert(&#39;tag&#39;)&#62;tag&#60;/b&#62;",
        "&#60;script&#62;alert(&#39;vo&#39;)&#60;/script&#62;",
        "&#60;script&#62;alert(&#39;reason&#39;)&#60;/script&#62;",
        "x&#39;onmouseover=&#39;alert`1`&#39;@xss.example.org",
        "javascript:alert(&#39;location&#39;)",
    ] {
        assert!(body.contains(escaped), "missing {escaped}");
    }
    // Only the web location is a link; the others are text.
    let links: Vec<String> = tags(&body)
        .into_iter()
        .filter(|(n, _)| n == "a")
        .filter_map(|(_, attrs)| attrs.into_iter().find(|(k, _)| k == "href").map(|(_, v)| v))
        .filter(|h| {
            h.contains("evil.example.org") || h.contains("javascript") || h.contains("data:")
        })
        .collect();
    assert_eq!(
        links,
        vec![
            "https://evil.example.org/&#34;&#62;&#60;script&#62;alert(&#39;url&#39;)&#60;/script&#62;"
        ]
    );
    // Commands quote what they paste for the shell.
    assert!(
        body.contains("--endorser &#39;x&#39;\\&#39;&#39;onmouseover=&#39;\\&#39;&#39;alert`1`&#39;\\&#39;&#39;@xss.example.org&#39;"),
        "shell quoting"
    );
}

#[tokio::test]
async fn pages_render_with_headers_and_no_inline_code() {
    let s = TestServer::start().await;
    let mut doc = Doc::bee8();
    doc.title = Some("ttylinux for tests".into());
    doc.alternative = Some("tty".into());
    doc.locations = vec![
        "https://example.org/tty.img".into(),
        "pdisk:host:1:x".into(),
    ];
    s.upload_ok(&doc.signed(CREATED)).await;
    let expected: Vec<(String, &str)> = vec![
        ("/metadata".into(), "Virtual-machine images"),
        ("/metadata?q=ttylinux".into(), "ttylinux for tests"),
        (format!("/images/{BEE8}"), "Current endorsements"),
        (
            format!("/metadata/{BEE8}/{JANE}/{CREATED}"),
            "What this entry says",
        ),
        ("/endorsers".into(), "Jane Tester"),
        (format!("/endorsers/{JANE}"), "Certificates"),
        (
            format!("/endorsers/{JANE}/tags"),
            "tag/jane.tester@example.org/tty",
        ),
        (format!("/tag/{JANE}/tty"), "ttylinux for tests"),
        ("/upload".into(), "Signed metadata file"),
        ("/".into(), "url=metadata"),
    ];
    for (path, text) in &expected {
        let path = path.as_str();
        let (status, headers, body) = page(&s, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(text), "{path}: {text}");
        assert!(
            body.contains(&format!("<base href=\"{PUBLIC_URL}/\">")),
            "{path}"
        );
        assert!(body.contains("<a class=\"skip-link\""), "{path}");
        assert!(body.contains("<meta name=\"viewport\""), "{path}");
        assert!(body.contains("<main id=\"main\""), "{path}");
        assert_eq!(body.matches("<h1>").count(), 1, "{path}: one h1");
        assert_inert(path, &body);
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"));
        assert!(csp.contains("script-src 'self' https://marketplace.example.net;"));
    }
    // The skip link points at this page, not at the base URL.
    let (_, _, body) = page(&s, &format!("/images/{BEE8}")).await;
    assert!(
        body.contains(&format!("href=\"images/{BEE8}#main\"")),
        "skip link"
    );
    // Every label names a field.
    let (_, _, body) = page(&s, "/metadata").await;
    for (name, attrs) in tags(&body) {
        if name == "label" {
            let target = attrs
                .iter()
                .find(|(k, _)| k == "for")
                .map(|(_, v)| v.clone());
            let target = target.expect("labels name their field");
            assert!(
                body.contains(&format!("id=\"{target}\"")),
                "label for {target}"
            );
        }
    }
    // Static files: cached, typed, and the pages link the current version.
    for (file, ct) in [
        ("app.css", "text/css"),
        ("app.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let r = s.get(&format!("/static/{file}"), None).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ct)
        );
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    assert_eq!(s.get("/static/nothing.js", None).await.status(), 404);
    let js = s.get("/static/app.js", None).await.text().await.unwrap();
    assert!(!js.contains("eval(") && !js.contains("innerHTML"));
    // Unknown image: a 404 page.
    let (status, _, body) = page(&s, "/images/nothing").await;
    assert_eq!(status, 404);
    assert!(body.contains("no image with identifier"));
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(CREATED)).await;
    let entry = format!("/metadata/{BEE8}/{JANE}/{CREATED}");
    let check = |path: &str, h: &HeaderMap| {
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(csp.contains("object-src 'none'"), "{path}");
        assert!(!csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"));
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    };
    for (path, accept) in [
        ("/metadata", Some(HTML)),
        ("/metadata", None),
        ("/metadata?media=json", None),
        ("/api/v1/images", None),
        ("/api/v1/nothing", None),
        ("/feeds/entries.atom", None),
        ("/healthz", None),
        ("/metrics", None),
        ("/no/such/page", Some(HTML)),
        ("/action/abcdef/confirm", Some(HTML)),
        (&entry as &str, None),
    ] {
        let r = s.get(path, accept).await;
        check(path, r.headers());
        if path.starts_with("/action/") {
            // The confirmation pages' own, stricter policy is kept.
            assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        } else {
            assert_eq!(r.headers()["referrer-policy"], "same-origin");
        }
    }
    let r = s.upload(&Doc::bee8().signed(CREATED)).await;
    check("POST /metadata", r.headers());
    // The test server's public URL is https (a TLS-terminating proxy in
    // front): HSTS, which the proxy passes on.
    assert!(PUBLIC_URL.starts_with("https:"));
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    // Plain HTTP end to end: none (browsers would ignore it).
    let plain = TestServer::start_with(
        Backend::Sqlite,
        |c: &mut marketplace_server::runtime::config::ServerConfig| {
            c.public_url = "http://mp.example.org".into();
        },
    )
    .await
    .unwrap();
    let r = plain.get("/metadata", None).await;
    assert!(!r.headers().contains_key("strict-transport-security"));
}

/// Caches keep one representation per `Accept` where the representation
/// depends on it, and only there.
#[tokio::test]
async fn vary_accept_where_the_representation_depends_on_it() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(CREATED)).await;
    let entry = format!("/metadata/{BEE8}/{JANE}/{CREATED}");
    let varies = |h: &HeaderMap| {
        h.get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .any(|v| v.trim().eq_ignore_ascii_case("accept"))
    };
    for (path, accept, expected) in [
        ("/metadata", Some(HTML), true),
        ("/metadata", None, true),
        (&entry as &str, None, true),
        ("/endorsers", None, true),
        ("/metadata?media=json", None, false),
        ("/api/v1/images", None, false),
        ("/static/app.css", None, false),
        ("/feeds/entries.atom", None, false),
        ("/healthz", None, false),
        ("/no/such/page", Some(HTML), true),
        ("/static/nothing.css", None, true),
    ] {
        let r = s.get(path, accept).await;
        assert_eq!(varies(r.headers()), expected, "{path}: {:?}", r.headers());
    }
}

/// The CSRF cookie a page set, and the token of its form.
#[tokio::test]
async fn forms_are_protected_against_cross_site_requests() {
    let s = TestServer::start().await;
    let (cookie, token) = form_token(&s, "/upload").await;
    // A page rendered with the cookie keeps its token (no new cookie).
    let r = s
        .client
        .get(s.url("/upload"))
        .header("Accept", HTML)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("set-cookie"));
    assert!(r.text().await.unwrap().contains(&token));
    let doc = Doc::bee8().signed(CREATED);
    let post = |path: &str| {
        s.client
            .post(s.url(path))
            .header("Accept", HTML)
            .header("Origin", "https://marketplace.example.net")
    };
    // A browser without the form field, with a wrong one, with another
    // site's: refused, and nothing stored.
    for (path, with_cookie, field, site) in [
        ("/upload", true, None, "same-origin"),
        ("/upload", false, Some(token.as_str()), "same-origin"),
        (
            "/upload",
            true,
            Some("A".repeat(43).as_str()),
            "same-origin",
        ),
        ("/upload", true, Some(token.as_str()), "cross-site"),
        ("/upload", true, Some(token.as_str()), "same-site"),
        ("/metadata", true, None, "same-origin"),
    ] {
        let mut r = post(path)
            .header("Sec-Fetch-Site", site)
            .multipart(multipart(field, &doc));
        if with_cookie {
            r = r.header("Cookie", &cookie);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 403, "{path} {with_cookie} {field:?} {site}");
        let body = r.text().await.unwrap();
        assert!(body.contains("the form could not be verified"), "{body}");
    }
    // Confirm and abort buttons too (before the token is even looked at).
    let r = post("/action/0000000000000000000000000000000000000000000/confirm")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", &cookie)
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(s.keys().await.is_empty());
    // With cookie and field, from this site: accepted.
    let r = post("/upload")
        .header("Sec-Fetch-Site", "same-origin")
        .header("Cookie", &cookie)
        .multipart(multipart(Some(&token), &doc))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"],
        format!("{PUBLIC_URL}/metadata/{BEE8}/{JANE}/{CREATED}").as_str()
    );
    assert!(r.text().await.unwrap().contains("metadata entry created"));
    // Raw documents (the CLI) and searches are not forms: no token needed,
    // even with browser headers.
    let newer = Doc::bee8().signed("2014-03-09T00:00:00Z");
    let r = post("/metadata")
        .header("Content-Type", "application/rdf+xml")
        .header("Cookie", &cookie)
        .body(newer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = post("/metadata")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("sEcho=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Programs without browser headers post forms as before.
    let other = Doc::with_id(&test_identifier(9)).signed(CREATED);
    let r = s
        .client
        .post(s.url("/upload"))
        .multipart(multipart(None, &other))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn search_filters_sorting_and_paging_in_urls() {
    let s = TestServer::start().await;
    for i in 1..=5u8 {
        let mut doc = Doc::with_id(&test_identifier(i));
        doc.title = Some(format!("Image {i}"));
        s.upload_ok(&doc.signed(&format!("2014-03-0{i}T00:00:00Z")))
            .await;
    }
    let mut m = image("alice");
    m.title = Some("Alice's Debian".into());
    m.os = Some("Debian".into());
    m.os_arch = Some("x86_64".into());
    put(
        &s,
        &m,
        alice(),
        "2014-05-01T00:00:00Z",
        Some("vo.example.org"),
    )
    .await;
    // Counts and the pager.
    let (_, _, body) = page(&s, "/metadata?per_page=2").await;
    assert!(
        body.contains("<strong>6</strong> entries match; showing 1–2."),
        "{body}"
    );
    assert!(body.contains("href=\"metadata?per_page=2&#38;page=2\" rel=\"next\""));
    assert!(body.contains("href=\"metadata?per_page=2&#38;page=3\""));
    let (_, _, body) = page(&s, "/metadata?per_page=2&page=3").await;
    assert!(body.contains("showing 5–6."));
    assert!(body.contains("aria-current=\"page\""));
    assert!(body.contains("rel=\"prev\""));
    assert!(!body.contains("rel=\"next\""));
    // Filters combine; the form shows them; chips remove one each; the URLs
    // are canonical (empty fields and defaults left out).
    let (_, _, body) = page(
        &s,
        "/metadata?q=&os=debian&os_arch=x86_64&vo=vo.example.org&status=valid&sort=relevance&per_page=20",
    )
    .await;
    assert!(body.contains("<strong>1</strong> entry matches"), "{body}");
    assert!(body.contains("Alice&#39;s Debian"));
    assert!(body.contains("id=\"f-os\" name=\"os\" value=\"debian\""));
    assert!(body.contains("href=\"metadata?os_arch=x86_64&#38;vo=vo.example.org\""));
    assert!(body.contains("Remove the filter OS debian"));
    let (_, _, body) = page(&s, "/metadata?os=debian&vo=other").await;
    assert!(body.contains("No entries match"));
    // Free text and endorser, sorting both ways.
    let (_, _, body) = page(
        &s,
        &format!("/metadata?endorser={JANE}&sort=title&order=desc"),
    )
    .await;
    let first = body.find("Image 5").unwrap();
    let last = body.find("Image 1").unwrap();
    assert!(first < last);
    assert!(!body.contains("Alice&#39;s Debian"));
    assert!(body.contains("<option value=\"title\" selected>"));
    assert!(body.contains("<option value=\"desc\" selected>"));
    // The same search in the API gives the same entries.
    assert!(body.contains(&format!(
        "href=\"api/v1/images?endorser={JANE}&#38;sort=title&#38;order=desc&#38;per_page=20\""
    )));
    let (_, _, api) = s
        .fetch(
            &format!("/api/v1/images?endorser={JANE}&sort=title&order=desc&per_page=20"),
            None,
        )
        .await;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let api_titles: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    let page_titles: Vec<&str> = ["Image 5", "Image 4", "Image 3", "Image 2", "Image 1"].to_vec();
    assert_eq!(api_titles, page_titles);
    let positions: Vec<usize> = page_titles.iter().map(|t| body.find(t).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "same order");
    // Original URLs: path values by shape, DataTables parameters.
    let (_, _, body) = page(
        &s,
        &format!("/metadata/{JANE}?sSearch=image&iDisplayStart=2&iDisplayLength=2"),
    )
    .await;
    assert!(body.contains(&format!("name=\"endorser\" value=\"{JANE}\"")));
    assert!(body.contains("showing 3–4"), "{body}");
    // A search the store refuses: the page says why, as 400.
    let long = vec!["w"; 40].join("+");
    let (status, _, body) = page(&s, &format!("/metadata?q={long}")).await;
    assert_eq!(status, 400);
    assert!(body.contains("The search could not be run"));
    // Browsers only: XML clients still get the documents.
    let (status, ct, _) = s.fetch("/metadata?os=debian", None).await;
    assert_eq!((status, ct.starts_with("application/xml")), (200, true));
}

#[tokio::test]
async fn image_page_endorsements_banners_timeline_and_commands() {
    let s = TestServer::start().await;
    let mut m = image("two-endorsers");
    m.title = Some("Shared image".into());
    m.valid = Some("2016-01-01T00:00:00Z".into());
    m.locations = vec!["https://example.org/shared.img".into()];
    put(&s, &m, jane(), "2014-01-01T00:00:00Z", None).await;
    put(&s, &m, jane(), "2014-02-01T00:00:00Z", None).await;
    put(
        &s,
        &m,
        alice(),
        "2014-03-01T00:00:00Z",
        Some("vo.example.org"),
    )
    .await;
    let id = m.identifier.clone();
    let (status, _, body) = page(&s, &format!("/images/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body.matches("<article class=\"endorsement endorsement-ok\">")
            .count(),
        2
    );
    assert!(body.contains("vo.example.org"));
    assert!(body.contains("CN=Alice Example,O=Marketplace Tests,C=EU"));
    assert_eq!(body.matches("<li class=\"timeline-item").count(), 3);
    assert!(body.contains("superseded"));
    for created in ["2014-01-01T00:00:00Z", "2014-02-01T00:00:00Z"] {
        assert!(body.contains(&format!(
            "href=\"metadata/{id}/{JANE}/{created}?media=xml\""
        )));
    }
    assert!(body.contains(&format!("marketplace download -m {PUBLIC_URL} {id}")));
    assert!(body.contains("marketplace validate --ca-dir /etc/grid-security/certificates"));
    assert!(body.contains("| sha256sum -c"));
    assert!(!body.contains("banner-bad"));
    // One endorser deprecates it: a notice names who and why.
    let mut d = m.clone();
    d.deprecated = Some("broken kernel".into());
    put(&s, &d, alice(), "2014-04-01T00:00:00Z", None).await;
    let (_, _, body) = page(&s, &format!("/images/{id}")).await;
    assert!(body.contains("Some endorsers no longer vouch for this image"));
    assert!(
        body.contains(
            "alice@example.org</a> deprecated it on 2014-04-01 00:00 UTC: “broken kernel”"
        )
    );
    // Both: the image is deprecated.
    put(&s, &d, jane(), "2014-05-01T00:00:00Z", None).await;
    let (_, _, body) = page(&s, &format!("/images/{id}")).await;
    assert!(body.contains("banner banner-bad"));
    assert!(body.contains("This image is deprecated"));
    assert!(body.contains("No endorsement of this image is valid now."));
    assert!(body.contains("--any-status"));
    // Expired.
    let mut e = image("expired");
    e.valid = Some("2014-12-01T00:00:00Z".into());
    put(&s, &e, jane(), "2014-01-01T00:00:00Z", None).await;
    let (_, _, body) = page(&s, &format!("/images/{}", e.identifier)).await;
    assert!(body.contains("This image has expired"));
    assert!(body.contains("the endorsement expired on 2014-12-01 00:00 UTC"));
    // An old entry's page points to the newer one.
    let (_, _, body) = page(&s, &format!("/metadata/{id}/{JANE}/2014-01-01T00:00:00Z")).await;
    assert!(body.contains("A newer entry replaces this one"));
    assert!(body.contains(&format!(
        "href=\"metadata/{id}/{JANE}/2014-05-01T00:00:00Z\""
    )));
}

#[tokio::test]
async fn upload_page_lists_problems_next_to_their_lines() {
    let s = TestServer::start().await;
    let mut m = image("bad");
    m.valid = Some("<b>soon</b>".into());
    m.checksums[1].value = "not hex".into();
    let doc = sign_xml(&write::to_xml(&m), alice(), CREATED);
    let r = s
        .client
        .post(s.url("/upload"))
        .multipart(multipart(None, &doc))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = r.text().await.unwrap();
    assert_inert("refused upload", &body);
    let problems = body.matches("<li id=\"problem-").count();
    assert_eq!(problems, 2, "{body}");
    assert_eq!(body.matches("<tr class=\"problem-note\">").count(), 2);
    assert_eq!(body.matches("class=\"has-problem\"").count(), 2);
    assert!(body.contains("<code class=\"element\">dcterms:valid</code>"));
    assert!(body.contains("&#60;b&#62;soon&#60;/b&#62;"));
    assert!(
        body.contains("href=\"upload#L"),
        "line links stay on the page"
    );
    // Not a document at all: one problem, no listing.
    let r = s
        .client
        .post(s.url("/upload"))
        .multipart(multipart(None, "not xml <"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("The document was refused"));
    // Not the form.
    let r = s
        .client
        .post(s.url("/upload"))
        .header("Content-Type", "application/rdf+xml")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(r.text().await.unwrap().contains("send the upload form"));
    // A good one: published, with links to the image and the entry.
    let r = s
        .client
        .post(s.url("/upload"))
        .multipart(multipart(None, &Doc::bee8().signed(CREATED)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body = r.text().await.unwrap();
    assert!(body.contains("Published"));
    assert!(body.contains(&format!("href=\"images/{BEE8}\"")));
    assert!(body.contains(&format!("href=\"metadata/{BEE8}/{JANE}/{CREATED}\"")));
}
