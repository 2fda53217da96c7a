//! The vomsdir: `<dir>/<vo>/<host>.lsc` files, each naming the subject and
//! issuer of a VO's trusted attribute authority.

use super::{Malformation, VomsAttributes, VomsError};
use crate::chain::DirectoryProblem;
use crate::dn::openssl_oneline;
use openssl::x509::X509;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A vomsdir: `<dir>/<vo>/<host>.lsc` files naming the trusted AA of each VO.
#[derive(Debug, Clone)]
pub struct VomsDir {
    path: PathBuf,
}

impl VomsDir {
    /// Opens `path`, which must be a directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, VomsError> {
        let path = path.as_ref().to_path_buf();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(Self { path }),
            Ok(_) => Err(VomsError::VomsDir {
                path,
                reason: DirectoryProblem::NotADirectory,
            }),
            Err(e) => Err(VomsError::VomsDir {
                path,
                reason: DirectoryProblem::Unreadable(Arc::new(e)),
            }),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Compares the embedded AA chain with `<vomsdir>/<vo>/<host>.lsc`.
    pub(super) fn check_lsc(
        &self,
        claimed: &VomsAttributes,
        aa_certs: &[X509],
    ) -> Result<(), VomsError> {
        let (vo, host) = (claimed.vo.as_str(), claimed.host());
        if !is_safe_component(vo) || !is_safe_component(host) {
            return Err(VomsError::Malformed(Malformation::UnusableVoOrHost {
                vo: vo.to_owned(),
                host: host.to_owned(),
            }));
        }
        let path = self.path.join(vo).join(format!("{host}.lsc"));
        let text = std::fs::read_to_string(&path).map_err(|_| VomsError::NoLsc {
            vo: vo.to_owned(),
            host: host.to_owned(),
            path: path.clone(),
        })?;
        if lsc_chains(&text)
            .iter()
            .any(|dns| lsc_matches(dns, aa_certs))
        {
            return Ok(());
        }
        Err(VomsError::LscMismatch {
            subject: openssl_oneline(aa_certs[0].subject_name()),
            issuer: openssl_oneline(aa_certs[0].issuer_name()),
            path,
        })
    }
}

/// A VO or host name usable as a path component.
fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The DN chains of an `.lsc` file (several chains are separated by `------ NEW CHAIN ------`).
fn lsc_chains(text: &str) -> Vec<Vec<&str>> {
    let mut chains = vec![Vec::new()];
    for line in text.lines().map(str::trim) {
        if line.starts_with("---") {
            chains.push(Vec::new());
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(chain) = chains.last_mut()
        {
            chain.push(line);
        }
    }
    chains.retain(|c| c.len() >= 2);
    chains
}

/// Certificate i must have subject `dns[i]` and issuer `dns[i + 1]`, for every embedded
/// certificate the file describes.
fn lsc_matches(dns: &[&str], certs: &[X509]) -> bool {
    certs.iter().zip(dns.windows(2)).all(|(cert, pair)| {
        openssl_oneline(cert.subject_name()) == pair[0]
            && openssl_oneline(cert.issuer_name()) == pair[1]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsc_parsing() {
        let text =
            "# comment\n/C=EU/CN=aa\n/C=EU/CN=ca \n------ NEW CHAIN ------\n/CN=x\n/CN=y\n\n";
        assert_eq!(
            lsc_chains(text),
            vec![vec!["/C=EU/CN=aa", "/C=EU/CN=ca"], vec!["/CN=x", "/CN=y"]]
        );
        assert!(lsc_chains("/CN=only-one-line\n").is_empty());
    }

    #[test]
    fn path_components() {
        assert!(is_safe_component("testvo"));
        assert!(is_safe_component("vo.example-org_1"));
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component("a/b"));
        assert!(!is_safe_component(""));
    }
}
