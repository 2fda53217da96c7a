//! The transparency log checked by an implementation that is not ours: Go's
//! reference code of the Go checksum database (golang.org/x/mod/sumdb `note`
//! and `tlog`, Debian's golang-golang-x-mod-dev), from which the C2SP
//! specifications come. `tests/reference/verify_log.go` verifies the
//! checkpoint's signature, proves every leaf from the tiles (each tile
//! checked against the root as Go's tile reader reads it), compares the
//! entry bundles, checks every consistency proof and the receipts; and it
//! refuses a tampered checkpoint or receipt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{Doc, TestServer, test_identifier};
use marketplace_format::Metadata;
use marketplace_store::{EntryKey, NewEntry, PutOutcome, Signer};

/// Where Debian's golang-golang-x-mod-dev puts its sources (GOPATH mode).
const GOPATH: &str = "/usr/share/gocode";

/// The Go verifier, built once per test process; `None` (after a skip)
/// without Go or its x/mod sources.
fn verifier() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let go_ok = Command::new("go")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !go_ok
            || !Path::new(GOPATH)
                .join("src/golang.org/x/mod/sumdb/tlog")
                .is_dir()
        {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("verify_log");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/verify_log.go");
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&binary)
            .arg(&source)
            .env("GO111MODULE", "off")
            .env("GOPATH", GOPATH)
            .env("GOCACHE", dir.path().join("cache"))
            .env("GOFLAGS", "")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some((dir, binary))
    });
    match built {
        Some((_, binary)) => Some(binary.as_path()),
        None => {
            marketplace_test_pki::skip(
                "Go with golang.org/x/mod (Debian golang-go golang-golang-x-mod-dev) is not installed",
            );
            None
        }
    }
}

fn run(binary: &Path, args: &[&str]) -> Output {
    Command::new(binary).args(args).output().unwrap()
}

fn says(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `n` entries stored directly (an import's path), beyond one tile.
async fn bulk(s: &TestServer, n: usize) {
    let entries: Vec<NewEntry> = (0..n)
        .map(|i| {
            let sha1: [u8; 20] = std::array::from_fn(|b| (i >> (8 * (b % 4))) as u8 ^ b as u8);
            let identifier = marketplace_format::Identifier::from_sha1(&sha1);
            NewEntry {
                key: EntryKey::parse(&identifier, "bulk@example.org", "2014-02-01T00:00:00Z")
                    .unwrap(),
                document: format!("<document {i}/>").into_bytes(),
                metadata: Metadata {
                    identifier: identifier.to_string(),
                    ..Metadata::default()
                },
                signer: Signer {
                    subject: "CN=Bulk,O=Test".into(),
                    issuer: "CN=Test CA".into(),
                    key_sha256: "bulk key".into(),
                    ..Signer::default()
                },
            }
        })
        .collect();
    for outcome in s.store.put_many(entries).await {
        assert_eq!(outcome.unwrap(), PutOutcome::Created);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_reference_code_verifies_the_log() {
    let Some(go) = verifier() else { return };
    let s = TestServer::start().await;
    for i in 0..3 {
        s.upload_ok(&Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z"))
            .await;
    }
    bulk(&s, 300).await;
    s.upload_ok(&Doc::with_id(&test_identifier(200)).signed("2014-03-01T00:00:00Z"))
        .await;
    s.state.log.refresh().await.unwrap();
    let vkey = s.state.log.verifier_key().to_string();
    let keys = s.keys().await;
    let receipts: Vec<String> = [&keys[0], &keys[150], keys.last().unwrap()]
        .iter()
        .map(|k| format!("/api/v1/entries/{k}/receipt"))
        .collect();
    let base = s.base.clone();
    let mut args = vec!["serve", base.as_str(), vkey.as_str()];
    args.extend(receipts.iter().map(String::as_str));
    let o = tokio::task::spawn_blocking({
        let go = go.to_path_buf();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        move || Command::new(go).args(&args).output().unwrap()
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", says(&o));
    assert!(says(&o).contains("304 leaves, 3 receipts"), "{}", says(&o));

    // Offline: a receipt and a checkpoint as files, and tampered copies.
    let dir = tempfile::tempdir().unwrap();
    let receipt = s.fetch(&receipts[1], None).await.2;
    let note = s.fetch("/log/checkpoint", None).await.2;
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let good = write("good.tlog-proof", &receipt);
    assert!(run(go, &["receipt", &vkey, &good]).status.success());
    let index_line = receipt.lines().nth(2).unwrap().to_string();
    let moved = write(
        "moved.tlog-proof",
        &receipt.replacen(&index_line, "index 151", 1),
    );
    let o = run(go, &["receipt", &vkey, &moved]);
    assert!(!o.status.success(), "{}", says(&o));
    let checkpoint = write("checkpoint", &note);
    assert!(run(go, &["note", &vkey, &checkpoint]).status.success());
    let grown = write("grown", &note.replacen("\n304\n", "\n305\n", 1));
    let o = run(go, &["note", &vkey, &grown]);
    assert!(
        !o.status.success() && says(&o).contains("signature"),
        "{}",
        says(&o)
    );
}
