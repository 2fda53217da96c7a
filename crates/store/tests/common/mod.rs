//! Test harness: a fresh store per test on either back end, and builders of
//! entries.
//!
//! SQLite runs in a temporary directory. PostgreSQL runs in a schema of its
//! own per test, from [`marketplace_test_pki::pg::schema`] (the one
//! PostgreSQL harness of the workspace: `MARKETPLACE_TEST_DATABASE_URL`,
//! dropped at the end, skipped outside CI when unreachable).

#![allow(dead_code, unused_macros)]

/// Generates one `#[tokio::test]` per case in module `$backend`, on a fresh
/// store of that back end.
macro_rules! cases {
    ($backend:ident: $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(h) = crate::common::$backend().await else { return };
                    super::$case(&h).await;
                }
            )*
        }
    };
}

/// The same cases on both back ends.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        cases!(sqlite: $($case),*);
        cases!(postgres: $($case),*);
    };
}

use chrono::{DateTime, Utc};
use marketplace_format::{Endorsement, Endorser, Metadata};
use marketplace_store::{NewEntry, PgStore, Signer, SqliteStore, Store};
use sqlx::postgres::PgConnectOptions;

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
        _guard: Box<marketplace_test_pki::pg::SchemaGuard>,
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

/// A fresh PostgreSQL store in its own schema, or `None` (skipped) when
/// the server cannot be reached outside CI.
pub async fn postgres() -> Option<Harness> {
    let (options, guard) = marketplace_test_pki::pg::schema().await?;
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
        key: marketplace_store::EntryKey::parse(
            &m.identifier,
            &endorsement.endorser.email,
            &endorsement.created,
        )
        .expect("well-formed coordinates"),
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
