//! The embedded back end: one SQLite file in WAL mode, FTS5 full text.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, SqlSafeStr, Sqlite, SqlitePool};

use crate::StoreError;
use crate::engine::{Cached, Caches, impl_store};
use crate::sql::{Arg, Db, Dialect, Sql, Tx, backend};
use crate::sqlite_read::{ReadSettings, ReadTx, Readers, Values, from_sqlx};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of the database file readers map into memory.
const MMAP_BYTES: u64 = 1 << 30;

/// The page cache of each connection, in KiB.
const CACHE_KIB: u32 = 16 * 1024;

/// Connections in the pool (readers run in parallel under WAL; writers
/// queue on SQLite's single write lock).
const MAX_CONNECTIONS: u32 = 8;

/// The store in one SQLite database file: the embedded default.
///
/// WAL journal, `synchronous = FULL` (an acknowledged put survives a crash
/// or power loss), a 30 s busy timeout, reads through a 1 GiB memory map. Puts take the write lock when they
/// begin (`BEGIN IMMEDIATE`), so check-then-insert is atomic across every
/// connection and process using the file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: std::path::PathBuf,
    /// Why the file failed its integrity check when it was opened: then
    /// nothing is written into it.
    damaged: Option<Arc<str>>,
    caches: Arc<Caches>,
    pool: SqlitePool,
    /// Reads bypass sqlx ([`crate::sqlite_read`]).
    readers: Arc<Readers>,
}

/// The migrations in `migrations/sqlite`, compiled in (the same files
/// `sqlx migrate run --source migrations/sqlite` would apply).
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
            include_str!("../migrations/sqlite/0001_init.sql"),
        ),
        migration(
            2,
            "latest documents",
            include_str!("../migrations/sqlite/0002_latest_documents.sql"),
        ),
        migration(
            3,
            "visibility",
            include_str!("../migrations/sqlite/0003_visibility.sql"),
        ),
        migration(
            4,
            "lookup index",
            include_str!("../migrations/sqlite/0004_lookup_index.sql"),
        ),
        migration(
            5,
            "endorser bindings",
            include_str!("../migrations/sqlite/0005_endorser_bindings.sql"),
        ),
        migration(
            6,
            "write probe",
            include_str!("../migrations/sqlite/0006_write_probe.sql"),
        ),
        migration(
            7,
            "transparency log",
            include_str!("../migrations/sqlite/0007_log.sql"),
        ),
        migration(
            8,
            "witnesses",
            include_str!("../migrations/sqlite/0008_witnesses.sql"),
        ),
    ])
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` and
    /// applies pending migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Reads through a memory map (no copy into the page cache, no
            // system call per page); writes are unchanged.
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A local file: nothing to test before lending a connection
            // (a ping costs a round trip to the connection's thread).
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(backend)?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating the SQLite database: {e}")))?;
        let readers = Readers::new(
            path,
            ReadSettings {
                busy_timeout: BUSY_TIMEOUT,
                mmap_bytes: MMAP_BYTES,
                cache_kib: CACHE_KIB,
                query_time: crate::MAX_QUERY_TIME,
            },
        );
        let mut store = SqliteStore {
            path: path.to_path_buf(),
            damaged: None,
            pool,
            caches: Arc::default(),
            readers,
        };
        let problems = match store.integrity(false).await {
            Ok(problems) => problems,
            // A check that cannot even run found the worst.
            Err(e) => vec![e.to_string()],
        };
        if let Some(first) = problems.first() {
            let reason = format!(
                "the database file failed its integrity check when it was opened ({} problem{}, \
                 the first: {first}); nothing is written into it: run `marketplace admin check`, \
                 save what is readable with `marketplace admin export`, and restore a backup",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            tracing::error!(file = %path.display(), %reason, "damaged store");
            store
                .caches
                .writes
                .observe::<()>(&Err(StoreError::Unavailable(reason.clone())));
            store.damaged = Some(reason.into());
        } else {
            crate::engine::log::report_backfill(crate::engine::log::backfill(&store).await?);
        }
        Ok(store)
    }

    /// Copies the database, as one consistent snapshot, to a new file at
    /// `dest` while the store stays in use (SQLite's online backup API, all
    /// pages in one step under a read transaction, so writers go on in WAL
    /// mode), checks the copy (`quick_check`) and syncs it to disk. The
    /// copy is written next to `dest` and renamed into place; an existing
    /// `dest` is an error. Returns the copy's size in bytes.
    ///
    /// Restore: stop the server and put the copy in place of
    /// `marketplace.db` (removing any `marketplace.db-wal` and `-shm`).
    pub async fn backup(&self, dest: &Path) -> Result<u64, StoreError> {
        let source = self.path.clone();
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || backup_file(&source, &dest))
            .await
            .map_err(|e| StoreError::Backend(format!("backup failed: {e}")))?
    }

    /// The connection pool (for health checks and maintenance).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// [`SqliteStore::backup`], on a blocking thread.
fn backup_file(source: &Path, dest: &Path) -> Result<u64, StoreError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Backend(format!("backup to {}: {what}: {e}", dest.display()))
    };
    if dest.exists() {
        return Err(StoreError::Backend(format!(
            "backup to {}: the file exists (choose a new name)",
            dest.display()
        )));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let from = rusqlite::Connection::open_with_flags(
        source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed("cannot open the store", &e))?;
    from.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| failed("cannot open the store", &e))?;
    let mut to = rusqlite::Connection::open(&partial).map_err(|e| failed("cannot create", &e))?;
    {
        let backup = rusqlite::backup::Backup::new(&from, &mut to)
            .map_err(|e| failed("cannot start", &e))?;
        // Every page in one step (-1): one consistent snapshot. A step
        // that finds the source locked is tried again.
        let mut tries = 0;
        loop {
            match backup.step(-1).map_err(|e| failed("copy failed", &e))? {
                rusqlite::backup::StepResult::Done => break,
                _ if tries < 300 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => return Err(failed("copy failed", &"the store stayed locked for 30 s")),
            }
        }
    }
    let problems: Vec<String> = to
        .prepare("PRAGMA quick_check(10)")
        .and_then(|mut st| {
            st.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| failed("cannot check the copy", &e))?
        .into_iter()
        .filter(|line| line != "ok")
        .collect();
    drop(to);
    if let Some(first) = problems.first() {
        let _ = std::fs::remove_file(&partial);
        return Err(failed("the copy fails its check", first));
    }
    let file = std::fs::File::open(&partial).map_err(|e| failed("cannot reopen the copy", &e))?;
    file.sync_all()
        .map_err(|e| failed("cannot sync the copy", &e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    std::fs::rename(&partial, dest).map_err(|e| failed("cannot rename the copy", &e))?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The rename itself survives a crash once the directory is synced.
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(size)
}

/// A sqlx query for `sql` with its values bound.
fn to_query(sql: Sql) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
    debug_assert_eq!(sql.dialect, Dialect::Sqlite);
    let mut q = sqlx::query(AssertSqlSafe(sql.text));
    for arg in sql.args {
        q = match arg {
            Arg::Text(v) | Arg::Json(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
            Arg::OptBytes(v) => q.bind(v),
            Arg::Time(v) => q.bind(v.timestamp_micros()),
        };
    }
    q
}

/// A SQLite transaction: writes through sqlx, reads through rusqlite.
pub(crate) enum SqliteTx {
    /// `BEGIN IMMEDIATE` on a sqlx connection.
    Write(WriteTx),
    /// A read snapshot on a rusqlite connection.
    Read(ReadTx),
}

/// A write transaction on a pooled sqlx connection, begun, committed and
/// rolled back with plain statements rather than sqlx's `Transaction`.
///
/// Why by hand: after some errors (SQLITE_FULL, SQLITE_IOERR) SQLite rolls
/// the transaction back by itself; sqlx's `Transaction` then fails its own
/// `ROLLBACK`, keeps counting the connection as inside a transaction and
/// returns it to the pool, where every later write fails ("attempted to
/// call begin_with at non-zero transaction depth") until restart. Here a
/// rollback that finds no transaction is fine, and a connection whose
/// state is unknown is closed instead of reused.
pub(crate) struct WriteTx {
    /// `None` once committed or rolled back.
    conn: Option<PoolConnection<Sqlite>>,
}

impl WriteTx {
    /// Takes a connection and the write lock (`BEGIN IMMEDIATE`).
    async fn begin(pool: &SqlitePool) -> Result<WriteTx, StoreError> {
        let mut conn = pool.acquire().await.map_err(backend)?;
        if let Err(e) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await {
            // (A connection that cannot begin is not trusted with the next.)
            conn.close_on_drop();
            return Err(backend(e));
        }
        Ok(WriteTx { conn: Some(conn) })
    }

    /// The connection, while the transaction is open.
    fn conn(&mut self) -> Result<&mut PoolConnection<Sqlite>, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("the write transaction is over".into()))
    }

    /// `COMMIT`; on failure the transaction is rolled back.
    async fn commit(mut self) -> Result<(), StoreError> {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| StoreError::Backend("the write transaction is over".into()))?;
        match sqlx::raw_sql("COMMIT").execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                rollback(conn).await;
                Err(backend(e))
            }
        }
    }
}

/// Rolls back the transaction of `conn` (SQLite may have done so itself:
/// then there is nothing to roll back, and that is fine), or closes the
/// connection when even that fails.
async fn rollback(mut conn: PoolConnection<Sqlite>) {
    if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await
        && !e.to_string().contains("no transaction is active")
    {
        tracing::warn!(error = %e, "cannot roll back a write; closing its connection");
        conn.close_on_drop();
    }
}

impl Drop for WriteTx {
    /// A transaction dropped without commit (an error, a refusal, a
    /// cancelled request) is rolled back before its connection is reused.
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(rollback(conn));
            }
            // No runtime to roll back on: closing the connection rolls the
            // transaction back.
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Tx for SqliteTx {
    type Row = Values;

    async fn fetch(&mut self, sql: Sql) -> Result<Vec<Values>, StoreError> {
        match self {
            SqliteTx::Write(tx) => to_query(sql)
                .fetch_all(&mut **tx.conn()?)
                .await
                .map_err(backend)?
                .iter()
                .map(from_sqlx)
                .collect(),
            SqliteTx::Read(tx) => tx.fetch(sql).await,
        }
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, StoreError> {
        match self {
            SqliteTx::Write(tx) => {
                let done = to_query(sql)
                    .execute(&mut **tx.conn()?)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }
            SqliteTx::Read(_) => Err(StoreError::Backend(
                "a write statement in a read transaction".into(),
            )),
        }
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            SqliteTx::Write(tx) => tx.commit().await,
            SqliteTx::Read(tx) => tx.commit(),
        }
    }
}

impl Db for SqliteStore {
    type Row = Values;
    type Tx = SqliteTx;
    const DIALECT: Dialect = Dialect::Sqlite;

    /// On the calling thread ([`crate::sqlite_read`]).
    async fn fetch(&self, sql: Sql) -> Result<Vec<Values>, StoreError> {
        debug_assert_eq!(sql.dialect, Dialect::Sqlite);
        self.readers.fetch(&sql)
    }

    /// On tokio's blocking pool ([`crate::sqlite_read`]).
    async fn fetch_scan(&self, sql: Sql) -> Result<Vec<Values>, StoreError> {
        debug_assert_eq!(sql.dialect, Dialect::Sqlite);
        self.readers.fetch_scan(sql).await
    }

    async fn execute(&self, sql: Sql) -> Result<u64, StoreError> {
        let done = to_query(sql).execute(&self.pool).await.map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn begin_read(&self) -> Result<SqliteTx, StoreError> {
        ReadTx::begin(&self.readers).map(SqliteTx::Read)
    }

    async fn begin_write(&self) -> Result<SqliteTx, StoreError> {
        if let Some(reason) = &self.damaged {
            return Err(StoreError::Unavailable(reason.to_string()));
        }
        WriteTx::begin(&self.pool).await.map(SqliteTx::Write)
    }

    /// `PRAGMA quick_check` (every page readable and well-formed, O(N)),
    /// or with `thorough` `PRAGMA integrity_check` (also every index
    /// against its table); at most [`INTEGRITY_PROBLEMS`] problems.
    async fn integrity(&self, thorough: bool) -> Result<Vec<String>, StoreError> {
        let pragma = if thorough {
            "integrity_check"
        } else {
            "quick_check"
        };
        let sql = format!("PRAGMA {pragma}({INTEGRITY_PROBLEMS})");
        let path = self.path.clone();
        // On a connection of its own, without the readers' time limit: the
        // check reads the whole file.
        tokio::task::spawn_blocking(move || -> Result<Vec<String>, StoreError> {
            let failed = |e: rusqlite::Error| StoreError::Unavailable(e.to_string());
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(failed)?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
            let mut statement = conn.prepare(&sql).map_err(failed)?;
            let lines = statement
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(failed)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(failed)?;
            Ok(lines.into_iter().filter(|line| line != "ok").collect())
        })
        .await
        .map_err(|e| StoreError::Backend(format!("integrity check failed: {e}")))?
    }
}

/// The most problems an integrity check lists.
const INTEGRITY_PROBLEMS: u32 = 100;

impl Cached for SqliteStore {
    fn caches(&self) -> &Caches {
        &self.caches
    }
}

impl_store!(SqliteStore);
