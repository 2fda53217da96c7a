//! A small SQL builder shared by the back ends, and the few operations the
//! shared code ([`crate::engine`]) needs from a back end.
//!
//! SQL text is assembled only from `&'static str` fragments, placeholders
//! and integer literals ([`Sql::count_literal`]); every other value travels
//! as a bound [`Arg`]. That is what makes handing the text to sqlx as
//! `AssertSqlSafe` sound.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::StoreError;

/// Which SQL dialect a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: `?` placeholders, FTS5.
    Sqlite,
    /// PostgreSQL: `$n` placeholders, tsvector.
    Postgres,
}

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
    /// Integer.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Nullable bytes.
    OptBytes(Option<Vec<u8>>),
    /// An instant (SQLite: microseconds since the epoch; PG: timestamptz).
    Time(DateTime<Utc>),
    /// JSON text (SQLite: TEXT; PG: cast to jsonb).
    Json(String),
}

/// A statement and its bound values.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    /// The dialect placeholders are written in.
    pub dialect: Dialect,
    /// The text.
    pub text: String,
    /// The values, in placeholder order.
    pub args: Vec<Arg>,
}

impl Sql {
    /// An empty statement.
    pub(crate) fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::new(),
            args: Vec::new(),
        }
    }

    /// Appends fixed SQL text.
    pub(crate) fn push(&mut self, fragment: &'static str) -> &mut Sql {
        self.text.push_str(fragment);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub(crate) fn bind(&mut self, arg: Arg) -> &mut Sql {
        let json = matches!(arg, Arg::Json(_));
        self.args.push(arg);
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                let n = self.args.len();
                if json {
                    self.text.push_str(&format!("CAST(${n} AS jsonb)"));
                } else {
                    self.text.push_str(&format!("${n}"));
                }
            }
        }
        self
    }

    /// Appends a placeholder bound to text.
    pub(crate) fn text(&mut self, value: impl Into<String>) -> &mut Sql {
        self.bind(Arg::Text(value.into()))
    }

    /// Appends a placeholder bound to an integer.
    pub(crate) fn int(&mut self, value: i64) -> &mut Sql {
        self.bind(Arg::Int(value))
    }

    /// Appends a row count (for LIMIT and OFFSET) as a literal: SQLite
    /// uses a bound LIMIT or OFFSET when it plans, and so re-prepares the
    /// statement every time one is bound again, which costs more than the
    /// lookup itself. A formatted integer carries no SQL.
    pub(crate) fn count_literal(&mut self, value: u64) -> &mut Sql {
        self.text.push_str(&value.to_string());
        self
    }
}

/// Reading a result row, whatever the back end.
pub(crate) trait RowRead {
    /// Text column.
    fn text(&self, i: usize) -> Result<String, StoreError>;
    /// Integer column.
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    /// Nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    /// Nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// Nullable float column.
    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError>;
    /// Boolean column.
    fn boolean(&self, i: usize) -> Result<bool, StoreError>;
    /// Bytes column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError>;
    /// Nullable bytes column.
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
    /// Bytes column, moved out of the row where the row owns it (a row
    /// read this way once is not read there again).
    fn take_bytes(&mut self, i: usize) -> Result<Vec<u8>, StoreError> {
        self.bytes(i)
    }
    /// Instant column (as bound by [`Arg::Time`]).
    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError>;
    /// JSON column.
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError>;

    /// The coordinates in columns `first` (identifier), `first + 1` (e-mail)
    /// and `first + 2` (created). A row whose coordinates do not parse is a
    /// decode error, not a panic.
    fn key(&self, first: usize) -> Result<crate::EntryKey, StoreError> {
        let (identifier, email, created) = (
            self.text(first)?,
            self.text(first + 1)?,
            self.text(first + 2)?,
        );
        Ok(crate::EntryKey {
            identifier: identifier.parse().map_err(|e| decode(first, e))?,
            email: email.parse().map_err(|e| decode(first + 1, e))?,
            created: created.parse().map_err(|e| decode(first + 2, e))?,
        })
    }
}

/// A transaction of a back end.
pub(crate) trait Tx: Send {
    /// Its rows.
    type Row: RowRead + Send;
    /// Runs a query and returns every row.
    fn fetch(
        &mut self,
        sql: Sql,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
    /// Runs a statement and returns the rows affected.
    fn execute(&mut self, sql: Sql) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Commits.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A back end as the shared code sees it.
pub(crate) trait Db: Send + Sync {
    /// Its rows.
    type Row: RowRead + Send;
    /// Its transactions.
    type Tx: Tx<Row = Self::Row>;
    /// Its dialect.
    const DIALECT: Dialect;
    /// Runs a query outside a transaction and returns every row. For
    /// bounded statements: indexed lookups, pages with a `LIMIT` in index
    /// order.
    fn fetch(&self, sql: Sql) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
    /// As [`Db::fetch`], for a statement that may read much of a table (an
    /// aggregate over every entry): a back end that runs statements on the
    /// caller's thread runs this one elsewhere.
    fn fetch_scan(
        &self,
        sql: Sql,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send {
        self.fetch(sql)
    }
    /// Runs a statement outside a transaction; rows affected.
    fn execute(&self, sql: Sql) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Begins a read-only transaction seeing one snapshot.
    fn begin_read(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;
    /// Begins a write transaction (SQLite: takes the write lock at once).
    fn begin_write(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;
    /// The database's own check of its files ([`crate::Store::check_integrity`]):
    /// what it found wrong, empty when nothing.
    fn integrity(
        &self,
        thorough: bool,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// Whether a database error code says the database cannot be reached or
/// cannot write now: SQLite's SQLITE_FULL (13), SQLITE_IOERR (10) and
/// SQLITE_CANTOPEN (14), primary or extended; PostgreSQL's connection
/// exceptions (class 08), insufficient resources (class 53: disk full,
/// out of memory, too many connections) and its shutting down or starting
/// up (57P01-57P03).
fn unavailable_code(code: &str) -> bool {
    if let Ok(n) = code.parse::<i32>() {
        return matches!(n & 0xff, 10 | 13 | 14);
    }
    code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// Maps a database error.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(unavailable_code) => {
            StoreError::Unavailable(db.message().to_string())
        }
        // 57014 query_canceled: `statement_timeout` (MAX_QUERY_TIME) ran out.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
            crate::query::too_long()
        }
        // 22021 character_not_in_repertoire: a NUL character in a text
        // value (the server refuses them before; this keeps a caller that
        // does not from getting a backend error).
        sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => {
            StoreError::InvalidQuery(
                "a text value contains a NUL character, which no stored text holds".into(),
            )
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Maps a column decoding error.
pub(crate) fn decode(i: usize, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("cannot read column {i}: {e}"))
}
