//! Server configuration: defaults, a TOML file, the environment and the
//! command line, merged with the precedence CLI > environment > file >
//! defaults.
//!
//! Every setting is a field of [`ConfigLayer`] (all optional); each source
//! gives one layer and [`ServerConfig::resolve`] merges them.

use crate::auth::authn::{AddrRange, TlsClientAuth};
use crate::auth::authz::UploadRules;
use crate::upload::smtp::{Secret, SmtpTls};
use chrono::{DateTime, Utc};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Address the server listens on by default (the original's Jetty port).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9204";

/// The port of [`DEFAULT_LISTEN`].
const DEFAULT_PORT: u16 = 9204;

/// Data directory used by default (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "./marketplace-data";

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "marketplace.db";

/// Rows an XML or JSON list returns when the request does not say.
pub const DEFAULT_PAGE: u32 = 100;

/// Seconds a request may take before the server answers 408.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// The smallest keys that may sign a new entry (`min_rsa_bits`,
/// `min_ec_bits`): NIST SP 800-131A's floor (112-bit security) by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinKeyBits {
    /// RSA modulus, in bits.
    pub rsa: u32,
    /// Elliptic-curve group order, in bits.
    pub ec: u32,
}

impl MinKeyBits {
    /// 2048-bit RSA, 256-bit EC.
    pub const DEFAULT: MinKeyBits = MinKeyBits { rsa: 2048, ec: 256 };
}

/// How many confirmation mails may go out per hour (`mail_per_recipient`,
/// `mail_per_client`, `mail_per_hour`), each a burst that then refills
/// evenly over the hour ([`crate::upload::mail_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailQuotas {
    /// To one address.
    pub per_recipient: u32,
    /// On behalf of one client address.
    pub per_client: u32,
    /// From this server process, in all.
    pub total: u32,
}

impl MailQuotas {
    /// 3 per address, 10 per client, 100 in all.
    pub const DEFAULT: MailQuotas = MailQuotas {
        per_recipient: 3,
        per_client: 10,
        total: 100,
    };
}

mod checks;
mod layer;

use checks::{check_auth_settings, check_mail_settings, normalise_public_url};
pub use layer::ConfigLayer;
pub use layer::WitnessEndpoint;

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a bad value.
    #[error("configuration file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A merged value is not usable.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The configuration the server runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory (holds the embedded database).
    pub data_dir: PathBuf,
    /// PostgreSQL URL, when the shared store is used.
    pub database_url: Option<String>,
    /// Public base URL without a trailing slash (e.g. `https://host/marketplace`).
    pub public_url: String,
    /// CA directory for chain and CRL checks.
    pub ca_dir: Option<PathBuf>,
    /// vomsdir for VOMS checks.
    pub vomsdir: Option<PathBuf>,
    /// Largest accepted document, in bytes.
    pub max_upload_bytes: usize,
    /// The most bytes of signed documents one list response carries (the
    /// page ends early past it and says so).
    pub max_list_document_bytes: usize,
    /// E-mail confirmation of uploads whose e-mail the certificate does not carry.
    pub validate_email: bool,
    /// Refuse uncertified e-mails when confirmation is off.
    pub require_certified_email: bool,
    /// Request timeout in seconds.
    pub request_timeout_secs: u64,
    /// Smallest key sizes that may sign a new entry.
    pub min_key_bits: MinKeyBits,
    /// Confirmation mails allowed per hour.
    pub mail_quotas: MailQuotas,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client address.
    pub max_connections_per_client: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: std::time::Duration,
    /// Time a connection may stay idle between requests.
    pub idle_timeout: std::time::Duration,
    /// Frozen clock, if any.
    pub now: Option<DateTime<Utc>>,
    /// SMTP server for confirmation mails.
    pub smtp_host: Option<String>,
    /// Its port (`None`: the usual port of `smtp_tls`).
    pub smtp_port: Option<u16>,
    /// Connection protection.
    pub smtp_tls: SmtpTls,
    /// SMTP user.
    pub smtp_user: Option<String>,
    /// SMTP password (prints as `***`).
    pub smtp_password: Option<Secret>,
    /// Sender address of the mails.
    pub mail_from: Option<String>,
    /// How long an upload waits for confirmation.
    pub confirmation_ttl: std::time::Duration,
    /// Whitelist file of signer DNs that skip confirmation.
    pub endorser_whitelist: Option<PathBuf>,
    /// Server certificate (chain), PEM: HTTPS when set (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// Its private key, PEM.
    pub tls_key: Option<PathBuf>,
    /// Client certificates in the TLS handshake.
    pub tls_client_auth: TlsClientAuth,
    /// Header carrying the client chain from a trusted proxy (lower case).
    pub trusted_proxy_header: Option<String>,
    /// The proxies whose header is trusted.
    pub trusted_proxies: Vec<AddrRange>,
    /// Who may upload ([`crate::auth::authz`]).
    pub upload: UploadRules,
    /// The transparency log's origin (its checkpoints' first line), when
    /// set; otherwise derived from `public_url` ([`ServerConfig::log_origin`]).
    pub log_origin: Option<String>,
    /// The log's signing key file, when not the data directory's.
    pub log_key_file: Option<PathBuf>,
    /// Witnesses the log submits its checkpoints to.
    pub witnesses: Vec<WitnessEndpoint>,
    /// As a witness: the verifier keys of the logs this server cosigns
    /// (none: not a witness).
    pub witness_logs: Vec<String>,
    /// As a witness: the cosigning key file, when not the data directory's.
    pub witness_key_file: Option<PathBuf>,
    /// As a witness: its name, when set.
    pub witness_name: Option<String>,
}

impl Default for ServerConfig {
    // The defaults are constants, checked by this module's tests.
    #[allow(clippy::expect_used)]
    fn default() -> Self {
        ServerConfig::resolve(ConfigLayer::default()).expect("the defaults are valid")
    }
}

impl ServerConfig {
    /// Merges `layer` (already merged from CLI, environment and file) with the
    /// defaults and checks the result.
    pub fn resolve(layer: ConfigLayer) -> Result<Self, ConfigError> {
        check_mail_settings(&layer)?;
        let auth = check_auth_settings(&layer)?;
        let listen = layer
            .listen
            .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
        let public_url = match &layer.public_url {
            Some(url) => normalise_public_url(url)?,
            None if layer.tls_cert.is_some() => format!("https://{listen}"),
            None => format!("http://{listen}"),
        };
        let limits = resolve_limits(&layer)?;
        check_store_settings(&layer)?;
        let confirmation_ttl = match &layer.confirmation_ttl {
            Some(text) => crate::upload::confirm::parse_ttl(text)
                .map_err(|e| ConfigError::Invalid(format!("confirmation_ttl: {e}")))?,
            None => crate::upload::confirm::DEFAULT_TTL,
        };
        let mail_quotas = resolve_mail_quotas(&layer)?;
        let log_origin = layer.log_origin.as_deref().map(str::trim).map(String::from);
        let origin = log_origin
            .clone()
            .unwrap_or_else(|| default_log_origin(&public_url));
        if !marketplace_log::key::is_origin_valid(&origin) {
            return Err(ConfigError::Invalid(format!(
                "log_origin '{origin}' must be non-empty, without spaces or '+'"
            )));
        }
        Ok(ServerConfig {
            listen,
            data_dir: layer
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: layer.database_url,
            public_url,
            ca_dir: layer.ca_dir,
            vomsdir: layer.vomsdir,
            max_upload_bytes: limits.max_upload_bytes,
            max_list_document_bytes: layer
                .max_list_document_bytes
                .unwrap_or(crate::http::heavy_reads::LIST_DOCUMENT_BUDGET),
            validate_email: layer.validate_email.unwrap_or(false),
            require_certified_email: layer.require_certified_email.unwrap_or(true),
            request_timeout_secs: limits.request_timeout_secs,
            min_key_bits: MinKeyBits {
                rsa: layer.min_rsa_bits.unwrap_or(MinKeyBits::DEFAULT.rsa),
                ec: layer.min_ec_bits.unwrap_or(MinKeyBits::DEFAULT.ec),
            },
            mail_quotas,
            max_connections: limits.max_connections,
            max_connections_per_client: limits.max_connections_per_client,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            now: layer.now,
            smtp_host: layer.smtp_host,
            smtp_port: layer.smtp_port,
            smtp_tls: layer.smtp_tls.unwrap_or_default(),
            smtp_user: layer.smtp_user,
            smtp_password: layer.smtp_password,
            mail_from: layer.mail_from,
            confirmation_ttl,
            endorser_whitelist: layer.endorser_whitelist,
            tls_cert: layer.tls_cert,
            tls_key: layer.tls_key,
            tls_client_auth: auth.tls_client_auth,
            trusted_proxy_header: auth.trusted_proxy_header,
            trusted_proxies: auth.trusted_proxies,
            upload: auth.upload,
            log_origin,
            log_key_file: layer.log_key_file,
            witnesses: check_witnesses(layer.witness.unwrap_or_default())?,
            witness_logs: check_witness_logs(layer.witness_logs.unwrap_or_default())?,
            witness_key_file: layer.witness_key_file,
            witness_name: layer.witness_name,
        })
    }

    /// Loads the configuration: `cli` over the process environment over the
    /// file (`cli_file`, else `MARKETPLACE_CONFIG`) over the defaults.
    pub fn load(cli_file: Option<&Path>, cli: ConfigLayer) -> Result<Self, ConfigError> {
        Self::load_with(cli_file, cli, |k| std::env::var(k).ok())
    }

    /// [`ServerConfig::load`] with an injectable environment.
    pub fn load_with(
        cli_file: Option<&Path>,
        cli: ConfigLayer,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file_path = cli_file.map(Path::to_path_buf).or_else(|| {
            env("MARKETPLACE_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let file = match &file_path {
            Some(p) => ConfigLayer::from_file(p)?,
            None => ConfigLayer::default(),
        };
        let env_layer = ConfigLayer::from_env(&env)?;
        Self::resolve(cli.over(env_layer).over(file))
    }

    /// Path of the embedded database.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(SQLITE_FILE)
    }

    /// The log's origin: `log_origin`, or `public_url` without its scheme
    /// followed by `/log`.
    pub fn log_origin(&self) -> String {
        self.log_origin
            .clone()
            .unwrap_or_else(|| default_log_origin(&self.public_url))
    }

    /// The log's signing key file: `log_key_file`, or `log.key` in the data
    /// directory.
    pub fn log_key_path(&self) -> PathBuf {
        self.log_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(LOG_KEY_FILE))
    }
}

/// The witness key's file name in the data directory.
pub(crate) const WITNESS_KEY_FILE: &str = "witness.key";

impl ServerConfig {
    /// As a witness: the cosigning key file (`witness_key_file`, or
    /// `witness.key` in the data directory).
    pub fn witness_key_path(&self) -> PathBuf {
        self.witness_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(WITNESS_KEY_FILE))
    }

    /// As a witness: its name (`witness_name`, or `public_url` without its
    /// scheme followed by `/witness`).
    pub fn witness_name(&self) -> String {
        self.witness_name.clone().unwrap_or_else(|| {
            let log = default_log_origin(&self.public_url);
            format!("{}/witness", log.trim_end_matches("/log"))
        })
    }
}

/// Checks the witnesses' URLs and keys.
fn check_witnesses(witnesses: Vec<WitnessEndpoint>) -> Result<Vec<WitnessEndpoint>, ConfigError> {
    for w in &witnesses {
        if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "witness url '{}' must start with http:// or https://",
                w.url
            )));
        }
        marketplace_log::cosignature::CosignatureVerifier::new(&w.key)
            .map_err(|e| ConfigError::Invalid(format!("witness {}: {e}", w.url)))?;
    }
    Ok(witnesses)
}

/// Checks the verifier keys of the logs a witness follows.
fn check_witness_logs(keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for key in &keys {
        marketplace_log::checkpoint::check_verifier_key(key)
            .map_err(|e| ConfigError::Invalid(format!("witness_logs: {e}")))?;
    }
    Ok(keys)
}

/// The log key's file name in the data directory.
pub(crate) const LOG_KEY_FILE: &str = "log.key";

/// The log origin a public URL gives: without its scheme, with `/log`
/// (`https://mp.example.org/x` → `mp.example.org/x/log`).
pub(crate) fn default_log_origin(public_url: &str) -> String {
    let bare = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    format!("{bare}/log")
}

/// The bounds of requests and connections a configuration sets.
struct Limits {
    max_upload_bytes: usize,
    request_timeout_secs: u64,
    max_connections: usize,
    max_connections_per_client: usize,
    header_timeout: std::time::Duration,
    idle_timeout: std::time::Duration,
}

/// The bounds of `layer` with their defaults; each must be positive.
fn resolve_limits(layer: &ConfigLayer) -> Result<Limits, ConfigError> {
    let max_upload_bytes = layer
        .max_upload_bytes
        .unwrap_or(marketplace_format::MAX_DOCUMENT_BYTES);
    if max_upload_bytes == 0 {
        return Err(ConfigError::Invalid(
            "max_upload_bytes must be positive".into(),
        ));
    }
    let request_timeout_secs = layer
        .request_timeout_secs
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS);
    if request_timeout_secs == 0 {
        return Err(ConfigError::Invalid(
            "request_timeout_secs must be positive".into(),
        ));
    }
    let max_connections = layer
        .max_connections
        .unwrap_or(crate::http::connections::DEFAULT_MAX_CONNECTIONS);
    let max_connections_per_client = layer
        .max_connections_per_client
        .unwrap_or(crate::http::connections::DEFAULT_MAX_PER_CLIENT);
    let seconds = |value: Option<u64>, default: std::time::Duration, name: &str| match value
        .map(std::time::Duration::from_secs)
    {
        Some(d) if d.is_zero() => Err(ConfigError::Invalid(format!("{name} must be positive"))),
        d => Ok(d.unwrap_or(default)),
    };
    let header_timeout = seconds(
        layer.header_timeout_secs,
        crate::http::connections::HEADER_READ_TIMEOUT,
        "header_timeout_secs",
    )?;
    let idle_timeout = seconds(
        layer.idle_timeout_secs,
        crate::http::connections::IDLE_TIMEOUT,
        "idle_timeout_secs",
    )?;
    if max_connections == 0 || max_connections_per_client == 0 {
        return Err(ConfigError::Invalid(
            "max_connections and max_connections_per_client must be positive".into(),
        ));
    }
    Ok(Limits {
        max_upload_bytes,
        request_timeout_secs,
        max_connections,
        max_connections_per_client,
        header_timeout,
        idle_timeout,
    })
}

/// Checks the settings of the stores: VOMS needs the CA directory, and a
/// database URL names PostgreSQL.
fn check_store_settings(layer: &ConfigLayer) -> Result<(), ConfigError> {
    if layer.vomsdir.is_some() && layer.ca_dir.is_none() {
        return Err(ConfigError::Invalid(
            "vomsdir needs ca_dir (VOMS attributes are checked against the CA directory)".into(),
        ));
    }
    if let Some(url) = &layer.database_url
        && !is_postgres_url(url)
    {
        return Err(ConfigError::Invalid(format!(
            "database_url must be a postgres:// URL (the embedded store needs none), not '{url}'"
        )));
    }
    Ok(())
}

/// The mail quotas of `layer` with their defaults; each must be positive.
fn resolve_mail_quotas(layer: &ConfigLayer) -> Result<MailQuotas, ConfigError> {
    let mail_quotas = MailQuotas {
        per_recipient: layer
            .mail_per_recipient
            .unwrap_or(MailQuotas::DEFAULT.per_recipient),
        per_client: layer
            .mail_per_client
            .unwrap_or(MailQuotas::DEFAULT.per_client),
        total: layer.mail_per_hour.unwrap_or(MailQuotas::DEFAULT.total),
    };
    for (name, value) in [
        ("mail_per_recipient", mail_quotas.per_recipient),
        ("mail_per_client", mail_quotas.per_client),
        ("mail_per_hour", mail_quotas.total),
    ] {
        if value == 0 {
            return Err(ConfigError::Invalid(format!(
                "{name} must be positive (with validate_email off no mail is sent at all)"
            )));
        }
    }
    Ok(mail_quotas)
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::authz::UploadAccess;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let c = ServerConfig::default();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.public_url, "http://127.0.0.1:9204");
        assert_eq!(c.max_upload_bytes, 1024 * 1024);
        assert!(!c.validate_email);
        assert!(c.require_certified_email);
        assert_eq!(
            c.sqlite_path(),
            PathBuf::from("./marketplace-data/marketplace.db")
        );
        assert_eq!(c.log_origin(), "127.0.0.1:9204/log");
        assert_eq!(
            c.log_key_path(),
            PathBuf::from("./marketplace-data/log.key")
        );
    }

    #[test]
    fn the_log_origin_follows_the_public_url_or_is_set() {
        assert_eq!(
            default_log_origin("https://mp.example.org/x"),
            "mp.example.org/x/log"
        );
        let layer = |origin: Option<&str>| ConfigLayer {
            public_url: Some("https://mp.example.org/".into()),
            log_origin: origin.map(String::from),
            log_key_file: Some("/etc/marketplace/log.key".into()),
            ..ConfigLayer::default()
        };
        let c = ServerConfig::resolve(layer(None)).unwrap();
        assert_eq!(c.log_origin(), "mp.example.org/log");
        assert_eq!(c.log_key_path(), PathBuf::from("/etc/marketplace/log.key"));
        let c = ServerConfig::resolve(layer(Some("example.org/log/2026"))).unwrap();
        assert_eq!(c.log_origin(), "example.org/log/2026");
        for bad in ["", "a b", "a+b"] {
            let e = ServerConfig::resolve(layer(Some(bad))).unwrap_err();
            assert!(e.to_string().contains("log_origin"), "{e}");
        }
    }

    #[test]
    fn precedence_cli_env_file_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\ndata_dir = \"/from/file\"\npublic_url = \"https://file.example/mp/\"\nmax_upload_bytes = 5\n",
        )
        .unwrap();
        let e = env(&[
            ("MARKETPLACE_LISTEN", "127.0.0.1:2000"),
            ("MARKETPLACE_DATA_DIR", "/from/env"),
            ("MARKETPLACE_NOW", "2015-01-01T00:00:00Z"),
        ]);
        let cli = ConfigLayer {
            listen: Some("127.0.0.1:3000".parse().unwrap()),
            ..ConfigLayer::default()
        };
        let c = ServerConfig::load_with(Some(&file), cli, e).unwrap();
        assert_eq!(c.listen.port(), 3000);
        assert_eq!(c.data_dir, PathBuf::from("/from/env"));
        assert_eq!(c.public_url, "https://file.example/mp");
        assert_eq!(c.max_upload_bytes, 5);
        assert_eq!(c.now.unwrap().to_rfc3339(), "2015-01-01T00:00:00+00:00");
    }

    #[test]
    fn config_file_from_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(
            &file,
            "validate_email = true\nsmtp_host = \"localhost\"\nmail_from = \"admin@example.org\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap().to_string();
        let c = ServerConfig::load_with(
            None,
            ConfigLayer::default(),
            env(&[("MARKETPLACE_CONFIG", &path)]),
        )
        .unwrap();
        assert!(c.validate_email);
    }

    #[test]
    fn errors_are_clear() {
        assert!(
            ConfigLayer::from_toml("lissen = \"x\"")
                .unwrap_err()
                .contains("unknown field")
        );
        let e = ConfigLayer::from_env(env(&[("MARKETPLACE_NOW", "yesterday")])).unwrap_err();
        assert!(e.to_string().contains("MARKETPLACE_NOW"), "{e}");
        let bad = ConfigLayer {
            public_url: Some("ftp://x".into()),
            ..ConfigLayer::default()
        };
        assert!(ServerConfig::resolve(bad).is_err());
        let bad = ConfigLayer {
            database_url: Some("mysql://x".into()),
            ..ConfigLayer::default()
        };
        assert!(ServerConfig::resolve(bad).is_err());
        let bad = ConfigLayer {
            vomsdir: Some("/v".into()),
            ..ConfigLayer::default()
        };
        assert!(ServerConfig::resolve(bad).is_err());
    }

    #[test]
    fn tls_and_authorization_settings() {
        let c = ServerConfig::default();
        assert_eq!(c.tls_client_auth, TlsClientAuth::None);
        assert_eq!(c.upload, UploadRules::default());
        assert!(c.trusted_proxies.is_empty());
        let toml = "tls_cert = \"/h.pem\"\ntls_key = \"/h.key\"\nca_dir = \"/ca\"\n\
                    upload_vos = [\"biomed\"]\nupload_fqans = [\"/atlas/Role=VO-Admin\"]\n\
                    upload_match_endorser = true\n\
                    trusted_proxy_header = \"X-SSL-Client-Cert\"\n\
                    trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n";
        let c = ServerConfig::resolve(ConfigLayer::from_toml(toml).unwrap()).unwrap();
        // Optional by default with a CA directory; https public URL.
        assert_eq!(c.tls_client_auth, TlsClientAuth::Optional);
        assert_eq!(c.public_url, "https://127.0.0.1:9204");
        assert_eq!(c.upload.access, UploadAccess::Listed);
        assert_eq!(c.upload.vos, ["biomed"]);
        assert!(c.upload.match_endorser);
        assert_eq!(c.trusted_proxy_header.as_deref(), Some("x-ssl-client-cert"));
        assert_eq!(c.trusted_proxies.len(), 2);
        let e = env(&[
            ("MARKETPLACE_TLS_CLIENT_AUTH", "required"),
            ("MARKETPLACE_UPLOAD_DNS", "/C=EU/CN=A, B; CN=C,O=D"),
            ("MARKETPLACE_UPLOAD_VOS", "vo1, vo2"),
            ("MARKETPLACE_UPLOAD_FQANS", ""),
            ("MARKETPLACE_TRUSTED_PROXIES", "127.0.0.1,10.1.0.0/16"),
        ]);
        let env_layer = ConfigLayer::from_env(e).unwrap();
        assert_eq!(env_layer.tls_client_auth, Some(TlsClientAuth::Required));
        assert_eq!(env_layer.upload_dns.as_ref().unwrap().len(), 2);
        assert_eq!(env_layer.upload_vos, Some(vec!["vo1".into(), "vo2".into()]));
        assert_eq!(env_layer.upload_fqans, None);
        let c =
            ServerConfig::resolve(env_layer.over(ConfigLayer::from_toml(toml).unwrap())).unwrap();
        assert_eq!(c.tls_client_auth, TlsClientAuth::Required);
        assert_eq!(c.upload.vos, ["vo1", "vo2"]);
        assert_eq!(c.upload.dns.len(), 2);
        for bad in [
            "tls_cert = \"/h.pem\"\n",
            "tls_client_auth = \"optional\"\n",
            "tls_cert = \"/h\"\ntls_key = \"/k\"\ntls_client_auth = \"required\"\n",
            "tls_client_auth = \"sometimes\"\n",
            "trusted_proxy_header = \"X-Cert\"\nca_dir = \"/ca\"\n",
            "trusted_proxies = [\"127.0.0.1\"]\nca_dir = \"/ca\"\n",
            "trusted_proxy_header = \"X-Cert\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
            "trusted_proxy_header = \"X Cert\"\ntrusted_proxies = [\"1.2.3.4\"]\nca_dir = \"/c\"\n",
            "trusted_proxy_header = \"X-C\"\ntrusted_proxies = [\"a.b\"]\nca_dir = \"/c\"\n",
            // Rules that need an identity without a way to authenticate.
            "upload_access = \"authenticated\"\n",
            "upload_match_endorser = true\n",
            "upload_vos = [\"biomed\"]\nca_dir = \"/ca\"\n",
            "tls_cert = \"/h\"\ntls_key = \"/k\"\ntls_client_auth = \"none\"\nca_dir = \"/c\"\n\
             upload_access = \"authenticated\"\n",
            "upload_access = \"everyone\"\n",
        ] {
            let layer = ConfigLayer::from_toml(bad);
            assert!(
                layer.is_err() || ServerConfig::resolve(layer.unwrap()).is_err(),
                "{bad}"
            );
        }
        // Behind a trusted proxy, the rules are usable without TLS.
        let proxied = "ca_dir = \"/ca\"\ntrusted_proxy_header = \"X-SSL-Client-Cert\"\n\
                       trusted_proxies = [\"127.0.0.1\"]\nupload_access = \"authenticated\"\n";
        let c = ServerConfig::resolve(ConfigLayer::from_toml(proxied).unwrap()).unwrap();
        assert_eq!(c.upload.access, UploadAccess::Authenticated);
        assert_eq!(c.tls_client_auth, TlsClientAuth::None);
    }

    #[test]
    fn mail_settings() {
        let c = ServerConfig::default();
        assert_eq!(c.confirmation_ttl, crate::upload::confirm::DEFAULT_TTL);
        assert_eq!(c.smtp_tls, SmtpTls::Starttls);
        let toml = "validate_email = true\nsmtp_host = \"mail.example.org\"\n\
                    smtp_tls = \"tls\"\nsmtp_user = \"mp\"\nsmtp_password = \"from-file\"\n\
                    mail_from = \"admin@example.org\"\nconfirmation_ttl = \"24h\"\n";
        let file = ConfigLayer::from_toml(toml).unwrap();
        let e = env(&[
            ("MARKETPLACE_SMTP_PASSWORD", "s3cret"),
            ("MARKETPLACE_SMTP_PORT", "2465"),
        ]);
        let c = ServerConfig::resolve(ConfigLayer::from_env(e).unwrap().over(file)).unwrap();
        assert_eq!(c.smtp_host.as_deref(), Some("mail.example.org"));
        assert_eq!(c.smtp_tls, SmtpTls::Tls);
        assert_eq!(c.smtp_port, Some(2465));
        assert_eq!(c.smtp_password.as_ref().unwrap().expose(), "s3cret");
        assert_eq!(c.confirmation_ttl.as_secs(), 86400);
        assert!(!format!("{c:?}").contains("s3cret"));
        for bad in [
            "validate_email = true\nmail_from = \"a@b.org\"\n",
            "validate_email = true\nsmtp_host = \"h\"\n",
            "mail_from = \"not an address\"\n",
            "confirmation_ttl = \"3 days\"\n",
            "smtp_tls = \"ssl\"\n",
            "endorser_whitelist = \"/w\"\n",
            "smtp_port = 0\n",
        ] {
            let layer = ConfigLayer::from_toml(bad);
            assert!(
                layer.is_err() || ServerConfig::resolve(layer.unwrap()).is_err(),
                "{bad}"
            );
        }
        let e = ConfigLayer::from_env(env(&[("MARKETPLACE_SMTP_TLS", "ssl")])).unwrap_err();
        assert!(e.to_string().contains("MARKETPLACE_SMTP_TLS"), "{e}");
    }
}
