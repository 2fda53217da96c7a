//! Whether this process's store can write ([`crate::Store::write_fault`]):
//! the outcome of the last write, and a probe that writes one row to find
//! out whether a failed store writes again (space freed, the database
//! back), so that `/healthz` can say "cannot write" and stop saying it as
//! soon as it is no longer true.

use std::sync::Mutex;

use super::lock_emails;
use crate::StoreError;
use crate::sql::{Db, Sql, Tx};

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

/// [`crate::Store::probe_write`]: one write transaction that changes
/// nothing anyone reads (a counter in `store_meta`).
pub(crate) async fn probe_write<D: Db>(db: &D) -> Result<(), StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    // (No e-mail is locked; this only orders the probe like any write.)
    lock_emails(&mut tx, d, &[]).await?;
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO store_meta (name, value) VALUES ('write_probe', 1) \
         ON CONFLICT (name) DO UPDATE SET value = store_meta.value + 1",
    );
    tx.execute(s).await?;
    tx.commit().await
}
