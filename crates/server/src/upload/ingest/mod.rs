//! The upload pipeline, shared by `POST /metadata`, `admin import` and
//! (re-deriving signers) `admin rebuild-index`:
//!
//! 1. size limit, non-empty body;
//! 2. the trust core ([`check_document`]) at the clock's instant, with the
//!    configured CA directory and vomsdir: strict parse (no DTD), every
//!    format rule, the signature and its binding to the endorser, the chain
//!    and CRLs when a CA directory is configured;
//! 3. the e-mail policy: the endorser e-mail must be certified by the
//!    certificate, unless e-mail confirmation is enabled (then the entry
//!    needs confirmation, see [`IngestOutcome::NeedsConfirmation`], unless
//!    the signer is whitelisted: the rule is in [`crate::upload::confirm`]) or the
//!    operator turned `require_certified_email` off;
//! 4. [`Store::put`]: durable, refusing entries older than the latest and
//!    different documents with the same coordinates.
//!
//! Uploads over HTTP also go through the authorization rules
//! ([`crate::auth::authz`], [`Ingestor::ingest_as`]): who the client is before
//! step 1, whether it is the endorser after step 2.

use crate::auth::authz::{UploadRefusal, UploadRules};
use crate::auth::identity::ClientIdentity;
use crate::runtime::clock::Clock;
use crate::runtime::state::{AppState, TrustSettings};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use marketplace_format::{Created, Email, Identifier, Rule, datetime};
use marketplace_store::{
    Continuity, EndorserBinding, EntryKey, NewEntry, PutOutcome, Signer, Store, StoreError,
};
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureStatus, check_document,
};
use marketplace_trust::dsig::Layout;
use marketplace_trust::endorsement::EmailBinding;
use std::sync::Arc;

mod refusal;

pub use refusal::{KeyRole, Refusal};

/// Prefix of every message about a refused document (as the original).
pub const INVALID: &str = "invalid metadata: ";

/// What the pipeline requires beyond the trust core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// E-mail confirmation is enabled (uncertified e-mails wait for it).
    pub validate_email: bool,
    /// Uncertified e-mails are refused when confirmation is off.
    pub require_certified_email: bool,
    /// The smallest keys that may sign a new entry.
    pub min_key_bits: crate::runtime::config::MinKeyBits,
}

impl Policy {
    /// The policy of a configuration.
    pub fn from_config(config: &crate::runtime::config::ServerConfig) -> Self {
        Policy {
            max_bytes: config.max_upload_bytes,
            validate_email: config.validate_email,
            require_certified_email: config.require_certified_email,
            min_key_bits: config.min_key_bits,
        }
    }
}

/// A verified document and what must happen to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it now.
    Accept(NewEntry),
    /// Its e-mail is not certified: it must be confirmed by e-mail first.
    NeedsConfirmation(NewEntry),
}

/// A verdict with the trust core's notes on the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// What must happen to the document.
    pub verdict: Verdict,
    /// What was accepted with a remark (forms of the original tools read
    /// leniently, the signature algorithm, an uncertified e-mail, ...),
    /// one sentence each: every upload route shows them to the uploader.
    pub notes: Vec<String>,
}

/// What became of an accepted document, and the notes on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Stored, already present, or waiting for confirmation.
    pub outcome: IngestOutcome,
    /// The trust core's notes on the document (see [`Checked::notes`]).
    pub notes: Vec<String>,
}

/// What an ingested document became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored as a new entry.
    Created(EntryKey),
    /// The very same document was already stored.
    AlreadyPresent(EntryKey),
    /// Valid, but waits for e-mail confirmation (nothing stored yet). The
    /// confirmation flow (pending entry, mail) hooks in here.
    NeedsConfirmation(Box<NewEntry>),
}

/// Why a document was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    /// No document at all.
    #[error("post with null entity")]
    Empty,
    /// Over the size limit.
    #[error("request entity too large: the document has {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Refused by the trust core or the policy, with every reason; the
    /// message starts with `invalid metadata: ` and has one reason per line.
    #[error("{INVALID}{}", refusal::lines(.0))]
    Invalid(Vec<Refusal>),
    /// Older than the endorser's latest entry for the image.
    #[error("{INVALID}{}", refusal::OLDER_THAN_LATEST)]
    OlderThanLatest {
        /// The latest entry's created.
        latest: String,
    },
    /// A different document has the same coordinates.
    #[error("conflict: a different document is already stored as {0}")]
    Conflict(EntryKey),
    /// The client may not upload this document ([`crate::auth::authz`]); the
    /// message starts with `upload refused: ` and names the rule.
    #[error(transparent)]
    Forbidden(#[from] UploadRefusal),
    /// The endorser e-mail is bound to another identity (403): nobody
    /// endorses in another's name.
    #[error("upload refused: {}", marketplace_store::StoreError::EndorserBound(.0.clone()))]
    EndorserBound(Box<EndorserBinding>),
    /// The store cannot write now (its database restarting, the disk
    /// full): 503 with `Retry-After`; nothing was stored.
    #[error(
        "the marketplace cannot store uploads right now (nothing was stored); please upload \
         again later"
    )]
    Unavailable(String),
    /// The store failed.
    #[error("storage failure: {0}")]
    Store(String),
}

impl IngestError {
    /// The reasons the document itself is refused as metadata (the lines
    /// after `invalid metadata: `); `None` when the refusal is about
    /// something else (size, rights, conflicts, the store).
    pub fn into_refusals(self) -> Option<Vec<Refusal>> {
        match self {
            IngestError::Invalid(refusals) => Some(refusals),
            IngestError::OlderThanLatest { latest } => {
                Some(vec![Refusal::OlderThanLatest { latest }])
            }
            _ => None,
        }
    }

    /// The HTTP status for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::Empty | IngestError::Invalid(_) | IngestError::OlderThanLatest { .. } => {
                StatusCode::BAD_REQUEST
            }
            IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::Conflict(_) => StatusCode::CONFLICT,
            IngestError::Forbidden(_) | IngestError::EndorserBound(_) => StatusCode::FORBIDDEN,
            IngestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A refusal for one reason.
fn invalid(refusal: Refusal) -> IngestError {
    IngestError::Invalid(vec![refusal])
}

/// A refusal for every format problem of `report`.
fn format_problems(report: &DocumentReport) -> IngestError {
    IngestError::Invalid(
        report
            .problems
            .iter()
            .cloned()
            .map(Refusal::Format)
            .collect(),
    )
}

/// The coordinates a document claims, checked for shape.
fn key_of(report: &DocumentReport) -> Result<EntryKey, IngestError> {
    let m = &report.metadata;
    let Some(endorsement) = &m.endorsement else {
        return Err(invalid(Refusal::NoEndorsement));
    };
    // Each coordinate is checked, so that the refusal lists every bad one.
    let identifier = Identifier::parse(&m.identifier);
    let email = Email::lowered(&endorsement.endorser.email);
    let created = Created::parse(&endorsement.created);
    match (identifier, email, created) {
        (Ok(identifier), Ok(email), Ok(created)) => Ok(EntryKey {
            identifier,
            email,
            created,
        }),
        (identifier, email, created) => Err(IngestError::Invalid(
            [identifier.err(), email.err(), created.err()]
                .into_iter()
                .flatten()
                .map(Refusal::Malformed)
                .collect(),
        )),
    }
}

/// The verified signer of a report whose signature is valid.
fn signer_of(report: &DocumentReport) -> Option<Signer> {
    let SignatureStatus::Valid {
        identity,
        email,
        identity_key,
        ..
    } = &report.signature
    else {
        return None;
    };
    let chained = matches!(report.chain, ChainStatus::Trusted { .. });
    let (issuer, vo, fqans) = match &report.chain {
        ChainStatus::Trusted { issuer, voms, .. } => {
            let first = voms.first();
            (
                issuer.clone(),
                first.map(|v| v.vo.clone()),
                first.map(|v| v.fqans.clone()).unwrap_or_default(),
            )
        }
        // The binding check made sure the certificate's issuer is among
        // the endorsement's issuers.
        _ => (
            report
                .metadata
                .endorsement
                .as_ref()
                .and_then(|e| e.endorser.issuers.first().cloned())
                .unwrap_or_default(),
            None,
            Vec::new(),
        ),
    };
    Some(Signer {
        subject: identity.clone(),
        issuer,
        // Only a certificate authority certifies an address: a self-signed
        // certificate can name anyone's.
        email_certified: chained && *email == EmailBinding::Certified,
        chained,
        key_sha256: identity_key.sha256.clone(),
        vo,
        fqans,
    })
}

/// Runs the trust core and the policy on `bytes` at `at`. CPU-bound: call
/// it from a blocking thread.
pub fn verify(
    bytes: Vec<u8>,
    trust: &TrustSettings,
    at: DateTime<Utc>,
    policy: &Policy,
) -> Result<Checked, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    if bytes.len() > policy.max_bytes {
        return Err(IngestError::TooLarge {
            size: bytes.len(),
            limit: policy.max_bytes,
        });
    }
    let report = check_document(
        &bytes,
        &CheckOptions {
            ca_dir: trust.ca_dir.as_ref(),
            vomsdir: trust.vomsdir.as_ref(),
            at: Some(at),
            certificates_at: None,
            layout: Layout::Signers,
        },
    );
    // Not XML at all (or a DTD): nothing else is meaningful.
    if report
        .problems
        .iter()
        .any(|p| matches!(p.rule, Rule::XmlSyntax | Rule::Dtd))
    {
        return Err(format_problems(&report));
    }
    if matches!(report.signature, SignatureStatus::Unsigned) {
        return Err(invalid(Refusal::Unsigned));
    }
    if !report.problems.is_empty() {
        return Err(format_problems(&report));
    }
    if let SignatureStatus::Invalid { reason } = &report.signature {
        return Err(invalid(Refusal::Signature(reason.clone())));
    }
    if let ChainStatus::Untrusted { reason } = &report.chain {
        return Err(invalid(Refusal::Untrusted(reason.clone())));
    }
    check_key_sizes(&report, policy.min_key_bits)?;
    let key = key_of(&report)?;
    let signer = signer_of(&report).ok_or_else(|| invalid(Refusal::Unsigned))?;
    // The e-mail policy asks whether the certificate carries the address;
    // whether a CA vouches for it is `Signer::email_certified`.
    let certified = matches!(
        report.signature,
        SignatureStatus::Valid {
            email: EmailBinding::Certified,
            ..
        }
    );
    // The rule is documented in `crate::upload::confirm`.
    let whitelisted = crate::auth::whitelist::skips_confirmation(
        trust.whitelist.as_ref(),
        &report.chain,
        &signer.subject,
    );
    let notes = report.notes;
    let entry = NewEntry {
        key,
        metadata: report.metadata,
        signer,
        document: bytes,
    };
    let checked = |verdict| Ok(Checked { verdict, notes });
    if certified || (policy.validate_email && whitelisted) {
        checked(Verdict::Accept(entry))
    } else if policy.validate_email {
        checked(Verdict::NeedsConfirmation(entry))
    } else if !policy.require_certified_email {
        checked(Verdict::Accept(entry))
    } else {
        Err(invalid(Refusal::UncertifiedEmail(
            entry.key.email.into_string(),
        )))
    }
}

/// Refuses a signature made, or an identity held, with a key under the
/// policy's sizes (`min_rsa_bits`, `min_ec_bits`).
fn check_key_sizes(
    report: &DocumentReport,
    min: crate::runtime::config::MinKeyBits,
) -> Result<(), IngestError> {
    let SignatureStatus::Valid {
        identity_key,
        signer_key,
        ..
    } = &report.signature
    else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for (role, key) in [
        (KeyRole::Signing, signer_key),
        (KeyRole::Endorser, identity_key),
    ] {
        let floor = match key.algorithm.as_str() {
            "RSA" => min.rsa,
            "EC" => min.ec,
            _ => continue,
        };
        if key.bits < floor {
            problems.push(Refusal::WeakKey {
                role,
                algorithm: key.algorithm.clone(),
                bits: key.bits,
                floor,
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(IngestError::Invalid(problems))
    }
}

/// Re-derives the index entry of an already stored document (for
/// `rebuild-index`): the format must hold and the signature verify; the
/// chain (when a CA directory is configured) is checked at the endorsement
/// instant, and only contributes VOMS attributes — an entry once accepted
/// is never dropped because a certificate has expired since.
pub fn reindex(bytes: &[u8], trust: &TrustSettings) -> Result<NewEntry, String> {
    let parsed = marketplace_format::parse(bytes);
    let at = datetime::parse_utc(parsed.metadata.endorsement_created()).ok();
    let report = check_document(
        bytes,
        &CheckOptions {
            ca_dir: trust.ca_dir.as_ref(),
            vomsdir: trust.vomsdir.as_ref(),
            at,
            certificates_at: None,
            // Accepted once: the layout of its unsigned parts is not asked
            // again.
            layout: Layout::Stored,
        },
    );
    if let Some(p) = report.problems.first() {
        return Err(format!("format: {p}"));
    }
    match &report.signature {
        SignatureStatus::Valid { .. } => {}
        SignatureStatus::Unsigned => return Err("no signature".into()),
        SignatureStatus::Invalid { reason } => return Err(format!("invalid signature: {reason}")),
    }
    let key = key_of(&report).map_err(|e| e.to_string())?;
    let signer = signer_of(&report).ok_or("no signature")?;
    Ok(NewEntry {
        key,
        metadata: report.metadata,
        signer,
        document: bytes.to_vec(),
    })
}

/// Stores an accepted entry, mapping the store's refusals.
pub async fn store_entry(store: &dyn Store, entry: NewEntry) -> Result<IngestOutcome, IngestError> {
    let key = entry.key.clone();
    let document = entry.document.clone();
    match stored(key, store.put(entry).await) {
        Err(IngestError::Conflict(key)) if same_signed_content(store, &key, &document).await => {
            Ok(IngestOutcome::AlreadyPresent(key))
        }
        other => other,
    }
}

/// Whether the entry stored at `key` is `document`'s signed content written
/// another way (its signature value and digest are the same): then the
/// upload is that entry, already present — whoever uploaded a re-serialised
/// copy first cannot keep the signer's own document out.
async fn same_signed_content(store: &dyn Store, key: &EntryKey, document: &[u8]) -> bool {
    let Ok(Some(stored)) = store.get(key).await else {
        return false;
    };
    let identity = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|xml| marketplace_trust::dsig::signed_identity(xml).ok())
    };
    matches!(
        (identity(&stored.entry.document), identity(document)),
        (Some(a), Some(b)) if a == b
    )
}

/// What the store's answer to putting the entry `key` means for an upload
/// (also for each entry of a batch, `admin import`).
pub fn stored(
    key: EntryKey,
    put: Result<PutOutcome, StoreError>,
) -> Result<IngestOutcome, IngestError> {
    match put {
        Ok(PutOutcome::Created) => Ok(IngestOutcome::Created(key)),
        Ok(PutOutcome::AlreadyPresent) => Ok(IngestOutcome::AlreadyPresent(key)),
        Err(e) => Err(store_failure(e)),
    }
}

/// The store's refusal or failure as an upload's.
pub fn store_failure(e: StoreError) -> IngestError {
    match e {
        StoreError::OlderThanLatest { latest } => IngestError::OlderThanLatest { latest },
        StoreError::Conflict(k) => IngestError::Conflict(k),
        StoreError::EndorserBound(binding) => IngestError::EndorserBound(binding),
        StoreError::Unavailable(cause) => IngestError::Unavailable(cause),
        other => IngestError::Store(other.to_string()),
    }
}

/// Refuses `entry` when its signer does not continue its e-mail's binding
/// (the check [`Store::put`] makes in its transaction, made early for an
/// entry that waits for confirmation).
pub async fn check_binding(store: &dyn Store, entry: &NewEntry) -> Result<(), IngestError> {
    let binding = store
        .binding(&entry.key.email)
        .await
        .map_err(store_failure)?;
    match binding {
        Some(b) if b.continuity(&entry.signer) == Continuity::Broken => {
            Err(IngestError::EndorserBound(Box::new(b)))
        }
        _ => Ok(()),
    }
}

/// The documents this process verifies at once: one fewer than its CPUs
/// (at least one), so that uploads arriving faster than they can be
/// verified queue here while a CPU stays free for reads. Process-wide, as
/// the CPUs are.
pub fn verification_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        tokio::sync::Semaphore::new(cpus.saturating_sub(1).max(1))
    })
}

/// The pipeline with its dependencies.
#[derive(Clone)]
pub struct Ingestor {
    /// Where accepted entries go.
    pub store: Arc<dyn Store>,
    /// Trust anchors.
    pub trust: Arc<TrustSettings>,
    /// The clock (the instant of every check).
    pub clock: Clock,
    /// The policy.
    pub policy: Policy,
}

impl Ingestor {
    /// The pipeline of a running application.
    pub fn from_state(state: &AppState) -> Self {
        Ingestor {
            store: state.store.clone(),
            trust: state.trust.clone(),
            clock: state.clock,
            policy: Policy::from_config(&state.config),
        }
    }

    /// The upload of `bytes` by `client` under `rules` ([`crate::auth::authz`]):
    /// the rules about the client are checked first (before any
    /// verification), the endorser rule on the verified document, then the
    /// entry is stored (or waits for confirmation) as by [`Ingestor::ingest`].
    pub async fn ingest_as(
        &self,
        bytes: Vec<u8>,
        rules: &UploadRules,
        client: Option<&ClientIdentity>,
    ) -> Result<Ingested, IngestError> {
        rules.check_client(client).map_err(IngestError::Forbidden)?;
        let checked = self.verdict(bytes).await?;
        let entry = match &checked.verdict {
            Verdict::Accept(entry) | Verdict::NeedsConfirmation(entry) => entry,
        };
        rules
            .check_endorser(client, &entry.signer.subject)
            .map_err(IngestError::Forbidden)?;
        self.conclude(checked).await
    }

    /// Verifies `bytes` (on a blocking thread) and stores the entry, with
    /// no authorization rule (`admin import`; the routes use
    /// [`Ingestor::ingest_as`]).
    pub async fn ingest(&self, bytes: Vec<u8>) -> Result<Ingested, IngestError> {
        let checked = self.verdict(bytes).await?;
        self.conclude(checked).await
    }

    /// The trust core's and the policy's verdict, on a blocking thread
    /// once one of the [`verification_slots`] is free (a request that
    /// times out while it waits costs nothing more).
    async fn verdict(&self, bytes: Vec<u8>) -> Result<Checked, IngestError> {
        if bytes.is_empty() {
            return Err(IngestError::Empty);
        }
        if bytes.len() > self.policy.max_bytes {
            return Err(IngestError::TooLarge {
                size: bytes.len(),
                limit: self.policy.max_bytes,
            });
        }
        let trust = self.trust.clone();
        let policy = self.policy;
        let at = self.clock.now();
        let slot = verification_slots()
            .acquire()
            .await
            .map_err(|e| IngestError::Store(format!("verification slots closed: {e}")))?;
        let verdict = tokio::task::spawn_blocking(move || verify(bytes, &trust, at, &policy))
            .await
            .map_err(|e| IngestError::Store(format!("verification task failed: {e}")))?;
        drop(slot);
        verdict
    }

    /// Stores an accepted entry, or hands one that needs confirmation back
    /// (after checking its endorser binding, which the store checks again
    /// when it is confirmed).
    async fn conclude(&self, checked: Checked) -> Result<Ingested, IngestError> {
        let outcome = match checked.verdict {
            Verdict::Accept(entry) => store_entry(self.store.as_ref(), entry).await?,
            Verdict::NeedsConfirmation(entry) => {
                check_binding(self.store.as_ref(), &entry).await?;
                IngestOutcome::NeedsConfirmation(Box::new(entry))
            }
        };
        Ok(Ingested {
            outcome,
            notes: checked.notes,
        })
    }
}
