//! Entries waiting for their endorser's e-mail confirmation.

use chrono::{DateTime, Utc};

use super::locks::lock_emails;
use crate::StoreError;
use crate::model::{NewEntry, PendingEntry};
use crate::sql::{Arg, Db, RowRead, Sql, Tx};

/// [`crate::Store::put_pending`].
pub(crate) async fn put_pending<D: Db>(db: &D, p: PendingEntry) -> Result<(), StoreError> {
    let d = D::DIALECT;
    let e = &p.entry;
    let json = |r: serde_json::Result<String>| {
        r.map_err(|e| StoreError::Backend(format!("cannot serialise pending entry: {e}")))
    };
    let email = e.key.email.to_ascii_lowercase();
    let mut tx = db.begin_write().await?;
    // One waiting upload per address: no second mail while one is pending
    // (the e-mail's lock makes two concurrent requests see each other).
    lock_emails(&mut tx, d, std::slice::from_ref(&email)).await?;
    let mut s = Sql::new(d);
    s.push("SELECT expires_at, identifier, created, document FROM pending WHERE email = ")
        .text(&email)
        .push(" AND expires_at > ")
        .bind(Arg::Time(p.received_at))
        .push(" ORDER BY expires_at DESC LIMIT 1");
    if let Some(row) = tx.fetch(s).await?.first() {
        let same = row.text(1)? == e.key.identifier
            && row.text(2)? == e.key.created
            && row.bytes(3)? == e.document;
        return Err(StoreError::PendingExists {
            email,
            expires_at: row.time(0)?,
            same,
        });
    }
    let mut s = Sql::new(d);
    s.push(
        "INSERT INTO pending (token, identifier, email, created, document, metadata, signer, \
         received_at, expires_at) VALUES (",
    )
    .text(&p.token)
    .push(", ")
    .text(&e.key.identifier)
    .push(", ")
    .text(&e.key.email)
    .push(", ")
    .text(&e.key.created)
    .push(", ")
    .bind(Arg::Bytes(e.document.clone()))
    .push(", ")
    .bind(Arg::Json(json(serde_json::to_string(&e.metadata))?))
    .push(", ")
    .bind(Arg::Json(json(serde_json::to_string(&e.signer))?))
    .push(", ")
    .bind(Arg::Time(p.received_at))
    .push(", ")
    .bind(Arg::Time(p.expires_at))
    .push(") ON CONFLICT (token) DO NOTHING");
    if tx.execute(s).await? == 0 {
        return Err(StoreError::InvalidQuery(
            "pending token already in use".into(),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// [`crate::Store::get_pending`].
pub(crate) async fn get_pending<D: Db>(
    db: &D,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingEntry>, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push(
        "SELECT token, identifier, email, created, document, metadata, signer, received_at, \
         expires_at FROM pending WHERE token = ",
    )
    .text(token)
    .push(" AND expires_at >= ")
    .bind(Arg::Time(now));
    db.fetch(s)
        .await?
        .first()
        .map(|r| {
            Ok(PendingEntry {
                token: r.text(0)?,
                entry: NewEntry {
                    key: r.key(1)?,
                    document: r.bytes(4)?,
                    metadata: r.json(5)?,
                    signer: r.json(6)?,
                },
                received_at: r.time(7)?,
                expires_at: r.time(8)?,
            })
        })
        .transpose()
}

/// [`crate::Store::delete_pending`].
pub(crate) async fn delete_pending<D: Db>(db: &D, token: &str) -> Result<bool, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("DELETE FROM pending WHERE token = ").text(token);
    Ok(db.execute(s).await? > 0)
}

/// [`crate::Store::purge_pending`].
pub(crate) async fn purge_pending<D: Db>(db: &D, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut s = Sql::new(D::DIALECT);
    s.push("DELETE FROM pending WHERE expires_at < ")
        .bind(Arg::Time(now));
    db.execute(s).await
}
