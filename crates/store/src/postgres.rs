//! The scale-out back end: several servers sharing one PostgreSQL database,
//! full text by a generated `tsvector` column with a GIN index.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::Connection;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row, SqlSafeStr, Transaction};

use crate::StoreError;
use crate::engine::{Cached, Caches, impl_store};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx, backend, decode};

/// Connections in the pool of one server process.
const MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits for a pooled connection (connecting anew if
/// need be) before the store is reported unavailable.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The store in a PostgreSQL database shared by several server processes.
///
/// A put holds a transaction-scoped advisory lock on its (identifier,
/// e-mail) while it checks and inserts, so puts of the same pair serialise
/// across processes; inserts then take a second, global advisory lock so
/// that sequence order is commit order. Tables live in the connection's
/// `search_path` schema (by default `public`).
#[derive(Debug, Clone)]
pub struct PgStore {
    caches: Arc<Caches>,
    pool: PgPool,
}

/// The migrations in `migrations/postgres`, compiled in (the same files
/// `sqlx migrate run --source migrations/postgres` would apply).
fn migrator() -> Migrator {
    let migration = |version: i64, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )
    };
    Migrator::with_migrations(vec![
        migration(
            1,
            "init",
            include_str!("../migrations/postgres/0001_init.sql"),
        ),
        migration(
            2,
            "latest documents",
            include_str!("../migrations/postgres/0002_latest_documents.sql"),
        ),
        migration(
            3,
            "visibility",
            include_str!("../migrations/postgres/0003_visibility.sql"),
        ),
        migration(
            4,
            "lookup index",
            include_str!("../migrations/postgres/0004_lookup_index.sql"),
        ),
        migration(
            5,
            "endorser bindings",
            include_str!("../migrations/postgres/0005_endorser_bindings.sql"),
        ),
        migration(
            6,
            "write probe",
            include_str!("../migrations/postgres/0006_write_probe.sql"),
        ),
        migration(
            7,
            "transparency log",
            include_str!("../migrations/postgres/0007_log.sql"),
        ),
        migration(
            8,
            "witnesses",
            include_str!("../migrations/postgres/0008_witnesses.sql"),
        ),
    ])
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// and applies pending migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        PgStore::connect_with(options).await
    }

    /// Connects with explicit options (e.g. a `search_path` set with
    /// [`PgConnectOptions::options`]) and applies pending migrations.
    ///
    /// Every statement of the pool's connections is cancelled after
    /// [`crate::MAX_QUERY_TIME`] (`statement_timeout`); migrations run on a
    /// connection of their own, without that limit.
    pub async fn connect_with(options: PgConnectOptions) -> Result<PgStore, StoreError> {
        let mut migrating = PgConnection::connect_with(&options)
            .await
            .map_err(backend)?;
        migrator()
            .run(&mut migrating)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating the PostgreSQL database: {e}")))?;
        migrating.close().await.map_err(backend)?;
        let timeout = format!("{}ms", crate::MAX_QUERY_TIME.as_millis());
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // While the server is down (restarting, unreachable), a request
            // waits this long for a connection and is then told to come
            // back (`StoreError::Unavailable`, 503) instead of holding its
            // client until the request timeout. Connections are checked
            // before use, so those of a restarted server are replaced.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.options([("statement_timeout", timeout.as_str())]))
            .await
            .map_err(backend)?;
        let store = PgStore {
            pool,
            caches: Arc::default(),
        };
        crate::engine::log::report_backfill(crate::engine::log::backfill(&store).await?);
        Ok(store)
    }

    /// The connection pool (for health checks and maintenance).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A sqlx query for `sql` with its values bound.
fn to_query(sql: Sql) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    debug_assert_eq!(sql.dialect, Dialect::Postgres);
    let mut q = sqlx::query(AssertSqlSafe(sql.text));
    for arg in sql.args {
        q = match arg {
            Arg::Text(v) | Arg::Json(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
            Arg::OptBytes(v) => q.bind(v),
            Arg::Time(v) => q.bind(v),
        };
    }
    q
}

impl RowRead for PgRow {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn boolean(&self, i: usize) -> Result<bool, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.try_get(i).map_err(|e| decode(i, e))
    }

    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        self.try_get::<Json<T>, _>(i)
            .map(|j| j.0)
            .map_err(|e| decode(i, e))
    }
}

/// A PostgreSQL transaction.
pub(crate) struct PgTx(Transaction<'static, Postgres>);

impl Tx for PgTx {
    type Row = PgRow;

    async fn fetch(&mut self, sql: Sql) -> Result<Vec<PgRow>, StoreError> {
        to_query(sql).fetch_all(&mut *self.0).await.map_err(backend)
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, StoreError> {
        let done = to_query(sql).execute(&mut *self.0).await.map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await.map_err(backend)
    }
}

impl Db for PgStore {
    type Row = PgRow;
    type Tx = PgTx;
    const DIALECT: Dialect = Dialect::Postgres;

    async fn fetch(&self, sql: Sql) -> Result<Vec<PgRow>, StoreError> {
        to_query(sql).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn execute(&self, sql: Sql) -> Result<u64, StoreError> {
        let done = to_query(sql).execute(&self.pool).await.map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn begin_read(&self) -> Result<PgTx, StoreError> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map(PgTx)
            .map_err(backend)
    }

    async fn begin_write(&self) -> Result<PgTx, StoreError> {
        self.pool.begin().await.map(PgTx).map_err(backend)
    }

    /// The server checks its own pages (data checksums, WAL replay); what
    /// a client can add is that every table answers.
    async fn integrity(&self, _thorough: bool) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        for table in [
            "entries",
            "documents",
            "pending",
            "endorser_bindings",
            "store_meta",
        ] {
            let mut s = Sql::new(Dialect::Postgres);
            s.push("SELECT 1 FROM ").push(table).push(" LIMIT 1");
            if let Err(e) = self.fetch(s).await {
                problems.push(format!("table {table}: {e}"));
            }
        }
        Ok(problems)
    }
}

impl Cached for PgStore {
    fn caches(&self) -> &Caches {
        &self.caches
    }
}

impl_store!(PgStore);
