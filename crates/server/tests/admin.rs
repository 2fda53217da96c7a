//! `admin import`, `admin export` and `admin rebuild-index` through the
//! library functions the CLI calls.
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
use marketplace_server::runtime::admin;
use marketplace_server::runtime::clock::Clock;
use marketplace_server::runtime::state::TrustSettings;
use marketplace_server::upload::ingest::{IngestOutcome, Ingestor, Policy};
use std::path::Path;
use std::sync::Arc;

/// A fresh server on SQLite signing its log with the key of `s`'s.
async fn with_log_key_of(s: &TestServer) -> TestServer {
    let key = s.config.log_key_path();
    TestServer::start_with(Backend::Sqlite, |c| c.log_key_file = Some(key))
        .await
        .unwrap()
}

fn ingestor(s: &TestServer) -> Ingestor {
    Ingestor {
        store: s.store.clone(),
        trust: Arc::new(TrustSettings::default()),
        clock: Clock::frozen(NOW.parse().unwrap()),
        policy: Policy::from_config(&s.config),
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn import_export_rebuild_round_trip() {
    let source = tempfile::tempdir().unwrap();
    let s = TestServer::start().await;
    // An original StratusLab data directory: metadata/<id>/<email>/<created>.xml.
    let history = [
        "2014-01-01T00:00:00Z",
        "2014-02-01T00:00:00Z",
        "2014-03-01T00:00:00Z",
    ];
    let mut docs = Vec::new();
    for created in history {
        let doc = Doc::bee8().signed(created);
        write(
            &source
                .path()
                .join(format!("data/metadata/{BEE8}/{JANE}/{created}.xml")),
            &doc,
        );
        docs.push(doc);
    }
    // Another layout where the newest entry sorts first by name.
    write(
        &source.path().join("a-newest.xml"),
        &Doc::with_id(NEWID).signed("2014-05-01T00:00:00Z"),
    );
    write(
        &source.path().join("z-oldest.xml"),
        &Doc::with_id(NEWID).signed("2014-04-01T00:00:00Z"),
    );
    write(
        &source.path().join("unsigned.xml"),
        &Doc::with_id(EXPIRED_ID).xml(),
    );
    write(&source.path().join("broken.xml"), "<not-closed>");
    write(&source.path().join("notes.txt"), "ignored");

    let mut lines = Vec::new();
    let summary = admin::import_dir(
        source.path(),
        ingestor(&s),
        &s.state.log,
        3,
        |path, result| {
            lines.push((path.to_path_buf(), result.clone()));
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (
            summary.files,
            summary.created,
            summary.present,
            summary.refused
        ),
        (7, 5, 0, 2),
        "{lines:#?}"
    );
    let refused: Vec<_> = lines.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(
        refused.iter().any(|(p, r)| p.ends_with("unsigned.xml")
            && r.as_ref().unwrap_err().contains("no signature"))
    );
    assert_eq!(s.keys().await.len(), 5, "the whole history is kept");
    let (_, _, body) = s.fetch(&format!("/metadata/{NEWID}"), None).await;
    assert_eq!(endorsement_dates(&body), vec!["2014-05-01T00:00:00Z"]);

    // Importing again: everything already present.
    let again = admin::import_dir(source.path(), ingestor(&s), &s.state.log, 2, |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.created, again.present, again.refused), (0, 5, 2));

    // Export writes the documents byte for byte.
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        admin::export_dir(s.store.as_ref(), out.path())
            .await
            .unwrap(),
        admin::ExportSummary {
            written: 5,
            leaves: 5,
            unreadable: vec![]
        }
    );
    for (created, doc) in history.iter().zip(&docs) {
        let written =
            std::fs::read_to_string(out.path().join(format!("{BEE8}/{JANE}/{created}.xml")))
                .unwrap();
        assert_eq!(&written, doc);
    }

    // The export imports into a fresh store (whose server has the log key
    // of the exported one: the log is carried).
    let fresh = with_log_key_of(&s).await;
    let summary = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 4, |_, r| {
        assert!(
            matches!(
                r.as_ref().map(|i| &i.outcome),
                Ok(IngestOutcome::Created(_))
            ),
            "{r:?}"
        );
    })
    .await
    .unwrap();
    assert_eq!(summary.created, 5);

    // Rebuilding the index re-verifies every document; lists are unchanged.
    let before = s.fetch("/metadata?status=all&media=json", None).await.2;
    let n = admin::rebuild_index(s.store.as_ref(), &TrustSettings::default())
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(
        s.fetch("/metadata?status=all&media=json", None).await.2,
        before
    );
}

/// An e-mail may hold `/` (and `%`): the entry still exports, to a
/// percent-encoded path, and imports back byte for byte.
#[tokio::test]
async fn export_encodes_what_cannot_be_a_file_name() {
    let s = TestServer::start().await;
    let email = "ops/team%1@example.org";
    let odd = generated("Team Ops", Some(email));
    let doc = Doc::bee8().signed_by(&odd, "2014-01-01T00:00:00Z");
    s.upload_ok(&doc).await;
    s.upload_ok(&Doc::bee8().signed("2014-02-01T00:00:00Z"))
        .await;

    let out = tempfile::tempdir().unwrap();
    let summary = admin::export_dir(s.store.as_ref(), out.path())
        .await
        .unwrap();
    assert_eq!(summary.written, 2);
    let path = out.path().join(format!(
        "{BEE8}/ops%2Fteam%251@example.org/2014-01-01T00:00:00Z.xml"
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), doc);

    let fresh = with_log_key_of(&s).await;
    let summary = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, r| {
        assert!(r.is_ok(), "{r:?}");
    })
    .await
    .unwrap();
    assert_eq!(summary.created, 2);
    let key = marketplace_store::EntryKey::parse(BEE8, email, "2014-01-01T00:00:00Z").unwrap();
    let stored = fresh.store.get(&key).await.unwrap().expect("imported");
    assert_eq!(stored.entry.document, doc.as_bytes());
}

/// A store whose file was damaged: found at open, never written into;
/// `admin check` lists the damage and `admin export` saves every entry it
/// can read and lists the others.
#[tokio::test]
async fn a_damaged_store_is_found_kept_read_only_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marketplace.db");
    let count = 60u8;
    {
        let store = marketplace_store::SqliteStore::open(&path).await.unwrap();
        let s = TestServer::start_on(Arc::new(store.clone()), |_| {}).await;
        for i in 0..count {
            s.upload_ok(&Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z"))
                .await;
        }
        assert!(
            admin::check(s.store.as_ref(), &TrustSettings::default())
                .await
                .unwrap()
                .is_clean()
        );
        drop(s);
        store.close().await;
    }
    // Checkpoint the WAL into the file, then overwrite pages in its middle.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(pages > 8, "{pages} pages");
    for p in (pages / 2)..(pages / 2 + 3) {
        for (i, b) in bytes[p * page..(p + 1) * page].iter_mut().enumerate() {
            *b = (i * 7 + p) as u8;
        }
    }
    std::fs::write(&path, bytes).unwrap();

    let store = marketplace_store::SqliteStore::open(&path).await.unwrap();
    let fault = marketplace_store::Store::write_fault(&store).expect("the damage is found at open");
    assert!(fault.contains("integrity check"), "{fault}");
    let s = TestServer::start_on(Arc::new(store), |_| {}).await;
    // Nothing is written into it, and health says why.
    let r = s
        .upload(&Doc::with_id(&test_identifier(200)).signed("2014-01-01T00:00:00Z"))
        .await;
    assert_eq!(r.status(), 503);
    let (status, _, health) = s.fetch("/healthz", None).await;
    assert_eq!(status, 503, "{health}");
    assert!(health.contains("integrity check"), "{health}");

    let report = admin::check(s.store.as_ref(), &TrustSettings::default())
        .await
        .unwrap();
    assert!(!report.is_clean());
    assert!(!report.integrity.is_empty(), "{report:?}");
    let out = tempfile::tempdir().unwrap();
    let summary = admin::export_dir(s.store.as_ref(), out.path())
        .await
        .unwrap();
    let files = admin::find_documents(out.path()).unwrap().len() as u64;
    assert_eq!(files, summary.written);
    assert!(
        summary.written + summary.unreadable.len() as u64 <= u64::from(count),
        "{summary:?}"
    );
    assert!(
        summary.written > 0,
        "the readable entries are saved: {summary:?}"
    );
}

/// `admin backup` copies a store in use: a consistent snapshot that opens
/// as a store with every entry acknowledged before it, byte for byte.
#[tokio::test]
async fn online_backup_of_a_store_in_use() {
    let s = TestServer::start().await;
    for i in 0..20u8 {
        s.upload_ok(&Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z"))
            .await;
    }
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("copy.db");
    // Uploads go on while the copy is taken.
    let writer = {
        let client = s.client.clone();
        let url = s.url("/metadata");
        tokio::spawn(async move {
            for i in 100..130u8 {
                let doc = Doc::with_id(&test_identifier(i)).signed("2014-01-01T00:00:00Z");
                let r = client
                    .post(&url)
                    .header("Content-Type", "application/rdf+xml")
                    .body(doc)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        })
    };
    let size = admin::backup(&s.config, &dest).await.unwrap();
    writer.await.unwrap();
    assert_eq!(size, std::fs::metadata(&dest).unwrap().len());

    let copy = marketplace_store::SqliteStore::open(&dest).await.unwrap();
    let copied = marketplace_store::Store::entries_after(&copy, None, 1000)
        .await
        .unwrap();
    assert!(copied.len() >= 20, "{}", copied.len());
    for entry in &copied {
        let live = s.store.get(&entry.entry.key).await.unwrap().unwrap();
        assert_eq!(live.entry.document, entry.entry.document);
    }
    // Never over an existing file; PostgreSQL has its own tools.
    let again = admin::backup(&s.config, &dest).await.unwrap_err();
    assert!(again.contains("exists"), "{again}");
    let mut pg = s.config.clone();
    pg.database_url = Some(marketplace_test_pki::pg::url());
    assert!(
        admin::backup(&pg, &out.path().join("pg.db"))
            .await
            .unwrap_err()
            .contains("pg_dump")
    );
}

/// The coordinates a signed document names.
fn key_of(doc: &str) -> marketplace_store::EntryKey {
    let m = marketplace_format::parse(doc.as_bytes()).metadata;
    let e = m.endorsement.unwrap();
    marketplace_store::EntryKey::parse(&m.identifier, &e.endorser.email, &e.created).unwrap()
}

/// Every leaf of `store`'s log with its opening.
async fn log_of(store: &dyn marketplace_store::Store) -> Vec<marketplace_store::LogPosition> {
    let size = store.log_size().await.unwrap();
    store.log_positions(0..size).await.unwrap()
}

/// `admin export` writes the transparency log and `admin import` carries
/// it: the new store (SQLite or PostgreSQL) holds the same leaves and the
/// signed checkpoint, and the log goes on from there under the same key.
/// An export under another key, or with altered leaves, is refused before
/// anything is stored; a missing document stops the import at its leaf,
/// and a second run resumes.
#[tokio::test]
async fn export_and_import_carry_the_transparency_log() {
    let s = TestServer::start().await;
    let docs = [
        Doc::bee8().signed("2014-01-01T00:00:00Z"),
        Doc::bee8().signed("2014-02-01T00:00:00Z"),
        Doc::with_id(NEWID).signed("2014-04-01T00:00:00Z"),
    ];
    for doc in &docs {
        s.upload_ok(doc).await;
    }
    let signed = s.state.log.current().await.unwrap().unwrap();
    assert_eq!(signed.size, 3);
    let out = tempfile::tempdir().unwrap();
    let summary = admin::export_dir(s.store.as_ref(), out.path())
        .await
        .unwrap();
    assert_eq!((summary.written, summary.leaves), (3, 3));
    let exported = log_of(s.store.as_ref()).await;

    // Under another log key: refused, nothing stored.
    let stranger = TestServer::start().await;
    let error = admin::import_dir(
        out.path(),
        ingestor(&stranger),
        &stranger.state.log,
        2,
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not signed with this server's log key"),
        "{error}"
    );
    assert_eq!(stranger.store.log_size().await.unwrap(), 0);

    for backend in [Backend::Sqlite, Backend::Postgres] {
        let key = s.config.log_key_path();
        let Some(fresh) = TestServer::start_with(backend, |c| c.log_key_file = Some(key)).await
        else {
            continue;
        };
        let summary =
            admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, r| {
                assert!(r.is_ok(), "{r:?}")
            })
            .await
            .unwrap();
        assert_eq!((summary.created, summary.refused), (3, 0));
        assert_eq!(log_of(fresh.store.as_ref()).await, exported);
        let adopted = fresh.state.log.current().await.unwrap().unwrap();
        assert_eq!(adopted.note, signed.note);
        for doc in &docs {
            let key = key_of(doc);
            assert_eq!(
                fresh.store.get(&key).await.unwrap().unwrap().accepted_at,
                s.store.get(&key).await.unwrap().unwrap().accepted_at
            );
        }
        // The log goes on: the next checkpoint is signed only as an
        // extension of the carried one.
        fresh
            .upload_ok(&Doc::with_id(NEWID).signed("2014-05-01T00:00:00Z"))
            .await;
        assert_eq!(fresh.state.log.cover(3).await.unwrap().size, 4);
        // A second run finds everything there.
        let again = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, _| {})
            .await
            .unwrap();
        assert_eq!((again.created, again.present, again.refused), (0, 3, 0));
    }

    // Altered leaves (two swapped, their indices kept): refused.
    let leaves = out.path().join(admin::LOG_DIR).join("leaves.jsonl");
    let original = std::fs::read_to_string(&leaves).unwrap();
    let mut lines: Vec<serde_json::Value> = original
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (first, second) = (lines[0]["leaf"].clone(), lines[1]["leaf"].clone());
    lines[0]["leaf"] = second;
    lines[1]["leaf"] = first;
    let altered: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&leaves, altered).unwrap();
    let fresh = with_log_key_of(&s).await;
    let error = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, _| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("altered"), "{error}");
    assert_eq!(fresh.store.log_size().await.unwrap(), 0);
    std::fs::write(&leaves, &original).unwrap();

    // The document of leaf 1 missing: the import stops there, and resumes.
    let key = key_of(&docs[1]);
    let path = admin::export_path(out.path(), &key);
    let aside = out.path().join("aside.xml.kept");
    std::fs::rename(&path, &aside).unwrap();
    let error = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, _| {})
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("whose document is not under"),
        "{error}"
    );
    assert_eq!(fresh.store.log_size().await.unwrap(), 1);
    std::fs::rename(&aside, &path).unwrap();
    let resumed = admin::import_dir(out.path(), ingestor(&fresh), &fresh.state.log, 2, |_, _| {})
        .await
        .unwrap();
    assert_eq!((resumed.created, resumed.present), (2, 1));
    assert_eq!(log_of(fresh.store.as_ref()).await, exported);
}
