//! The one PostgreSQL harness of the workspace's tests: a fresh schema per
//! test on the server at `MARKETPLACE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), named
//! `test_<pid>_<nanos>_<n>` and set as the connections' `search_path`,
//! dropped at the end even when the test fails. When PostgreSQL cannot be
//! reached the caller's test is skipped ([`crate::skip`]: a failure under
//! `CI=true`).

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor};

/// Default URL of the test PostgreSQL.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The URL of the test PostgreSQL: `MARKETPLACE_TEST_DATABASE_URL`, or
/// [`DEFAULT_URL`].
pub fn url() -> String {
    std::env::var("MARKETPLACE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A fresh, empty PostgreSQL schema: connection options whose
/// `search_path` is that schema, and the guard that drops it; `None`
/// (skipped) when the server cannot be reached outside CI.
pub async fn schema() -> Option<(PgConnectOptions, SchemaGuard)> {
    // Once a test found the server unreachable, the others skip at once.
    static UNREACHABLE: AtomicBool = AtomicBool::new(false);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let url = url();
    if UNREACHABLE.load(Ordering::Relaxed) && !ci {
        crate::skip(&format!("PostgreSQL not reachable at {url}"));
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
            crate::skip(&format!("PostgreSQL not reachable at {url}: {e}"));
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

/// Drops a test schema when dropped (on a thread of its own, so that it
/// also runs while a failed test unwinds inside the test's runtime).
/// (Keep it as long as anything uses the schema.)
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
