//! `admin import`, `admin export` and `admin rebuild-index` through the
//! library functions the CLI calls.

mod common;

use common::*;
use marketplace_server::admin;
use marketplace_server::clock::Clock;
use marketplace_server::ingest::{IngestOutcome, Ingestor, Policy};
use marketplace_server::state::TrustSettings;
use std::path::Path;
use std::sync::Arc;

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
    let summary = admin::import_dir(source.path(), ingestor(&s), 3, |path, result| {
        lines.push((path.to_path_buf(), result.clone()));
    })
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
    let again = admin::import_dir(source.path(), ingestor(&s), 2, |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.created, again.present, again.refused), (0, 5, 2));

    // Export writes the documents byte for byte.
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        admin::export_dir(s.store.as_ref(), out.path())
            .await
            .unwrap(),
        5
    );
    for (created, doc) in history.iter().zip(&docs) {
        let written =
            std::fs::read_to_string(out.path().join(format!("{BEE8}/{JANE}/{created}.xml")))
                .unwrap();
        assert_eq!(&written, doc);
    }

    // The export imports into a fresh store.
    let fresh = TestServer::start().await;
    let summary = admin::import_dir(out.path(), ingestor(&fresh), 4, |_, r| {
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
    let written = admin::export_dir(s.store.as_ref(), out.path())
        .await
        .unwrap();
    assert_eq!(written, 2);
    let path = out.path().join(format!(
        "{BEE8}/ops%2Fteam%251@example.org/2014-01-01T00:00:00Z.xml"
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), doc);

    let fresh = TestServer::start().await;
    let summary = admin::import_dir(out.path(), ingestor(&fresh), 2, |_, r| {
        assert!(r.is_ok(), "{r:?}");
    })
    .await
    .unwrap();
    assert_eq!(summary.created, 2);
    let key = marketplace_store::EntryKey {
        identifier: BEE8.into(),
        email: email.into(),
        created: "2014-01-01T00:00:00Z".into(),
    };
    let stored = fresh.store.get(&key).await.unwrap().expect("imported");
    assert_eq!(stored.entry.document, doc.as_bytes());
}
