//! Settings of the client commands — the marketplace endpoint, the request
//! timeout, the grid credential and the trust anchors — taken from the
//! command line, then the environment, then the configuration file, then
//! defaults, each with the place it came from (`marketplace config` prints
//! both).
//!
//! The configuration file is `$XDG_CONFIG_HOME/marketplace/config.toml`, or
//! `$HOME/.config/marketplace/config.toml` when `XDG_CONFIG_HOME` is unset
//! or not absolute. It is optional; unknown keys are errors. Relative paths
//! in it are relative to its directory, and `~/` is the home directory.

use crate::credentials::CredentialArgs;
use crate::failure::Failure;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The keys of the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Marketplace endpoint (URL or host name).
    pub endpoint: Option<String>,
    /// Seconds before a request to the marketplace gives up.
    pub timeout_secs: Option<u64>,
    /// PKCS#12 credential (client certificate over HTTPS; signing by deprecate, endorse, tag).
    pub p12_cert: Option<PathBuf>,
    /// PEM certificate (with `key`).
    pub cert: Option<PathBuf>,
    /// PEM key (with `cert`).
    pub key: Option<PathBuf>,
    /// RFC 3820 proxy file.
    pub proxy: Option<PathBuf>,
    /// Endorser e-mail when the certificate carries none.
    pub email: Option<String>,
    /// CA directory: trust anchors of an HTTPS marketplace, and of signers' chains (download).
    pub ca_dir: Option<PathBuf>,
    /// Also trust the system's CA certificates for an HTTPS marketplace.
    pub system_roots: Option<bool>,
    /// vomsdir for VOMS attributes.
    pub vomsdir: Option<PathBuf>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line option.
    Option(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A key of the configuration file.
    File(&'static str),
    /// The grid convention (e.g. `~/.globus/usercred.p12`).
    Grid(&'static str),
    /// The built-in default.
    Default,
    /// Nowhere: the setting has no value.
    Unset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Option(o) => write!(f, "option {o}"),
            Source::Env(v) => write!(f, "environment ${v}"),
            Source::File(k) => write!(f, "config file key '{k}'"),
            Source::Grid(what) => write!(f, "grid default {what}"),
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("not set"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting<T> {
    /// The value, if any.
    pub value: Option<T>,
    /// Where it came from.
    pub source: Source,
}

impl<T> Setting<T> {
    /// A setting without value.
    pub fn unset() -> Self {
        Setting {
            value: None,
            source: Source::Unset,
        }
    }

    fn from(value: T, source: Source) -> Self {
        Setting {
            value: Some(value),
            source,
        }
    }
}

/// Options every command that talks to the marketplace accepts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientOptions {
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
pub struct EndOfHeadings {}

/// Options naming the CAs an HTTPS marketplace's certificate must chain to.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Server trust (HTTPS)")]
pub struct TlsOptions {
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
pub struct TrustOptions {
    /// vomsdir to verify VOMS attributes against (with a CA directory)
    /// [default: $X509_VOMS_DIR, then `vomsdir` in the config file].
    #[arg(long, value_name = "DIR")]
    pub vomsdir: Option<PathBuf>,
}

/// The effective settings of a client command.
#[derive(Debug, Clone)]
pub struct Settings {
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
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The CA directory of an HTTPS marketplace when none is set (the grid's).
pub const GRID_CA_DIR: &str = "/etc/grid-security/certificates";

/// The configuration file path: `$XDG_CONFIG_HOME/marketplace/config.toml`
/// or `$HOME/.config/marketplace/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| home().map(|h| h.join(".config")))?;
    Some(base.join("marketplace").join("config.toml"))
}

/// The home directory ($HOME).
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads the configuration file at `path` (an absent file is empty).
pub fn read_config(path: &Path) -> Result<Option<ConfigFile>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };
    let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "the configuration file {} is invalid: {e}\n(known keys: endpoint, timeout_secs, \
             p12_cert, cert, key, proxy, email, ca_dir, system_roots, vomsdir)",
            path.display()
        ))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    for p in [
        &mut file.p12_cert,
        &mut file.cert,
        &mut file.key,
        &mut file.proxy,
        &mut file.ca_dir,
        &mut file.vomsdir,
    ]
    .into_iter()
    .flatten()
    {
        *p = resolve_path(dir, p);
    }
    Ok(Some(file))
}

/// `~/x` in the home directory; relative paths under `dir`.
pub fn resolve_path(dir: &Path, path: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(h) = home()
    {
        return h.join(rest);
    }
    if path.is_relative() {
        dir.join(path)
    } else {
        path.to_path_buf()
    }
}

impl Settings {
    /// The settings for `options` (and `trust`, for commands that verify VOMS attributes).
    pub fn load(options: &ClientOptions, trust: Option<&TrustOptions>) -> Result<Self, Failure> {
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
    pub fn endpoint_url(&self) -> Result<Url, Failure> {
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
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.value.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// The CA directory an HTTPS marketplace's certificate must chain to:
    /// the `ca_dir` setting, else the grid's `/etc/grid-security/certificates`.
    pub fn server_ca_dir(&self) -> Setting<PathBuf> {
        match &self.ca_dir.value {
            Some(_) => self.ca_dir.clone(),
            None => Setting::from(PathBuf::from(GRID_CA_DIR), Source::Grid(GRID_CA_DIR)),
        }
    }

    /// Whether the system's CAs are trusted too.
    pub fn system_roots(&self) -> bool {
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
pub fn normalise_endpoint(text: &str) -> Result<Url, String> {
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

    #[test]
    fn config_paths_are_resolved() {
        let dir = Path::new("/etc/mp");
        assert_eq!(
            resolve_path(dir, Path::new("ca")),
            PathBuf::from("/etc/mp/ca")
        );
        assert_eq!(resolve_path(dir, Path::new("/x")), PathBuf::from("/x"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "endpont = \"x\"\n").unwrap();
        let e = read_config(&path).unwrap_err();
        assert!(e.message.contains("endpont"), "{e}");
        std::fs::write(&path, "endpoint = \"x\"\nca_dir = \"certs\"\n").unwrap();
        let f = read_config(&path).unwrap().unwrap();
        assert_eq!(f.ca_dir.unwrap(), dir.path().join("certs"));
        assert!(
            read_config(&dir.path().join("none.toml"))
                .unwrap()
                .is_none()
        );
    }
}
