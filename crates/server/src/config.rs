//! Server configuration: defaults, a TOML file, the environment and the
//! command line, merged with the precedence CLI > environment > file >
//! defaults.
//!
//! Every setting is a field of [`ConfigLayer`] (all optional); each source
//! gives one layer and [`ServerConfig::resolve`] merges them.

use crate::authn::{AddrRange, TlsClientAuth};
use crate::authz::{UploadAccess, UploadRules};
use crate::smtp::{Secret, SmtpTls};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Address the server listens on by default (the original's Jetty port).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9204";

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
/// evenly over the hour ([`crate::mail_limits`]).
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

/// Prefix of every environment variable the server reads.
pub const ENV_PREFIX: &str = "MARKETPLACE_";

/// One source of settings; `None` means "not set here".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ConfigLayer {
    /// Address to listen on (`listen`, `MARKETPLACE_LISTEN`, `--listen`).
    pub listen: Option<SocketAddr>,
    /// Data directory (`data_dir`, `MARKETPLACE_DATA_DIR`, `--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` URL; the embedded SQLite store is used when absent
    /// (`database_url`, `MARKETPLACE_DATABASE_URL`, `--database-url`).
    pub database_url: Option<String>,
    /// Public base URL, used for every absolute link (`public_url`,
    /// `MARKETPLACE_PUBLIC_URL`). Never taken from the Host header.
    pub public_url: Option<String>,
    /// IGTF CA directory: when set, signers' chains and CRLs are checked
    /// (`ca_dir`, `MARKETPLACE_CA_DIR`).
    pub ca_dir: Option<PathBuf>,
    /// vomsdir for VOMS attributes, needs `ca_dir` (`vomsdir`, `MARKETPLACE_VOMSDIR`).
    pub vomsdir: Option<PathBuf>,
    /// Largest accepted document in bytes (`max_upload_bytes`, `MARKETPLACE_MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: Option<usize>,
    /// The most bytes of signed documents one list response carries
    /// (`max_list_document_bytes`, `MARKETPLACE_MAX_LIST_DOCUMENT_BYTES`;
    /// default [`crate::heavy_reads::LIST_DOCUMENT_BUDGET`]).
    pub max_list_document_bytes: Option<usize>,
    /// Whether uploads whose endorser e-mail the certificate does not carry
    /// go through e-mail confirmation (`validate_email`, `MARKETPLACE_VALIDATE_EMAIL`).
    pub validate_email: Option<bool>,
    /// Whether the endorser e-mail must be certified by the signing
    /// certificate when it is not confirmed by e-mail (`require_certified_email`,
    /// `MARKETPLACE_REQUIRE_CERTIFIED_EMAIL`). Turning it off reopens the
    /// original's impersonation weakness; only for importing legacy data.
    pub require_certified_email: Option<bool>,
    /// Seconds before a request is abandoned with 408 (`request_timeout_secs`,
    /// `MARKETPLACE_REQUEST_TIMEOUT_SECS`).
    pub request_timeout_secs: Option<u64>,
    /// Smallest RSA key, in bits, that may sign a new entry (`min_rsa_bits`,
    /// `MARKETPLACE_MIN_RSA_BITS`; default 2048). Imports keep every entry.
    pub min_rsa_bits: Option<u32>,
    /// Smallest elliptic-curve key, in bits, that may sign a new entry
    /// (`min_ec_bits`, `MARKETPLACE_MIN_EC_BITS`; default 256).
    pub min_ec_bits: Option<u32>,
    /// Confirmation mails per hour to one address (`mail_per_recipient`,
    /// `MARKETPLACE_MAIL_PER_RECIPIENT`; default 3).
    pub mail_per_recipient: Option<u32>,
    /// Confirmation mails per hour for one client address
    /// (`mail_per_client`, `MARKETPLACE_MAIL_PER_CLIENT`; default 10).
    pub mail_per_client: Option<u32>,
    /// Confirmation mails per hour in all (`mail_per_hour`,
    /// `MARKETPLACE_MAIL_PER_HOUR`; default 100).
    pub mail_per_hour: Option<u32>,
    /// Connections open at once (`max_connections`,
    /// `MARKETPLACE_MAX_CONNECTIONS`; default 1024).
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address, trusted proxies
    /// excepted (`max_connections_per_client`,
    /// `MARKETPLACE_MAX_CONNECTIONS_PER_CLIENT`; default 64).
    pub max_connections_per_client: Option<usize>,
    /// Seconds a client has to send a request's headers
    /// (`header_timeout_secs`, `MARKETPLACE_HEADER_TIMEOUT_SECS`; default 10).
    pub header_timeout_secs: Option<u64>,
    /// Seconds a connection may stay idle between requests
    /// (`idle_timeout_secs`, `MARKETPLACE_IDLE_TIMEOUT_SECS`; default 60).
    pub idle_timeout_secs: Option<u64>,
    /// Frozen clock: every time-dependent decision uses this instant
    /// (`now`, `MARKETPLACE_NOW`, RFC 3339).
    pub now: Option<DateTime<Utc>>,
    /// SMTP server for confirmation mails (`smtp_host`, `MARKETPLACE_SMTP_HOST`).
    pub smtp_host: Option<String>,
    /// Its port; 25, 587 or 465 by `smtp_tls` (`smtp_port`, `MARKETPLACE_SMTP_PORT`).
    pub smtp_port: Option<u16>,
    /// `none`, `starttls` (default) or `tls` (`smtp_tls`, `MARKETPLACE_SMTP_TLS`).
    pub smtp_tls: Option<SmtpTls>,
    /// SMTP user; no authentication when absent (`smtp_user`, `MARKETPLACE_SMTP_USER`).
    pub smtp_user: Option<String>,
    /// SMTP password, never logged (`smtp_password`, `MARKETPLACE_SMTP_PASSWORD`).
    pub smtp_password: Option<Secret>,
    /// Sender of the mails, the administrator (`mail_from`, `MARKETPLACE_MAIL_FROM`).
    pub mail_from: Option<String>,
    /// How long an upload waits for confirmation, e.g. `24h`, `3d`
    /// (`confirmation_ttl`, `MARKETPLACE_CONFIRMATION_TTL`).
    pub confirmation_ttl: Option<String>,
    /// File of certificate DNs whose uploads skip confirmation; needs
    /// `ca_dir` (`endorser_whitelist`, `MARKETPLACE_ENDORSER_WHITELIST`).
    pub endorser_whitelist: Option<PathBuf>,
    /// PEM certificate (chain) of the server: serve HTTPS (`tls_cert`,
    /// `MARKETPLACE_TLS_CERT`, `--tls-cert`); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`, unencrypted (`tls_key`,
    /// `MARKETPLACE_TLS_KEY`, `--tls-key`).
    pub tls_key: Option<PathBuf>,
    /// Client certificates in the TLS handshake: `none`, `optional` (the
    /// default with `ca_dir`) or `required` (`tls_client_auth`,
    /// `MARKETPLACE_TLS_CLIENT_AUTH`, `--tls-client-auth`).
    pub tls_client_auth: Option<TlsClientAuth>,
    /// Header in which a trusted TLS-terminating proxy passes the client's
    /// PEM chain, e.g. `X-SSL-Client-Cert` (`trusted_proxy_header`,
    /// `MARKETPLACE_TRUSTED_PROXY_HEADER`); needs `trusted_proxies`.
    pub trusted_proxy_header: Option<String>,
    /// Addresses or CIDR ranges of those proxies (`trusted_proxies`,
    /// `MARKETPLACE_TRUSTED_PROXIES`, comma-separated).
    pub trusted_proxies: Option<Vec<String>>,
    /// Who may upload: `anyone`, `authenticated` or `listed`
    /// (`upload_access`, `MARKETPLACE_UPLOAD_ACCESS`).
    pub upload_access: Option<UploadAccess>,
    /// Client DNs allowed to upload (`upload_dns`, `MARKETPLACE_UPLOAD_DNS`,
    /// separated by `;`).
    pub upload_dns: Option<Vec<String>>,
    /// VOs whose members may upload (`upload_vos`, `MARKETPLACE_UPLOAD_VOS`,
    /// comma-separated).
    pub upload_vos: Option<Vec<String>>,
    /// FQANs whose holders may upload (`upload_fqans`,
    /// `MARKETPLACE_UPLOAD_FQANS`, comma-separated).
    pub upload_fqans: Option<Vec<String>>,
    /// The client must be the document's endorser (`upload_match_endorser`,
    /// `MARKETPLACE_UPLOAD_MATCH_ENDORSER`).
    pub upload_match_endorser: Option<bool>,
}

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

impl ConfigLayer {
    /// Reads a TOML configuration file (unknown keys are errors).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::File {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().to_string())
    }

    /// Reads the `MARKETPLACE_*` variables through `get` (e.g.
    /// `|k| std::env::var(k).ok()`); empty values count as unset.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            let full = format!("{ENV_PREFIX}{name}");
            get(&full)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (full, v))
        };
        fn parsed<T: std::str::FromStr>(
            v: Option<(String, String)>,
        ) -> Result<Option<T>, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            v.map(|(name, value)| {
                value.trim().parse::<T>().map_err(|e| ConfigError::Env {
                    name,
                    message: format!("'{value}': {e}"),
                })
            })
            .transpose()
        }
        let list = |name: &str, separators: &[char]| {
            var(name).map(|(_, v)| {
                v.split(separators)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
        };
        Ok(ConfigLayer {
            listen: parsed(var("LISTEN"))?,
            data_dir: var("DATA_DIR").map(|(_, v)| PathBuf::from(v)),
            database_url: var("DATABASE_URL").map(|(_, v)| v),
            public_url: var("PUBLIC_URL").map(|(_, v)| v),
            ca_dir: var("CA_DIR").map(|(_, v)| PathBuf::from(v)),
            vomsdir: var("VOMSDIR").map(|(_, v)| PathBuf::from(v)),
            max_upload_bytes: parsed(var("MAX_UPLOAD_BYTES"))?,
            max_list_document_bytes: parsed(var("MAX_LIST_DOCUMENT_BYTES"))?,
            validate_email: parsed(var("VALIDATE_EMAIL"))?,
            require_certified_email: parsed(var("REQUIRE_CERTIFIED_EMAIL"))?,
            request_timeout_secs: parsed(var("REQUEST_TIMEOUT_SECS"))?,
            min_rsa_bits: parsed(var("MIN_RSA_BITS"))?,
            min_ec_bits: parsed(var("MIN_EC_BITS"))?,
            mail_per_recipient: parsed(var("MAIL_PER_RECIPIENT"))?,
            mail_per_client: parsed(var("MAIL_PER_CLIENT"))?,
            mail_per_hour: parsed(var("MAIL_PER_HOUR"))?,
            max_connections: parsed(var("MAX_CONNECTIONS"))?,
            max_connections_per_client: parsed(var("MAX_CONNECTIONS_PER_CLIENT"))?,
            header_timeout_secs: parsed(var("HEADER_TIMEOUT_SECS"))?,
            idle_timeout_secs: parsed(var("IDLE_TIMEOUT_SECS"))?,
            now: parsed(var("NOW"))?,
            smtp_host: var("SMTP_HOST").map(|(_, v)| v),
            smtp_port: parsed(var("SMTP_PORT"))?,
            smtp_tls: parsed(var("SMTP_TLS"))?,
            smtp_user: var("SMTP_USER").map(|(_, v)| v),
            smtp_password: var("SMTP_PASSWORD").map(|(_, v)| Secret::new(v)),
            mail_from: var("MAIL_FROM").map(|(_, v)| v),
            confirmation_ttl: var("CONFIRMATION_TTL").map(|(_, v)| v),
            endorser_whitelist: var("ENDORSER_WHITELIST").map(|(_, v)| PathBuf::from(v)),
            tls_cert: var("TLS_CERT").map(|(_, v)| PathBuf::from(v)),
            tls_key: var("TLS_KEY").map(|(_, v)| PathBuf::from(v)),
            tls_client_auth: parsed(var("TLS_CLIENT_AUTH"))?,
            trusted_proxy_header: var("TRUSTED_PROXY_HEADER").map(|(_, v)| v.trim().to_string()),
            trusted_proxies: list("TRUSTED_PROXIES", &[',']),
            upload_access: parsed(var("UPLOAD_ACCESS"))?,
            upload_dns: list("UPLOAD_DNS", &[';', '\n']),
            upload_vos: list("UPLOAD_VOS", &[',']),
            upload_fqans: list("UPLOAD_FQANS", &[',']),
            upload_match_endorser: parsed(var("UPLOAD_MATCH_ENDORSER"))?,
        })
    }

    /// This layer with every unset field taken from `lower`.
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_url: self.public_url.or(lower.public_url),
            ca_dir: self.ca_dir.or(lower.ca_dir),
            vomsdir: self.vomsdir.or(lower.vomsdir),
            max_upload_bytes: self.max_upload_bytes.or(lower.max_upload_bytes),
            max_list_document_bytes: self
                .max_list_document_bytes
                .or(lower.max_list_document_bytes),
            validate_email: self.validate_email.or(lower.validate_email),
            require_certified_email: self
                .require_certified_email
                .or(lower.require_certified_email),
            request_timeout_secs: self.request_timeout_secs.or(lower.request_timeout_secs),
            min_rsa_bits: self.min_rsa_bits.or(lower.min_rsa_bits),
            min_ec_bits: self.min_ec_bits.or(lower.min_ec_bits),
            mail_per_recipient: self.mail_per_recipient.or(lower.mail_per_recipient),
            mail_per_client: self.mail_per_client.or(lower.mail_per_client),
            mail_per_hour: self.mail_per_hour.or(lower.mail_per_hour),
            max_connections: self.max_connections.or(lower.max_connections),
            max_connections_per_client: self
                .max_connections_per_client
                .or(lower.max_connections_per_client),
            header_timeout_secs: self.header_timeout_secs.or(lower.header_timeout_secs),
            idle_timeout_secs: self.idle_timeout_secs.or(lower.idle_timeout_secs),
            now: self.now.or(lower.now),
            smtp_host: self.smtp_host.or(lower.smtp_host),
            smtp_port: self.smtp_port.or(lower.smtp_port),
            smtp_tls: self.smtp_tls.or(lower.smtp_tls),
            smtp_user: self.smtp_user.or(lower.smtp_user),
            smtp_password: self.smtp_password.or(lower.smtp_password),
            mail_from: self.mail_from.or(lower.mail_from),
            confirmation_ttl: self.confirmation_ttl.or(lower.confirmation_ttl),
            endorser_whitelist: self.endorser_whitelist.or(lower.endorser_whitelist),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            tls_client_auth: self.tls_client_auth.or(lower.tls_client_auth),
            trusted_proxy_header: self.trusted_proxy_header.or(lower.trusted_proxy_header),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            upload_access: self.upload_access.or(lower.upload_access),
            upload_dns: self.upload_dns.or(lower.upload_dns),
            upload_vos: self.upload_vos.or(lower.upload_vos),
            upload_fqans: self.upload_fqans.or(lower.upload_fqans),
            upload_match_endorser: self.upload_match_endorser.or(lower.upload_match_endorser),
        }
    }
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
    /// Who may upload ([`crate::authz`]).
    pub upload: UploadRules,
}

impl Default for ServerConfig {
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
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address"));
        let public_url = match layer.public_url {
            Some(url) => normalise_public_url(&url)?,
            None if layer.tls_cert.is_some() => format!("https://{listen}"),
            None => format!("http://{listen}"),
        };
        let max_upload_bytes = layer
            .max_upload_bytes
            .unwrap_or(marketplace_format::MAX_DOCUMENT_BYTES);
        if max_upload_bytes == 0 {
            return Err(ConfigError::Invalid(
                "max_upload_bytes must be positive".into(),
            ));
        }
        if layer.vomsdir.is_some() && layer.ca_dir.is_none() {
            return Err(ConfigError::Invalid(
                "vomsdir needs ca_dir (VOMS attributes are checked against the CA directory)"
                    .into(),
            ));
        }
        if let Some(url) = &layer.database_url
            && !is_postgres_url(url)
        {
            return Err(ConfigError::Invalid(format!(
                "database_url must be a postgres:// URL (the embedded store needs none), not '{url}'"
            )));
        }
        let confirmation_ttl = match &layer.confirmation_ttl {
            Some(text) => crate::confirm::parse_ttl(text)
                .map_err(|e| ConfigError::Invalid(format!("confirmation_ttl: {e}")))?,
            None => crate::confirm::DEFAULT_TTL,
        };
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
            .unwrap_or(crate::connections::DEFAULT_MAX_CONNECTIONS);
        let max_connections_per_client = layer
            .max_connections_per_client
            .unwrap_or(crate::connections::DEFAULT_MAX_PER_CLIENT);
        let seconds = |value: Option<u64>, default: std::time::Duration, name: &str| match value
            .map(std::time::Duration::from_secs)
        {
            Some(d) if d.is_zero() => Err(ConfigError::Invalid(format!("{name} must be positive"))),
            d => Ok(d.unwrap_or(default)),
        };
        let header_timeout = seconds(
            layer.header_timeout_secs,
            crate::connections::HEADER_READ_TIMEOUT,
            "header_timeout_secs",
        )?;
        let idle_timeout = seconds(
            layer.idle_timeout_secs,
            crate::connections::IDLE_TIMEOUT,
            "idle_timeout_secs",
        )?;
        if max_connections == 0 || max_connections_per_client == 0 {
            return Err(ConfigError::Invalid(
                "max_connections and max_connections_per_client must be positive".into(),
            ));
        }
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
        Ok(ServerConfig {
            listen,
            data_dir: layer
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: layer.database_url,
            public_url,
            ca_dir: layer.ca_dir,
            vomsdir: layer.vomsdir,
            max_upload_bytes,
            max_list_document_bytes: layer
                .max_list_document_bytes
                .unwrap_or(crate::heavy_reads::LIST_DOCUMENT_BUDGET),
            validate_email: layer.validate_email.unwrap_or(false),
            require_certified_email: layer.require_certified_email.unwrap_or(true),
            request_timeout_secs,
            min_key_bits: MinKeyBits {
                rsa: layer.min_rsa_bits.unwrap_or(MinKeyBits::DEFAULT.rsa),
                ec: layer.min_ec_bits.unwrap_or(MinKeyBits::DEFAULT.ec),
            },
            mail_quotas,
            max_connections,
            max_connections_per_client,
            header_timeout,
            idle_timeout,
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
}

/// Checks the e-mail confirmation settings: `validate_email` needs a mail
/// server and a sender, the whitelist needs a CA directory (only verified
/// chains are compared with it).
fn check_mail_settings(layer: &ConfigLayer) -> Result<(), ConfigError> {
    if layer.smtp_port == Some(0) {
        return Err(ConfigError::Invalid("smtp_port must be 1-65535".into()));
    }
    if let Some(from) = &layer.mail_from
        && !marketplace_format::is_valid_email(from)
    {
        return Err(ConfigError::Invalid(format!(
            "mail_from '{from}' is not an e-mail address"
        )));
    }
    if let Some(host) = &layer.smtp_host
        && (host.trim().is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/'))
    {
        return Err(ConfigError::Invalid(format!(
            "smtp_host '{host}' is not a host name"
        )));
    }
    if layer.validate_email == Some(true)
        && (layer.smtp_host.is_none() || layer.mail_from.is_none())
    {
        return Err(ConfigError::Invalid(
            "validate_email needs smtp_host and mail_from (confirmation mails are sent over SMTP)"
                .into(),
        ));
    }
    if layer.endorser_whitelist.is_some() && layer.ca_dir.is_none() {
        return Err(ConfigError::Invalid(
            "endorser_whitelist needs ca_dir (only signers whose chain was verified are \
             compared with the whitelist)"
                .into(),
        ));
    }
    Ok(())
}

/// The resolved authentication and authorization settings.
struct AuthSettings {
    tls_client_auth: TlsClientAuth,
    trusted_proxy_header: Option<String>,
    trusted_proxies: Vec<AddrRange>,
    upload: UploadRules,
}

/// Checks TLS, client authentication and upload authorization: the files
/// come in pairs, client certificates need a CA directory, a trusted header
/// needs trusted proxies, and rules that need an identity need a way to
/// authenticate clients.
fn check_auth_settings(layer: &ConfigLayer) -> Result<AuthSettings, ConfigError> {
    let invalid = |m: String| ConfigError::Invalid(m);
    let tls = match (&layer.tls_cert, &layer.tls_key) {
        (Some(_), Some(_)) => true,
        (None, None) => false,
        _ => {
            return Err(invalid(
                "tls_cert and tls_key go together (the server's certificate and its key)".into(),
            ));
        }
    };
    let tls_client_auth = match layer.tls_client_auth {
        Some(mode) if mode != TlsClientAuth::None && !tls => {
            return Err(invalid(format!(
                "tls_client_auth = {} needs tls_cert and tls_key (client certificates are \
                 asked for in the TLS handshake)",
                mode.as_str()
            )));
        }
        Some(mode) if mode != TlsClientAuth::None && layer.ca_dir.is_none() => {
            return Err(invalid(format!(
                "tls_client_auth = {} needs ca_dir (client certificates are verified against it)",
                mode.as_str()
            )));
        }
        Some(mode) => mode,
        None if tls && layer.ca_dir.is_some() => TlsClientAuth::Optional,
        None => TlsClientAuth::None,
    };
    let trusted_proxy_header = match &layer.trusted_proxy_header {
        Some(h) => {
            let h = h.trim().to_ascii_lowercase();
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() || h.is_empty() {
                return Err(invalid(format!(
                    "trusted_proxy_header '{h}' is not a header name"
                )));
            }
            Some(h)
        }
        None => None,
    };
    let trusted_proxies = layer
        .trusted_proxies
        .iter()
        .flatten()
        .map(|p| p.parse::<AddrRange>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("trusted_proxies: {e}")))?;
    match (&trusted_proxy_header, trusted_proxies.is_empty()) {
        (Some(_), true) => {
            return Err(invalid(
                "trusted_proxy_header needs trusted_proxies (the addresses whose header is \
                 believed)"
                    .into(),
            ));
        }
        (None, false) => {
            return Err(invalid(
                "trusted_proxies needs trusted_proxy_header (the header they pass the client \
                 certificate in)"
                    .into(),
            ));
        }
        (Some(_), false) if layer.ca_dir.is_none() => {
            return Err(invalid(
                "trusted_proxy_header needs ca_dir (the chains in the header are verified \
                 against it)"
                    .into(),
            ));
        }
        _ => {}
    }
    let empty = Vec::new();
    let upload = UploadRules::new(
        layer.upload_access,
        layer.upload_dns.as_ref().unwrap_or(&empty),
        layer.upload_vos.as_ref().unwrap_or(&empty),
        layer.upload_fqans.as_ref().unwrap_or(&empty),
        layer.upload_match_endorser.unwrap_or(false),
    )
    .map_err(invalid)?;
    let can_authenticate = tls_client_auth != TlsClientAuth::None || trusted_proxy_header.is_some();
    if upload.needs_identity() && !can_authenticate {
        return Err(invalid(
            "upload_access and upload_match_endorser need authenticated clients: set tls_cert, \
             tls_key and ca_dir (client certificates in the TLS handshake), or \
             trusted_proxy_header and trusted_proxies"
                .into(),
        ));
    }
    Ok(AuthSettings {
        tls_client_auth,
        trusted_proxy_header,
        trusted_proxies,
        upload,
    })
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Checks an `http(s)://host[:port][/path]` URL and removes trailing slashes.
fn normalise_public_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            ConfigError::Invalid(format!(
                "public_url must start with http:// or https://, not '{url}'"
            ))
        })?;
    let host = rest.split('/').next().unwrap_or("");
    let bad = |c: char| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}?#".contains(c);
    if host.is_empty() || url.chars().any(bad) {
        return Err(ConfigError::Invalid(format!(
            "public_url '{url}' is not a plain http(s) URL with a host (no query or fragment)"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(c.confirmation_ttl, crate::confirm::DEFAULT_TTL);
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
