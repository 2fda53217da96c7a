//! Endorser continuity: an endorser e-mail belongs to the identity that
//! first signed under it ([`EndorserBinding`], trust on first use). The
//! store enforces the binding in every put; this module binds the e-mails
//! of entries stored before bindings existed (at start) and carries out
//! the operator's `admin endorser rebind`.

use crate::runtime::state::TrustSettings;
use chrono::{DateTime, Utc};
use marketplace_store::{EndorserBinding, Store, StoreError};
use marketplace_trust::certificate;
use marketplace_trust::dn;
use marketplace_trust::document::PublicKeySummary;
use std::collections::HashSet;
use std::path::Path;

/// Entries read per round by [`bind_stored_endorsers`].
const ROUND: u32 = 256;

/// Binds every stored e-mail that has no binding to the signer of its
/// newest entry, re-read from the signed document (as a rebuild does).
/// Returns how many e-mails were bound. An entry whose document cannot be
/// re-read is logged and its e-mail stays unbound.
pub async fn bind_stored_endorsers(
    store: &dyn Store,
    trust: &TrustSettings,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut bound = 0;
    let mut unreadable: HashSet<i64> = HashSet::new();
    loop {
        let newest = store.unbound_endorsers(ROUND).await?;
        let mut progress = false;
        for stored in newest {
            if unreadable.contains(&stored.sequence) {
                continue;
            }
            let entry = match crate::upload::ingest::reindex(&stored.entry.document, trust) {
                Ok(entry) => entry,
                Err(reason) => {
                    tracing::warn!(
                        entry = %stored.entry.key,
                        reason,
                        "cannot bind the endorser e-mail of a stored entry"
                    );
                    unreadable.insert(stored.sequence);
                    continue;
                }
            };
            let binding = EndorserBinding::of(
                &stored.entry.key.email,
                &entry.signer,
                Some(&stored.entry.key.created),
                now,
            );
            if store.bind_unbound(binding).await? {
                bound += 1;
            }
            progress = true;
        }
        if !progress {
            break;
        }
    }
    if bound > 0 {
        tracing::info!(
            endorsers = bound,
            "bound the e-mails of stored entries to their newest signers"
        );
    }
    Ok(bound)
}

/// The binding a certificate (PEM file) makes for `email`, checked against
/// the CA directory when one is configured (then it must chain).
pub fn binding_of_certificate(
    email: &str,
    pem: &Path,
    trust: &TrustSettings,
    now: DateTime<Utc>,
) -> Result<EndorserBinding, String> {
    let bytes = std::fs::read(pem).map_err(|e| format!("cannot read {}: {e}", pem.display()))?;
    let certificate = certificate::from_pem(&bytes)
        .map_err(|e| format!("{} is not a PEM certificate: {e}", pem.display()))?;
    let chained = match &trust.ca_dir {
        Some(ca) => {
            ca.verify_chain(&certificate, &[], now).map_err(|e| {
                format!("{} does not chain to the CA directory: {e}", pem.display())
            })?;
            true
        }
        None => false,
    };
    let key = PublicKeySummary::of(&certificate);
    Ok(EndorserBinding {
        email: email.to_ascii_lowercase(),
        subject: dn::rfc2253(certificate.subject_name()),
        issuer: dn::rfc2253(certificate.issuer_name()),
        key_sha256: key.sha256,
        chained,
        since: now,
        created: None,
    })
}

/// `admin endorser rebind`: binds `email` to `binding`, or releases it
/// (`None`: the next accepted entry binds it); logs the change and returns
/// the previous binding.
pub async fn rebind(
    store: &dyn Store,
    email: &str,
    binding: Option<EndorserBinding>,
) -> Result<Option<EndorserBinding>, StoreError> {
    let previous = store.rebind(email, binding.clone()).await?;
    let was = previous.as_ref().map(ToString::to_string);
    match &binding {
        Some(b) => tracing::warn!(
            email,
            previous = was.as_deref().unwrap_or("none"),
            now = %b,
            "endorser binding changed by the operator"
        ),
        None => tracing::warn!(
            email,
            previous = was.as_deref().unwrap_or("none"),
            "endorser binding released by the operator: the next accepted entry binds it"
        ),
    }
    Ok(previous)
}
