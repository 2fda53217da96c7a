//! A marketplace server for the browser tests (`tests/browser/`): SQLite in
//! a temporary directory, on 127.0.0.1 at a free port, its clock frozen at
//! [`NOW`], filled with signed entries — several operating systems and
//! endorsers, double endorsements, renewals, expired and deprecated images,
//! VOs, tags, and entries whose every field is an XSS attempt — and with
//! e-mail confirmation on, its mails caught by a real SMTP server
//! ([`SmtpServer`], aiosmtpd) whose Maildir this process reads.
//!
//! ```sh
//! cargo run -p marketplace-server --example ui_fixture -- [--fillers N]
//! ```
//!
//! It prints one JSON line `{"url", "files": {"good", "bad", "pending"},
//! "xss": {...}, ...}` when it is ready (the files are signed documents to
//! upload: a valid one, one with several problems, two whose e-mail needs
//! confirmation), then one line `{"mail": {"to", "confirm", "abort"}}` per
//! confirmation mail, and runs until its standard input closes.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

#[path = "../tests/common/mod.rs"]
mod common;

use chrono::{DateTime, Utc};
use marketplace_format::{Algorithm, Checksum, Metadata, edit, identifier, write};
use marketplace_server::runtime::config::ServerConfig;
use marketplace_server::runtime::state::{AppState, TrustSettings};
use marketplace_server::upload::ingest::{self, Policy, Verdict};
use marketplace_server::upload::smtp::SmtpTls;
use marketplace_store::{SqliteStore, Store};
use marketplace_test_pki::smtp::SmtpServer;
use marketplace_trust::credential::Credential;
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use openssl::hash::{MessageDigest, hash};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

/// The frozen instant of the server.
const NOW: &str = "2025-06-01T00:00:00Z";

/// Hex of a digest of `data`.
fn hex_digest(md: MessageDigest, data: &[u8]) -> String {
    hash(md, data)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What an image is, before it is endorsed.
#[derive(Clone, Default)]
struct Image {
    seed: String,
    title: &'static str,
    description: &'static str,
    os: &'static str,
    os_version: &'static str,
    os_arch: &'static str,
    kind_type: &'static str,
    format: &'static str,
    bytes: u64,
    locations: Vec<String>,
    compression: Option<&'static str>,
    hypervisor: Option<&'static str>,
}

impl Image {
    /// The metadata with every checksum of the (imaginary) content, and the
    /// identifier that goes with its SHA-1.
    fn metadata(&self) -> Metadata {
        let content = self.seed.as_bytes();
        let sha1_hex = hex_digest(MessageDigest::sha1(), content);
        let mut sha1 = [0u8; 20];
        for (i, b) in sha1.iter_mut().enumerate() {
            *b = u8::from_str_radix(&sha1_hex[2 * i..2 * i + 2], 16).unwrap();
        }
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Metadata {
            identifier: identifier::from_sha1_bytes(&sha1),
            title: text(self.title),
            description: text(self.description),
            os: text(self.os),
            os_version: text(self.os_version),
            os_arch: text(self.os_arch),
            kind_type: Some(self.kind_type.to_string()),
            kind: Some("machine".into()),
            format: text(self.format),
            bytes: Some(self.bytes),
            compression: self.compression.map(str::to_string),
            hypervisor: self.hypervisor.map(str::to_string),
            locations: self.locations.clone(),
            checksums: vec![
                Checksum {
                    algorithm: Algorithm::Md5,
                    value: hex_digest(MessageDigest::md5(), content),
                },
                Checksum {
                    algorithm: Algorithm::Sha1,
                    value: sha1_hex,
                },
                Checksum {
                    algorithm: Algorithm::Sha256,
                    value: hex_digest(MessageDigest::sha256(), content),
                },
                Checksum {
                    algorithm: Algorithm::Sha512,
                    value: hex_digest(MessageDigest::sha512(), content),
                },
            ],
            ..Metadata::default()
        }
    }
}

/// One endorsement to make.
struct Endorse<'a> {
    image: &'a Image,
    by: &'a Credential,
    email: Option<&'a str>,
    created: &'a str,
    valid: Option<&'a str>,
    tag: Option<&'a str>,
    deprecated: Option<&'a str>,
    vo: Option<(&'a str, &'a str)>,
}

impl<'a> Endorse<'a> {
    fn new(image: &'a Image, by: &'a Credential, created: &'a str) -> Self {
        Endorse {
            image,
            by,
            email: None,
            created,
            valid: None,
            tag: None,
            deprecated: None,
            vo: None,
        }
    }

    /// The signed document.
    fn document(&self) -> String {
        let mut m = self.image.metadata();
        m.valid = self.valid.map(str::to_string);
        m.alternative = self.tag.map(str::to_string);
        m.deprecated = self.deprecated.map(str::to_string);
        sign(&write::to_xml(&m), self.by, self.created, self.email)
    }
}

/// Signs an unsigned document as `credential` at `created` (claiming
/// `email` when the certificate carries none).
fn sign(xml: &str, credential: &Credential, created: &str, email: Option<&str>) -> String {
    let at: DateTime<Utc> = created.parse().unwrap();
    let (endorsement, _) = endorsement_for(credential.identity(), email, at).unwrap();
    let text = edit::set_endorsement(xml, &endorsement).unwrap().text;
    dsig::sign(
        &text,
        credential.key(),
        &credential.key_info_certificates(),
        SignOptions::default(),
    )
    .unwrap()
}

/// Verifies a document through the upload pipeline and stores it (with
/// the VO of a VOMS proxy when given: the fixture has no VOMS server).
async fn put(store: &dyn Store, state: &AppState, e: &Endorse<'_>) -> String {
    let policy = Policy {
        validate_email: false,
        ..Policy::from_config(&state.config)
    };
    let at: DateTime<Utc> = NOW.parse().unwrap();
    let verdict = ingest::verify(e.document().into_bytes(), &state.trust, at, &policy)
        .unwrap_or_else(|err| panic!("fixture document refused: {err}"));
    let Verdict::Accept(mut entry) = verdict.verdict else {
        panic!("fixture document needs confirmation")
    };
    if let Some((vo, fqan)) = e.vo {
        entry.signer.vo = Some(vo.to_string());
        entry.signer.fqans = vec![fqan.to_string()];
    }
    let id = entry.key.identifier.to_string();
    store.put(entry).await.unwrap();
    id
}

/// Prints the confirmation links of every mail `smtp` receives as a JSON
/// line, polling its Maildir until the process ends.
async fn report_mails(smtp: SmtpServer) {
    let mut seen = std::collections::HashSet::new();
    loop {
        for message in smtp.messages() {
            if seen.insert(message.clone()) {
                report_mail(&message);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Prints the envelope recipient (aiosmtpd's `X-RcptTo` header) and the
/// links of a delivered mail (quoted-printable soft breaks undone).
fn report_mail(raw: &str) {
    let to = raw
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix("X-RcptTo: "))
        .unwrap_or_default()
        .trim();
    let body = raw.replace("=\n", "").replace("=3D", "=");
    let links: Vec<&str> = body
        .split_whitespace()
        .filter(|w| w.starts_with("http://") && w.contains("/action/"))
        .collect();
    let find = |command: &str| {
        links
            .iter()
            .find(|l| l.ends_with(&format!("/{command}")))
            .map(|l| l.to_string())
    };
    println!(
        "{}",
        json!({"mail": {"to": to, "confirm": find("confirm"), "abort": find("abort")}})
    );
}

/// A location under the example mirror.
fn at(path: &str) -> String {
    format!("https://images.example.org/{path}")
}

#[tokio::main]
async fn main() {
    let fillers: usize = std::env::args()
        .skip_while(|a| a != "--fillers")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(14);
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let smtp_port = smtp.port();
    tokio::spawn(report_mails(smtp));

    let config = ServerConfig {
        listen: listener.local_addr().unwrap(),
        data_dir: dir.path().to_path_buf(),
        public_url: url.clone(),
        now: Some(NOW.parse().unwrap()),
        validate_email: true,
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(smtp_port),
        smtp_tls: SmtpTls::None,
        mail_from: Some("marketplace-admin@example.org".into()),
        ..ServerConfig::default()
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(config.sqlite_path()).await.unwrap());
    let trust = TrustSettings::from_config(&config).unwrap();
    let state = AppState::new(store.clone(), config, trust).unwrap();

    let alice = common::generated("Alice Example", Some("alice@example.org"));
    let bob = common::generated("Bob Builder", Some("bob@grid.example.org"));
    let jane = common::generated("Jane Tester", Some("jane.tester@example.org"));
    let carol = common::generated("Carol Pending", None);
    let evil = common::generated(
        "<script>window.__xss='subject';alert('subject')</script>",
        Some("x'onmouseover='window.__xss=1'@xss.example.org"),
    );
    let vo = (
        "fedcloud.egi.eu",
        "/fedcloud.egi.eu/Role=NULL/Capability=NULL",
    );

    let ubuntu24 = Image {
        seed: "ubuntu-24.04".into(),
        title: "Ubuntu 24.04 LTS server",
        description: "Minimal Ubuntu 24.04 (Noble Numbat) cloud image with cloud-init, \
                      unattended security upgrades and the OpenStack and OpenNebula contextualisation.",
        os: "Ubuntu",
        os_version: "24.04",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 2_576_980_378,
        locations: vec![
            at("ubuntu/24.04/ubuntu-24.04-server-cloudimg-amd64.qcow2"),
            "https://mirror.example.net/cloud/ubuntu-24.04-server-cloudimg-amd64.qcow2".into(),
        ],
        ..Image::default()
    };
    let ubuntu22 = Image {
        seed: "ubuntu-22.04".into(),
        title: "Ubuntu 22.04 LTS server",
        description: "Ubuntu 22.04 (Jammy Jellyfish) cloud image.",
        os: "Ubuntu",
        os_version: "22.04",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 2_254_857_830,
        locations: vec![at("ubuntu/22.04/jammy-server-cloudimg-amd64.qcow2")],
        ..Image::default()
    };
    let debian = Image {
        seed: "debian-12-amd64".into(),
        title: "Debian 12 bookworm",
        description: "Debian GNU/Linux 12 generic cloud image.",
        os: "Debian",
        os_version: "12",
        os_arch: "x86_64",
        kind_type: "base",
        format: "raw",
        bytes: 2_147_483_648,
        locations: vec![at("debian/12/debian-12-generic-amd64.raw.xz")],
        compression: Some("xz"),
        ..Image::default()
    };
    let debian_arm = Image {
        seed: "debian-12-arm64".into(),
        title: "Debian 12 bookworm for ARM",
        description: "Debian GNU/Linux 12 generic cloud image for 64-bit ARM servers.",
        os: "Debian",
        os_version: "12",
        os_arch: "aarch64",
        kind_type: "base",
        format: "qcow2",
        bytes: 1_610_612_736,
        locations: vec![at("debian/12/debian-12-generic-arm64.qcow2")],
        ..Image::default()
    };
    let centos = Image {
        seed: "centos-7".into(),
        title: "CentOS 7",
        description: "CentOS Linux 7 (2009) minimal image.",
        os: "CentOS",
        os_version: "7",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 1_073_741_824,
        locations: vec![at("centos/7/CentOS-7-x86_64-GenericCloud.qcow2")],
        ..Image::default()
    };
    let alma = Image {
        seed: "almalinux-9".into(),
        title: "AlmaLinux 9.4",
        description: "AlmaLinux OS 9.4 generic cloud image, the replacement of CentOS 7 at most sites.",
        os: "AlmaLinux",
        os_version: "9.4",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 610_271_232,
        locations: vec![at("almalinux/9/AlmaLinux-9-GenericCloud-9.4-x86_64.qcow2")],
        hypervisor: Some("kvm"),
        ..Image::default()
    };
    let fedora = Image {
        seed: "fedora-40".into(),
        title: "Fedora 40 Cloud Base",
        description: "Fedora Cloud Base 40.",
        os: "Fedora",
        os_version: "40",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 408_944_640,
        locations: vec![at("fedora/40/Fedora-Cloud-Base-Generic.x86_64-40.qcow2")],
        ..Image::default()
    };
    let tty = Image {
        seed: "ttylinux-9.3".into(),
        title: "ttylinux 9.3",
        description: "A tiny Linux for tests: boots in seconds.",
        os: "ttylinux",
        os_version: "9.3",
        os_arch: "i686",
        kind_type: "base",
        format: "raw",
        bytes: 16_777_216,
        locations: vec![
            "pdisk:mp.example.org:8445:ttylinux-9.3".into(),
            at("ttylinux/ttylinux-9.3-i686.img.gz"),
        ],
        compression: Some("gz"),
        ..Image::default()
    };
    let sl6 = Image {
        seed: "sl-6".into(),
        title: "Scientific Linux 6.10",
        description: "Scientific Linux 6, kept for reproducing old analyses.",
        os: "ScientificLinux",
        os_version: "6.10",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 1_288_490_189,
        locations: vec![at("sl/6/sl-6.10-x86_64.qcow2")],
        ..Image::default()
    };
    let rocky_gpu = Image {
        seed: "rocky-9-gpu".into(),
        title: "Rocky Linux 9 with CUDA 12",
        description: "Rocky Linux 9 with the NVIDIA driver and CUDA 12.4 for GPU flavours.",
        os: "Rocky",
        os_version: "9",
        os_arch: "x86_64",
        kind_type: "appliance",
        format: "qcow2",
        bytes: 9_126_805_504,
        locations: vec![at("rocky/9/rocky-9-cuda-12.4.qcow2")],
        hypervisor: Some("kvm"),
        ..Image::default()
    };
    let xss = Image {
        seed: "xss-everywhere".into(),
        title: "<script>window.__xss='title';alert('title')</script>XSS title",
        description: "<img src=x onerror=\"window.__xss='description';alert('description')\"> \
                      <a href=\"javascript:window.__xss='link'\">click</a>",
        os: "<svg onload=\"window.__xss='os'\">",
        os_version: "\"><script>window.__xss='version'</script>",
        os_arch: "' autofocus onfocus='window.__xss=\"arch\"",
        kind_type: "<iframe src=\"javascript:window.__xss='type'\"></iframe>",
        format: "</code><script>window.__xss='format'</script>",
        bytes: 1234,
        locations: vec![
            "javascript:window.__xss='location';alert('location')".into(),
            "https://evil.example.org/\"><script>window.__xss='url'</script>".into(),
            "data:text/html,<script>window.__xss='data'</script>".into(),
        ],
        hypervisor: Some("<style>body{display:none}</style>"),
        ..Image::default()
    };
    let xss_deprecated = Image {
        seed: "xss-deprecated".into(),
        title: "Deprecated XSS image",
        description: "Its deprecation reason is the attack.",
        os: "XSS",
        os_version: "1",
        os_arch: "x86_64",
        kind_type: "base",
        bytes: 1,
        locations: vec![at("xss/deprecated.img")],
        ..Image::default()
    };

    let s = store.as_ref();
    let mut ids = serde_json::Map::new();
    let mut note = |name: &str, id: String| {
        ids.insert(name.into(), json!(id));
    };
    // Chronological per (image, endorser): the store refuses older entries.
    let mut e = Endorse::new(&ubuntu24, &alice, "2024-10-01T09:00:00Z");
    e.valid = Some("2025-04-30T00:00:00Z");
    e.tag = Some("ubuntu-lts");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&ubuntu24, &alice, "2025-04-20T10:30:00Z");
    e.valid = Some("2026-04-20T00:00:00Z");
    e.tag = Some("ubuntu-lts");
    note("ubuntu24", put(s, &state, &e).await);
    let mut e = Endorse::new(&ubuntu24, &bob, "2025-04-22T08:15:00Z");
    e.valid = Some("2025-12-31T23:59:59Z");
    e.vo = Some(vo);
    put(s, &state, &e).await;
    let mut e = Endorse::new(&ubuntu22, &alice, "2024-05-01T12:00:00Z");
    e.valid = Some("2025-05-01T00:00:00Z");
    note("ubuntu22_expired", put(s, &state, &e).await);
    let mut e = Endorse::new(&debian, &bob, "2025-03-02T16:45:00Z");
    e.valid = Some("2026-03-01T00:00:00Z");
    e.vo = Some(vo);
    note("debian", put(s, &state, &e).await);
    let mut e = Endorse::new(&debian_arm, &bob, "2025-03-02T17:05:00Z");
    e.valid = Some("2026-03-01T00:00:00Z");
    e.vo = Some(vo);
    put(s, &state, &e).await;
    let mut e = Endorse::new(&centos, &jane, "2020-11-20T10:00:00Z");
    e.valid = Some("2024-12-31T00:00:00Z");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&centos, &jane, "2024-07-01T08:00:00Z");
    e.deprecated =
        Some("End of life: CentOS 7 reached its end of life on 2024-06-30. Use AlmaLinux 9.");
    note("centos_deprecated", put(s, &state, &e).await);
    let mut e = Endorse::new(&alma, &jane, "2024-07-01T08:30:00Z");
    e.valid = Some("2026-07-01T00:00:00Z");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&alma, &alice, "2024-08-15T14:00:00Z");
    e.valid = Some("2026-08-15T00:00:00Z");
    note("alma", put(s, &state, &e).await);
    let mut e = Endorse::new(&fedora, &alice, "2025-05-10T07:00:00Z");
    e.valid = Some("2026-05-10T00:00:00Z");
    e.tag = Some("fedora-latest");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&tty, &jane, "2014-03-08T14:10:40Z");
    e.tag = Some("tty");
    note("ttylinux", put(s, &state, &e).await);
    let mut e = Endorse::new(&sl6, &jane, "2018-01-10T10:00:00Z");
    e.valid = Some("2020-12-31T00:00:00Z");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&rocky_gpu, &bob, "2025-05-28T11:11:00Z");
    e.valid = Some("2025-11-28T00:00:00Z");
    e.vo = Some(vo);
    put(s, &state, &e).await;
    let mut e = Endorse::new(&xss, &evil, "2025-05-30T00:00:00Z");
    e.valid = Some("2026-01-01T00:00:00Z");
    e.tag = Some("<b onmouseover=\"window.__xss='tag'\">tag</b>");
    e.vo = Some((
        "<script>window.__xss='vo'</script>",
        "/<img src=x onerror=window.__xss=1>",
    ));
    note("xss", put(s, &state, &e).await);
    let mut e = Endorse::new(&xss, &alice, "2025-05-30T01:00:00Z");
    e.valid = Some("2026-01-01T00:00:00Z");
    e.deprecated = Some("<script>window.__xss='reason'</script>Do not use");
    put(s, &state, &e).await;
    let mut e = Endorse::new(&xss_deprecated, &evil, "2025-05-29T00:00:00Z");
    e.deprecated = Some("<img src=x onerror=\"window.__xss='deprecated'\">");
    note("xss_deprecated", put(s, &state, &e).await);
    let filler_images: Vec<Image> = (1..=fillers)
        .map(|i| Image {
            seed: format!("filler-{i}"),
            title: "Test appliance",
            description: "A generated image for paging tests.",
            os: "ttylinux",
            os_version: "9.3",
            os_arch: "i686",
            kind_type: "appliance",
            format: "raw",
            bytes: 1_048_576 * i as u64,
            locations: vec![at(&format!("tests/appliance-{i}.img"))],
            ..Image::default()
        })
        .collect();
    for (i, image) in filler_images.iter().enumerate() {
        let created = format!("2023-01-{:02}T00:00:00Z", i % 28 + 1);
        let mut e = Endorse::new(image, &alice, &created);
        e.valid = Some("2027-01-01T00:00:00Z");
        put(s, &state, &e).await;
    }

    // Documents for the tests to upload.
    let files = dir.path().join("upload");
    std::fs::create_dir_all(&files).unwrap();
    let good_image = Image {
        seed: "ubuntu-24.10-minimal".into(),
        title: "Ubuntu 24.10 minimal",
        description: "Uploaded by the browser test.",
        os: "Ubuntu",
        os_version: "24.10",
        os_arch: "x86_64",
        kind_type: "base",
        format: "qcow2",
        bytes: 268_435_456,
        locations: vec![at("ubuntu/24.10/ubuntu-24.10-minimal-cloudimg-amd64.img")],
        ..Image::default()
    };
    let mut good = Endorse::new(&good_image, &alice, "2025-05-31T12:00:00Z");
    good.valid = Some("2026-05-31T00:00:00Z");
    let good_id = good_image.metadata().identifier;
    write_file(&files, "good.xml", &good.document());
    // Several problems, one of them carrying markup.
    let bad_image = Image {
        seed: "bad".into(),
        title: "A document with problems",
        ..good_image.clone()
    };
    let mut m = bad_image.metadata();
    m.valid = Some("<img src=x onerror=window.__xss='problem'>".into());
    let text = write::to_xml(&m)
        .replace(
            &format!("<slreq:bytes>{}</slreq:bytes>", bad_image.bytes),
            "<slreq:bytes>a lot</slreq:bytes>",
        )
        .replace(
            "  </rdf:Description>",
            "    <slterms:inbound-port>70000</slterms:inbound-port>\n  </rdf:Description>",
        );
    write_file(
        &files,
        "bad.xml",
        &sign(&text, &alice, "2025-05-31T12:00:00Z", None),
    );
    let pending_image = Image {
        seed: "centos-stream-9".into(),
        title: "CentOS Stream 9 (needs e-mail confirmation)",
        description: "Signed with a certificate that does not carry the endorser e-mail.",
        os: "CentOS",
        os_version: "Stream 9",
        os_arch: "x86_64",
        ..good_image.clone()
    };
    let mut pending = Endorse::new(&pending_image, &carol, "2025-05-31T13:00:00Z");
    pending.email = Some("carol@example.org");
    pending.valid = Some("2026-05-31T00:00:00Z");
    let pending_id = pending_image.metadata().identifier;
    write_file(&files, "pending.xml", &pending.document());
    let abort_image = Image {
        seed: "abort-me".into(),
        title: "An upload its endorser aborts",
        ..pending_image.clone()
    };
    let mut abort = Endorse::new(&abort_image, &carol, "2025-05-31T14:00:00Z");
    abort.email = Some("carol@example.org");
    let abort_id = abort_image.metadata().identifier;
    write_file(&files, "abort.xml", &abort.document());

    let shutdown = async {
        // Runs until standard input closes (the test runner ends).
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(_)) = stdin.next_line().await {}
    };
    println!(
        "{}",
        json!({
            "url": url,
            "now": NOW,
            "files": {
                "good": files.join("good.xml"),
                "bad": files.join("bad.xml"),
                "pending": files.join("pending.xml"),
                "abort": files.join("abort.xml"),
            },
            "uploads": {"good": good_id, "pending": pending_id, "abort": abort_id},
            "ids": ids,
            "endorsers": {
                "alice": "alice@example.org",
                "bob": "bob@grid.example.org",
                "jane": "jane.tester@example.org",
                "xss": "x'onmouseover='window.__xss=1'@xss.example.org",
                "carol": "carol@example.org",
            },
        })
    );
    marketplace_server::runtime::serve::serve(listener, state, shutdown)
        .await
        .unwrap();
    drop(dir);
}

fn write_file(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}
