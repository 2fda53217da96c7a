//! Endorser bindings ([`EndorserBinding`]): which identity an endorser
//! e-mail belongs to. Read and written inside the put transaction, so that
//! two first uploads under one e-mail cannot both bind it; on PostgreSQL
//! the put holds the e-mail's advisory lock (see `lock_pairs`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::StoreError;
use crate::model::{EndorserBinding, StoredEntry};
use crate::sql::{Arg, Db, Dialect, RowRead, Sql, Tx};

/// The columns [`read`] reads.
const COLUMNS: &str = "SELECT email, subject, issuer, key_sha256, chained, since, created \
     FROM endorser_bindings";

/// Selects the rows that bind: a row with an empty key marks an e-mail the
/// operator released (the next accepted entry binds it; the binding of
/// stored entries at start leaves it alone).
const BINDS: &str = "key_sha256 <> ''";

/// Reads a binding from [`COLUMNS`].
fn read<R: RowRead>(r: &R) -> Result<EndorserBinding, StoreError> {
    Ok(EndorserBinding {
        email: r.text(0)?,
        subject: r.text(1)?,
        issuer: r.text(2)?,
        key_sha256: r.text(3)?,
        chained: r.boolean(4)?,
        since: r.time(5)?,
        created: r.opt_text(6)?,
    })
}

/// The bindings of `emails` (lower case), inside a transaction.
pub(crate) async fn read_in<T: Tx>(
    tx: &mut T,
    d: Dialect,
    emails: &[String],
) -> Result<HashMap<String, EndorserBinding>, StoreError> {
    let mut found = HashMap::new();
    for chunk in emails.chunks(super::indexing::INSERT_ROWS) {
        let mut s = Sql::new(d);
        s.push(COLUMNS).push(" WHERE email IN (");
        for (i, email) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.text(email);
        }
        s.push(") AND ").push(BINDS);
        for row in tx.fetch(s).await? {
            let binding = read(&row)?;
            found.insert(binding.email.clone(), binding);
        }
    }
    Ok(found)
}

/// Writes `binding` (inserted, or replacing the e-mail's), inside a
/// transaction.
pub(crate) async fn write_in<T: Tx>(
    tx: &mut T,
    d: Dialect,
    binding: &EndorserBinding,
) -> Result<(), StoreError> {
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO endorser_bindings (email, subject, issuer, key_sha256, chained, since, \
         created) VALUES (",
    )
    .text(&binding.email)
    .push(", ")
    .text(&binding.subject)
    .push(", ")
    .text(&binding.issuer)
    .push(", ")
    .text(&binding.key_sha256)
    .push(", ")
    .bind(Arg::Bool(binding.chained))
    .push(", ")
    .bind(Arg::Time(binding.since))
    .push(", ")
    .bind(Arg::OptText(binding.created.clone()))
    .push(
        ") ON CONFLICT (email) DO UPDATE SET subject = excluded.subject, \
         issuer = excluded.issuer, key_sha256 = excluded.key_sha256, \
         chained = excluded.chained, since = excluded.since, created = excluded.created",
    );
    tx.execute(s).await?;
    Ok(())
}

/// [`crate::Store::binding`].
pub(crate) async fn binding<D: Db>(
    db: &D,
    email: &str,
) -> Result<Option<EndorserBinding>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(COLUMNS)
        .push(" WHERE email = ")
        .text(email.to_ascii_lowercase())
        .push(" AND ")
        .push(BINDS);
    db.fetch(s).await?.first().map(read).transpose()
}

/// [`crate::Store::rebind`]: replaces the binding of `email`, or with
/// `None` releases it (a row with an empty key, so that the binding of
/// stored entries at start does not bind it again); returns the previous
/// binding.
pub(crate) async fn rebind<D: Db>(
    db: &D,
    email: &str,
    binding: Option<EndorserBinding>,
) -> Result<Option<EndorserBinding>, StoreError> {
    let d = D::DIALECT;
    let email = email.to_ascii_lowercase();
    let mut tx = db.begin_write().await?;
    super::locks::lock_emails(&mut tx, d, std::slice::from_ref(&email)).await?;
    let previous = read_in(&mut tx, d, std::slice::from_ref(&email))
        .await?
        .remove(&email);
    match binding {
        Some(mut b) => {
            b.email = email;
            write_in(&mut tx, d, &b).await?;
        }
        None => {
            let released = EndorserBinding {
                email,
                subject: String::new(),
                issuer: String::new(),
                key_sha256: String::new(),
                chained: false,
                since: now()?,
                created: None,
            };
            write_in(&mut tx, d, &released).await?;
        }
    }
    tx.commit().await?;
    Ok(previous)
}

/// [`crate::Store::bind_unbound`]: binds `binding.email` only if it has no
/// binding yet; true if it did.
pub(crate) async fn bind_unbound<D: Db>(
    db: &D,
    binding: EndorserBinding,
) -> Result<bool, StoreError> {
    let d = D::DIALECT;
    let mut tx = db.begin_write().await?;
    super::locks::lock_emails(&mut tx, d, std::slice::from_ref(&binding.email)).await?;
    // Any row, a released e-mail's included, means the e-mail is decided.
    let mut s = Sql::new(d);
    s.push("SELECT email FROM endorser_bindings WHERE email = ")
        .text(&binding.email);
    if !tx.fetch(s).await?.is_empty() {
        return Ok(false);
    }
    write_in(&mut tx, d, &binding).await?;
    tx.commit().await?;
    Ok(true)
}

/// [`crate::Store::unbound_endorsers`]: the newest entry (by `created`,
/// then acceptance) of each stored e-mail whose lower case has no binding
/// and was not released,
/// at most `limit`. (An e-mail left in mixed case by the migration to
/// lower case, because its lower-case coordinates were taken, counts as
/// its own e-mail here; the first of the two bound wins.)
pub(crate) async fn unbound_endorsers<D: Db>(
    db: &D,
    limit: u32,
) -> Result<Vec<StoredEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT e.seq FROM entries e WHERE NOT EXISTS (SELECT 1 FROM endorser_bindings b \
         WHERE b.email = lower(e.email)) AND NOT EXISTS (SELECT 1 FROM entries n \
         WHERE n.email = e.email AND (n.created > e.created \
         OR (n.created = e.created AND n.seq > e.seq))) ORDER BY e.seq LIMIT ",
    )
    .count_literal(u64::from(limit));
    let mut entries = Vec::new();
    for row in db.fetch_scan(s).await? {
        let seq = row.int(0)?;
        if let Some(entry) = super::entries_after(db, Some(seq - 1), 1).await?.pop() {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The instant a binding made now records (microseconds, as stored).
pub(crate) fn now() -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .ok_or_else(|| StoreError::Backend("clock out of range".into()))
}
