//! Whether this process's store can write ([`crate::Store::write_fault`]):
//! the outcome of the last write, and a probe that writes a row as large
//! as an upload to find out whether a failed store writes again (space
//! freed, the database back), so that `/healthz` can say "cannot write" and stop saying it as
//! soon as it is no longer true.

use std::sync::Mutex;

use super::locks::lock_emails;
use crate::StoreError;
use crate::sql::{Arg, Db, Sql, Tx};

/// The last write's outcome, per process.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    fault: Mutex<Option<String>>,
}

impl WriteHealth {
    /// Records the outcome of a write: a failure of the database itself
    /// ([`StoreError::Backend`], [`StoreError::Unavailable`]) is a fault;
    /// any answer of the store's rules (a conflict, a refusal) proves that
    /// writing works.
    pub(crate) fn observe<T>(&self, outcome: &Result<T, StoreError>) {
        let fault = match outcome {
            Err(StoreError::Backend(m) | StoreError::Unavailable(m)) => Some(m.clone()),
            Err(StoreError::Reindex { .. }) => return,
            _ => None,
        };
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = fault;
    }

    /// Why the last write failed, if it did.
    pub(crate) fn fault(&self) -> Option<String> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The bytes [`probe_write`] writes: as many as the largest upload and
/// its index rows take.
const PROBE_BYTES: usize = 1024 * 1024 + 64 * 1024;

/// [`crate::Store::probe_write`]: a write transaction of [`PROBE_BYTES`]
/// (a scratch row of `write_probe`, and a counter in `store_meta`), then
/// one that deletes the row. What it writes nobody reads; the space it
/// takes is taken only between the two.
pub(crate) async fn probe_write<D: Db>(db: &D) -> Result<(), StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    // (No e-mail is locked; this only orders the probe like any write.)
    lock_emails(&mut tx, d, &[]).await?;
    let mut s = Sql::new(d);
    s.push("INSERT INTO write_probe (id, pad) VALUES (1, ")
        .bind(Arg::Bytes(vec![0; PROBE_BYTES]))
        .push(") ON CONFLICT (id) DO UPDATE SET pad = excluded.pad");
    tx.execute(s).await?;
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO store_meta (name, value) VALUES ('write_probe', 1) \
         ON CONFLICT (name) DO UPDATE SET value = store_meta.value + 1",
    );
    tx.execute(s).await?;
    tx.commit().await?;
    let mut tx = db.begin_write().await?;
    lock_emails(&mut tx, d, &[]).await?;
    let mut s = Sql::new(d);
    s.push("DELETE FROM write_probe");
    tx.execute(s).await?;
    tx.commit().await
}
