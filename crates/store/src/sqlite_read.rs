//! Reads of the SQLite file through rusqlite, without sqlx's thread hops.
//!
//! sqlx runs every SQLite connection on a thread of its own: each statement
//! is sent to that thread and its rows are sent back, two or more thread
//! switches per statement. For the read that dominates a registry's traffic
//! — a site's check `GET /metadata/{id}`, one indexed statement of a few
//! tens of microseconds — those switches cost more than the query (measured:
//! 46 % of the server's CPU was the kernel switching threads). No crate
//! offers an async SQLite pool that runs statements on the caller's thread,
//! hence this small pool of read-only rusqlite connections (the same
//! libsqlite3 that sqlx links):
//!
//! - a single statement ([`crate::sql::Db::fetch`]) runs on the calling
//!   thread: those statements are bounded (indexed lookups and pages with a
//!   `LIMIT`) and a read never waits for a lock under WAL;
//! - a statement that may read much of a table ([`crate::sql::Db::fetch_scan`],
//!   e.g. the endorsers, an aggregate over every entry) and a read
//!   transaction (text search, counts) run on tokio's blocking pool, since
//!   they can take milliseconds.
//!
//! Writes stay on sqlx (`BEGIN IMMEDIATE`, `synchronous = FULL`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use serde::de::DeserializeOwned;

use crate::StoreError;
#[cfg(doc)]
use crate::query::MAX_QUERY_TIME;
use crate::query::too_long;
use crate::sql::{Arg, RowRead, Sql, decode};

/// SQLite calls the progress handler after about this many VM steps.
const PROGRESS_STEPS: i32 = 10_000;

/// Nanoseconds since the first call (a monotonic clock as a number).
fn nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Idle connections kept for reuse (more may be open while busy).
const MAX_IDLE: usize = 16;

/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

/// How the read connections are set up (the writer's settings that matter
/// to a reader).
#[derive(Debug, Clone)]
pub(crate) struct ReadSettings {
    /// How long a statement waits when the WAL index is being rebuilt.
    pub busy_timeout: std::time::Duration,
    /// `PRAGMA mmap_size`.
    pub mmap_bytes: u64,
    /// `PRAGMA cache_size` in KiB.
    pub cache_kib: u32,
    /// The longest a statement may run ([`MAX_QUERY_TIME`]).
    pub query_time: std::time::Duration,
}

/// A pool of read-only connections to one database file.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    settings: ReadSettings,
    idle: Mutex<Vec<ReadConnection>>,
    /// Stops with the pool.
    _holder: Option<LockHolder>,
}

/// How long the [`LockHolder`] keeps one snapshot before taking a newer
/// one.
const HOLD_RENEWAL: std::time::Duration = std::time::Duration::from_millis(50);

/// The WAL size, in frames, above which the [`LockHolder`] steps aside: SQLite's own checkpoint size
/// (`wal_autocheckpoint`, 1000 pages).
const HOLD_WAL_FRAMES: i64 = 1000;

/// Keeps this process's shared locks on the database taken, so that the
/// pool's statements take and release them in memory.
///
/// SQLite's unix VFS counts a file's locks per process: a statement that
/// finds no other connection of the process holding the database's shared
/// lock, or the WAL read lock of its snapshot, takes it with `fcntl` — and
/// releases it with `fcntl` when it ends — while holding a process-wide
/// mutex, on which the other reading threads then wait. With two threads
/// answering lookups that was about one `fcntl` and one futex wait per
/// lookup (strace) and a tenth of its time (perf). This thread keeps a
/// read transaction open on a connection of its own, renewed every
/// [`HOLD_RENEWAL`]: the pool's statements then find the locks held and
/// only count. Each statement still reads the newest snapshot (a read
/// transaction picks its own).
///
/// A held snapshot keeps a checkpoint from copying the frames written
/// after it into the database, and the WAL restarts only once every frame
/// is copied: with the snapshot always held, SQLite's own checkpoints
/// (after a commit, which by then is newer than the snapshot) would never
/// catch up and the WAL would grow without end. So between two holds,
/// holding nothing, the thread checkpoints itself (`PASSIVE`: it copies
/// what no other reader still needs, never waits), and the next write
/// restarts the WAL. Under writes that follow each other without a pause
/// (an import), a write transaction is nearly always open and the WAL
/// would still not restart: while the WAL holds more than
/// [`HOLD_WAL_FRAMES`] frames, the thread holds nothing, leaving SQLite's
/// own checkpoints to restart it.
#[derive(Debug)]
struct LockHolder {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LockHolder {
    /// Starts holding the locks of the database at `path` (none if the
    /// thread cannot start: reads then take their locks themselves).
    fn start(path: &Path, settings: &ReadSettings) -> Option<LockHolder> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let path = path.to_path_buf();
        let busy_timeout = settings.busy_timeout;
        let thread = std::thread::Builder::new()
            .name("sqlite-lock-holder".into())
            .spawn(move || hold(&path, busy_timeout, &stopped))
            .map_err(|e| tracing::warn!(error = %e, "cannot start the SQLite lock holder"))
            .ok()?;
        Some(LockHolder {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The [`LockHolder`]'s thread: a read transaction renewed every
/// [`HOLD_RENEWAL`] until `stopped` is closed. A failure (the file busy
/// past the timeout) is retried at the next renewal.
fn hold(path: &Path, busy_timeout: std::time::Duration, stopped: &std::sync::mpsc::Receiver<()>) {
    // Read-write for the checkpoints (it never writes a row).
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(path, flags) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "the SQLite lock holder cannot open the database");
            return;
        }
    };
    let _ = conn.busy_timeout(busy_timeout);
    let mut step_aside = false;
    loop {
        if !step_aside {
            // A deferred BEGIN takes no lock: the first read does.
            let held = conn.execute_batch("BEGIN").and_then(|()| {
                conn.query_row("SELECT COUNT(*) FROM store_meta", [], |r| {
                    r.get::<_, i64>(0)
                })
            });
            if let Err(e) = held {
                tracing::debug!(error = %e, "the SQLite lock holder could not read; retrying");
            }
        }
        let done = !matches!(
            stopped.recv_timeout(HOLD_RENEWAL),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("COMMIT");
        }
        if done {
            return;
        }
        // (busy, frames in the WAL, frames copied into the database)
        let checkpoint =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
        step_aside = match checkpoint {
            Ok(frames) => frames > HOLD_WAL_FRAMES,
            Err(e) => {
                tracing::debug!(error = %e, "the SQLite lock holder could not checkpoint");
                false
            }
        };
    }
}

/// A read-only connection and the deadline its progress handler checks
/// ([`nanos`] after which the running statement is interrupted; 0: none).
#[derive(Debug)]
struct ReadConnection {
    conn: Connection,
    deadline: Arc<AtomicU64>,
}

impl Readers {
    /// A pool for the database at `path` (connections open on demand).
    pub(crate) fn new(path: &Path, settings: ReadSettings) -> Arc<Readers> {
        Arc::new(Readers {
            path: path.to_path_buf(),
            _holder: LockHolder::start(path, &settings),
            settings,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// A connection: an idle one, or a new one.
    pub(crate) fn take(self: &Arc<Self>) -> Result<Reader, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        Ok(Reader {
            conn: Some(conn),
            home: Arc::clone(self),
        })
    }

    fn open(&self) -> Result<ReadConnection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(failed)?;
        conn.busy_timeout(self.settings.busy_timeout)
            .map_err(failed)?;
        conn.pragma_update(
            None,
            "mmap_size",
            i64::try_from(self.settings.mmap_bytes).unwrap_or(i64::MAX),
        )
        .map_err(failed)?;
        conn.pragma_update(None, "cache_size", -i64::from(self.settings.cache_kib))
            .map_err(failed)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let deadline = Arc::new(AtomicU64::new(0));
        let watched = Arc::clone(&deadline);
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let at = watched.load(Ordering::Relaxed);
                at != 0 && nanos() > at
            }),
        )
        .map_err(failed)?;
        Ok(ReadConnection { conn, deadline })
    }

    /// Runs one statement on the calling thread.
    pub(crate) fn fetch(self: &Arc<Self>, sql: &Sql) -> Result<Vec<Values>, StoreError> {
        self.take()?.query(sql)
    }

    /// Runs one statement that may read much of a table on tokio's
    /// blocking pool.
    pub(crate) async fn fetch_scan(self: &Arc<Self>, sql: Sql) -> Result<Vec<Values>, StoreError> {
        on_blocking_pool(self.take()?, sql).await?.1
    }
}

/// Runs `sql` with `reader` on tokio's blocking pool; gives the reader
/// back with the rows.
async fn on_blocking_pool(
    reader: Reader,
    sql: Sql,
) -> Result<(Reader, Result<Vec<Values>, StoreError>), StoreError> {
    tokio::task::spawn_blocking(move || {
        let rows = reader.query(&sql);
        (reader, rows)
    })
    .await
    .map_err(|e| StoreError::Backend(format!("read statement failed: {e}")))
}

/// A connection lent by [`Readers`]; it goes back to the pool when dropped
/// (an open transaction is rolled back first).
#[derive(Debug)]
pub(crate) struct Reader {
    conn: Option<ReadConnection>,
    home: Arc<Readers>,
}

impl Reader {
    // A `Reader` holds its connection from the pool's lending until its drop
    // gives it back: `conn` is `None` only inside `drop`.
    #[allow(clippy::expect_used)]
    fn read(&self) -> &ReadConnection {
        self.conn
            .as_ref()
            .expect("a lent reader has its connection")
    }

    /// Runs `sql` and returns every row; a statement still running after
    /// [`MAX_QUERY_TIME`] is interrupted.
    pub(crate) fn query(&self, sql: &Sql) -> Result<Vec<Values>, StoreError> {
        let deadline = &self.read().deadline;
        let limit = u64::try_from(self.home.settings.query_time.as_nanos()).unwrap_or(u64::MAX);
        deadline.store(nanos().saturating_add(limit).max(1), Ordering::Relaxed);
        let rows = self.run(sql);
        deadline.store(0, Ordering::Relaxed);
        rows.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => too_long(),
            _ => failed(e),
        })
    }

    fn run(&self, sql: &Sql) -> Result<Vec<Values>, rusqlite::Error> {
        let mut statement = self.read().conn.prepare_cached(&sql.text)?;
        for (i, arg) in sql.args.iter().enumerate() {
            let index = i + 1;
            match arg {
                Arg::Text(v) | Arg::Json(v) => statement.raw_bind_parameter(index, v),
                Arg::OptText(v) => statement.raw_bind_parameter(index, v),
                Arg::Int(v) => statement.raw_bind_parameter(index, v),
                Arg::Bool(v) => statement.raw_bind_parameter(index, v),
                Arg::Bytes(v) => statement.raw_bind_parameter(index, v),
                Arg::OptBytes(v) => statement.raw_bind_parameter(index, v),
                Arg::Time(v) => statement.raw_bind_parameter(index, v.timestamp_micros()),
            }?;
        }
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let values = (0..columns)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Values(values));
        }
        Ok(out)
    }

    /// Runs statements that return nothing (`BEGIN`, `COMMIT`).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.read().conn.execute_batch(sql).map_err(failed)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if !conn.conn.is_autocommit() && conn.conn.execute_batch("ROLLBACK").is_err() {
            return; // a connection in an unknown state is closed, not reused
        }
        let mut idle = self.home.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// A read transaction: one snapshot over several statements, each run on
/// tokio's blocking pool.
#[derive(Debug)]
pub(crate) struct ReadTx {
    reader: Option<Reader>,
}

impl ReadTx {
    /// Begins a (deferred) read transaction.
    pub(crate) fn begin(readers: &Arc<Readers>) -> Result<ReadTx, StoreError> {
        let reader = readers.take()?;
        reader.batch("BEGIN")?;
        Ok(ReadTx {
            reader: Some(reader),
        })
    }

    /// Runs `sql` inside the transaction.
    pub(crate) async fn fetch(&mut self, sql: Sql) -> Result<Vec<Values>, StoreError> {
        let reader = self
            .reader
            .take()
            .ok_or_else(|| StoreError::Backend("read transaction lost its connection".into()))?;
        let (reader, rows) = on_blocking_pool(reader, sql).await?;
        self.reader = Some(reader);
        rows
    }

    /// Ends the transaction.
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        match self.reader.take() {
            Some(reader) => reader.batch("COMMIT"),
            None => Ok(()),
        }
    }
}

/// One row, owned: the values of its columns.
#[derive(Debug, Clone)]
pub(crate) struct Values(pub Vec<Value>);

impl Values {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0.get(i).ok_or_else(|| decode(i, "no such column"))
    }
}

fn wrong(i: usize, wanted: &str, got: &Value) -> StoreError {
    decode(i, format!("expected {wanted}, found {:?}", got.data_type()))
}

impl RowRead for Values {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.at(i)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(wrong(i, "text", other)),
        }
    }

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.at(i)? {
            Value::Integer(n) => Ok(*n),
            other => Err(wrong(i, "an integer", other)),
        }
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Real(x) => Ok(Some(*x)),
            // SQLite stores a whole REAL as an integer.
            Value::Integer(n) => Ok(Some(*n as f64)),
            other => Err(wrong(i, "a number", other)),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }

    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.bytes(i).map(Some),
        }
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(wrong(i, "bytes", other)),
        }
    }

    fn take_bytes(&mut self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.0.get_mut(i) {
            Some(Value::Blob(b)) => Ok(std::mem::take(b)),
            _ => self.bytes(i),
        }
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        DateTime::from_timestamp_micros(self.int(i)?)
            .ok_or_else(|| decode(i, "instant out of range"))
    }

    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        match self.at(i)? {
            Value::Text(s) => serde_json::from_str(s).map_err(|e| decode(i, e)),
            other => Err(wrong(i, "JSON text", other)),
        }
    }
}

/// Rows read by sqlx (inside a write transaction) as [`Values`].
pub(crate) fn from_sqlx(row: &sqlx::sqlite::SqliteRow) -> Result<Values, StoreError> {
    use sqlx::{Row, TypeInfo, ValueRef};
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(|e| decode(i, e))?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let value = match raw.type_info().name() {
                "INTEGER" | "BOOLEAN" => Value::Integer(row.try_get(i).map_err(|e| decode(i, e))?),
                "REAL" => Value::Real(row.try_get(i).map_err(|e| decode(i, e))?),
                "BLOB" => Value::Blob(row.try_get(i).map_err(|e| decode(i, e))?),
                _ => Value::Text(row.try_get(i).map_err(|e| decode(i, e))?),
            };
            Ok(value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Values)
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("SQLite read failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;
    use std::time::Duration;

    fn sql(text: &'static str) -> Sql {
        let mut s = Sql::new(Dialect::Sqlite);
        s.push(text);
        s
    }

    fn settings() -> ReadSettings {
        ReadSettings {
            busy_timeout: Duration::from_secs(1),
            mmap_bytes: 0,
            cache_kib: 1024,
            query_time: Duration::from_secs(10),
        }
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` without waiting: whether some
    /// connection still reads through the WAL (busy).
    fn truncate_is_busy(writer: &Connection) -> bool {
        writer
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
            == 1
    }

    /// A WAL database `t.db` with `store_meta` and a table `t (x
    /// column_type)`, in a new directory, and a connection writing to it.
    fn wal_database(column_type: &str) -> (tempfile::TempDir, PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; CREATE TABLE store_meta (name TEXT, value INTEGER); \
                 CREATE TABLE t (x {column_type});"
            ))
            .unwrap();
        (dir, path, writer)
    }

    #[test]
    fn the_lock_holder_hides_no_write_and_stops_with_the_pool() {
        let (_dir, path, writer) = wal_database("INTEGER");
        writer.busy_timeout(Duration::ZERO).unwrap();
        let readers = Readers::new(&path, settings());
        let count = |readers: &Arc<Readers>| {
            readers.fetch(&sql("SELECT COUNT(*) FROM t")).unwrap()[0]
                .int(0)
                .unwrap()
        };
        for i in 1..=3 {
            writer
                .execute("INSERT INTO t (x) VALUES (?1)", [i])
                .unwrap();
            // Every write is seen by the next read at once, although the
            // holder's snapshot is older.
            assert_eq!(count(&readers), i);
        }
        // The holder keeps a read transaction open (renewed, never
        // absent for long): the WAL cannot be truncated under it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !truncate_is_busy(&writer) {
            assert!(Instant::now() < deadline, "no lock held");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(readers);
        assert!(!truncate_is_busy(&writer), "the holder outlived its pool");
    }

    #[test]
    fn the_wal_restarts_under_the_lock_holder() {
        let (dir, path, writer) = wal_database("BLOB");
        let wal = || {
            std::fs::metadata(dir.path().join("t.db-wal"))
                .unwrap()
                .len()
        };
        let readers = Readers::new(&path, settings());
        // 200 commits of about 80 KB, with renewals in between: a WAL that
        // never restarted would hold every one of them (16 MB); its file
        // keeps the largest size it reached (SQLite's own checkpoint size
        // is 4 MB).
        for _ in 0..200 {
            writer
                .execute("INSERT INTO t (x) VALUES (zeroblob(80000))", [])
                .unwrap();
            std::thread::sleep(Duration::from_millis(6));
        }
        assert!(wal() < 8_000_000, "the WAL grew to {} bytes", wal());
        // The same back to back, a write transaction always open (as in an
        // import): the WAL restarts too.
        let before = wal();
        let started = Instant::now();
        let mut written = 0u64;
        while written < 48_000_000 && started.elapsed() < Duration::from_secs(10) {
            writer
                .execute_batch(
                    "BEGIN IMMEDIATE; INSERT INTO t (x) VALUES (zeroblob(80000)); \
                     DELETE FROM t WHERE rowid = (SELECT MAX(rowid) FROM t); COMMIT;",
                )
                .unwrap();
            written += 80_000;
        }
        assert!(
            wal() < before + written / 2,
            "the WAL grew from {before} to {} bytes for {written} bytes written",
            wal()
        );
        assert_eq!(
            readers.fetch(&sql("SELECT COUNT(*) FROM t")).unwrap()[0]
                .int(0)
                .unwrap(),
            200
        );
    }

    #[test]
    fn a_statement_past_the_limit_is_interrupted_and_the_connection_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let readers = Readers::new(
            &path,
            ReadSettings {
                busy_timeout: Duration::from_secs(1),
                mmap_bytes: 0,
                cache_kib: 1024,
                query_time: Duration::from_millis(50),
            },
        );
        let endless = sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
             SELECT COUNT(*) FROM n",
        );
        match readers.fetch(&endless) {
            Err(StoreError::InvalidQuery(m)) => assert!(m.contains("ran longer"), "{m}"),
            other => panic!("not stopped: {other:?}"),
        }
        // The same (pooled) connection answers the next statement.
        let rows = readers.fetch(&sql("SELECT 40 + 2")).unwrap();
        assert_eq!(rows[0].int(0).unwrap(), 42);
        assert_eq!(readers.idle.lock().unwrap().len(), 1);
    }
}
