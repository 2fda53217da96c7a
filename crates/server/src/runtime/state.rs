//! What every request handler shares: the store, the configuration, the
//! clock and the trust settings.

use crate::runtime::clock::Clock;
use crate::runtime::config::ServerConfig;
use marketplace_store::Store;
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::voms::VomsDir;
use std::sync::Arc;

/// Trust anchors used by the upload pipeline.
#[derive(Debug, Clone, Default)]
pub struct TrustSettings {
    /// CA directory: when present, chains and CRLs are checked.
    pub ca_dir: Option<CaDirectory>,
    /// vomsdir: when present (with a CA directory), VOMS attributes are checked.
    pub vomsdir: Option<VomsDir>,
    /// Signers whose uploads skip e-mail confirmation ([`crate::auth::whitelist`]).
    pub whitelist: Option<crate::auth::whitelist::Whitelist>,
}

impl TrustSettings {
    /// Opens the directories named by the configuration.
    pub fn from_config(config: &ServerConfig) -> Result<Self, String> {
        let ca_dir = config
            .ca_dir
            .as_ref()
            .map(CaDirectory::open)
            .transpose()
            .map_err(|e| format!("cannot use the CA directory: {e}"))?;
        let vomsdir = config
            .vomsdir
            .as_ref()
            .map(VomsDir::open)
            .transpose()
            .map_err(|e| format!("cannot use the vomsdir: {e}"))?;
        let whitelist = config
            .endorser_whitelist
            .as_deref()
            .map(crate::auth::whitelist::Whitelist::load)
            .transpose()?;
        Ok(TrustSettings {
            ca_dir,
            vomsdir,
            whitelist,
        })
    }
}

/// The shared state of the application: one reference-counted
/// [`SharedState`], so a clone (every middleware and handler takes one per
/// request) is a single counter increment.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What [`AppState`] shares; its fields are reached through `AppState`.
pub struct SharedState {
    /// Where entries are kept.
    pub store: Arc<dyn Store>,
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// The clock.
    pub clock: Clock,
    /// Trust anchors.
    pub trust: Arc<TrustSettings>,
    /// Prometheus metrics ([`crate::http::metrics`]).
    pub metrics: Arc<crate::http::metrics::Metrics>,
    /// How many confirmation mails may still go out ([`crate::upload::mail_limits`]).
    pub mail_limits: crate::upload::mail_limits::MailLimits,
    /// Uploads received at once ([`UPLOADS_AT_ONCE`]): each holds up to
    /// `max_upload_bytes` in memory until it is verified and stored.
    pub upload_slots: tokio::sync::Semaphore,
    /// Pages larger than 100 entries built at once
    /// ([`crate::http::heavy_reads::HEAVY_AT_ONCE`]).
    pub heavy_slots: Arc<tokio::sync::Semaphore>,
    /// The transparency log ([`crate::log`]).
    pub log: Arc<crate::log::signer::TransparencyLog>,
    /// As a witness of other logs, its cosigning key (`None`: not a
    /// witness).
    pub witness: Option<Arc<marketplace_log::cosignature::WitnessKey>>,
}

/// Uploads a server process receives at once; more wait for a slot (until
/// their request times out), so that uploads bound the memory they hold.
pub const UPLOADS_AT_ONCE: usize = 32;

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl AppState {
    /// State from its parts; the clock comes from `config.now`, the log's
    /// key from `config` (created in the data directory at the first start:
    /// an unreadable key is the error).
    pub fn new(
        store: Arc<dyn Store>,
        config: ServerConfig,
        trust: TrustSettings,
    ) -> Result<Self, String> {
        let log = crate::log::signer::TransparencyLog::open(&config, store.clone())?;
        let witness = if config.witness_logs.is_empty() {
            None
        } else {
            let key = marketplace_log::cosignature::WitnessKey::load_or_create(
                &config.witness_key_path(),
                &config.witness_name(),
            )
            .map_err(|e| format!("cannot use the witness key: {e}"))?;
            Some(Arc::new(key))
        };
        Ok(AppState(Arc::new(SharedState {
            log: Arc::new(log),
            witness,
            store,
            clock: Clock::from_option(config.now),
            mail_limits: crate::upload::mail_limits::MailLimits::new(config.mail_quotas),
            upload_slots: tokio::sync::Semaphore::new(UPLOADS_AT_ONCE),
            heavy_slots: Arc::new(tokio::sync::Semaphore::new(
                crate::http::heavy_reads::HEAVY_AT_ONCE,
            )),
            config: Arc::new(config),
            trust: Arc::new(trust),
            metrics: Arc::new(crate::http::metrics::Metrics::new()),
        })))
    }

    /// The public base URL joined with `path` (which starts with `/`).
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url)
    }
}
