//! Settings of the client commands — the marketplace endpoint, the request
//! timeout, the grid credential and the trust anchors — taken from the
//! command line, then the environment, then the configuration file, then
//! defaults, each with the place it came from (`marketplace config` prints
//! both).
//!
//! The configuration file and the [`Setting`] type are in
//! [`crate::config_file`].

use crate::config_file::{ConfigFile, Setting, Source, config_path, read_config};
use crate::credentials::CredentialArgs;
use crate::failure::Failure;
use reqwest::Url;
use std::path::PathBuf;

/// Options every command that talks to the marketplace accepts.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ClientOptions {
    /// Marketplace endpoint: URL (https://host/path) or host name (https is then assumed)
    /// [default: $MARKETPLACE_ENDPOINT, then `endpoint` in the config file].
    #[arg(long = "marketplace-endpoint", short = 'm', value_name = "URL")]
    pub endpoint: Option<String>,
    /// Print JSON for scripts instead of tables and sentences.
    #[arg(long)]
    pub json: bool,
    /// Seconds before a request to the marketplace gives up [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Trust anchors of an HTTPS marketplace.
    #[command(flatten)]
    pub tls: TlsOptions,
    /// The grid credential: client certificate over HTTPS, signer of new entries.
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Puts the command's own options, which follow, back under "Options"
    /// (a flattened struct's help heading otherwise carries over).
    #[command(flatten, next_help_heading = None::<&str>)]
    pub end_of_headings: EndOfHeadings,
}

/// Nothing: see [`ClientOptions::end_of_headings`].
#[derive(Debug, Clone, Default, clap::Args)]
#[group(skip)]
pub(crate) struct EndOfHeadings {}

/// Options naming the CAs an HTTPS marketplace's certificate must chain to.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Server trust (HTTPS)")]
pub(crate) struct TlsOptions {
    /// CA directory in the IGTF layout (`<hash>.0` certificates, `<hash>.r0` CRLs): the CAs an
    /// HTTPS marketplace's certificate must chain to (instead of the system's), and those
    /// signers' chains are checked against (download)
    /// [default: $X509_CERT_DIR, then `ca_dir` in the config file, then
    /// /etc/grid-security/certificates for HTTPS; download without one checks only signatures].
    #[arg(long = "ca-dir", value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// Also trust the system's CA certificates for an HTTPS marketplace (one with a certificate
    /// of a public CA) [env: MARKETPLACE_SYSTEM_ROOTS; config file: system_roots].
    #[arg(long = "system-roots")]
    pub system_roots: bool,
}

/// Options naming the trust anchors used to check signers' VOMS attributes locally.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TrustOptions {
    /// vomsdir to verify VOMS attributes against (with a CA directory)
    /// [default: $X509_VOMS_DIR, then `vomsdir` in the config file].
    #[arg(long, value_name = "DIR")]
    pub vomsdir: Option<PathBuf>,
}

/// The effective settings of a client command.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The configuration file looked at (None when neither XDG_CONFIG_HOME nor HOME is set).
    pub config_path: Option<PathBuf>,
    /// Whether that file exists.
    pub config_found: bool,
    /// Its content (empty when it does not exist).
    pub file: ConfigFile,
    /// The marketplace endpoint as given (normalised by [`Settings::endpoint_url`]).
    pub endpoint: Setting<String>,
    /// Request timeout in seconds.
    pub timeout_secs: Setting<u64>,
    /// CA directory.
    pub ca_dir: Setting<PathBuf>,
    /// Whether the system's CAs are trusted too for an HTTPS marketplace.
    pub system_roots: Setting<bool>,
    /// vomsdir.
    pub vomsdir: Setting<PathBuf>,
    /// The credential options (resolved by [`CredentialArgs::choice`]).
    pub credentials: CredentialArgs,
    /// Whether to print JSON.
    pub json: bool,
}

/// The default request timeout.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The CA directory of an HTTPS marketplace when none is set (the grid's).
pub(crate) const GRID_CA_DIR: &str = "/etc/grid-security/certificates";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// The settings for `options` (and `trust`, for commands that verify VOMS attributes).
    pub(crate) fn load(
        options: &ClientOptions,
        trust: Option<&TrustOptions>,
    ) -> Result<Self, Failure> {
        let config_path = config_path();
        let loaded = match &config_path {
            Some(p) => read_config(p)?,
            None => None,
        };
        let config_found = loaded.is_some();
        let file = loaded.unwrap_or_default();

        let endpoint = if let Some(e) = &options.endpoint {
            Setting::from(e.clone(), Source::Option("--marketplace-endpoint"))
        } else if let Some(e) = env("MARKETPLACE_ENDPOINT") {
            Setting::from(e, Source::Env("MARKETPLACE_ENDPOINT"))
        } else if let Some(e) = env("STRATUSLAB_MARKETPLACE_ENDPOINT") {
            Setting::from(e, Source::Env("STRATUSLAB_MARKETPLACE_ENDPOINT"))
        } else if let Some(e) = &file.endpoint {
            Setting::from(e.clone(), Source::File("endpoint"))
        } else {
            Setting::unset()
        };

        let timeout_secs = if let Some(t) = options.timeout {
            Setting::from(t, Source::Option("--timeout"))
        } else if let Some(t) = env("MARKETPLACE_TIMEOUT") {
            let t = t
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|t| *t > 0)
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "MARKETPLACE_TIMEOUT must be a positive number of seconds, not '{t}'"
                    ))
                })?;
            Setting::from(t, Source::Env("MARKETPLACE_TIMEOUT"))
        } else if let Some(t) = file.timeout_secs.filter(|t| *t > 0) {
            Setting::from(t, Source::File("timeout_secs"))
        } else {
            Setting::from(DEFAULT_TIMEOUT_SECS, Source::Default)
        };

        let voms_option = trust.and_then(|t| t.vomsdir.clone());
        let ca_dir = if let Some(d) = options.tls.ca_dir.clone() {
            Setting::from(d, Source::Option("--ca-dir"))
        } else if let Some(d) = env("X509_CERT_DIR") {
            Setting::from(PathBuf::from(d), Source::Env("X509_CERT_DIR"))
        } else if let Some(d) = &file.ca_dir {
            Setting::from(d.clone(), Source::File("ca_dir"))
        } else {
            Setting::unset()
        };
        let system_roots = if options.tls.system_roots {
            Setting::from(true, Source::Option("--system-roots"))
        } else if let Some(v) = env("MARKETPLACE_SYSTEM_ROOTS") {
            let v = parse_bool(&v).ok_or_else(|| {
                Failure::usage(format!(
                    "MARKETPLACE_SYSTEM_ROOTS must be true or false (1/0, yes/no), not '{v}'"
                ))
            })?;
            Setting::from(v, Source::Env("MARKETPLACE_SYSTEM_ROOTS"))
        } else if let Some(v) = file.system_roots {
            Setting::from(v, Source::File("system_roots"))
        } else {
            Setting::from(false, Source::Default)
        };
        let vomsdir = if let Some(d) = voms_option {
            Setting::from(d, Source::Option("--vomsdir"))
        } else if let Some(d) = env("X509_VOMS_DIR") {
            Setting::from(PathBuf::from(d), Source::Env("X509_VOMS_DIR"))
        } else if let Some(d) = &file.vomsdir {
            Setting::from(d.clone(), Source::File("vomsdir"))
        } else {
            Setting::unset()
        };

        Ok(Settings {
            config_path,
            config_found,
            file,
            endpoint,
            timeout_secs,
            ca_dir,
            system_roots,
            vomsdir,
            credentials: options.credentials.clone(),
            json: options.json,
        })
    }

    /// The endpoint as a URL, or a failure saying how to give one.
    pub(crate) fn endpoint_url(&self) -> Result<Url, Failure> {
        let Some(text) = &self.endpoint.value else {
            let file = self
                .config_path
                .as_ref()
                .map_or("~/.config/marketplace/config.toml".into(), |p| {
                    p.display().to_string()
                });
            return Err(Failure::usage(format!(
                "no marketplace endpoint: give --marketplace-endpoint URL, set MARKETPLACE_ENDPOINT, \
                 or put endpoint = \"https://…\" in {file}"
            )));
        };
        normalise_endpoint(text).map_err(|e| {
            Failure::usage(format!(
                "the marketplace endpoint '{text}' (from {}) is not usable: {e}",
                self.endpoint.source
            ))
        })
    }

    /// The request timeout.
    pub(crate) fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.value.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// The CA directory an HTTPS marketplace's certificate must chain to:
    /// the `ca_dir` setting, else the grid's `/etc/grid-security/certificates`.
    pub(crate) fn server_ca_dir(&self) -> Setting<PathBuf> {
        match &self.ca_dir.value {
            Some(_) => self.ca_dir.clone(),
            None => Setting::from(PathBuf::from(GRID_CA_DIR), Source::Grid(GRID_CA_DIR)),
        }
    }

    /// Whether the system's CAs are trusted too.
    pub(crate) fn system_roots(&self) -> bool {
        self.system_roots.value.unwrap_or(false)
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (any case).
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A URL from an endpoint as the original tools took it: a URL, or a host
/// name (with optional port and path) meaning `https://…`. Trailing `/`s
/// are removed; the scheme must be http or https.
pub(crate) fn normalise_endpoint(text: &str) -> Result<Url, String> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err("it is empty".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it must not have a query or fragment".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_normalised() {
        assert_eq!(
            normalise_endpoint("mp.example.org").unwrap().as_str(),
            "https://mp.example.org/"
        );
        assert_eq!(
            normalise_endpoint("http://127.0.0.1:9204/marketplace//")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9204/marketplace"
        );
        assert!(normalise_endpoint("ftp://x").is_err());
        assert!(normalise_endpoint("  ").is_err());
        assert!(normalise_endpoint("http://x/?q=1").is_err());
    }
}
