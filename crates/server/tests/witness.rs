//! Witnesses (C2SP tlog-witness, tlog-cosignature): a marketplace submits
//! each new checkpoint to its witnesses and publishes the cosignatures it
//! gets; a marketplace configured to witness a log cosigns only checkpoints
//! that extend the last one it cosigned, and refuses forks, unknown logs
//! and forged signatures with the protocol's statuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Backend, Doc, TestServer, test_identifier};
use marketplace_log::checkpoint;
use marketplace_log::cosignature::{CosignatureVerifier, WitnessKey};
use marketplace_log::key::LogKey;
use marketplace_log::receipt::Receipt;
use marketplace_log::tree::{self, MemoryTree};
use marketplace_log::witness::AddCheckpoint;
use marketplace_server::runtime::config::WitnessEndpoint;

const ORIGIN: &str = "log.example.org/log";

/// The log's checkpoint once it carries a cosignature of `witness` for at
/// least `size` entries (waits up to 20 s).
async fn cosigned(s: &TestServer, witness: &CosignatureVerifier, size: u64) -> String {
    for _ in 0..200 {
        let (status, _, note) = s.fetch("/log/checkpoint", None).await;
        if status == 200
            && witness.timestamp_in(note.as_bytes()).is_ok()
            && note.lines().nth(1).and_then(|n| n.parse::<u64>().ok()) >= Some(size)
        {
            return note;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no cosignature of {} entries", size);
}

async fn post(s: &TestServer, body: String) -> (u16, String, String) {
    let r = s
        .client
        .post(s.url("/witness/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    (status, content_type, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketplace_witnesses_another_and_refuses_forks() {
    let keys = tempfile::tempdir().unwrap();
    let (log_key, log_secret) = LogKey::generate(ORIGIN).unwrap();
    let log_key_file = keys.path().join("log.key");
    std::fs::write(&log_key_file, &log_secret).unwrap();
    let (witness_key, witness_secret) = WitnessKey::generate("witness.example.net/w1").unwrap();
    let witness_key_file = keys.path().join("witness.key");
    std::fs::write(&witness_key_file, &witness_secret).unwrap();
    let log_vkey = log_key.verifier_key().to_string();

    // The witness: a marketplace that cosigns the log.
    let witness = TestServer::start_with(Backend::Sqlite, |c| {
        c.witness_logs = vec![log_vkey.clone()];
        c.witness_key_file = Some(witness_key_file.clone());
    })
    .await
    .unwrap();
    let (status, _, served) = witness.fetch("/witness/vkey", None).await;
    assert_eq!(status, 200);
    assert_eq!(served.trim(), witness_key.verifier_key());
    let verifier = CosignatureVerifier::new(&witness_key.verifier_key()).unwrap();

    // The log: a marketplace that submits its checkpoints to the witness.
    let log = TestServer::start_with(Backend::Sqlite, |c| {
        c.log_origin = Some(ORIGIN.into());
        c.log_key_file = Some(log_key_file.clone());
        c.witnesses = vec![WitnessEndpoint {
            url: witness.url("/witness"),
            key: witness_key.verifier_key(),
        }];
    })
    .await
    .unwrap();
    for i in 0..3 {
        log.upload_ok(&Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z"))
            .await;
    }
    let note = cosigned(&log, &verifier, 3).await;
    let first = checkpoint::verify(note.as_bytes(), &log_vkey).unwrap();
    assert_eq!(first.size, 3);
    // The receipts carry the cosignature too.
    let entry = log.keys().await.remove(0);
    let (_, _, receipt) = log
        .fetch(&format!("/api/v1/entries/{entry}/receipt"), None)
        .await;
    assert!(receipt.contains("— witness.example.net/w1 "), "{receipt}");
    // Against the first checkpoint a witness cosigned that covers each
    // entry: its cosignature dates the entry's integration.
    for entry in log.keys().await {
        let path = format!("/api/v1/entries/{entry}/receipt?checkpoint=first-cosigned");
        let (status, _, text) = log.fetch(&path, None).await;
        assert_eq!(status, 200, "{text}");
        let receipt = Receipt::parse(&text).unwrap();
        let leaf: serde_json::Value =
            serde_json::from_slice(receipt.extra.as_ref().unwrap()).unwrap();
        let leaf = BASE64.decode(leaf["leaf"].as_str().unwrap()).unwrap();
        let proved = receipt.verify(&leaf, &log_vkey).unwrap();
        assert!(proved.size > receipt.index && proved.size <= 3);
        assert!(verifier.timestamp_in(proved.note.as_bytes()).is_ok());
    }
    let (status, _, _) = log
        .fetch(
            &format!("/api/v1/entries/{entry}/receipt?checkpoint=oldest"),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // The log grows: the witness checks consistency and cosigns again.
    for i in 3..5 {
        log.upload_ok(&Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z"))
            .await;
    }
    let note = cosigned(&log, &verifier, 5).await;
    assert_eq!(
        checkpoint::verify(note.as_bytes(), &log_vkey).unwrap().size,
        5
    );

    // A fork signed with the log's own key: refused (422), and what was
    // cosigned stays.
    let mut other = MemoryTree::new();
    for i in 0..7 {
        other.push(format!("forged {i}").as_bytes()).unwrap();
    }
    let forked = checkpoint::sign(&log_key, 7, other.root().unwrap()).unwrap();
    let proof = tree::consistency_proof(5, 7, other.hashes()).unwrap();
    let request = |old, proof, checkpoint| {
        AddCheckpoint {
            old,
            proof,
            checkpoint,
        }
        .to_body()
    };
    let (status, _, body) = post(&witness, request(5, proof, forked.clone())).await;
    assert_eq!(status, 422, "{body}");
    // The same size with another root: 409.
    let mut five = MemoryTree::new();
    for i in 0..5 {
        five.push(format!("forged {i}").as_bytes()).unwrap();
    }
    let same_size = checkpoint::sign(&log_key, 5, five.root().unwrap()).unwrap();
    let (status, _, body) = post(&witness, request(5, vec![], same_size)).await;
    assert_eq!(status, 409, "{body}");
    // A stale old size: 409 with the size cosigned, as text/x.tlog.size.
    let (status, content_type, body) = post(&witness, request(0, vec![], forked.clone())).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
    // An unknown log, a forged signature, nonsense.
    let (stranger, _) = LogKey::generate("stranger.example/log").unwrap();
    let unknown = checkpoint::sign(&stranger, 1, tree::record_hash(b"x")).unwrap();
    assert_eq!(post(&witness, request(0, vec![], unknown)).await.0, 404);
    let (impostor, _) = LogKey::generate(ORIGIN).unwrap();
    let impersonated = checkpoint::sign(&impostor, 9, tree::record_hash(b"x")).unwrap();
    assert_eq!(
        post(&witness, request(5, vec![], impersonated)).await.0,
        403
    );
    assert_eq!(post(&witness, "hello".into()).await.0, 400);

    // The log goes on, cosigned from the last size the witness holds.
    log.upload_ok(&Doc::with_id(&test_identifier(9)).signed("2014-01-01T00:00:00Z"))
        .await;
    let note = cosigned(&log, &verifier, 6).await;
    assert_eq!(
        checkpoint::verify(note.as_bytes(), &log_vkey).unwrap().size,
        6
    );
}

#[tokio::test]
async fn a_server_that_witnesses_nothing_says_so() {
    let s = TestServer::start().await;
    assert_eq!(s.fetch("/witness/vkey", None).await.0, 404);
    assert_eq!(post(&s, "old 0\n\nx\n".into()).await.0, 404);
    // Nothing is cosigned: no receipt can date an entry.
    s.upload_ok(&Doc::with_id(&test_identifier(1)).signed("2014-01-01T00:00:00Z"))
        .await;
    let entry = s.keys().await.remove(0);
    let (status, _, body) = s
        .fetch(
            &format!("/api/v1/entries/{entry}/receipt?checkpoint=first-cosigned"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no witness has cosigned"), "{body}");
}
