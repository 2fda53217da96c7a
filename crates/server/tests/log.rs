//! The transparency log over HTTP: uploads are answered once a signed
//! checkpoint covers them, with their leaf index; the C2SP checkpoint,
//! verifier key and tiles; the JSON proofs and the offline receipts; the
//! key kept across restarts and shared by the servers of one database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Doc, TestServer, test_identifier};
use marketplace_log::checkpoint;
use marketplace_log::leaf::{EntryRecord, Leaf};
use marketplace_log::receipt::Receipt;
use marketplace_log::tiles::read_entry_bundle;
use marketplace_log::tree::{self, Hash, MemoryTree};
use serde_json::Value;

/// Uploads `doc`; returns the leaf index the answer carries and the size
/// of the checkpoint that covers it.
async fn upload_logged(s: &TestServer, doc: &str) -> (u64, u64) {
    let r = s.upload(doc).await;
    assert!(r.status() == 201 || r.status() == 200, "{}", r.status());
    let header = |name: &str| -> u64 { r.headers()[name].to_str().unwrap().parse().unwrap() };
    let (index, size) = (
        header("marketplace-log-index"),
        header("marketplace-log-size"),
    );
    (index, size)
}

async fn text(s: &TestServer, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = s.get(path, None).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

async fn bytes(s: &TestServer, path: &str) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let r = s.get(path, None).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.bytes().await.unwrap().to_vec(), headers)
}

async fn json(s: &TestServer, path: &str) -> (u16, Value) {
    let (status, body, _) = text(s, path).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn hash_of(b64: &Value) -> Hash {
    Hash(
        BASE64
            .decode(b64.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    )
}

/// The `hashes` of a proof answer.
fn hashes_of(p: &Value) -> Vec<Hash> {
    p["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash_of)
        .collect()
}

/// Uploads `n` entries of distinct images.
async fn upload_many(s: &TestServer, n: u8) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for i in 0..n {
        let doc = Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z");
        out.push(upload_logged(s, &doc).await);
    }
    out
}

#[tokio::test]
async fn uploads_are_answered_covered_by_a_signed_checkpoint() {
    let s = TestServer::start().await;
    let (status, _, _) = text(&s, "/log/checkpoint").await;
    assert_eq!(status, 404, "no checkpoint before the first entry");
    let logged = upload_many(&s, 5).await;
    for (i, (index, size)) in logged.iter().enumerate() {
        assert_eq!(*index, i as u64);
        assert!(size > index, "the answer's checkpoint covers the entry");
    }
    // The same document again: already present, same index.
    let again = upload_logged(
        &s,
        &Doc::with_id(&test_identifier(2)).signed("2014-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(again.0, 2);

    let (status, vkey, _) = text(&s, "/log/vkey").await;
    assert_eq!(status, 200);
    let vkey = vkey.trim();
    assert!(
        vkey.starts_with("marketplace.example.net/mp/log+"),
        "{vkey}"
    );
    let (status, note, headers) = text(&s, "/log/checkpoint").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let verified = checkpoint::verify(note.as_bytes(), vkey).unwrap();
    assert_eq!(verified.origin, "marketplace.example.net/mp/log");
    assert_eq!(verified.size, 5);

    // Each entry's JSON links to its place in the log and its receipt; its
    // HTML page says where it is and how to check it.
    let entry = s.keys().await.remove(0);
    let (status, item) = json(&s, &format!("/api/v1/entries/{entry}")).await;
    assert_eq!(status, 200);
    assert!(
        item["links"]["receipt"]
            .as_str()
            .unwrap()
            .ends_with("/receipt"),
        "{item}"
    );
    assert!(
        item["links"]["log"].as_str().unwrap().ends_with("/log"),
        "{item}"
    );
    let (status, page, _) = text(&s, &format!("/metadata/{entry}?media=html")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Transparency log"), "{page}");
    assert!(page.contains("leaf 0 of the marketplace"), "{page}");
    assert!(
        page.contains("in the signed checkpoint of 5 entries"),
        "{page}"
    );
    assert!(page.contains("marketplace show -m"), "{page}");

    // The JSON view says the same.
    let (status, info) = json(&s, "/api/v1/log").await;
    assert_eq!(status, 200);
    assert_eq!(info["verifier_key"], vkey);
    assert_eq!(info["size"], 5);
    assert_eq!(hash_of(&info["root_hash"]), verified.root);
}

#[tokio::test]
async fn tiles_rebuild_the_tree_and_are_immutable() {
    let s = TestServer::start().await;
    upload_many(&s, 7).await;
    let (_, note, _) = text(&s, "/log/checkpoint").await;
    let (_, vkey, _) = text(&s, "/log/vkey").await;
    let checkpoint = checkpoint::verify(note.as_bytes(), vkey.trim()).unwrap();
    assert_eq!(checkpoint.size, 7);

    let (status, bundle, headers) = bytes(&s, "/log/tile/entries/000.p/7").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let leaves = read_entry_bundle(&bundle).unwrap();
    assert_eq!(leaves.len(), 7);
    let mut rebuilt = MemoryTree::new();
    for leaf in &leaves {
        rebuilt.push(leaf).unwrap();
        assert!(matches!(Leaf::parse(leaf).unwrap(), Leaf::Entry(_)));
    }
    assert_eq!(rebuilt.root().unwrap(), checkpoint.root);

    let (status, tile, _) = bytes(&s, "/log/tile/0/000.p/7").await;
    assert_eq!(status, 200);
    assert_eq!(tile.len(), 7 * 32);
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(&tile[i * 32..(i + 1) * 32], &tree::record_hash(leaf).0);
    }
    // Beyond the checkpoint, and malformed paths.
    for (path, status) in [
        ("/log/tile/0/000.p/8", 404),
        ("/log/tile/0/000", 404),
        ("/log/tile/1/000.p/1", 404),
        ("/log/tile/entries/001.p/1", 404),
        ("/log/tile/0/000.p/0", 400),
        ("/log/tile/99/000", 400),
        ("/log/tile/0/0001", 400),
        ("/log/tile/x", 400),
    ] {
        let (got, body, _) = text(&s, path).await;
        assert_eq!(got, status, "{path}: {body}");
    }
}

#[tokio::test]
async fn proofs_and_receipts_verify_and_tampering_is_refused() {
    let s = TestServer::start().await;
    upload_many(&s, 9).await;
    let (_, vkey, _) = text(&s, "/log/vkey").await;
    let vkey = vkey.trim().to_string();
    let (_, note, _) = text(&s, "/log/checkpoint").await;
    let head = checkpoint::verify(note.as_bytes(), &vkey).unwrap();

    // Inclusion of every leaf in the newest tree.
    for index in 0..head.size {
        let (status, p) = json(&s, &format!("/api/v1/log/proof/inclusion?index={index}")).await;
        assert_eq!(status, 200, "{p}");
        let leaf = BASE64.decode(p["leaf"].as_str().unwrap()).unwrap();
        let hashes = hashes_of(&p);
        assert_eq!(hash_of(&p["root_hash"]), head.root);
        tree::check_inclusion(
            &hashes,
            index,
            head.size,
            tree::record_hash(&leaf),
            head.root,
        )
        .unwrap();
    }
    // Consistency of every smaller tree with the newest.
    for first in 1..=head.size {
        let (status, p) = json(&s, &format!("/api/v1/log/proof/consistency?first={first}")).await;
        assert_eq!(status, 200, "{p}");
        let hashes = hashes_of(&p);
        tree::check_consistency(
            &hashes,
            first,
            hash_of(&p["first_root_hash"]),
            head.size,
            head.root,
        )
        .unwrap();
    }
    // Bad requests say why.
    for path in [
        "/api/v1/log/proof/inclusion",
        "/api/v1/log/proof/inclusion?index=9",
        "/api/v1/log/proof/inclusion?index=x",
        "/api/v1/log/proof/inclusion?index=0&size=10",
        "/api/v1/log/proof/consistency?first=10",
        "/api/v1/log/proof/consistency?first=3&second=2",
        "/api/v1/log/leaves?start=0&end=10",
        "/api/v1/log/leaves?start=5&end=2",
    ] {
        let (status, body) = json(&s, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, leaves) = json(&s, "/api/v1/log/leaves?start=2&end=4").await;
    assert_eq!(status, 200);
    assert_eq!(leaves["leaves"].as_array().unwrap().len(), 2);

    // An entry's receipt checks offline against the verifier key.
    let entry = s.keys().await.remove(0);
    let (status, view) = json(&s, &format!("/api/v1/entries/{entry}/log")).await;
    assert_eq!(status, 200, "{view}");
    let (status, text_receipt, headers) =
        text(&s, &format!("/api/v1/entries/{entry}/receipt")).await;
    assert_eq!(status, 200, "{text_receipt}");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".tlog-proof\"")
    );
    let receipt = Receipt::parse(&text_receipt).unwrap();
    assert_eq!(receipt.index, view["index"].as_u64().unwrap());
    let leaf = BASE64.decode(view["leaf"].as_str().unwrap()).unwrap();
    receipt.verify(&leaf, &vkey).unwrap();
    // The leaf is the entry's record: rebuilt from the entry it names.
    let Leaf::Entry(record) = Leaf::parse(&leaf).unwrap() else {
        panic!("a public entry has an entry leaf")
    };
    let record: EntryRecord = *record;
    assert_eq!(
        entry,
        format!("{}/{}/{}", record.identifier, record.email, record.created)
    );
    let (_, document, _) = bytes(&s, &format!("/metadata/{entry}?media=xml")).await;
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&document)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(record.document_sha256, digest);
    // Another leaf, a moved index, a bent hash: refused.
    let other = BASE64
        .decode(
            json(&s, "/api/v1/log/leaves?start=3&end=4").await.1["leaves"][0]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert!(receipt.verify(&other, &vkey).is_err());
    let moved = Receipt {
        index: receipt.index + 1,
        ..receipt.clone()
    };
    assert!(moved.verify(&leaf, &vkey).is_err());
    let (_, other_vkey) = marketplace_log::key::LogKey::generate("marketplace.example.net/mp/log")
        .map(|(k, _)| ((), k.verifier_key().to_string()))
        .unwrap();
    assert!(receipt.verify(&leaf, &other_vkey).is_err());
    // Unknown or malformed entries: 404.
    for path in [
        "/api/v1/entries/HZ6rsTmtcc0dJgoGrgRhvwN3o0q/nobody@example.org/2014-01-01T00:00:00Z/receipt",
        "/api/v1/entries/x/y/z/log",
    ] {
        let (status, _) = json(&s, path).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn the_key_and_the_checkpoints_survive_a_restart_and_replicas_share_them() {
    let s = TestServer::start().await;
    upload_many(&s, 3).await;
    let (_, first_vkey, _) = text(&s, "/log/vkey").await;
    let (_, first_note, _) = text(&s, "/log/checkpoint").await;
    let first = checkpoint::verify(first_note.as_bytes(), first_vkey.trim()).unwrap();

    // A second server on the same database and key: same log, one tree.
    let key_file = s.config.log_key_path();
    let replica = TestServer::start_on(s.store.clone(), |c| c.log_key_file = Some(key_file)).await;
    let (_, vkey, _) = text(&replica, "/log/vkey").await;
    assert_eq!(vkey, first_vkey);
    let doc = Doc::with_id(&test_identifier(40)).signed("2014-01-01T00:00:00Z");
    let (index, size) = upload_logged(&replica, &doc).await;
    assert_eq!((index, size), (3, 4));
    let (_, note, _) = text(&s, "/log/checkpoint").await;
    let later = checkpoint::verify(note.as_bytes(), first_vkey.trim()).unwrap();
    assert_eq!(later.size, 4);
    let (_, p) = json(
        &s,
        &format!("/api/v1/log/proof/consistency?first={}", first.size),
    )
    .await;
    let hashes = hashes_of(&p);
    tree::check_consistency(&hashes, first.size, first.root, later.size, later.root).unwrap();

    // A server with another key on the same database refuses to sign.
    let stranger = TestServer::start_on(s.store.clone(), |_| {}).await;
    let (status, body, _) = text(&stranger, "/log/checkpoint").await;
    assert_eq!(status, 500, "{body}");
    let e = stranger.state.log.start().await.unwrap_err();
    assert!(e.to_string().contains("same log key"), "{e}");
}

#[tokio::test]
async fn admin_log_verify_recomputes_the_log_and_finds_tampering() {
    use marketplace_server::runtime::admin;
    let s = TestServer::start().await;
    upload_many(&s, 6).await;
    let clean = admin::verify_log(&s.state).await.unwrap();
    assert!(clean.is_clean(), "{:?}", clean.problems);
    assert_eq!(
        (clean.entries, clean.leaves, clean.checkpoint_size),
        (6, 6, Some(6))
    );

    // rebuild-index re-derives the index, never the log.
    let (_, before, _) = text(&s, "/log/checkpoint").await;
    let root_before = s.store.log_hashes(&[0, 1, 2]).await.unwrap();
    admin::rebuild_index(s.store.as_ref(), &s.state.trust)
        .await
        .unwrap();
    assert_eq!(s.store.log_size().await.unwrap(), 6);
    assert_eq!(s.store.log_hashes(&[0, 1, 2]).await.unwrap(), root_before);
    let (_, after, _) = text(&s, "/log/checkpoint").await;
    assert_eq!(before, after);
    assert!(admin::verify_log(&s.state).await.unwrap().is_clean());

    // A stored document changed behind the server's back, and a stored
    // hash: both found.
    let db = rusqlite::Connection::open(s.config.sqlite_path()).unwrap();
    db.execute(
        "UPDATE documents SET document = CAST('<changed/>' AS BLOB) WHERE seq = \
         (SELECT seq FROM log_leaves WHERE idx = 2)",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE log_hashes SET hash = zeroblob(32) WHERE idx = 0",
        [],
    )
    .unwrap();
    let report = admin::verify_log(&s.state).await.unwrap();
    assert!(!report.is_clean());
    let all = report.problems.join("\n");
    assert!(all.contains("leaf 2 does not record entry"), "{all}");
    assert!(all.contains("the stored hash 0 is not the one"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_postgresql_sign_one_consistent_log() {
    use marketplace_store::{PgStore, Store};
    use std::sync::Arc;
    let Some((options, _schema)) = marketplace_test_pki::pg::schema().await else {
        return;
    };
    let store = |o: marketplace_store::PgConnectOptions| async move {
        Arc::new(PgStore::connect_with(o).await.unwrap()) as Arc<dyn Store>
    };
    let first = TestServer::start_on(store(options.clone()).await, |_| {}).await;
    let key = first.config.log_key_path();
    let second =
        TestServer::start_on(store(options.clone()).await, |c| c.log_key_file = Some(key)).await;
    // Both replicas take uploads at once.
    let docs: Vec<String> = (0..16u8)
        .map(|i| Doc::with_id(&test_identifier(100 + i)).signed("2014-01-01T00:00:00Z"))
        .collect();
    let mut tasks = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let server = if i % 2 == 0 { &first } else { &second };
        let (client, url) = (server.client.clone(), server.url("/metadata"));
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("Content-Type", "application/rdf+xml")
                .body(doc)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let header =
                |name: &str| -> u64 { r.headers()[name].to_str().unwrap().parse().unwrap() };
            (
                header("marketplace-log-index"),
                header("marketplace-log-size"),
            )
        }));
    }
    let mut logged = Vec::new();
    for task in tasks {
        logged.push(task.await.unwrap());
    }
    let mut indices: Vec<u64> = logged.iter().map(|(index, _)| *index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..16).collect::<Vec<u64>>(), "dense, no repeat");
    first.state.log.refresh().await.unwrap();

    // Every checkpoint either replica signed is consistent with the newest.
    let (_, vkey, _) = text(&first, "/log/vkey").await;
    let vkey = vkey.trim();
    let pool = sqlx::PgPool::connect_with(options).await.unwrap();
    let notes: Vec<(i64, String)> =
        sqlx::query_as("SELECT size, note FROM log_checkpoints ORDER BY size")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!notes.is_empty(), "{notes:?}");
    let (_, newest, _) = text(&second, "/log/checkpoint").await;
    let newest = checkpoint::verify(newest.as_bytes(), vkey).unwrap();
    assert_eq!(newest.size, 16);
    for (size, note) in &notes {
        let old = checkpoint::verify(note.as_bytes(), vkey).unwrap();
        assert_eq!(old.size, *size as u64);
        let (status, p) = json(
            &first,
            &format!("/api/v1/log/proof/consistency?first={size}"),
        )
        .await;
        assert_eq!(status, 200, "{p}");
        let hashes = hashes_of(&p);
        tree::check_consistency(&hashes, old.size, old.root, newest.size, newest.root).unwrap();
    }
    let report = marketplace_server::runtime::admin::verify_log(&first.state)
        .await
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    pool.close().await;
}
