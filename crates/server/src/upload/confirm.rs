//! E-mail confirmation of uploads (the README's "E-mail confirmation"), as
//! the original server had it, without its defects: pending uploads are
//! bounded and expire, no GET changes anything, links come from the
//! configured public URL (never the `Host` header), and confirmation links
//! are never logged.
//!
//! # When an upload waits for confirmation
//!
//! The endorser e-mail must be bound to the signing certificate unless the
//! entry is confirmed by e-mail. After the trust core accepted a document
//! ([`crate::upload::ingest::verify`]):
//!
//! 1. the certificate carries the endorser e-mail (subjectAltName) → stored
//!    at once (with `ca_dir` a CA vouches for that certificate; without,
//!    the e-mail is only as good as the certificate that claims it);
//! 2. otherwise, with `validate_email` on: a signer whose identity DN is on
//!    the `endorser_whitelist` **and** whose chain was verified against
//!    `ca_dir` is stored at once ([`crate::auth::whitelist::skips_confirmation`]);
//!    every other upload waits for confirmation (this module);
//! 3. otherwise (`validate_email` off): refused, unless
//!    `require_certified_email` is off (legacy imports).
//!
//! # The flow
//!
//! - [`request`]: refuses early what the store would refuse anyway (an
//!   entry older than the endorser's latest, a different document with the
//!   same coordinates), keeps a [`PendingEntry`] under a 256-bit random
//!   token (base64url) for `confirmation_ttl`, and mails the endorser the
//!   links `{public_url}/action/{token}/confirm`, `…/abort` and `…/abuse`
//!   (built from the configured public URL, never the Host header). The
//!   upload answers 202. When the mail cannot be sent the pending entry is
//!   removed again and the upload answers 503. At most one upload per
//!   address waits (a second is 409), and the mails are rate-limited per
//!   recipient, per client and in all ([`crate::upload::mail_limits`]; 429 with
//!   `Retry-After`).
//! - Following a link (`GET`, [`crate::routes::action`]) shows what is
//!   pending and a form; nothing changes on GET (link scanners).
//! - [`confirm`] (`POST …/confirm`): the document is verified again at the
//!   current instant (a certificate revoked or expired meanwhile is
//!   refused) and stored through [`marketplace_store::Store::put`], so an
//!   entry superseded meanwhile is refused as older than the latest instead
//!   of being rolled back. The pending entry is removed once the store has
//!   decided (kept only when the store itself failed). [`abort`]
//!   (`POST …/abort`) removes it. [`report_abuse`] (`POST …/abuse`: "I did
//!   not upload this") removes it too — unlike the original server, which
//!   kept a reported upload confirmable — logs the report and mails the
//!   administrators (the `mail_from` address) the entry and its signer.
//! - Expired pending entries are invisible at once and purged at start-up
//!   and every [`PURGE_INTERVAL`] ([`start_purger`]).
//!
//! Tokens and links are never logged: log lines name the entry's
//! coordinates, request spans mask the token ([`crate::routes::action`]),
//! and metrics count by route template.

use crate::http::error::AppError;
use crate::runtime::state::AppState;
use crate::upload::ingest::{self, IngestError, IngestOutcome, Policy, Refusal, Verdict};
use crate::upload::mail::{self, Mail, MailError, MailSettings, one_line};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use marketplace_store::{Audience, EntryKey, HistoryQuery, NewEntry, PendingEntry, StoreError};
use std::net::IpAddr;
use std::time::Duration;

/// Random bytes in a token (256 bits).
pub(crate) const TOKEN_BYTES: usize = 32;

/// Length of a token: [`TOKEN_BYTES`] in unpadded base64url.
pub(crate) const TOKEN_CHARS: usize = 43;

/// How long an upload waits for confirmation unless configured.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(3 * 24 * 3600);

/// Longest configurable wait.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// How often expired pending uploads are purged.
pub(crate) const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// The longest title shown in a mail subject.
const SUBJECT_TITLE_CHARS: usize = 80;

/// The longest value of the document shown in a mail body.
const BODY_VALUE_CHARS: usize = 300;

/// A decision a link leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Publish the pending entry.
    Confirm,
    /// Drop it.
    Abort,
    /// Drop it and tell the administrators that someone used the
    /// endorser's address without their consent.
    Abuse,
}

impl Command {
    /// The command named by a path segment.
    pub(crate) fn from_segment(segment: &str) -> Option<Self> {
        match segment {
            "confirm" => Some(Command::Confirm),
            "abort" => Some(Command::Abort),
            "abuse" => Some(Command::Abuse),
            _ => None,
        }
    }

    /// Its path segment.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Command::Confirm => "confirm",
            Command::Abort => "abort",
            Command::Abuse => "abuse",
        }
    }
}

/// A fresh token: [`TOKEN_BYTES`] from the operating system's generator,
/// base64url without padding.
pub(crate) fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a token: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `text` has the shape of a token (checked before any look-up).
pub(crate) fn is_token(text: &str) -> bool {
    text.len() == TOKEN_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses a waiting time: a positive whole number with a unit `s`, `m`,
/// `h`, `d` or `w` (`90m`, `24h`, `3d`); a bare number is seconds. At most
/// [`MAX_TTL`].
pub(crate) fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_secs: u64 = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        "w" => 7 * 24 * 3600,
        _ => return Err(format!("'{text}' is not a duration such as 90m, 24h or 3d")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 90m, 24h or 3d"))?;
    let secs = n.saturating_mul(unit_secs);
    if secs == 0 || secs > MAX_TTL.as_secs() {
        return Err(format!("'{text}' must be positive and at most 365d"));
    }
    Ok(Duration::from_secs(secs))
}

/// The link of `command` for `token`, under the configured public URL.
pub(crate) fn action_link(state: &AppState, token: &str, command: Command) -> String {
    state.public_link(&format!("/action/{token}/{}", command.as_str()))
}

/// What [`request`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requested {
    /// The mail went out; the entry waits until `expires_at`.
    Sent {
        /// The entry's coordinates.
        key: EntryKey,
        /// When the wait ends.
        expires_at: DateTime<Utc>,
    },
    /// The very same document is already stored: nothing to confirm.
    AlreadyPresent(EntryKey),
    /// The very same upload already waits for confirmation: no new mail.
    StillWaiting {
        /// The entry's coordinates.
        key: EntryKey,
        /// When the wait ends.
        expires_at: DateTime<Utc>,
    },
}

/// `text` on one line, at most `max` characters (an ellipsis marks a cut).
fn clip(text: &str, max: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max).collect();
    cut.push('…');
    cut
}

/// A value of the document as a mail shows it: on one line, clipped,
/// `(none)` when blank.
fn mail_value(text: &str) -> String {
    if text.trim().is_empty() {
        "(none)".to_string()
    } else {
        clip(text, BODY_VALUE_CHARS)
    }
}

/// An instant as the documents write it.
fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The confirmation mail for `pending`.
pub(crate) fn confirmation_mail(state: &AppState, pending: &PendingEntry) -> Mail {
    let entry = &pending.entry;
    let key = &entry.key;
    let title = entry.metadata.title.as_deref().unwrap_or("");
    let subject = if title.trim().is_empty() {
        format!(
            "Marketplace: confirm the endorsement of image {}",
            key.identifier
        )
    } else {
        format!(
            "Marketplace: confirm the endorsement of image {} ({})",
            key.identifier,
            clip(title, SUBJECT_TITLE_CHARS)
        )
    };
    let deprecation = match &entry.metadata.deprecated {
        Some(reason) => format!(
            "\nThis entry DEPRECATES the image; the reason given: {}\n",
            mail_value(reason)
        ),
        None => String::new(),
    };
    let body = format!(
        "A signed metadata entry endorsed with this e-mail address ({email}) was\n\
         uploaded to the marketplace at {base}:\n\
         \n\
         \x20 image identifier: {identifier}\n\
         \x20 title:            {title}\n\
         \x20 endorsed at:      {created}\n\
         \x20 signed by:        {subject}\n\
         \x20 issued by:        {issuer}\n\
         {deprecation}\n\
         It is published only if you confirm it. To confirm, open this link and\n\
         press the button on the page:\n\
         \n\
         \x20 {confirm}\n\
         \n\
         If you do not want it published, abort it here (nothing has been\n\
         published):\n\
         \n\
         \x20 {abort}\n\
         \n\
         If you did not upload it and nobody may endorse images in your name,\n\
         report it here: the upload is dropped as well, and the marketplace\n\
         administrators are told so that they can investigate:\n\
         \n\
         \x20 {abuse}\n\
         \n\
         Unconfirmed uploads are removed after {expires} (UTC).\n",
        email = key.email,
        base = state.config.public_url,
        identifier = key.identifier,
        title = mail_value(title),
        created = key.created,
        subject = mail_value(&entry.signer.subject),
        issuer = mail_value(&entry.signer.issuer),
        confirm = action_link(state, &pending.token, Command::Confirm),
        abort = action_link(state, &pending.token, Command::Abort),
        abuse = action_link(state, &pending.token, Command::Abuse),
        expires = instant(pending.expires_at),
    );
    Mail {
        to: key.email.to_string(),
        subject,
        body,
    }
}

/// Refuses what [`marketplace_store::Store::put`] would refuse for `entry`,
/// so that no mail is sent for it; `Some(key)` when the very same document
/// is already stored.
async fn precheck(state: &AppState, entry: &NewEntry) -> Result<Option<EntryKey>, AppError> {
    let key = &entry.key;
    if let Some(stored) = state.store.get(key).await? {
        return if stored.entry.document == entry.document {
            Ok(Some(key.clone()))
        } else {
            Err(IngestError::Conflict(key.clone()).into())
        };
    }
    let latest = state
        .store
        .history(&HistoryQuery {
            // As the put's own check: every entry, restricted ones too.
            audience: Audience::Everything,
            identifier: Some(key.identifier.to_string()),
            email: Some(key.email.to_string()),
            now: Some(state.clock.now()),
            limit: 1,
            ..HistoryQuery::default()
        })
        .await?;
    if let Some(latest) = latest.first() {
        // Both strict UTC instants: their text orders as their instants.
        if latest.key.created > key.created {
            return Err(IngestError::OlderThanLatest {
                latest: latest.key.created.to_string(),
            }
            .into());
        }
    }
    Ok(None)
}

/// Starts the confirmation of `entry`, uploaded from `client` (see the
/// module documentation).
pub(crate) async fn request(
    state: &AppState,
    entry: NewEntry,
    client: Option<IpAddr>,
) -> Result<Requested, AppError> {
    let Some(settings) = MailSettings::from_config(&state.config) else {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the endorser e-mail '{}' is not carried by the signing certificate and needs \
                 e-mail confirmation, but no mail server is configured on this marketplace \
                 (smtp_host, mail_from): nothing was stored",
                entry.key.email
            ),
        ));
    };
    if let Some(key) = precheck(state, &entry).await? {
        return Ok(Requested::AlreadyPresent(key));
    }
    let token = new_token().map_err(AppError::internal)?;
    let now = state.clock.now();
    let ttl = TimeDelta::from_std(state.config.confirmation_ttl).unwrap_or(TimeDelta::days(3));
    let expires_at = now + ttl;
    let key = entry.key.clone();
    let pending = PendingEntry {
        token: token.clone(),
        entry,
        received_at: now,
        expires_at,
    };
    let mail = confirmation_mail(state, &pending);
    mail::check(&settings, &mail).map_err(|e| match e {
        MailError::Recipient(_) => {
            IngestError::Invalid(vec![Refusal::Recipient(e.to_string())]).into()
        }
        other => AppError::internal(other),
    })?;
    match state.store.put_pending(pending).await {
        Err(StoreError::PendingExists {
            same: true,
            expires_at,
            ..
        }) => return Ok(Requested::StillWaiting { key, expires_at }),
        other => other?,
    }
    // Counted only once the upload is kept: a refused one sends nothing.
    if let Err(limited) = state.mail_limits.admit(&key.email, client) {
        tracing::warn!(entry = %key, client = ?client, %limited, "confirmation mail limited");
        if let Err(e) = state.store.delete_pending(&token).await {
            tracing::error!(entry = %key, error = %e, "cannot remove the unmailed pending upload");
        }
        let mut refused = AppError::new(StatusCode::TOO_MANY_REQUESTS, limited.to_string());
        refused.retry_after = Some(limited.retry_after.as_secs().max(1));
        return Err(refused);
    }
    if let Err(e) = mail::send(&settings, &mail).await {
        tracing::warn!(entry = %key, error = %e, "confirmation mail not sent; upload dropped");
        if let Err(e) = state.store.delete_pending(&token).await {
            tracing::error!(entry = %key, error = %e, "cannot remove the unsent pending upload");
        }
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot send the confirmation e-mail (the mail server is not available): \
             nothing was stored, please upload again later",
        ));
    }
    tracing::info!(entry = %key, expires_at = %instant(expires_at), "confirmation mail sent");
    Ok(Requested::Sent { key, expires_at })
}

/// The answer for a token that leads nowhere (malformed, unknown, used or
/// expired): 404 without detail.
pub(crate) fn unknown_link() -> AppError {
    AppError::not_found(
        "unknown or expired confirmation link: the upload was already confirmed or aborted, \
         or it waited too long (upload the document again)",
    )
}

/// The pending upload of `token`, if it has not expired.
pub(crate) async fn find(state: &AppState, token: &str) -> Result<PendingEntry, AppError> {
    if !is_token(token) {
        return Err(unknown_link());
    }
    state
        .store
        .get_pending(token, state.clock.now())
        .await?
        .ok_or_else(unknown_link)
}

/// Removes a pending upload, logging a failure.
async fn discard(state: &AppState, token: &str, key: &EntryKey) {
    if let Err(e) = state.store.delete_pending(token).await {
        tracing::error!(entry = %key, error = %e, "cannot remove a pending upload");
    }
}

/// Confirms the upload of `token`: verified again now, then stored.
pub(crate) async fn confirm(state: &AppState, token: &str) -> Result<IngestOutcome, AppError> {
    let pending = find(state, token).await?;
    let key = pending.entry.key.clone();
    let trust = state.trust.clone();
    let policy = Policy::from_config(&state.config);
    let at = state.clock.now();
    let bytes = pending.entry.document;
    let verdict = tokio::task::spawn_blocking(move || ingest::verify(bytes, &trust, at, &policy))
        .await
        .map_err(AppError::internal)?;
    let entry = match verdict.map(|checked| checked.verdict) {
        Ok(Verdict::Accept(entry) | Verdict::NeedsConfirmation(entry)) => entry,
        Err(e) => {
            tracing::info!(entry = %key, error = %e, "confirmed upload no longer valid");
            discard(state, token, &key).await;
            return Err(e.into());
        }
    };
    let result = ingest::store_entry(state.store.as_ref(), entry).await;
    match &result {
        Err(IngestError::Store(_)) => {}
        _ => discard(state, token, &key).await,
    }
    match &result {
        Ok(_) => tracing::info!(entry = %key, "pending upload confirmed"),
        Err(e) => {
            tracing::info!(entry = %key, error = %e, "pending upload refused at confirmation")
        }
    }
    result.map_err(AppError::from)
}

/// Aborts the upload of `token`; returns its coordinates.
pub(crate) async fn abort(state: &AppState, token: &str) -> Result<EntryKey, AppError> {
    let pending = take(state, token).await?;
    tracing::info!(entry = %pending.entry.key, "pending upload aborted");
    Ok(pending.entry.key)
}

/// Removes the pending upload of `token` and returns it (404 when another
/// request took it first).
async fn take(state: &AppState, token: &str) -> Result<PendingEntry, AppError> {
    let pending = find(state, token).await?;
    if !state.store.delete_pending(token).await? {
        return Err(unknown_link());
    }
    Ok(pending)
}

/// What [`report_abuse`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AbuseReport {
    /// The dropped upload's coordinates.
    pub key: EntryKey,
    /// Whether the administrators' mail went out (the report is logged
    /// either way).
    pub mailed: bool,
}

/// The mail that tells the administrators (`mail_from`, the address the
/// marketplace sends from) about an abuse report for `pending`.
pub(crate) fn abuse_mail(
    state: &AppState,
    settings: &MailSettings,
    pending: &PendingEntry,
) -> Mail {
    let entry = &pending.entry;
    let key = &entry.key;
    let body = format!(
        "The recipient of a confirmation mail reported that an upload endorsed\n\
         with their e-mail address was not theirs. The upload was dropped (it was\n\
         never published).\n\
         \n\
         \x20 marketplace:      {base}\n\
         \x20 image identifier: {identifier}\n\
         \x20 endorser e-mail:  {email}\n\
         \x20 endorsed at:      {created}\n\
         \x20 title:            {title}\n\
         \x20 signed by:        {subject}\n\
         \x20 issued by:        {issuer}\n\
         \x20 uploaded at:      {received} (UTC)\n\
         \x20 reported at:      {reported} (UTC)\n\
         \n\
         The certificate above signed a document naming someone else's address;\n\
         other uploads signed by it may deserve a look.\n",
        base = state.config.public_url,
        identifier = key.identifier,
        email = key.email,
        created = key.created,
        title = mail_value(entry.metadata.title.as_deref().unwrap_or("")),
        subject = mail_value(&entry.signer.subject),
        issuer = mail_value(&entry.signer.issuer),
        received = instant(pending.received_at),
        reported = instant(state.clock.now()),
    );
    Mail {
        to: settings.from.clone(),
        subject: format!(
            "Marketplace: abuse reported for an upload endorsed as {}",
            clip(&key.email, SUBJECT_TITLE_CHARS)
        ),
        body,
    }
}

/// Reports the upload of `token` as abuse: it is dropped (it can no
/// longer be confirmed), the report is logged, and the administrators are
/// mailed. A mail that cannot be sent is logged; the upload stays dropped.
pub(crate) async fn report_abuse(state: &AppState, token: &str) -> Result<AbuseReport, AppError> {
    let pending = take(state, token).await?;
    let key = pending.entry.key.clone();
    tracing::warn!(entry = %key, signer = %pending.entry.signer.subject,
        issuer = %pending.entry.signer.issuer, "abuse reported for a pending upload; dropped");
    let mailed = match MailSettings::from_config(&state.config) {
        Some(settings) => {
            let mail = abuse_mail(state, &settings, &pending);
            match mail::send(&settings, &mail).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(entry = %key, error = %e,
                        "the abuse report could not be mailed to the administrators");
                    false
                }
            }
        }
        None => false,
    };
    Ok(AbuseReport { key, mailed })
}

/// Removes the pending uploads that expired at the clock's instant.
pub(crate) async fn purge(state: &AppState) -> Result<u64, StoreError> {
    state.store.purge_pending(state.clock.now()).await
}

async fn purge_logged(state: &AppState) {
    state.mail_limits.forget_idle();
    match purge(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "expired pending uploads removed"),
        Err(e) => tracing::warn!(error = %e, "cannot purge expired pending uploads"),
    }
}

/// Purges expired pending uploads now, then every [`PURGE_INTERVAL`] in a
/// background task (abort the handle to stop it).
pub(crate) async fn start_purger(state: AppState) -> tokio::task::JoinHandle<()> {
    purge_logged(&state).await;
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + PURGE_INTERVAL;
        let mut ticker = tokio::time::interval_at(start, PURGE_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            purge_logged(&state).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(is_token(&a), "{a}");
        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(!is_token("../../etc/passwd"));
        assert!(!is_token(&format!("{a}x")));
        assert!(!is_token(&a.replace(|c: char| c.is_alphanumeric(), "=")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_ttl("24h").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_ttl("3d").unwrap(), DEFAULT_TTL);
        assert_eq!(parse_ttl(" 90m ").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_ttl("1w").unwrap(), Duration::from_secs(604800));
        for bad in ["", "0d", "3 days", "-1h", "h", "400d", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clipping() {
        assert_eq!(clip("a\r\nb", 10), "a  b");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
