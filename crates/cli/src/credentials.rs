//! The grid credential of the client commands: the client certificate sent
//! to an HTTPS marketplace (see [`crate::client_tls`]) and the signing
//! credential of the commands that make new entries (`deprecate`, `endorse`,
//! `tag`) — one credential for both, named by the options of `marketplace
//! sign` and of the original tools (`--p12-cert`, `--p12-password`, `--cert`
//! / `--key`, `--proxy`), then `$X509_USER_PROXY`, then the configuration
//! file, then the grid defaults (`/tmp/x509up_u<uid>`,
//! `~/.globus/usercred.p12`, `usercert.pem` + `userkey.pem`).

use crate::config_file::{ConfigFile, Setting, Source};
use crate::failure::Failure;
use marketplace_trust::credential::{Credential, DefaultCredential, default_credential};
use serde::Serialize;
use std::path::PathBuf;

/// Credential options (the names of `marketplace sign` and `stratus-*-metadata`).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Grid credential (client certificate over HTTPS; signs new entries)")]
pub(crate) struct CredentialArgs {
    /// PKCS#12 file holding the certificate and key.
    #[arg(long = "p12-cert", value_name = "FILE", conflicts_with_all = ["cert", "proxy"])]
    pub p12_cert: Option<PathBuf>,
    /// Password of the PKCS#12 file [env: MARKETPLACE_P12_PASSWORD, STRATUSLAB_P12_PASSWORD].
    #[arg(long = "p12-password", value_name = "PASSWORD")]
    pub p12_password: Option<String>,
    /// PEM certificate (with --key).
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "proxy")]
    pub cert: Option<PathBuf>,
    /// PEM private key (with --cert).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Password of an encrypted PEM key [env: MARKETPLACE_KEY_PASSWORD].
    #[arg(long = "key-password", value_name = "PASSWORD")]
    pub key_password: Option<String>,
    /// RFC 3820 proxy file (certificate, key and chain)
    /// [default: $X509_USER_PROXY, then /tmp/x509up_u<uid> if it exists].
    #[arg(long, value_name = "FILE")]
    pub proxy: Option<PathBuf>,
}

/// The endorser e-mail option of the commands that sign new entries.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct EmailArgs {
    /// Endorser e-mail, only when the certificate carries none (it is then marked unverified).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
}

impl EmailArgs {
    /// The endorser e-mail option, then the configuration file's.
    pub(crate) fn email(&self, file: &ConfigFile) -> Setting<String> {
        match (&self.email, &file.email) {
            (Some(e), _) => Setting {
                value: Some(e.clone()),
                source: Source::Option("--email"),
            },
            (None, Some(e)) => Setting {
                value: Some(e.clone()),
                source: Source::File("email"),
            },
            (None, None) => Setting::unset(),
        }
    }
}

/// The proxy file grid tools (`voms-proxy-init`, `grid-proxy-init`) write
/// when `X509_USER_PROXY` is not set: `/tmp/x509up_u<uid>`.
pub(crate) fn grid_proxy_file() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    PathBuf::from(format!("/tmp/x509up_u{uid}"))
}

/// Which credential is used and where it was named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum CredentialChoice {
    /// A PKCS#12 file.
    Pkcs12 {
        /// The file.
        file: PathBuf,
    },
    /// A PEM certificate and key.
    Pem {
        /// The certificate.
        cert: PathBuf,
        /// The key.
        key: PathBuf,
    },
    /// A proxy file.
    Proxy {
        /// The file.
        file: PathBuf,
    },
}

impl std::fmt::Display for CredentialChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialChoice::Pkcs12 { file } => write!(f, "PKCS#12 {}", file.display()),
            CredentialChoice::Pem { cert, key } => {
                write!(f, "PEM {} with key {}", cert.display(), key.display())
            }
            CredentialChoice::Proxy { file } => write!(f, "proxy {}", file.display()),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl CredentialArgs {
    /// The credential these options, the environment and the configuration
    /// file `file` name.
    pub(crate) fn choice(&self, file: &ConfigFile) -> Setting<CredentialChoice> {
        let set = |value, source| Setting {
            value: Some(value),
            source,
        };
        if let Some(p) = &self.p12_cert {
            return set(
                CredentialChoice::Pkcs12 { file: p.clone() },
                Source::Option("--p12-cert"),
            );
        }
        if let (Some(c), Some(k)) = (&self.cert, &self.key) {
            return set(
                CredentialChoice::Pem {
                    cert: c.clone(),
                    key: k.clone(),
                },
                Source::Option("--cert/--key"),
            );
        }
        if let Some(p) = &self.proxy {
            return set(
                CredentialChoice::Proxy { file: p.clone() },
                Source::Option("--proxy"),
            );
        }
        if let Some(p) = std::env::var_os("X509_USER_PROXY").filter(|p| !p.is_empty()) {
            return set(
                CredentialChoice::Proxy {
                    file: PathBuf::from(p),
                },
                Source::Env("X509_USER_PROXY"),
            );
        }
        if let Some(p) = &file.p12_cert {
            return set(
                CredentialChoice::Pkcs12 { file: p.clone() },
                Source::File("p12_cert"),
            );
        }
        if let (Some(c), Some(k)) = (&file.cert, &file.key) {
            return set(
                CredentialChoice::Pem {
                    cert: c.clone(),
                    key: k.clone(),
                },
                Source::File("cert/key"),
            );
        }
        if let Some(p) = &file.proxy {
            return set(
                CredentialChoice::Proxy { file: p.clone() },
                Source::File("proxy"),
            );
        }
        let proxy = grid_proxy_file();
        if proxy.is_file() {
            return set(
                CredentialChoice::Proxy { file: proxy },
                Source::Grid("/tmp/x509up_u<uid>"),
            );
        }
        match default_credential() {
            Some(DefaultCredential::Proxy(file)) => set(
                CredentialChoice::Proxy { file },
                Source::Env("X509_USER_PROXY"),
            ),
            Some(DefaultCredential::Pkcs12(file)) => set(
                CredentialChoice::Pkcs12 { file },
                Source::Grid("~/.globus/usercred.p12"),
            ),
            Some(DefaultCredential::Pem(cert, key)) => set(
                CredentialChoice::Pem { cert, key },
                Source::Grid("~/.globus/usercert.pem, userkey.pem"),
            ),
            None => Setting::unset(),
        }
    }

    /// Loads the credential (named as [`CredentialArgs::choice`] says), or
    /// fails saying how to name one.
    pub(crate) fn load(&self, file: &ConfigFile) -> Result<Credential, Failure> {
        let choice = self.choice(file);
        let Some(choice) = choice.value else {
            return Err(Failure::usage(
                "no credential to sign with: give --p12-cert FILE (with --p12-password or \
                 $MARKETPLACE_P12_PASSWORD), --cert/--key or --proxy, set X509_USER_PROXY, or put \
                 p12_cert = \"…\" in the configuration file (see `marketplace config`)",
            ));
        };
        self.load_choice(&choice)
    }

    /// Loads the credential `choice` names (with these options' passwords).
    pub(crate) fn load_choice(&self, choice: &CredentialChoice) -> Result<Credential, Failure> {
        let p12_password = self
            .p12_password
            .clone()
            .or_else(|| env("MARKETPLACE_P12_PASSWORD"))
            .or_else(|| env("STRATUSLAB_P12_PASSWORD"))
            .unwrap_or_default();
        let key_password = self
            .key_password
            .clone()
            .or_else(|| env("MARKETPLACE_KEY_PASSWORD"));
        let loaded = match choice {
            CredentialChoice::Pkcs12 { file } => Credential::from_pkcs12(file, &p12_password),
            CredentialChoice::Pem { cert, key } => {
                Credential::from_pem_files(cert, key, key_password.as_deref())
            }
            CredentialChoice::Proxy { file } => Credential::from_proxy_file(file),
        };
        loaded.map_err(|e| Failure::usage(format!("cannot use the credential ({choice}): {e}")))
    }
}
