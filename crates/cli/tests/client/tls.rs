//! The client over HTTPS with grid credentials: real TLS handshakes on
//! loopback with `openssl s_server`, which verifies the client's chain
//! against the test PKI's CA directory (with its CRL, RFC 3820 proxies
//! allowed) — the PEM certificate, PKCS#12 files, proxies and VOMS proxies
//! are accepted; revoked, untrusted, expired and missing credentials are
//! refused with messages that say who refused what — and the client's own
//! check of the server against the CA directory. Then end to end: `upload`,
//! `search` and `show` with a proxy against `marketplace serve` over HTTPS
//! with client-certificate authentication and upload rules.

use crate::harness::*;
use axum::Router;
use axum::routing::get;
use marketplace_test_pki::TestPki;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The image the test servers serve, and another.
const X: &str = "HZ6rsTmtcc0dJgoGrgRhvwN3o0q";
const Y: &str = "AZ6rsTmtcc0dJgoGrgRhvwN3o0q";

/// The image every s_server serves, as `GET /api/v1/images/{X}` answers.
const IMAGE: &str = r#"{"identifier":"HZ6rsTmtcc0dJgoGrgRhvwN3o0q","status":"expired","current":[],"inactive":[],"links":{"self":"s","history":"h","feed":"f"}}"#;

/// `openssl s_server -WWW` on a loopback port, serving [`IMAGE`] at
/// `/api/v1/images/X`; stopped when dropped.
struct SServer {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    url: String,
    _www: tempfile::TempDir,
}

impl SServer {
    /// A server with the host certificate `name` (`name.pem`, `name.key` of
    /// the PKI) that verifies client certificates against the PKI's CA
    /// directory and CRL: `-Verify` (a certificate is required) or
    /// `-verify` (asked for, not required).
    fn start(pki: &TestPki, name: &str, verify: &str) -> SServer {
        Self::serving(pki, name, verify, "-WWW", &[(X, IMAGE)])
    }

    /// The same, serving `files` (name, content) under `/api/v1/images/` in
    /// `mode`: `-WWW` (content only) or `-HTTP` (whole HTTP responses).
    fn serving(
        pki: &TestPki,
        name: &str,
        verify: &str,
        mode: &str,
        files: &[(&str, &str)],
    ) -> SServer {
        let www = tempfile::tempdir().unwrap();
        let images = www.path().join("api/v1/images");
        std::fs::create_dir_all(&images).unwrap();
        for (file, content) in files {
            std::fs::write(images.join(file), content).unwrap();
        }
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", mode, "-cert"])
            .arg(pki.file(&format!("{name}.pem")))
            .arg("-key")
            .arg(pki.file(&format!("{name}.key")))
            .arg("-CApath")
            .arg(pki.file("certificates"))
            .args([verify, "9", "-verify_return_error", "-crl_check"])
            // OpenSSL 3 takes the flag; older versions read the variable.
            .arg("-allow_proxy_certs")
            .env("OPENSSL_ALLOW_PROXY_CERTS", "1")
            .current_dir(www.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "s_server stopped before listening"
            );
            if let Some(addr) = line.trim().strip_prefix("ACCEPT ") {
                break addr.rsplit(':').next().unwrap().to_string();
            }
        };
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        SServer {
            child,
            url: format!("https://127.0.0.1:{port}"),
            _www: www,
        }
    }

    /// `marketplace show X --json` against this server, trusting the PKI's
    /// CA directory, with `args` (credential options).
    fn show(&self, pki: &TestPki, args: &[&str]) -> Output {
        show_with(
            pki,
            &self.url,
            &["--ca-dir", &pki.file("certificates")],
            args,
        )
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn show_with(_pki: &TestPki, url: &str, trust: &[&str], args: &[&str]) -> Output {
    marketplace()
        .args(["show", X, "--json", "-m", url])
        .args(trust)
        .args(args)
        .output()
        .unwrap()
}

#[track_caller]
fn accepted(o: &Output) {
    expect(o, 0);
    assert_eq!(json(o)["identifier"], X, "{}", text(o));
}

#[track_caller]
fn says(o: &Output, parts: &[&str]) {
    let t = text(o);
    for p in parts {
        assert!(t.contains(p), "expected {p:?} in: {t}");
    }
}

#[test]
fn grid_credentials_are_accepted_by_a_server_that_verifies_them() {
    let Some(pki) = pki() else { return };
    let server = SServer::start(pki, "server", "-Verify");
    let f = |n: &str| pki.file(n);
    let mut credentials: Vec<Vec<String>> = vec![
        vec![
            "--cert".into(),
            f("alice.pem"),
            "--key".into(),
            f("alice.key"),
        ],
        vec![
            "--p12-cert".into(),
            f("alice.p12"),
            "--p12-password".into(),
            "secret".into(),
        ],
        vec![
            "--p12-cert".into(),
            f("alice-legacy.p12"),
            "--p12-password".into(),
            "secret".into(),
        ],
        vec!["--proxy".into(), f("alice-proxy.pem")],
        vec!["--proxy".into(), f("alice-proxy2.pem")],
    ];
    if pki.has_voms() {
        credentials.push(vec!["--proxy".into(), f("alice-voms.pem")]);
    }
    for c in &credentials {
        accepted(&server.show(pki, &strs(c)));
    }

    // The environment: X509_USER_PROXY and X509_CERT_DIR; the PKCS#12 password.
    let o = marketplace()
        .args(["show", X, "--json", "-m", &server.url])
        .env("X509_USER_PROXY", f("alice-proxy.pem"))
        .env("X509_CERT_DIR", f("certificates"))
        .output()
        .unwrap();
    accepted(&o);
    let o = marketplace()
        .args(["show", X, "--json", "-m", &server.url, "--ca-dir"])
        .args([f("certificates"), "--p12-cert".into(), f("bob.p12")])
        .env("MARKETPLACE_P12_PASSWORD", "secret")
        .output()
        .unwrap();
    accepted(&o);

    // The configuration file: the endpoint, the proxy and the CA directory.
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("marketplace/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "endpoint = \"{}\"\nproxy = \"{}\"\nca_dir = \"{}\"\n",
            server.url,
            f("alice-proxy.pem"),
            f("certificates")
        ),
    )
    .unwrap();
    let with_config = |args: &[&str]| {
        marketplace()
            .env("XDG_CONFIG_HOME", home.path())
            .args(args)
            .output()
            .unwrap()
    };
    accepted(&with_config(&["show", X, "--json"]));
    let o = with_config(&["config", "--json"]);
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(v["credential"]["source"], "config file key 'proxy'");
    assert_eq!(
        v["server_trust"]["value"],
        format!("CA directory {}", f("certificates"))
    );
    assert_eq!(v["system_roots"]["value"], false);
    // The option wins over the file.
    let o = with_config(&["show", X, "--cert", &f("eve.pem"), "--key", &f("eve.key")]);
    expect(&o, 5);
}

#[test]
fn refused_client_certificates_say_who_refused_what() {
    let Some(pki) = pki() else { return };
    let server = SServer::start(pki, "server", "-Verify");
    let f = |n: &str| pki.file(n);

    // Revoked in the CA's CRL.
    let o = server.show(
        pki,
        &["--cert", &f("mallory.pem"), "--key", &f("mallory.key")],
    );
    expect(&o, 5);
    says(
        &o,
        &[
            "refused the client certificate",
            "CN=Mallory Example",
            "certificate_revoked",
        ],
    );
    // Issued by a CA the server does not trust.
    let o = server.show(
        pki,
        &["--p12-cert", &f("eve.p12"), "--p12-password", "secret"],
    );
    expect(&o, 5);
    says(
        &o,
        &[
            "refused the client certificate",
            "CN=Eve Example",
            "unknown_ca",
            "does not trust the CA",
        ],
    );
    // No credential at all.
    let o = server.show(pki, &[]);
    expect(&o, 5);
    says(
        &o,
        &["requires a client certificate", "none was sent", "--proxy"],
    );
    // An expired proxy: a warning before connecting, and it is not sent.
    let expired = f("alice-proxy-expired.pem");
    let o = server.show(pki, &["--proxy", &expired]);
    expect(&o, 5);
    let err = String::from_utf8_lossy(&o.stderr);
    let warning = err
        .lines()
        .find(|l| l.contains("warning:"))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(
        warning.contains("expired at 2021-01-01T00:00:00Z")
            && warning.contains(&expired)
            && warning.contains("voms-proxy-init"),
        "{warning}"
    );
    says(&o, &["requires a client certificate", "not sent"]);
    // An unreadable credential is a usage error naming the file and the option.
    let o = server.show(pki, &["--proxy", "/nonexistent/x509up"]);
    expect(&o, 2);
    says(&o, &["/nonexistent/x509up", "option --proxy"]);
    let o = server.show(
        pki,
        &["--p12-cert", &f("alice.p12"), "--p12-password", "wrong"],
    );
    expect(&o, 2);
    says(&o, &["alice.p12", "wrong password"]);
}

#[test]
fn the_server_must_chain_to_the_ca_directory() {
    let Some(pki) = pki() else { return };
    let proxy = ["--proxy".to_string(), pki.file("alice-proxy.pem")];
    let proxy = strs(&proxy);

    // A CA directory without the test CA: the message names the directory.
    let other = tempfile::tempdir().unwrap();
    let hash = Command::new("openssl")
        .args(["x509", "-hash", "-noout", "-in"])
        .arg(pki.file("untrusted-ca.pem"))
        .output()
        .unwrap();
    let hash = String::from_utf8(hash.stdout).unwrap();
    std::fs::copy(
        pki.file("untrusted-ca.pem"),
        other.path().join(format!("{}.0", hash.trim())),
    )
    .unwrap();
    let server = SServer::start(pki, "server", "-Verify");
    let dir = other.path().to_str().unwrap();
    let o = show_with(pki, &server.url, &["--ca-dir", dir], &proxy);
    expect(&o, 3);
    says(
        &o,
        &[
            "certificate of the server",
            &format!("not trusted by the CA directory {dir}"),
            "not issued by one of these CAs",
            "--system-roots",
        ],
    );
    // Also through X509_CERT_DIR.
    let o = marketplace()
        .args(["show", X, "-m", &server.url])
        .args(proxy.iter())
        .env("X509_CERT_DIR", dir)
        .output()
        .unwrap();
    expect(&o, 3);
    says(&o, &[&format!("not trusted by the CA directory {dir}")]);

    // A server certificate its CA revoked: refused with the CRL, not without.
    let revoked = SServer::start(pki, "server-revoked", "-Verify");
    let o = revoked.show(pki, &proxy);
    expect(&o, 3);
    says(&o, &["revoked"]);
    let nocrl = pki.file("certificates-nocrl");
    accepted(&show_with(pki, &revoked.url, &["--ca-dir", &nocrl], &proxy));

    // A certificate for another host name (the VOMS server's).
    let elsewhere = SServer::start(pki, "aa", "-Verify");
    let o = elsewhere.show(pki, &proxy);
    expect(&o, 3);
    says(
        &o,
        &["not valid for the host name 127.0.0.1", "voms.example.org"],
    );

    // Without --ca-dir or X509_CERT_DIR the grid's directory is used.
    if !Path::new("/etc/grid-security/certificates").exists() {
        let o = show_with(pki, &server.url, &[], &proxy);
        expect(&o, 2);
        says(
            &o,
            &[
                "/etc/grid-security/certificates",
                "does not exist",
                "--ca-dir",
                "--system-roots",
            ],
        );
    }
}

#[test]
fn anonymous_requests_when_the_server_does_not_require_a_certificate() {
    let Some(pki) = pki() else { return };
    let server = SServer::start(pki, "server", "-verify");
    accepted(&server.show(pki, &[]));
    // An expired proxy is not sent, so the request stays anonymous.
    let o = server.show(pki, &["--proxy", &pki.file("alice-proxy-expired.pem")]);
    accepted(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expired at"),
        "{}",
        text(&o)
    );
    // --system-roots adds the system's CAs to the directory's.
    let o = server.show(
        pki,
        &["--system-roots", "--proxy", &pki.file("alice-proxy.pem")],
    );
    accepted(&o);
}

#[test]
fn a_tls_terminating_proxy_that_refuses_the_certificate_with_a_page() {
    let Some(pki) = pki() else { return };
    // nginx completes the handshake and answers 400 with one of these pages.
    let page = |text: &str| {
        format!(
            "HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html><head><title>400 \
             {text}</title></head><body><center><h1>400 Bad Request</h1></center><center>{text}\
             </center><hr><center>nginx</center></body></html>\r\n"
        )
    };
    let bad = page("The SSL certificate error");
    let none = page("No required SSL certificate was sent");
    let server = SServer::serving(pki, "server", "-verify", "-HTTP", &[(X, &bad), (Y, &none)]);
    let o = server.show(pki, &["--proxy", &pki.file("alice-proxy.pem")]);
    expect(&o, 5);
    says(
        &o,
        &[
            "refused the client certificate",
            "CN=Alice Example",
            "The SSL certificate error",
        ],
    );
    let o = marketplace()
        .args(["show", Y, "-m", &server.url, "--ca-dir"])
        .arg(pki.file("certificates"))
        .output()
        .unwrap();
    expect(&o, 5);
    says(&o, &["requires a client certificate", "none was sent"]);
}

#[test]
fn plain_http_never_loads_or_sends_a_credential() {
    let Some(pki) = pki() else { return };
    let url = serve(Router::new().route(
        "/api/v1/images/HZ6rsTmtcc0dJgoGrgRhvwN3o0q",
        get(|| async { ([("content-type", "application/json")], IMAGE) }),
    ));
    // An unreadable credential and CA directory do not matter over http.
    let o = show_with(
        pki,
        &url,
        &["--ca-dir", "/nonexistent/certificates"],
        &["--proxy", "/nonexistent/x509up"],
    );
    accepted(&o);
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

/// `marketplace serve` over HTTPS (the test PKI's host certificate, client
/// certificates verified against its CA directory), with upload rules
/// that need an authenticated client who is the document's endorser.
fn https_server(pki: &TestPki, client_auth: &str) -> Server {
    let f = |n: &str| pki.file(n);
    let server = Server::start_with(&[
        ("MARKETPLACE_TLS_CERT", &f("server.pem")),
        ("MARKETPLACE_TLS_KEY", &f("server.key")),
        ("MARKETPLACE_CA_DIR", &f("certificates")),
        ("MARKETPLACE_TLS_CLIENT_AUTH", client_auth),
        ("MARKETPLACE_UPLOAD_ACCESS", "authenticated"),
        ("MARKETPLACE_UPLOAD_MATCH_ENDORSER", "true"),
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    server
}

#[test]
fn upload_search_and_show_over_https_with_the_marketplace_server() {
    let Some(pki) = pki() else { return };
    let server = https_server(pki, "optional");
    let work = tempfile::tempdir().unwrap();
    let certificates = pki.file("certificates");
    let trust = ["--ca-dir", certificates.as_str()];
    let proxy_file = pki.file("alice-proxy.pem");
    let proxy = ["--proxy", proxy_file.as_str()];
    let doc = describe_and_sign(
        work.path(),
        "https.img",
        &image_bytes(91, 5000),
        &[],
        &proxy,
    );
    let id = identifier_of(&doc);
    let doc = doc.to_str().unwrap();

    // Anonymous: the TLS handshake passes, the upload rules refuse.
    let o = server.run(&[&["upload"], &trust[..], &[doc]].concat());
    expect(&o, 5);
    says(&o, &["refused (403)", "upload refused"]);
    // With alice's proxy: the server sees alice, the endorser.
    let o = server.run(&[&["upload", "--json"], &trust[..], &proxy[..], &[doc]].concat());
    expect(&o, 0);
    let report = &json(&o)[0];
    assert_eq!(report["outcome"], "created", "{}", text(&o));
    // (The server's links use public_url, which defaults to the configured
    // listen address: port 0 here.)
    let url = report["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://") && url.contains(&format!("/metadata/{id}/alice@example.org/")),
        "{}",
        text(&o)
    );
    // Bob, authenticated, is not the endorser of alice's document.
    let bob = [
        "--p12-cert",
        &pki.file("bob.p12"),
        "--p12-password",
        "secret",
    ]
    .map(str::to_string);
    let o = server.run(&[&["upload"], &trust[..], &strs(&bob)[..], &[doc]].concat());
    expect(&o, 5);
    says(&o, &["refused (403)", "upload refused"]);

    // Reading: anonymous and with the proxy.
    for auth in [&[][..], &proxy[..]] {
        let o = server.run(&[&["search", "--json"], &trust[..], auth].concat());
        expect(&o, 0);
        let v = json(&o);
        assert_eq!(v["items"][0]["identifier"], id.as_str(), "{}", text(&o));
        let o = server.run(&[&["show", "--json"], &trust[..], auth, &[id.as_str()]].concat());
        expect(&o, 0);
        assert_eq!(
            json(&o)["current"][0]["endorser"]["email"],
            "alice@example.org"
        );
    }
    // A client certificate the server does not trust is refused in the handshake.
    let eve = [
        "--p12-cert",
        &pki.file("eve.p12"),
        "--p12-password",
        "secret",
    ]
    .map(str::to_string);
    let o = server.run(&[&["search"], &trust[..], &strs(&eve)[..]].concat());
    expect(&o, 5);
    says(&o, &["refused the client certificate", "CN=Eve Example"]);

    // A server that requires a certificate: none is refused, a VOMS proxy is accepted.
    let required = https_server(pki, "required");
    let o = required.run(&[&["search"], &trust[..]].concat());
    expect(&o, 5);
    says(&o, &["requires a client certificate", "none was sent"]);
    let voms = if pki.has_voms() {
        pki.file("alice-voms.pem")
    } else {
        proxy_file.clone()
    };
    let o = required.run(&[&["search", "--json"], &trust[..], &["--proxy", &voms]].concat());
    expect(&o, 0);
    assert_eq!(
        json(&o)["items"].as_array().unwrap().len(),
        0,
        "{}",
        text(&o)
    );
}
