//! One source of settings ([`ConfigLayer`]): a TOML file, the environment
//! or the command line, each a layer of optional values, and how layers
//! stack ([`ConfigLayer::over`]).

use super::ConfigError;
use crate::auth::authn::TlsClientAuth;
use crate::auth::authz::UploadAccess;
use crate::upload::smtp::{Secret, SmtpTls};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Prefix of every environment variable the server reads.
pub(super) const ENV_PREFIX: &str = "MARKETPLACE_";

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
    /// default [`crate::http::heavy_reads::LIST_DOCUMENT_BUDGET`]).
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
    /// The transparency log's origin, the first line of its checkpoints
    /// (`log_origin`, `MARKETPLACE_LOG_ORIGIN`); default: `public_url`
    /// without its scheme, followed by `/log`, when the key is created (the
    /// key keeps that name afterwards).
    pub log_origin: Option<String>,
    /// The log's signing key (`log_key_file`, `MARKETPLACE_LOG_KEY_FILE`):
    /// a C2SP signer key; default `log.key` in the data directory, created
    /// at the first start.
    pub log_key_file: Option<PathBuf>,
    /// Witnesses this log submits its checkpoints to (`[[witness]]` tables
    /// with `url` and `key`; `MARKETPLACE_WITNESSES`: `URL KEY` pairs
    /// separated by commas).
    pub witness: Option<Vec<WitnessEndpoint>>,
    /// As a witness: the verifier keys of the logs this server cosigns
    /// (`witness_logs`, `MARKETPLACE_WITNESS_LOGS`, comma-separated).
    pub witness_logs: Option<Vec<String>>,
    /// As a witness: its cosigning key (`witness_key_file`,
    /// `MARKETPLACE_WITNESS_KEY_FILE`); default `witness.key` in the data
    /// directory, created at the first start.
    pub witness_key_file: Option<PathBuf>,
    /// As a witness: its name (`witness_name`, `MARKETPLACE_WITNESS_NAME`);
    /// default `public_url` without its scheme, followed by `/witness`.
    pub witness_name: Option<String>,
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
            log_origin: var("LOG_ORIGIN").map(|(_, v)| v),
            log_key_file: var("LOG_KEY_FILE").map(|(_, v)| PathBuf::from(v)),
            witness: var("WITNESSES")
                .map(|(name, v)| {
                    WitnessEndpoint::parse_list(&v)
                        .map_err(|message| ConfigError::Env { name, message })
                })
                .transpose()?,
            witness_logs: list("WITNESS_LOGS", &[',']),
            witness_key_file: var("WITNESS_KEY_FILE").map(|(_, v)| PathBuf::from(v)),
            witness_name: var("WITNESS_NAME").map(|(_, v)| v),
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
            log_origin: self.log_origin.or(lower.log_origin),
            log_key_file: self.log_key_file.or(lower.log_key_file),
            witness: self.witness.or(lower.witness),
            witness_logs: self.witness_logs.or(lower.witness_logs),
            witness_key_file: self.witness_key_file.or(lower.witness_key_file),
            witness_name: self.witness_name.or(lower.witness_name),
        }
    }
}

/// A witness this log submits its checkpoints to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessEndpoint {
    /// Its submission prefix (`…/add-checkpoint` is appended).
    pub url: String,
    /// Its cosignature/v1 verifier key.
    pub key: String,
}

impl WitnessEndpoint {
    /// Reads `URL KEY` pairs separated by commas.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once(char::is_whitespace) {
                Some((url, key)) => Ok(WitnessEndpoint {
                    url: url.trim().to_string(),
                    key: key.trim().to_string(),
                }),
                None => Err(format!("'{pair}' is not 'URL KEY'")),
            })
            .collect()
    }
}
