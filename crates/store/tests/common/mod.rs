//! Test harness: a fresh store per test on either back end, and builders of
//! entries.
//!
//! SQLite runs in a temporary directory. PostgreSQL runs at
//! `MARKETPLACE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in its own schema
//! `test_<pid>_<nanos>_<n>` (the connections' `search_path`), dropped at the
//! end even when the test fails. When PostgreSQL cannot be reached the PG
//! tests pass with "skipped: ..." unless `CI=true`, where they fail.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use marketplace_format::{Endorsement, Endorser, Metadata};
use marketplace_store::{NewEntry, PgStore, Signer, SqliteStore, Store};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor};

/// Default URL of the test PostgreSQL.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store under test, and what it takes to open a second one on the same
/// database (another "process").
pub enum Harness {
    /// SQLite in a temporary directory.
    Sqlite {
        /// Keeps the directory alive.
        dir: tempfile::TempDir,
        /// The store.
        store: SqliteStore,
    },
    /// PostgreSQL in a private schema.
    Pg {
        /// The store.
        store: PgStore,
        /// Options with the schema's search_path.
        options: Box<PgConnectOptions>,
        /// Drops the schema at the end.
        _guard: Box<SchemaGuard>,
    },
}

impl Harness {
    /// The store.
    pub fn store(&self) -> &dyn Store {
        match self {
            Harness::Sqlite { store, .. } => store,
            Harness::Pg { store, .. } => store,
        }
    }

    /// Another store on the same database, with its own connections.
    pub async fn second(&self) -> Box<dyn Store> {
        match self {
            Harness::Sqlite { dir, .. } => Box::new(
                SqliteStore::open(dir.path().join("store.db"))
                    .await
                    .expect("reopen SQLite"),
            ),
            Harness::Pg { options, .. } => Box::new(
                PgStore::connect_with((**options).clone())
                    .await
                    .expect("second PgStore"),
            ),
        }
    }

    /// The back end's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Harness::Sqlite { .. } => "sqlite",
            Harness::Pg { .. } => "postgres",
        }
    }
}

/// A fresh SQLite store.
pub async fn sqlite() -> Option<Harness> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .expect("open SQLite store");
    Some(Harness::Sqlite { dir, store })
}

/// Drops a test schema when dropped (on a thread of its own, so that it
/// also runs while a failed test unwinds inside the test's runtime).
pub struct SchemaGuard {
    options: PgConnectOptions,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let options = self.options.clone();
        let schema = self.schema.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await?;
                // The schema name is ours (letters, digits, underscores):
                // identifiers cannot be bound.
                pool.execute(AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("warning: could not drop test schema {}: {e}", self.schema);
        }
    }
}

/// A unique schema name.
fn schema_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, empty PostgreSQL schema: connection options whose
/// `search_path` is that schema, and the guard that drops it; `None`
/// (skipped) when the server cannot be reached outside CI.
pub async fn pg_schema() -> Option<(PgConnectOptions, SchemaGuard)> {
    // Once a test found the server unreachable, the others skip at once.
    static UNREACHABLE: AtomicBool = AtomicBool::new(false);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let url = std::env::var("MARKETPLACE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    if UNREACHABLE.load(Ordering::Relaxed) && !ci {
        marketplace_test_pki::skip(&format!("PostgreSQL not reachable at {url}"));
        return None;
    }
    let base = PgConnectOptions::from_str(&url)
        .expect("MARKETPLACE_TEST_DATABASE_URL is not a PostgreSQL URL");
    let admin = match PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(base.clone())
        .await
    {
        Ok(pool) => pool,
        Err(e) => {
            if !ci {
                UNREACHABLE.store(true, Ordering::Relaxed);
            }
            marketplace_test_pki::skip(&format!("PostgreSQL not reachable at {url}: {e}"));
            return None;
        }
    };
    let schema = schema_name();
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create test schema");
    admin.close().await;
    let guard = SchemaGuard {
        options: base.clone(),
        schema: schema.clone(),
    };
    Some((base.options([("search_path", schema.as_str())]), guard))
}

/// A fresh PostgreSQL store in its own schema, or `None` (skipped) when
/// the server cannot be reached outside CI.
pub async fn postgres() -> Option<Harness> {
    let (options, guard) = pg_schema().await?;
    let store = PgStore::connect_with(options.clone())
        .await
        .expect("connect PgStore");
    Some(Harness::Pg {
        store,
        options: Box::new(options),
        _guard: Box::new(guard),
    })
}

/// An instant from `YYYY-MM-DDTHH:MM:SSZ`.
pub fn at(text: &str) -> DateTime<Utc> {
    marketplace_format::datetime::parse_utc(text).expect("test instant")
}

/// A 27-character identifier made from `name`.
pub fn id(name: &str) -> String {
    format!("{name:_<27}")
}

/// Metadata of a valid, web-located image endorsed by `email` at `created`.
pub fn meta(identifier: &str, email: &str, created: &str) -> Metadata {
    Metadata {
        identifier: identifier.to_owned(),
        valid: Some("2100-01-01T00:00:00Z".into()),
        title: Some(format!("Image {identifier}")),
        description: Some("A plain test image.".into()),
        kind_type: Some("machine".into()),
        format: Some("qcow2".into()),
        os: Some("Debian".into()),
        os_version: Some("12".into()),
        os_arch: Some("x86_64".into()),
        hypervisor: Some("kvm".into()),
        bytes: Some(1024),
        locations: vec!["http://example.org/image.qcow2".into()],
        endorsement: Some(Endorsement {
            created: created.to_owned(),
            endorser: Endorser {
                email: email.to_owned(),
                subject: format!("CN={email},O=Test"),
                issuers: vec!["CN=Test CA".into()],
                email_unverified: false,
            },
        }),
        ..Metadata::default()
    }
}

/// The entry for `m`: its document written by the format crate, signed
/// (notionally) by the endorser's certificate.
pub fn entry(m: Metadata) -> NewEntry {
    let endorsement = m.endorsement.clone().unwrap_or_default();
    NewEntry {
        key: marketplace_store::EntryKey {
            identifier: m.identifier.clone(),
            email: endorsement.endorser.email.clone(),
            created: endorsement.created.clone(),
        },
        document: marketplace_format::write::to_xml(&m).into_bytes(),
        signer: Signer {
            subject: endorsement.endorser.subject.clone(),
            issuer: endorsement
                .endorser
                .issuers
                .first()
                .cloned()
                .unwrap_or_default(),
            email_certified: true,
            chained: true,
            // One notional key per subject: entries of one endorser continue
            // its binding.
            key_sha256: format!("key of {}", endorsement.endorser.subject),
            vo: None,
            fqans: Vec::new(),
        },
        metadata: m,
    }
}

/// Stores `m` and asserts it was created.
pub async fn put(store: &dyn Store, m: Metadata) -> NewEntry {
    let e = entry(m);
    let outcome = store.put(e.clone()).await.expect("put");
    assert_eq!(
        outcome,
        marketplace_store::PutOutcome::Created,
        "put {}",
        e.key
    );
    e
}
