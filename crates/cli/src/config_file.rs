//! The configuration file of the client commands and where each setting
//! came from: the file's keys ([`ConfigFile`]), finding and reading it, and
//! the [`Setting`] type — a value with its [`Source`] — that
//! [`crate::settings`] and [`crate::credentials`] resolve into.
//!
//! The configuration file is `$XDG_CONFIG_HOME/marketplace/config.toml`, or
//! `$HOME/.config/marketplace/config.toml` when `XDG_CONFIG_HOME` is unset
//! or not absolute. It is optional; unknown keys are errors. Relative paths
//! in it are relative to its directory, and `~/` is the home directory.

use crate::failure::Failure;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The keys of the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
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
pub(crate) enum Source {
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
pub(crate) struct Setting<T> {
    /// The value, if any.
    pub value: Option<T>,
    /// Where it came from.
    pub source: Source,
}

impl<T> Setting<T> {
    /// A setting without value.
    pub(crate) fn unset() -> Self {
        Setting {
            value: None,
            source: Source::Unset,
        }
    }

    /// A setting with `value`, from `source`.
    pub(crate) fn from(value: T, source: Source) -> Self {
        Setting {
            value: Some(value),
            source,
        }
    }
}

/// The configuration file path: `$XDG_CONFIG_HOME/marketplace/config.toml`
/// or `$HOME/.config/marketplace/config.toml`.
pub(crate) fn config_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| home().map(|h| h.join(".config")))?;
    Some(base.join("marketplace").join("config.toml"))
}

/// The home directory ($HOME).
pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Reads the configuration file at `path` (an absent file is empty).
pub(crate) fn read_config(path: &Path) -> Result<Option<ConfigFile>, Failure> {
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
pub(crate) fn resolve_path(dir: &Path, path: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

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
