//! Signing credentials as grid users keep them: PKCS#12 files (modern and
//! legacy RC2/3DES), a PEM certificate with its key, and RFC 3820 proxies.

use crate::chain::is_proxy;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use std::path::{Path, PathBuf};

/// Why a credential could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The content is not a usable credential.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A private key with its certificate chain (signer first).
#[derive(Clone)]
pub struct Credential {
    key: PKey<Private>,
    chain: Vec<X509>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Credential")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CredentialError> {
    std::fs::read(path).map_err(|source| CredentialError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn invalid(path: &Path, message: impl Into<String>) -> CredentialError {
    CredentialError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl Credential {
    /// A credential from a key and its chain; checks that they belong together.
    pub fn new(key: PKey<Private>, chain: Vec<X509>) -> Result<Self, String> {
        let signer = chain.first().ok_or("no certificate")?;
        let public = signer.public_key().map_err(|e| e.to_string())?;
        if !key.public_eq(&public) {
            return Err("the private key does not belong to the certificate".into());
        }
        Ok(Credential { key, chain })
    }

    /// Loads a PKCS#12 file (legacy RC2-40/3DES encryption included).
    pub fn from_pkcs12(path: &Path, password: &str) -> Result<Self, CredentialError> {
        let data = read(path)?;
        // p12-keystore reads the legacy encryptions that OpenSSL 3 only reads
        // with its legacy provider; OpenSSL is the fallback for the rest.
        let parsed = p12_keystore::KeyStore::from_pkcs12(&data, password, Default::default())
            .map_err(|e| e.to_string())
            .and_then(|ks| {
                let (_, chain) = ks
                    .private_key_chain()
                    .ok_or_else(|| "no private key in the file".to_string())?;
                let key = PKey::private_key_from_pkcs8(chain.key().as_der())
                    .or_else(|_| PKey::private_key_from_der(chain.key().as_der()))
                    .map_err(|e| e.to_string())?;
                let certs = chain
                    .certs()
                    .iter()
                    .map(|c| X509::from_der(c.as_der()).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((key, certs))
            })
            .or_else(|first| {
                let p12 = openssl::pkcs12::Pkcs12::from_der(&data)
                    .and_then(|p| p.parse2(password))
                    .map_err(|_| first.clone())?;
                let key = p12.pkey.ok_or_else(|| first.clone())?;
                let mut certs: Vec<X509> = p12.cert.into_iter().collect();
                certs.extend(p12.ca.into_iter().flatten());
                Ok::<_, String>((key, certs))
            })
            .map_err(|e| {
                invalid(
                    path,
                    format!("cannot open the PKCS#12 file (wrong password?): {e}"),
                )
            })?;
        let (key, certs) = parsed;
        let chain = order_chain(&key, certs);
        Credential::new(key, chain).map_err(|m| invalid(path, m))
    }

    /// Loads a PEM certificate (with any chain after it) and a PEM key
    /// (`password` for an encrypted key).
    pub fn from_pem_files(
        cert: &Path,
        key: &Path,
        password: Option<&str>,
    ) -> Result<Self, CredentialError> {
        let certs = X509::stack_from_pem(&read(cert)?)
            .map_err(|e| invalid(cert, format!("no PEM certificate: {e}")))?;
        let key_pem = read(key)?;
        let key = match password {
            Some(p) => PKey::private_key_from_pem_passphrase(&key_pem, p.as_bytes()),
            None => PKey::private_key_from_pem(&key_pem),
        }
        .map_err(|e| {
            invalid(
                key,
                format!("cannot read the private key (encrypted? use a password): {e}"),
            )
        })?;
        let chain = order_chain(&key, certs);
        Credential::new(key, chain).map_err(|m| invalid(cert, m))
    }

    /// Loads a proxy file: the proxy certificate, its unencrypted key, and the
    /// chain up to the user certificate, all PEM in one file.
    pub fn from_proxy_file(path: &Path) -> Result<Self, CredentialError> {
        let pem = read(path)?;
        let certs = X509::stack_from_pem(&pem)
            .map_err(|e| invalid(path, format!("no certificates: {e}")))?;
        let key = PKey::private_key_from_pem(&pem)
            .map_err(|e| invalid(path, format!("no unencrypted private key: {e}")))?;
        let chain = order_chain(&key, certs);
        Credential::new(key, chain).map_err(|m| invalid(path, m))
    }

    /// The private key.
    pub fn key(&self) -> &PKey<Private> {
        &self.key
    }

    /// The certificate that signs, then the certificates that issued it.
    pub fn chain(&self) -> &[X509] {
        &self.chain
    }

    /// The certificate that signs (a proxy, or the user certificate).
    pub fn signer(&self) -> &X509 {
        &self.chain[0]
    }

    /// The identity behind any proxies: the first certificate that is not one.
    pub fn identity(&self) -> &X509 {
        self.chain
            .iter()
            .find(|c| !is_proxy(c))
            .unwrap_or(&self.chain[0])
    }

    /// Certificates to put in KeyInfo: the signer and, for a proxy, the chain
    /// up to and including the user certificate (never CA certificates).
    pub fn key_info_certificates(&self) -> Vec<X509> {
        let mut out = Vec::new();
        for c in &self.chain {
            out.push(c.clone());
            if !is_proxy(c) {
                break;
            }
        }
        out
    }
}

/// Puts the certificate of `key` first, then each issuer in turn.
fn order_chain(key: &PKey<Private>, mut certs: Vec<X509>) -> Vec<X509> {
    let Some(pos) = certs
        .iter()
        .position(|c| c.public_key().is_ok_and(|p| key.public_eq(&p)))
    else {
        return certs;
    };
    let mut chain = vec![certs.remove(pos)];
    // The last certificate placed: the next one is its issuer (and not
    // itself, for a self-signed root).
    let issued_by = |last: &X509, c: &X509| {
        c.subject_name()
            .try_cmp(last.issuer_name())
            .is_ok_and(|o| o.is_eq())
            && last
                .subject_name()
                .try_cmp(last.issuer_name())
                .is_ok_and(|o| o.is_ne())
    };
    while let Some(last) = chain.last()
        && let Some(next) = certs.iter().position(|c| issued_by(last, c))
    {
        chain.push(certs.remove(next));
    }
    chain.extend(certs);
    chain
}

/// Where grid tools look for credentials by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultCredential {
    /// `X509_USER_PROXY` is set.
    Proxy(PathBuf),
    /// `~/.globus/usercred.p12` exists.
    Pkcs12(PathBuf),
    /// `~/.globus/usercert.pem` and `userkey.pem` (or X509_USER_CERT/KEY).
    Pem(PathBuf, PathBuf),
}

/// The credential grid habits point at, if any: `X509_USER_PROXY`, then
/// `~/.globus/usercred.p12`, then `X509_USER_CERT`/`X509_USER_KEY` or
/// `~/.globus/usercert.pem` and `userkey.pem`.
pub fn default_credential() -> Option<DefaultCredential> {
    if let Some(p) = std::env::var_os("X509_USER_PROXY") {
        return Some(DefaultCredential::Proxy(PathBuf::from(p)));
    }
    let globus = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".globus"));
    if let Some(dir) = &globus {
        let p12 = dir.join("usercred.p12");
        if p12.exists() {
            return Some(DefaultCredential::Pkcs12(p12));
        }
    }
    let cert = std::env::var_os("X509_USER_CERT")
        .map(PathBuf::from)
        .or_else(|| globus.as_ref().map(|d| d.join("usercert.pem")))?;
    let key = std::env::var_os("X509_USER_KEY")
        .map(PathBuf::from)
        .or_else(|| globus.as_ref().map(|d| d.join("userkey.pem")))?;
    (cert.exists() && key.exists()).then_some(DefaultCredential::Pem(cert, key))
}
