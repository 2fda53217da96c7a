//! What the client tests run against, all on loopback and made here: the
//! test PKI (`scripts/make-test-pki.sh`), a real marketplace server (the
//! `marketplace serve` binary on a fresh data directory), an HTTP server
//! holding image files (with Range support, and routes that fail in the
//! ways real mirrors do), and an OCCI 1.1 service speaking the text/plain
//! and text/uri-list renderings.

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marketplace_test_pki::TestPki;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// The PKI (generated once per test binary), or None (the test is skipped,
/// except in CI) without openssl.
pub fn pki() -> Option<&'static TestPki> {
    static PKI: OnceLock<Option<TestPki>> = OnceLock::new();
    PKI.get_or_init(|| marketplace_test_pki::generate(&["openssl"], false))
        .as_ref()
}

/// The `marketplace` binary with a clean environment: no MARKETPLACE_*,
/// X509_* or STRATUSLAB_* variables, and HOME / XDG_CONFIG_HOME in an empty
/// directory (so no user configuration or ~/.globus credential is used).
/// XDG_STATE_HOME, where the client remembers the transparency logs it
/// saw, is one directory per test (named after the test's thread), so that
/// tests do not share what they remember even when their servers reuse a
/// port.
pub fn marketplace() -> Command {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().unwrap());
    let mut c = Command::new(env!("CARGO_BIN_EXE_marketplace"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MARKETPLACE_") || k.starts_with("X509_") || k.starts_with("STRATUSLAB_") {
            c.env_remove(k);
        }
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("main")
        .replace("::", "-");
    c.env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state").join(test))
        .env_remove("OCCI_PASSWORD");
    c
}

/// Runs `marketplace ARGS`.
pub fn run(args: &[&str]) -> Output {
    marketplace().args(args).output().expect("the binary runs")
}

/// stdout and stderr together, for messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// Asserts the exit status, showing the output otherwise.
#[track_caller]
pub fn expect(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

/// A `marketplace serve` process on a loopback port with its own data
/// directory; stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server that accepts e-mails the certificate does not carry
    /// (so that certificates without e-mail can endorse) and checks no chain.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Starts a server with extra environment settings.
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self::start_on(&data, env, dir)
    }

    /// Starts a server on the data directory `data` (kept by the caller,
    /// e.g. to start another server on it), holding `dir` until dropped.
    pub fn start_on(data: &Path, env: &[(&str, &str)], dir: tempfile::TempDir) -> Server {
        let mut cmd = marketplace();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .env("MARKETPLACE_REQUIRE_CERTIFIED_EMAIL", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let prefix = "marketplace listening on ";
        // Warnings (no CA directory) may come before the address.
        let mut before = String::new();
        let line = loop {
            let mut line = String::new();
            let read = stderr.read_line(&mut line).unwrap();
            assert!(read > 0, "the server did not start: {before}");
            if line.starts_with(prefix) {
                break line;
            }
            before.push_str(&line);
        };
        let url = line[prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while stderr.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Server {
            child,
            url,
            data: data.to_path_buf(),
            _dir: dir,
        }
    }

    /// Its data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Runs `marketplace ARGS -m URL`.
    pub fn run(&self, args: &[&str]) -> Output {
        marketplace()
            .args(args)
            .args(["--marketplace-endpoint", &self.url])
            .output()
            .expect("the binary runs")
    }
}

/// Stops the server with SIGKILL: nothing of it runs after the kill (no
/// shutdown, no flush).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tokio runtime the in-process servers run on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Serves `app` on a loopback port; returns `http://127.0.0.1:PORT`.
pub fn serve(app: Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// Files served by a [`Mirror`], and the Range headers it received.
#[derive(Clone, Default)]
pub struct MirrorState {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// Every `Range` header received, as `name: value`.
    pub ranges: Arc<Mutex<Vec<String>>>,
}

/// An HTTP server holding image files:
/// - `/files/NAME`: the file, with single-range `Range` support (206);
/// - `/norange/NAME`: the file, ignoring `Range` (always 200);
/// - `/corrupt/NAME`: the file with one byte changed in the middle;
/// - `/broken/NAME`: 500;
/// - `/short/NAME` (on another port): declares the full length but sends
///   half of the file, then closes the connection.
pub struct Mirror {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    short: String,
    /// Its files and what it saw.
    pub state: MirrorState,
}

impl Mirror {
    /// Starts a mirror.
    pub fn start() -> Mirror {
        let state = MirrorState::default();
        let app = Router::new()
            .route("/files/{name}", get(files))
            .route("/norange/{name}", get(norange))
            .route("/corrupt/{name}", get(corrupt))
            .route("/broken/{name}", get(broken))
            .with_state(state.clone());
        Mirror {
            url: serve(app),
            short: short_server(state.clone()),
            state,
        }
    }

    /// Adds a file; returns its `/files/NAME` URL.
    pub fn put(&self, name: &str, bytes: Vec<u8>) -> String {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(name.to_string(), bytes);
        self.at("files", name)
    }

    /// The URL of `name` under the `route` (files, norange, corrupt, broken, short).
    pub fn at(&self, route: &str, name: &str) -> String {
        if route == "short" {
            return format!("{}/short/{name}", self.short);
        }
        format!("{}/{route}/{name}", self.url)
    }

    /// The Range headers received so far.
    pub fn ranges(&self) -> Vec<String> {
        self.state.ranges.lock().unwrap().clone()
    }
}

/// A raw HTTP/1.1 server whose answers break off halfway.
fn short_server(state: MirrorState) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&request);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let name = path.rsplit('/').next().unwrap_or("");
            let Some(bytes) = file(&state, name) else {
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                continue;
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = stream.write_all(&bytes[..bytes.len() / 2]);
            let _ = stream.flush();
        }
    });
    format!("http://{addr}")
}

fn file(state: &MirrorState, name: &str) -> Option<Vec<u8>> {
    state.files.lock().unwrap().get(name).cloned()
}

async fn files(
    State(state): State<MirrorState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(bytes) = file(&state, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return ([(header::ACCEPT_RANGES, "bytes")], bytes).into_response();
    };
    state
        .ranges
        .lock()
        .unwrap()
        .push(format!("{name}: {range}"));
    let spec = range.strip_prefix("bytes=").unwrap_or("");
    let (first, last) = spec.split_once('-').unwrap_or(("", ""));
    let len = bytes.len() as u64;
    let first: u64 = first.parse().unwrap_or(u64::MAX);
    let last: u64 = last.parse().unwrap_or(len.saturating_sub(1)).min(len - 1);
    if first >= len || first > last {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        )
            .into_response();
    }
    (
        StatusCode::PARTIAL_CONTENT,
        [
            (header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}")),
            (header::ACCEPT_RANGES, "bytes".to_string()),
        ],
        bytes[first as usize..=last as usize].to_vec(),
    )
        .into_response()
}

async fn norange(State(state): State<MirrorState>, UrlPath(name): UrlPath<String>) -> Response {
    match file(&state, &name) {
        Some(b) => b.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn corrupt(State(state): State<MirrorState>, UrlPath(name): UrlPath<String>) -> Response {
    match file(&state, &name) {
        Some(mut b) => {
            let mid = b.len() / 2;
            b[mid] ^= 0x55;
            b.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn broken() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "disk on fire").into_response()
}

/// Deterministic pseudo-random bytes (compressible a little).
pub fn image_bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 4 == 0 { 0 } else { (x >> 7) as u8 }
        })
        .collect()
}

/// `data` compressed with `codec` (gz, bz2, xz, zst).
pub fn compress(codec: &str, data: &[u8]) -> Vec<u8> {
    match codec {
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 0);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::encode_all(data, 1).unwrap(),
        other => panic!("unknown codec {other}"),
    }
}

/// Writes `image`, describes it with `marketplace build` (extra options
/// `build_args`), and signs it with `signer` (arguments of `sign`); returns
/// the signed document's path.
pub fn describe_and_sign(
    dir: &Path,
    name: &str,
    image: &[u8],
    build_args: &[&str],
    signer: &[&str],
) -> PathBuf {
    let image_path = dir.join(name);
    std::fs::write(&image_path, image).unwrap();
    let doc = dir.join(format!("{name}.xml"));
    let o = run(&[
        &[
            "build",
            "--os",
            "ttylinux",
            "--os-version",
            "16.1",
            "--os-arch",
            "x86_64",
            "--format",
            "raw",
            "--output",
            doc.to_str().unwrap(),
        ],
        build_args,
        &[image_path.to_str().unwrap()],
    ]
    .concat());
    expect(&o, 0);
    let o = run(&[&["sign"], signer, &[doc.to_str().unwrap()]].concat());
    expect(&o, 0);
    doc
}

/// The `sign` (and client) options for alice (certificate with e-mail).
pub fn alice(pki: &TestPki) -> Vec<String> {
    vec![
        "--p12-cert".into(),
        pki.file("alice.p12"),
        "--p12-password".into(),
        "secret".into(),
    ]
}

/// The options for bob (no e-mail in the certificate).
pub fn bob(pki: &TestPki) -> Vec<String> {
    vec![
        "--p12-cert".into(),
        pki.file("bob.p12"),
        "--p12-password".into(),
        "secret".into(),
        "--email".into(),
        "bob@example.org".into(),
    ]
}

/// The options for eve (issued by a CA the site does not trust).
pub fn eve(pki: &TestPki) -> Vec<String> {
    vec![
        "--p12-cert".into(),
        pki.file("eve.p12"),
        "--p12-password".into(),
        "secret".into(),
        "--email".into(),
        "eve@example.org".into(),
    ]
}

/// A site policy file `dir/name` trusting the test PKI's CA directory, then
/// `body` (TOML lines).
pub fn policy_file(dir: &Path, name: &str, body: &str) -> PathBuf {
    let pki = pki().expect("the test PKI");
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("ca_dirs = [\"{}\"]\n{body}", pki.file("certificates")),
    )
    .unwrap();
    path
}

/// `&[String]` as `Vec<&str>`.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The identifier in a signed document.
pub fn identifier_of(doc: &Path) -> String {
    let text = std::fs::read_to_string(doc).unwrap();
    let start = text.find("<dcterms:identifier>").unwrap() + "<dcterms:identifier>".len();
    let end = text[start..].find('<').unwrap();
    text[start..start + end].to_string()
}

/// An OCCI 1.1 service: `/-/` (the query interface, text/plain), the
/// storage collection (`text/uri-list`, or `X-OCCI-Location` lines in
/// text/plain when `uri_list` is false: it then answers 406 to a URI-list
/// request), and each storage resource (text/plain). With `credentials`
/// every request needs that HTTP basic authorization, else 401.
#[derive(Clone)]
pub struct Occi {
    /// OS templates: (term, title).
    pub templates: Vec<(String, String)>,
    /// Storage resources: (id, title).
    pub storage: Vec<(String, String)>,
    /// Whether the collection is rendered as text/uri-list.
    pub uri_list: bool,
    /// `Authorization` header value required, if any.
    pub credentials: Option<String>,
}

impl Occi {
    /// Serves it; returns its base URL (with a path: `/occi1.1`).
    pub fn start(self) -> String {
        let state = Arc::new(self);
        let app = Router::new()
            .route("/occi1.1/-/", get(occi_query))
            .route("/occi1.1/storage/", get(occi_collection))
            .route("/occi1.1/storage/{id}", get(occi_resource))
            .with_state(state);
        format!("{}/occi1.1", serve(app))
    }
}

fn occi_denied(occi: &Occi, headers: &HeaderMap) -> Option<Response> {
    let wanted = occi.credentials.as_ref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given == Some(wanted.as_str()) {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"OCCI\"")],
            "Unauthorized",
        )
            .into_response(),
    )
}

fn text_plain(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn occi_query(State(occi): State<Arc<Occi>>, headers: HeaderMap) -> Response {
    if let Some(r) = occi_denied(&occi, &headers) {
        return r;
    }
    let infra = "http://schemas.ogf.org/occi/infrastructure#";
    let mut body = format!(
        "Category: entity; scheme=\"http://schemas.ogf.org/occi/core#\"; class=\"kind\"; title=\"Entity\"; location=\"/occi1.1/entity/\"\n\
         Category: compute; scheme=\"{infra}\"; class=\"kind\"; title=\"Compute Resource\"; rel=\"http://schemas.ogf.org/occi/core#resource\"; location=\"/occi1.1/compute/\"; attributes=\"occi.compute.cores occi.compute.memory\"\n\
         Category: storage; scheme=\"{infra}\"; class=\"kind\"; title=\"Storage Resource\"; rel=\"http://schemas.ogf.org/occi/core#resource\"; location=\"/occi1.1/storage/\"; attributes=\"occi.storage.size occi.storage.state\"\n\
         Category: os_tpl; scheme=\"{infra}\"; class=\"mixin\"; title=\"Operating System Template\"; location=\"/occi1.1/os_tpl/\"\n\
         Category: small; scheme=\"http://site.example.org/occi/resource_tpl#\"; class=\"mixin\"; title=\"Small, 1 core\"; rel=\"{infra}resource_tpl\"; location=\"/occi1.1/resource_tpl/small/\"\n"
    );
    for (term, title) in &occi.templates {
        body.push_str(&format!(
            "Category: {term}; scheme=\"http://site.example.org/occi/os_tpl#\"; class=\"mixin\"; title=\"{title}\"; rel=\"{infra}os_tpl\"; location=\"/occi1.1/os_tpl/{term}/\"\n"
        ));
    }
    text_plain(body)
}

async fn occi_collection(State(occi): State<Arc<Occi>>, headers: HeaderMap) -> Response {
    if let Some(r) = occi_denied(&occi, &headers) {
        return r;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/uri-list") {
        if !occi.uri_list {
            return StatusCode::NOT_ACCEPTABLE.into_response();
        }
        let mut body = String::from("# storage resources\n");
        for (id, _) in &occi.storage {
            body.push_str(&format!("/occi1.1/storage/{id}\n"));
        }
        return ([(header::CONTENT_TYPE, "text/uri-list")], body).into_response();
    }
    let mut body = String::new();
    for (id, _) in &occi.storage {
        body.push_str(&format!("X-OCCI-Location: /occi1.1/storage/{id}\n"));
    }
    text_plain(body)
}

async fn occi_resource(
    State(occi): State<Arc<Occi>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = occi_denied(&occi, &headers) {
        return r;
    }
    let Some((_, title)) = occi.storage.iter().find(|(i, _)| *i == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    text_plain(format!(
        "Category: storage; scheme=\"http://schemas.ogf.org/occi/infrastructure#\"; class=\"kind\"\n\
         X-OCCI-Attribute: occi.core.id=\"{id}\"\n\
         X-OCCI-Attribute: occi.core.title=\"{title}\"\n\
         X-OCCI-Attribute: occi.storage.size=0.5, occi.storage.state=\"online\"\n"
    ))
}
