//! A site's image policy and its evaluation: which endorsements of an
//! image a cloud site trusts, and whether that is enough to start it.
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
//! ```

use chrono::{DateTime, Utc};
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureStatus, check_document,
};
use marketplace_trust::endorsement::EmailBinding;
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
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the policy {}: {e}", path.display()))?;
        let mut policy: Policy = toml::from_str(&text).map_err(|e| {
            format!(
                "the policy {} is invalid: {e}\n(known keys: ca_dirs, vomsdir, endorsers, vos, \
                 fqans, required_endorsements, refuse_deprecated, refuse_expired)",
                path.display()
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in policy.ca_dirs.iter_mut().chain(policy.vomsdir.as_mut()) {
            *p = crate::settings::resolve_path(dir, p);
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

/// A DN in one comparable form: RFC 2253 order (most specific first),
/// no spaces around separators, attribute types upper-cased. OpenSSL's
/// `/C=…/O=…/CN=…` form is turned around.
pub fn normalise_dn(dn: &str) -> String {
    let dn = dn.trim();
    let parts: Vec<String> = if let Some(rest) = dn.strip_prefix('/') {
        rest.split('/').rev().map(str::to_string).collect()
    } else {
        crate::occi::split_unquoted(dn, ',')
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    parts
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim().to_ascii_uppercase(), v.trim()),
            None => p.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the FQAN `held` satisfies the policy's `wanted`.
pub fn fqan_matches(held: &str, wanted: &str) -> bool {
    let clean = |f: &str| {
        f.trim()
            .trim_end_matches("/Capability=NULL")
            .trim_end_matches("/Role=NULL")
            .to_string()
    };
    let (held, wanted) = (clean(held), clean(wanted));
    held == wanted || held.starts_with(&format!("{wanted}/"))
}

/// One entry as fetched: its coordinates and the signed bytes (or why
/// they could not be fetched).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The endorser e-mail the marketplace lists.
    pub email: String,
    /// The endorsement date the marketplace lists.
    pub created: String,
    /// The signed document.
    pub document: Result<Vec<u8>, String>,
}

/// What the policy made of one entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntryVerdict {
    /// The endorser e-mail, as listed.
    pub email: String,
    /// The endorsement date, as listed.
    pub created: String,
    /// The verified signer (end entity behind any proxies), when the chain is trusted.
    pub signer: Option<String>,
    /// VO and FQANs of the signer's VOMS proxy.
    pub fqans: Vec<String>,
    /// Whether the entry counts towards the required endorsements.
    pub counts: bool,
    /// Whether it is deprecated (per the signed document), with the reason.
    pub deprecated: Option<String>,
    /// Whether it is expired at the instant of the check.
    pub expired: bool,
    /// Whether the endorser is trusted by the policy (verified, listed, VO).
    pub trusted: bool,
    /// Why it does not count, or "counts".
    pub reason: String,
    /// The trust core's notes on the signed document (forms of the original
    /// tools read leniently, the signature algorithm, ...).
    pub notes: Vec<String>,
}

/// The rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A trusted endorser deprecated the image.
    RefuseDeprecated,
    /// Enough endorsements would count but too many are expired.
    RefuseExpired,
    /// The count of distinct trusted endorsements.
    RequiredEndorsements,
}

/// The decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// The image.
    pub identifier: String,
    /// Whether the site may start it.
    pub allowed: bool,
    /// The rule that decided.
    pub rule: Rule,
    /// The decision in a sentence.
    pub reason: String,
    /// Distinct trusted endorsers that count.
    pub endorsements: Vec<String>,
    /// How many are required.
    pub required: usize,
    /// Every entry, with what the policy made of it.
    pub entries: Vec<EntryVerdict>,
    /// The instant of the evaluation.
    pub at: DateTime<Utc>,
}

/// Checks one signed document against every CA directory; the report of
/// the first that trusts its chain, else of the last.
fn verify(bytes: &[u8], anchors: &Anchors, at: DateTime<Utc>) -> DocumentReport {
    let mut last = None;
    for ca in &anchors.ca_dirs {
        let report = check_document(
            bytes,
            &CheckOptions {
                ca_dir: Some(ca),
                vomsdir: anchors.vomsdir.as_ref(),
                at: Some(at),
                // Entries a marketplace accepted: the signature is asked,
                // not the layout of what it leaves unsigned.
                layout: marketplace_trust::dsig::Layout::Stored,
            },
        );
        if matches!(report.chain, ChainStatus::Trusted { .. }) {
            return report;
        }
        last = Some(report);
    }
    last.unwrap_or_else(|| check_document(bytes, &CheckOptions::default()))
}

impl Policy {
    /// Whether the endorser with this verified identity is listed.
    fn listed(&self, email: &str, binding: EmailBinding, subject: &str) -> bool {
        if self.endorsers.is_empty() {
            return true;
        }
        let subject = normalise_dn(subject);
        self.endorsers.iter().any(|e| {
            let e = e.trim();
            if e.contains('=') {
                normalise_dn(e) == subject
            } else {
                binding == EmailBinding::Certified && e.eq_ignore_ascii_case(email)
            }
        })
    }

    /// One entry's verdict (without the counting).
    fn judge(
        &self,
        identifier: &str,
        entry: &Fetched,
        anchors: &Anchors,
        at: DateTime<Utc>,
    ) -> EntryVerdict {
        let mut v = EntryVerdict {
            email: entry.email.clone(),
            created: entry.created.clone(),
            signer: None,
            fqans: Vec::new(),
            counts: false,
            deprecated: None,
            expired: false,
            trusted: false,
            reason: String::new(),
            notes: Vec::new(),
        };
        let bytes = match &entry.document {
            Ok(b) => b,
            Err(e) => {
                v.reason = format!("the signed document could not be fetched: {e}");
                return v;
            }
        };
        let report = verify(bytes, anchors, at);
        v.notes.clone_from(&report.notes);
        let m = &report.metadata;
        if !report.problems.is_empty() {
            v.reason = format!(
                "the document has format problems: {}",
                report.problems[0].message
            );
            return v;
        }
        let (email_binding, identity) = match &report.signature {
            SignatureStatus::Valid {
                email, identity, ..
            } => (*email, identity.clone()),
            SignatureStatus::Invalid { reason } => {
                v.reason = format!("the signature does not verify: {reason}");
                return v;
            }
            SignatureStatus::Unsigned => {
                v.reason = "the document is not signed".into();
                return v;
            }
        };
        let voms = match &report.chain {
            ChainStatus::Trusted { voms, .. } => voms.clone(),
            ChainStatus::Untrusted { reason } => {
                v.reason = format!("the signer's chain is not trusted: {reason}");
                return v;
            }
            ChainStatus::NotChecked => {
                v.reason = "the signer's chain was not checked".into();
                return v;
            }
        };
        if m.identifier != identifier
            || !m.endorser_email().eq_ignore_ascii_case(&entry.email)
            || m.endorsement_created() != entry.created
        {
            v.reason = format!(
                "the marketplace served the document {}/{}/{} for these coordinates",
                m.identifier,
                m.endorser_email(),
                m.endorsement_created()
            );
            return v;
        }
        v.signer = Some(identity.clone());
        v.fqans = voms.iter().flat_map(|a| a.fqans.clone()).collect();
        v.deprecated = m.deprecated.clone();
        v.expired = report.expired;
        if !self.listed(m.endorser_email(), email_binding, &identity) {
            v.reason = if email_binding == EmailBinding::Unverified
                && self
                    .endorsers
                    .iter()
                    .any(|e| e.trim().eq_ignore_ascii_case(m.endorser_email()))
            {
                "the e-mail is listed, but the signing certificate does not carry it".into()
            } else {
                format!("{identity} is not a trusted endorser")
            };
            return v;
        }
        if !self.vos.is_empty() && !voms.iter().any(|a| self.vos.contains(&a.vo)) {
            v.reason = format!(
                "not signed with a VOMS proxy of {} (VOs: {})",
                self.vos.join(", "),
                if voms.is_empty() {
                    "none".to_string()
                } else {
                    voms.iter()
                        .map(|a| a.vo.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            return v;
        }
        if !self.fqans.is_empty()
            && !v
                .fqans
                .iter()
                .any(|h| self.fqans.iter().any(|w| fqan_matches(h, w)))
        {
            v.reason = format!(
                "no accepted FQAN ({}) among the signer's ({})",
                self.fqans.join(", "),
                v.fqans.join(", ")
            );
            return v;
        }
        v.trusted = true;
        if let Some(r) = &v.deprecated {
            v.reason = format!("deprecated: {r}");
            v.counts = !self.refuse_deprecated;
            if v.counts {
                v.reason.push_str(" (counted: refuse_deprecated is off)");
            }
            return v;
        }
        if v.expired {
            v.counts = !self.refuse_expired;
            v.reason = if v.counts {
                "expired (counted: refuse_expired is off)".into()
            } else {
                format!("expired at {}", m.valid.as_deref().unwrap_or("?"))
            };
            return v;
        }
        v.counts = true;
        v.reason = "counts".into();
        v
    }

    /// Decides whether `identifier` may be started, from its entries.
    pub fn evaluate(
        &self,
        identifier: &str,
        entries: &[Fetched],
        anchors: &Anchors,
        at: DateTime<Utc>,
    ) -> Decision {
        let verdicts: Vec<EntryVerdict> = entries
            .iter()
            .map(|e| self.judge(identifier, e, anchors, at))
            .collect();
        let distinct = |filter: &dyn Fn(&EntryVerdict) -> bool| -> Vec<String> {
            let mut list: Vec<String> = verdicts
                .iter()
                .filter(|v| filter(v))
                .filter_map(|v| v.signer.clone())
                .map(|s| normalise_dn(&s))
                .collect();
            list.sort();
            list.dedup();
            list
        };
        let counted = distinct(&|v| v.counts);
        let k = self.required_endorsements;
        let decision = |allowed, rule, reason: String| Decision {
            identifier: identifier.to_string(),
            allowed,
            rule,
            reason,
            endorsements: counted.clone(),
            required: k,
            entries: verdicts.clone(),
            at,
        };
        if self.refuse_deprecated
            && let Some(v) = verdicts
                .iter()
                .find(|v| v.trusted && v.deprecated.is_some())
        {
            return decision(
                false,
                Rule::RefuseDeprecated,
                format!(
                    "refused: trusted endorser {} deprecated the image ({})",
                    v.email,
                    v.deprecated.as_deref().unwrap_or_default()
                ),
            );
        }
        if counted.len() >= k {
            return decision(
                true,
                Rule::RequiredEndorsements,
                format!(
                    "allowed: {} distinct trusted endorsement(s), {k} required ({})",
                    counted.len(),
                    counted.join("; ")
                ),
            );
        }
        let with_expired = distinct(&|v| v.trusted && v.deprecated.is_none());
        if self.refuse_expired && with_expired.len() >= k {
            return decision(
                false,
                Rule::RefuseExpired,
                format!(
                    "refused: {} trusted endorsement(s) would suffice, but {} expired \
                     (refuse_expired)",
                    with_expired.len(),
                    with_expired.len() - counted.len()
                ),
            );
        }
        decision(
            false,
            Rule::RequiredEndorsements,
            format!(
                "refused: {} distinct trusted endorsement(s), {k} required",
                counted.len()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_compare_in_either_form() {
        assert_eq!(
            normalise_dn("/C=EU/O=Marketplace Test Grid/OU=Users/CN=Alice Example"),
            normalise_dn("CN=Alice Example, OU=Users,O=Marketplace Test Grid,c=EU")
        );
        assert_ne!(normalise_dn("CN=A,O=X"), normalise_dn("CN=B,O=X"));
    }

    #[test]
    fn fqans_accept_sub_groups_and_null_roles() {
        assert!(fqan_matches("/testvo/Role=NULL/Capability=NULL", "/testvo"));
        assert!(fqan_matches(
            "/testvo/Role=endorser/Capability=NULL",
            "/testvo/Role=endorser"
        ));
        assert!(fqan_matches(
            "/testvo/sub/Role=NULL/Capability=NULL",
            "/testvo"
        ));
        assert!(!fqan_matches(
            "/testvo/Role=NULL/Capability=NULL",
            "/testvo/Role=endorser"
        ));
        assert!(!fqan_matches("/testvo2/Role=NULL", "/testvo"));
    }

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
    }
}
