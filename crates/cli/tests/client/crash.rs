//! An acknowledged upload survives `kill -9`: uploads run while the server
//! is killed with SIGKILL; a server started again on the same data
//! directory serves every acknowledged entry byte for byte, takes the
//! others as new, and `marketplace admin check` finds the store sound. The
//! transparency log too: every checkpoint published before the kill is
//! extended by the one after the restart (never two inconsistent
//! checkpoints, whenever the kill falls around signing), and
//! `admin log-verify` finds every entry recorded. (The moment of the kill
//! varies from run to run; what is asserted holds for any moment.)

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Uploaders running at once.
const UPLOADERS: usize = 4;
/// Documents in all.
const DOCUMENTS: usize = 24;
/// Acknowledged uploads after which the server is killed.
const KILL_AFTER: usize = 8;

/// `POST /metadata` of `document` to `url` (`http://HOST:PORT`): the
/// status code, or `None` when the connection broke (not acknowledged).
fn upload(url: &str, document: &[u8]) -> Option<u16> {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let head = format!(
        "POST /metadata HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/rdf+xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        document.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(document).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let status_line = String::from_utf8_lossy(&response);
    status_line.split_whitespace().nth(1)?.parse().ok()
}

/// The body of `GET url+path` (`Connection: close`), whatever the status,
/// or `None` when the connection broke.
fn try_get(url: &str, path: &str) -> Option<String> {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// Checks that the checkpoint `note` is extended by the server's newest,
/// with the server's consistency proof and the log's verifier key.
fn check_extended(url: &str, vkey: &str, note: &str) {
    use base64::Engine;
    use marketplace_log::{checkpoint, tree};
    let old = checkpoint::verify(note.as_bytes(), vkey).unwrap();
    let newest =
        checkpoint::verify(try_get(url, "/log/checkpoint").unwrap().as_bytes(), vkey).unwrap();
    assert!(
        newest.size >= old.size,
        "{} after {}",
        newest.size,
        old.size
    );
    let body = try_get(
        url,
        &format!(
            "/api/v1/log/proof/consistency?first={}&second={}",
            old.size, newest.size
        ),
    )
    .unwrap();
    let proof: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hashes: Vec<tree::Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap();
            tree::Hash(bytes.try_into().unwrap())
        })
        .collect();
    tree::check_consistency(&hashes, old.size, old.root, newest.size, newest.root)
        .unwrap_or_else(|e| panic!("the checkpoint of {} is not extended: {e}", old.size));
}

/// The body of `GET url+path` (`Connection: close`).
fn get(url: &str, path: &str) -> String {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/xml\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// A stored document as the XML list shows it (without its declaration).
fn listed_form(document: &[u8]) -> String {
    let text = std::str::from_utf8(document).unwrap();
    let text = match text.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").unwrap() + 2..],
        None => text,
    };
    text.trim().to_string()
}

#[test]
fn acknowledged_uploads_survive_kill_9() {
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let signer = alice(pki);
    let documents: Vec<Vec<u8>> = (0..DOCUMENTS)
        .map(|i| {
            let name = format!("image-{i}");
            let image = image_bytes(u32::try_from(i).unwrap() + 100, 2048);
            let doc = describe_and_sign(work.path(), &name, &image, &[], &strs(&signer));
            std::fs::read(doc).unwrap()
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_on(&data, &[], tempfile::tempdir().unwrap());
    let url = server.url.clone();
    let vkey = try_get(&url, "/log/vkey").unwrap().trim().to_string();
    let acknowledged = AtomicUsize::new(0);
    let outcomes = Mutex::new(vec![None; DOCUMENTS]);
    // Every checkpoint published before the kill.
    let published = Mutex::new(Vec::new());
    let killed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (poll, seen, stop) = (&url, &published, &killed);
        scope.spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if let Some(note) = try_get(poll, "/log/checkpoint") {
                    seen.lock().unwrap().push(note);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        for uploader in 0..UPLOADERS {
            let (url, documents, outcomes, acknowledged) =
                (&url, &documents, &outcomes, &acknowledged);
            scope.spawn(move || {
                for i in (uploader..DOCUMENTS).step_by(UPLOADERS) {
                    let status = upload(url, &documents[i]);
                    if matches!(status, Some(200 | 201)) {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                    outcomes.lock().unwrap()[i] = status;
                }
            });
        }
        // Kill -9 while the uploaders are at work.
        while acknowledged.load(Ordering::SeqCst) < KILL_AFTER {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(server);
        killed.store(true, Ordering::SeqCst);
    });
    let outcomes = outcomes.into_inner().unwrap();
    for status in outcomes.iter().flatten() {
        assert!(
            matches!(status, 200 | 201 | 503),
            "an upload answered {status}: {outcomes:?}"
        );
    }
    let kept: Vec<usize> = (0..DOCUMENTS)
        .filter(|i| matches!(outcomes[*i], Some(200 | 201)))
        .collect();
    assert!(kept.len() >= KILL_AFTER, "{outcomes:?}");

    // Started again: every acknowledged entry, byte for byte.
    let server = Server::start_on(&data, &[], tempfile::tempdir().unwrap());
    let list = get(&server.url, "/metadata?iDisplayLength=1000");
    for i in &kept {
        assert!(
            list.contains(&listed_form(&documents[*i])),
            "acknowledged document {i} is not served as it was uploaded"
        );
    }
    // The others are new (201), or were stored before the kill cut their
    // answer off (200): never half there (409, 500).
    for (i, document) in documents.iter().enumerate() {
        let status = upload(&server.url, document);
        let expected: &[u16] = if kept.contains(&i) {
            &[200]
        } else {
            &[200, 201]
        };
        assert!(
            status.is_some_and(|s| expected.contains(&s)),
            "document {i} again: {status:?}"
        );
    }
    // The log after the restart extends every checkpoint published before
    // the kill, and records every entry.
    let published = published.into_inner().unwrap();
    assert!(
        !published.is_empty(),
        "no checkpoint was published before the kill"
    );
    for note in &published {
        check_extended(&server.url, &vkey, note);
    }
    drop(server);
    let o = run(&["admin", "check", "--data-dir", data.to_str().unwrap()]);
    expect(&o, 0);
    let o = run(&["admin", "log-verify", "--data-dir", data.to_str().unwrap()]);
    expect(&o, 0);
}
