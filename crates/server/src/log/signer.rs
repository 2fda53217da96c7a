//! The log's signer: it keeps the latest checkpoint, signs a new one when an
//! upload waits for its entry to be covered (or every second, for entries
//! other servers appended), and never signs a checkpoint that is not an
//! extension of the last one recorded.
//!
//! Batching: uploads that wait at once queue on one lock; the first signs
//! the tree as it is then (every committed entry), and those after it find
//! their entries covered. Signing is recorded in the store before it is
//! published, so a restart, a crash or another server starts from it.

use std::sync::{Arc, RwLock};

use marketplace_log::checkpoint::{self, VerifiedCheckpoint};
use marketplace_log::key::LogKey;
use marketplace_log::tree::{self, Hash};
use marketplace_store::{Store, StoreError};
use tokio::sync::{Mutex, OnceCell};

use super::proofs::{LogError, UpperHashes, inclusion_with_leaf, with_hashes, with_kept_hashes};
use crate::runtime::config::ServerConfig;

/// A checkpoint the log signed (or another server of its database did),
/// verified with the log's key.
pub type Published = VerifiedCheckpoint;

/// The transparency log of a server process.
pub struct TransparencyLog {
    key: LogKey,
    store: Arc<dyn Store>,
    /// The key claimed in the store (once per process).
    claimed: OnceCell<()>,
    /// One signer at a time in this process.
    signing: Mutex<()>,
    /// The newest checkpoint seen.
    latest: RwLock<Option<Arc<Published>>>,
    /// Tiles served ([`super::kept_bodies`]).
    pub(crate) tiles: super::kept_bodies::KeptBodies,
    /// Inclusion proofs served, by `index/size` ([`super::kept_bodies`]).
    pub(crate) proofs: super::kept_bodies::KeptBodies,
    /// The upper levels of the tree, for proofs ([`UpperHashes`]).
    pub(crate) upper: UpperHashes,
}

impl std::fmt::Debug for TransparencyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparencyLog")
            .field("verifier_key", &self.key.verifier_key())
            .finish_non_exhaustive()
    }
}

impl TransparencyLog {
    /// The log of `config`: its key read from `log_key_file`, or from (or
    /// created in) the data directory. The origin is the key's name: the
    /// configured `log_origin`, or at the key's creation the one
    /// `public_url` gives.
    pub fn open(config: &ServerConfig, store: Arc<dyn Store>) -> Result<Self, String> {
        let path = config.log_key_path();
        let key = LogKey::load_or_create(&path, &config.log_origin(), config.log_origin.is_some())
            .map_err(|e| e.to_string())?;
        Ok(Self::with_key(key, store))
    }

    /// The log signed with `key`.
    pub(crate) fn with_key(key: LogKey, store: Arc<dyn Store>) -> Self {
        Self {
            key,
            store,
            claimed: OnceCell::new(),
            signing: Mutex::new(()),
            latest: RwLock::new(None),
            tiles: super::kept_bodies::KeptBodies::default(),
            proofs: super::kept_bodies::KeptBodies::default(),
            upper: UpperHashes::default(),
        }
    }

    /// The log's origin (its checkpoints' first line).
    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// The verifier key, `<origin>+<key id>+<key>`.
    pub fn verifier_key(&self) -> &str {
        self.key.verifier_key()
    }

    /// Claims the key in the store (a database's log has one key) and reads
    /// the latest checkpoint; run at start so that a wrong key stops the
    /// server there.
    pub async fn start(&self) -> Result<(), LogError> {
        self.claim().await?;
        self.current().await.map(|_| ())
    }

    async fn claim(&self) -> Result<(), LogError> {
        self.claimed
            .get_or_try_init(|| async { self.store.claim_log_key(self.key.verifier_key()).await })
            .await
            .map(|_| ())
            .map_err(LogError::Store)
    }

    /// The newest checkpoint seen by this process (no database read).
    pub(crate) fn cached(&self) -> Option<Arc<Published>> {
        self.latest.read().ok().and_then(|l| l.clone())
    }

    /// The newest recorded checkpoint (this server's or another's on the
    /// same database), verified with the log's key.
    pub async fn current(&self) -> Result<Option<Arc<Published>>, LogError> {
        self.claim().await?;
        let cached = self.cached();
        let Some(stored) = self.store.latest_checkpoint().await? else {
            return Ok(cached);
        };
        if let Some(c) = &cached
            && c.size >= stored.size
        {
            return Ok(cached);
        }
        let verified = checkpoint::verify(stored.note.as_bytes(), self.key.verifier_key())
            .map_err(|e| {
                LogError::Checkpoint(format!(
                    "the recorded checkpoint of size {}: {e}",
                    stored.size
                ))
            })?;
        Ok(Some(self.publish(verified)))
    }

    /// Keeps `checkpoint` as the newest seen (unless a newer one is kept).
    fn publish(&self, checkpoint: Published) -> Arc<Published> {
        let fresh = Arc::new(checkpoint);
        if let Ok(mut latest) = self.latest.write() {
            match latest.as_ref() {
                Some(kept) if kept.size >= fresh.size => return kept.clone(),
                _ => *latest = Some(fresh.clone()),
            }
        }
        fresh
    }

    /// A checkpoint of at least `size` leaves, from this process's copy when
    /// it is that large (no database read), else the newest recorded.
    pub(crate) async fn at_least(&self, size: u64) -> Result<Option<Arc<Published>>, LogError> {
        match self.cached() {
            Some(c) if c.size >= size => Ok(Some(c)),
            _ => self.current().await,
        }
    }

    /// A checkpoint that covers leaf `index`, signing one when none does
    /// yet.
    pub async fn cover(&self, index: u64) -> Result<Arc<Published>, LogError> {
        if let Some(c) = self.cached().filter(|c| c.size > index) {
            return Ok(c);
        }
        let _signing = self.signing.lock().await;
        let previous = self.current().await?;
        if let Some(c) = previous.clone().filter(|c| c.size > index) {
            return Ok(c);
        }
        match self.sign_current(previous).await? {
            Some(c) if c.size > index => Ok(c),
            _ => Err(LogError::Checkpoint(format!(
                "no checkpoint covers leaf {index}: the log holds fewer leaves"
            ))),
        }
    }

    /// Signs the checkpoint of the whole tree when it grew since the last
    /// one (for the periodic refresh); the newest checkpoint either way.
    pub async fn refresh(&self) -> Result<Option<Arc<Published>>, LogError> {
        let _signing = self.signing.lock().await;
        let previous = self.current().await?;
        self.sign_current(previous).await
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves,
    /// and the leaf ([`inclusion_with_leaf`]).
    pub(crate) async fn inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(Vec<Hash>, Vec<u8>), LogError> {
        inclusion_with_leaf(self.store.as_ref(), &self.upper, index, size).await
    }

    /// Runs `computation` on the stored hashes it reads, the upper levels
    /// from memory ([`with_kept_hashes`]).
    pub(crate) async fn with_hashes<T>(
        &self,
        computation: impl Fn(&tree::AnyReader<'_>) -> Result<T, tree::TreeError>,
    ) -> Result<T, LogError> {
        with_kept_hashes(self.store.as_ref(), Some(&self.upper), computation).await
    }

    /// `note` verified as a checkpoint this log signed.
    pub fn verify(&self, note: &str) -> Result<Published, LogError> {
        checkpoint::verify(note.as_bytes(), self.key.verifier_key())
            .map_err(|e| LogError::Checkpoint(e.to_string()))
    }

    /// Records `note`, a checkpoint this log signed elsewhere (carried by
    /// `admin export` and `import` with the leaves it covers), once the
    /// stored tree is proved to have its root and to be consistent with the
    /// newest checkpoint recorded here.
    pub async fn adopt(&self, note: &str) -> Result<Arc<Published>, LogError> {
        let carried = self.verify(note)?;
        self.claim().await?;
        let _signing = self.signing.lock().await;
        let size = self.store.log_size().await?;
        if size < carried.size {
            return Err(LogError::Inconsistent(format!(
                "the carried checkpoint covers {} leaves; the store holds {size}",
                carried.size
            )));
        }
        let root = with_hashes(self.store.as_ref(), |r| tree::root(carried.size, r)).await?;
        if root != carried.root {
            return Err(LogError::Inconsistent(format!(
                "the stored tree of {} leaves does not have the carried checkpoint's root",
                carried.size
            )));
        }
        // Against the newest recorded one, whichever is larger: both are
        // of the stored tree, which proves them consistent or not.
        if let Some(previous) = self.current().await? {
            let (old, new) = if previous.size <= carried.size {
                (previous.as_ref(), &carried)
            } else {
                (&carried, previous.as_ref())
            };
            self.check_extension(old, new.size, new.root).await?;
        }
        self.store.record_checkpoint(carried.size, note).await?;
        Ok(self.publish(carried))
    }

    /// Signs the tree as the store holds it now, if it grew past
    /// `previous` (the newest checkpoint, read under `signing`, which the
    /// caller holds).
    async fn sign_current(
        &self,
        previous: Option<Arc<Published>>,
    ) -> Result<Option<Arc<Published>>, LogError> {
        let size = self.store.log_size().await?;
        if size == 0 || previous.as_ref().is_some_and(|p| p.size >= size) {
            return Ok(previous);
        }
        let root = with_hashes(self.store.as_ref(), |r| tree::root(size, r)).await?;
        if let Some(previous) = &previous {
            self.check_extension(previous, size, root).await?;
        }
        let note = checkpoint::sign(&self.key, size, root)
            .map_err(|e| LogError::Checkpoint(e.to_string()))?;
        // Recorded before it is published: whatever happens next, the
        // log has signed this size once, and a restart starts from it.
        let recorded = self.store.record_checkpoint(size, &note).await?;
        let verified = checkpoint::verify(recorded.note.as_bytes(), self.key.verifier_key())
            .map_err(|e| LogError::Checkpoint(e.to_string()))?;
        if verified.root != root {
            return Err(LogError::Inconsistent(format!(
                "a checkpoint of size {size} with another root is recorded already"
            )));
        }
        Ok(Some(self.publish(verified)))
    }

    /// Refuses to sign `(size, root)` unless the stored tree proves it
    /// extends `previous`.
    async fn check_extension(
        &self,
        previous: &Published,
        size: u64,
        root: Hash,
    ) -> Result<(), LogError> {
        let old = previous.size;
        let proof = with_hashes(self.store.as_ref(), |r| {
            tree::consistency_proof(old, size, r)
        })
        .await?;
        tree::check_consistency(&proof, old, previous.root, size, root).map_err(|e| {
            LogError::Inconsistent(format!(
                "the stored tree of {size} leaves does not extend the signed checkpoint of \
                 {old}: {e}; nothing was signed"
            ))
        })
    }
}

impl From<StoreError> for LogError {
    fn from(e: StoreError) -> Self {
        LogError::Store(e)
    }
}

/// How often the log signs a checkpoint for entries appended without an
/// upload waiting here (other servers, `admin import`).
pub(crate) const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts signing a checkpoint every [`REFRESH_EVERY`] when the tree grew.
pub(crate) fn start_refresher(log: Arc<TransparencyLog>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(REFRESH_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = log.refresh().await {
                tracing::error!(error = %e, "cannot sign a checkpoint of the transparency log");
            }
        }
    })
}
