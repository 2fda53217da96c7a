//! The PostgreSQL advisory locks that serialise the writers of one
//! (identifier, e-mail) pair and of one e-mail's binding.

use crate::StoreError;
use crate::model::EntryKey;
use crate::sql::{Dialect, RowRead, Sql, Tx};

/// Takes the PostgreSQL advisory locks of the (identifier, email) pairs of
/// `keys` (the same keys [`super::put::put`] takes) and of their e-mails
/// in lower case (the endorser bindings), in ascending hash order so that
/// two batches never wait for each other in a cycle. No-op on SQLite, whose write
/// transaction already excludes every other writer.
pub(super) async fn lock_pairs<T: Tx>(
    tx: &mut T,
    d: Dialect,
    keys: &[&EntryKey],
) -> Result<(), StoreError> {
    let mut names: Vec<String> = Vec::with_capacity(keys.len() * 2);
    for key in keys {
        names.push(format!("{}/{}", key.identifier, key.email));
        names.push(email_lock_name(&key.email));
    }
    advisory_locks(tx, d, names).await
}

/// Takes the advisory locks of the bindings of `emails` (see [`lock_pairs`]).
pub(super) async fn lock_emails<T: Tx>(
    tx: &mut T,
    d: Dialect,
    emails: &[String],
) -> Result<(), StoreError> {
    advisory_locks(tx, d, emails.iter().map(|e| email_lock_name(e)).collect()).await
}

/// The advisory-lock name of an e-mail's binding (distinct from every pair
/// name, which contains a `/` before the e-mail).
fn email_lock_name(email: &str) -> String {
    format!("binding:{}", email.to_ascii_lowercase())
}

/// Takes the PostgreSQL transaction advisory locks named `names`, in
/// ascending hash order. No-op on SQLite.
async fn advisory_locks<T: Tx>(
    tx: &mut T,
    d: Dialect,
    names: Vec<String>,
) -> Result<(), StoreError> {
    if d != Dialect::Postgres || names.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new(d);
    s.push("SELECT DISTINCT hashtextextended(t.name, 0) AS k FROM (VALUES ");
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.push("(").text(name).push(")");
    }
    s.push(") AS t (name) ORDER BY k");
    let mut hashes = Vec::new();
    for row in tx.fetch(s).await? {
        hashes.push(row.int(0)?);
    }
    // A VALUES list is scanned in order: the locks are taken in key order.
    let mut s = Sql::new(d);
    s.push("SELECT pg_advisory_xact_lock(t.k) FROM (VALUES ");
    for (i, hash) in hashes.into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.push("(").int(hash).push(")");
    }
    s.push(") AS t (k)");
    tx.execute(s).await?;
    Ok(())
}
