//! A database written by the first schema (documents inside `entries`,
//! "latest" computed per query) is migrated when a store opens it: the
//! documents stay byte for byte, the latest flags and the kind column are
//! derived, and the store works on as if it had written everything itself.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use std::borrow::Cow;

use common::{at, entry, id, meta};
use marketplace_store::{
    Audience, EntryKey, HistoryQuery, NewEntry, PgStore, PutOutcome, SearchQuery, SortKey,
    SqliteStore, StatusFilter, Store, StoreError,
};
use sha2::{Digest, Sha256};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

const JANE: &str = "jane@example.org";
const JOHN: &str = "john@example.org";

/// A migrator applying only the first schema (the same SQL, version and
/// description as the stores', so they take it as applied).
fn first_schema(sql: &'static str) -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("init"),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )])
}

/// The entries written with the first schema: Jane's two entries of A
/// (the newer one a disk), John's of B, and John's of C, restricted to
/// two VOs (one written with white space around it).
fn old_entries() -> Vec<NewEntry> {
    let mut restricted = meta(&id("C"), JOHN, "2020-01-01T00:00:00Z");
    restricted.visible_to = vec![" biomed\n".into(), "atlas".into()];
    let mut newer = meta(&id("A"), JANE, "2020-02-01T00:00:00Z");
    newer.kind = Some(" Disk ".into());
    newer.title = Some("Quasar image".into());
    let mut old = entry(meta(&id("A"), JANE, "2020-01-01T00:00:00Z"));
    old.document.extend_from_slice(b"\r\n\x00\xff");
    vec![
        old,
        entry(newer),
        entry(meta(&id("B"), JOHN, "2020-01-01T00:00:00Z")),
        entry(restricted),
    ]
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The columns of an `entries` row of the first schema, in order.
const V1_COLUMNS: &str = "identifier, email, created, document, document_sha256, accepted_at, \
     metadata, signer, title, title_key, description, os, deprecated, loc_web, loc_pdisk, \
     signer_subject, signer_issuer, endorser_text";

/// What the migrated store must show.
async fn check_migrated(s: &dyn Store) {
    let old = old_entries();
    for e in &old {
        assert_eq!(&s.get(&e.key).await.unwrap().unwrap().entry, e);
    }
    // The entries stored before the log existed were appended to it once,
    // in acceptance order, when the store opened; the restricted one as a
    // commitment.
    assert_eq!(s.log_size().await.unwrap(), old.len() as u64);
    for (i, e) in old.iter().enumerate() {
        let position = s.log_position(&e.key).await.unwrap().expect("logged");
        assert_eq!(position.index, i as u64, "{}", e.key);
        assert_eq!(position.opening.is_some(), i == 3, "{}", e.key);
    }
    let now = at("2021-01-01T00:00:00Z");
    let all = SearchQuery {
        status: StatusFilter::All,
        sort: SortKey::Identifier,
        ..SearchQuery::default()
    };
    let page = s.search(&all, now).await.unwrap();
    let latest: Vec<&EntryKey> = page.entries.iter().map(|e| &e.key).collect();
    assert_eq!(latest, [&old[1].key, &old[2].key]);
    // C is restricted: its members see it, nobody else does.
    for (audience, seen) in [
        (Audience::members(["biomed"]), 3),
        (Audience::members(["atlas", "x"]), 3),
        (Audience::members(["x"]), 2),
        (Audience::Everything, 3),
    ] {
        let q = SearchQuery {
            audience: audience.clone(),
            ..all.clone()
        };
        let page = s.search(&q, now).await.unwrap();
        assert_eq!((page.total, page.matching), (seen, seen), "{audience:?}");
    }
    assert!(
        s.get_visible(&old[3].key, &Audience::Public)
            .await
            .unwrap()
            .is_none()
    );
    let history = s
        .history(&HistoryQuery {
            identifier: Some(id("A")),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|e| e.latest).collect::<Vec<_>>(),
        [true, false]
    );
    let disks = s
        .search(
            &SearchQuery {
                kind: Some("disk".into()),
                ..all.clone()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(disks.entries.len(), 1);
    assert_eq!(disks.entries[0].key, old[1].key);
    let text = s
        .search(
            &SearchQuery {
                text: Some("quasar".into()),
                ..all.clone()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(text.matching, 1);
    // Puts go on from there.
    assert_eq!(
        s.put(old[0].clone()).await.unwrap(),
        PutOutcome::AlreadyPresent
    );
    assert!(matches!(
        s.put(entry(meta(&id("A"), JANE, "2020-01-15T00:00:00Z")))
            .await,
        Err(StoreError::OlderThanLatest { .. })
    ));
    put_created(s, meta(&id("A"), JANE, "2020-03-01T00:00:00Z")).await;
    let page = s.search(&all, now).await.unwrap();
    assert_eq!(page.matching, 2);
    assert_eq!(page.entries[0].key.created, "2020-03-01T00:00:00Z");
    assert_eq!(s.count().await.unwrap(), 5);
    assert_eq!(s.log_size().await.unwrap(), 5);
}

async fn put_created(s: &dyn Store, m: marketplace_format::Metadata) {
    assert_eq!(s.put(entry(m)).await.unwrap(), PutOutcome::Created);
}

#[tokio::test]
async fn sqlite_database_of_the_first_schema_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    first_schema(include_str!("../migrations/sqlite/0001_init.sql"))
        .run(&pool)
        .await
        .unwrap();
    for (i, e) in old_entries().into_iter().enumerate() {
        let m = &e.metadata;
        let seq: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "INSERT INTO entries ({V1_COLUMNS}) VALUES \
             (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?) RETURNING seq"
        )))
        .bind(e.key.identifier.as_str())
        .bind(e.key.email.as_str())
        .bind(e.key.created.as_str())
        .bind(&e.document)
        .bind(sha256_hex(&e.document))
        .bind(1_600_000_000_000_000i64 + i as i64)
        .bind(serde_json::to_string(m).unwrap())
        .bind(serde_json::to_string(&e.signer).unwrap())
        .bind(&m.title)
        .bind(m.title.as_ref().map(|t| t.to_lowercase()))
        .bind(&m.description)
        .bind(m.os.as_ref().map(|t| t.to_lowercase()))
        .bind(m.deprecated.is_some())
        .bind(&e.signer.subject)
        .bind(&e.signer.issuer)
        .bind(e.key.email.as_str())
        .fetch_one(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO entries_fts (rowid, title, endorser) VALUES (?, ?, ?)")
            .bind(seq)
            .bind(&m.title)
            .bind(e.key.email.as_str())
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    check_migrated(&store).await;
    store.close().await;
    // And it opens again (nothing left to migrate).
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 5);
}

#[tokio::test]
async fn postgres_database_of_the_first_schema_is_migrated() {
    let Some((options, _guard)) = marketplace_test_pki::pg::schema().await else {
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    first_schema(include_str!("../migrations/postgres/0001_init.sql"))
        .run(&pool)
        .await
        .unwrap();
    for (i, e) in old_entries().into_iter().enumerate() {
        let m = &e.metadata;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO entries ({V1_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, CAST($7 AS jsonb), CAST($8 AS jsonb), $9, $10, $11, \
             $12, $13, TRUE, FALSE, $14, $15, $16)"
        )))
        .bind(e.key.identifier.as_str())
        .bind(e.key.email.as_str())
        .bind(e.key.created.as_str())
        .bind(&e.document)
        .bind(sha256_hex(&e.document))
        .bind(at("2020-09-13T12:26:40Z") + chrono::Duration::microseconds(i as i64))
        .bind(serde_json::to_string(m).unwrap())
        .bind(serde_json::to_string(&e.signer).unwrap())
        .bind(&m.title)
        .bind(m.title.as_ref().map(|t| t.to_lowercase()))
        .bind(&m.description)
        .bind(m.os.as_ref().map(|t| t.to_lowercase()))
        .bind(m.deprecated.is_some())
        .bind(&e.signer.subject)
        .bind(&e.signer.issuer)
        .bind(e.key.email.as_str())
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = PgStore::connect_with(options.clone()).await.unwrap();
    check_migrated(&store).await;
    store.close().await;
    let again = PgStore::connect_with(options).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 5);
    again.close().await;
}

/// Every statement of a PostgreSQL store's pool is time-limited
/// (`statement_timeout` = `MAX_QUERY_TIME`), the test schema's search_path
/// kept beside it.
#[tokio::test]
async fn postgres_statements_are_time_limited() {
    let Some((options, _guard)) = marketplace_test_pki::pg::schema().await else {
        return;
    };
    let store = PgStore::connect_with(options).await.unwrap();
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        timeout,
        format!("{}s", marketplace_store::MAX_QUERY_TIME.as_secs())
    );
    assert_eq!(store.count().await.unwrap(), 0);
}
