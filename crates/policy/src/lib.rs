//! # marketplace-policy
//!
//! A site's image policy and its evaluation: which endorsements of an
//! image a cloud site trusts, and whether that is enough to start it.
//! The `marketplace policy check` command is its command-line side; the
//! library holds the whole decision so that anything else a site runs
//! (a scheduler hook, a server) decides the same way.
//!
//! The evaluation trusts signatures, not the marketplace: every entry is a
//! signed document verified here (signature, endorser binding, chain and
//! CRLs against the policy's CA directories, VOMS attributes against its
//! vomsdir), and every fact used — identifier, endorser, deprecation,
//! expiry — is read from the signed bytes. What the marketplace cannot be
//! stopped from doing is leaving entries out; a site that needs more uses
//! several marketplaces.
//!
//! The policy file (TOML; relative paths are relative to the file):
//!
//! ```toml
//! ca_dirs = ["/etc/grid-security/certificates"]  # trusted CAs (at least one)
//! vomsdir = "/etc/grid-security/vomsdir"         # needed for vos / fqans
//! endorsers = ["jane@example.org", "/C=EU/O=Grid/CN=Jane Doe"]  # e-mails or DNs; empty: anyone
//! vos = ["biomed"]                  # the signer's VOMS proxy must be of one of these VOs
//! fqans = ["/biomed/Role=endorser"] # ... and carry one of these FQANs (or a sub-group)
//! required_endorsements = 2         # k distinct trusted endorsers (default 1)
//! refuse_deprecated = true          # a trusted endorser's deprecation refuses (default true)
//! refuse_expired = true             # expired endorsements do not count (default true)
//! signing_time = "log"              # certificates judged when the log proves the entry existed
//!                                   # (default "now"; "log" needs [log] witnesses and a quorum)
//!
//! [log]                             # optional: what the transparency log must prove
//! keys = ["marketplace.example.org/log+3ff8a1c2+AZ7g…"]
//! witnesses = ["witness.site-a.example/w1+1c2d3e4f+BP5c…"]
//! quorum = 1
//! ```

//!
//! Using it: load the file, open its trust anchors once, then evaluate an
//! image from the signed documents of its endorsers' latest entries.
//!
//! ```no_run
//! use marketplace_policy::{Fetched, Policy};
//! # fn main() -> Result<(), String> {
//! let policy = Policy::load(std::path::Path::new("site-policy.toml"))?;
//! let anchors = policy.anchors()?;
//! let entries = vec![Fetched {
//!     email: "jane@example.org".into(),
//!     created: "2026-12-01T10:00:00Z".into(),
//!     document: std::fs::read("entry.xml").map_err(|e| e.to_string()),
//!     integrated: None,
//! }];
//! let decision = policy.evaluate("BEE8-MMAw-Lk_IgsEExAy3d9R8h", &entries, &anchors, chrono::Utc::now());
//! println!("{}", decision.reason);
//! # Ok(())
//! # }
//! ```

mod evaluate;
pub mod log;
mod names;

pub use evaluate::{Decision, EntryVerdict, Fetched, Rule};

use marketplace_trust::chain::CaDirectory;
use marketplace_trust::voms::VomsDir;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// The policy file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Trusted CA directories (`<hash>.0`, `<hash>.r0`); a chain is trusted
    /// when it verifies against one of them.
    #[serde(default)]
    pub ca_dirs: Vec<PathBuf>,
    /// vomsdir for VOMS attributes.
    pub vomsdir: Option<PathBuf>,
    /// Trusted endorsers: e-mail addresses (which must be in the signing
    /// certificate) or subject DNs (RFC 2253 `CN=…,O=…` or OpenSSL `/O=…/CN=…`).
    /// Empty: any endorser whose chain is trusted.
    #[serde(default)]
    pub endorsers: Vec<String>,
    /// Accepted VOs of the signing VOMS proxy (empty: no VO needed).
    #[serde(default)]
    pub vos: Vec<String>,
    /// Accepted FQANs (a listed group also accepts its sub-groups, roles and
    /// capabilities; empty: no FQAN needed).
    #[serde(default)]
    pub fqans: Vec<String>,
    /// How many distinct trusted endorsers must vouch for the image.
    #[serde(default = "one")]
    pub required_endorsements: usize,
    /// Refuse the image when a trusted endorser deprecated it.
    #[serde(default = "yes")]
    pub refuse_deprecated: bool,
    /// Do not count expired endorsements.
    #[serde(default = "yes")]
    pub refuse_expired: bool,
    /// When the signer's certificates must have been valid.
    #[serde(default)]
    pub signing_time: SigningTime,
    /// What the transparency log must prove of every entry relied on
    /// ([`log::LogRequirement`]); absent: the client's own log check only.
    pub log: Option<log::LogRequirement>,
}

/// When an endorsement's certificates (the signer's chain, its proxies and
/// VOMS attribute certificates) must have been valid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningTime {
    /// At the instant of the check: a certificate that has expired since the
    /// endorsement was made no longer counts (grid proxies live hours, user
    /// certificates a year).
    #[default]
    Now,
    /// When the transparency log proves the entry was integrated: the time
    /// of the witness quorum's cosignatures on the first checkpoint that
    /// covers it (they carry their own time; the marketplace's word is not
    /// taken). A certificate valid then counts although it has expired
    /// since; revocation is still judged at the instant of the check, and
    /// an entry the log cannot date is judged as with `now`.
    Log,
}

/// The trust anchors of an opened policy.
pub struct Anchors {
    /// The CA directories.
    pub ca_dirs: Vec<CaDirectory>,
    /// The vomsdir.
    pub vomsdir: Option<VomsDir>,
}

impl Policy {
    /// Reads and checks the policy file (relative paths resolved against its directory).
    pub fn load(path: &Path) -> Result<Policy, String> {
        Policy::load_with(path, |dir, p| dir.join(p))
    }

    /// [`Policy::load`], with `resolve(dir, path)` turning each path as
    /// written into the one to open (`dir` is the file's directory): the
    /// command line also expands `~` there, as in its own settings.
    pub fn load_with(
        path: &Path,
        resolve: impl Fn(&Path, &Path) -> PathBuf,
    ) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the policy {}: {e}", path.display()))?;
        let mut policy: Policy = toml::from_str(&text).map_err(|e| {
            format!(
                "the policy {} is invalid: {e}\n(known keys: ca_dirs, vomsdir, endorsers, vos, \
                 fqans, required_endorsements, refuse_deprecated, refuse_expired, signing_time \
                 (\"now\" or \"log\"), [log] keys, witnesses, quorum)",
                path.display()
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in policy.ca_dirs.iter_mut().chain(policy.vomsdir.as_mut()) {
            *p = resolve(dir, p);
        }
        if policy.ca_dirs.is_empty() {
            return Err(format!(
                "the policy {} names no ca_dirs: without trusted CAs no signature can be trusted",
                path.display()
            ));
        }
        if policy.required_endorsements == 0 {
            return Err("required_endorsements must be at least 1".into());
        }
        if (!policy.vos.is_empty() || !policy.fqans.is_empty()) && policy.vomsdir.is_none() {
            return Err("vos and fqans need a vomsdir to verify VOMS attributes".into());
        }
        if let Some(log) = &policy.log {
            log.validate()?;
        }
        if policy.signing_time == SigningTime::Log
            && policy.log.as_ref().is_none_or(|l| l.quorum() == 0)
        {
            return Err(
                "signing_time = \"log\" needs [log] with witnesses and a quorum of at least 1: \
                 the witnesses' cosignatures carry the time an entry was integrated"
                    .into(),
            );
        }
        Ok(policy)
    }

    /// Opens the CA directories and vomsdir.
    pub fn anchors(&self) -> Result<Anchors, String> {
        let ca_dirs = self
            .ca_dirs
            .iter()
            .map(|d| CaDirectory::open(d).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let vomsdir = self
            .vomsdir
            .as_ref()
            .map(|d| VomsDir::open(d).map_err(|e| e.to_string()))
            .transpose()?;
        Ok(Anchors { ca_dirs, vomsdir })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policy.toml");
        std::fs::write(&p, "ca_dirs = [\"certs\"]\n").unwrap();
        let policy = Policy::load(&p).unwrap();
        assert_eq!(policy.ca_dirs, [dir.path().join("certs")]);
        assert_eq!(policy.required_endorsements, 1);
        assert!(policy.refuse_deprecated && policy.refuse_expired);
        std::fs::write(&p, "endorsers = []\n").unwrap();
        assert!(Policy::load(&p).unwrap_err().contains("ca_dirs"));
        std::fs::write(&p, "ca_dirs = [\"c\"]\nvos = [\"x\"]\n").unwrap();
        assert!(Policy::load(&p).unwrap_err().contains("vomsdir"));
        std::fs::write(&p, "ca_dirs = [\"c\"]\nrequired = 2\n").unwrap();
        assert!(Policy::load(&p).unwrap_err().contains("required"));
        // signing_time: "now" by default; "log" only with a witness quorum.
        assert_eq!(policy.signing_time, SigningTime::Now);
        std::fs::write(&p, "ca_dirs = [\"c\"]\nsigning_time = \"log\"\n").unwrap();
        assert!(
            Policy::load(&p)
                .unwrap_err()
                .contains("needs [log] with witnesses")
        );
        std::fs::write(&p, "ca_dirs = [\"c\"]\nsigning_time = \"later\"\n").unwrap();
        assert!(Policy::load(&p).unwrap_err().contains("signing_time"));
    }
}
