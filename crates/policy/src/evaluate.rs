//! The evaluation: each entry's verdict from its verified signed document,
//! then the rules over all of them.

use crate::names::{dn_key, fqan_matches};
use crate::{Anchors, Policy, SigningTime};
use chrono::{DateTime, Utc};
use marketplace_trust::dn::DistinguishedName;
use marketplace_trust::document::VomsInfo;
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureStatus, check_document,
};
use marketplace_trust::endorsement::EmailBinding;
use serde::Serialize;

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
    /// When the transparency log proves the entry was integrated (the
    /// witness quorum's cosignatures), for `signing_time = "log"`.
    pub integrated: Option<DateTime<Utc>>,
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
    /// The instant its certificates were judged at, when not the instant of
    /// the check (`signing_time = "log"`: when the log proves it integrated).
    pub certificates_at: Option<DateTime<Utc>>,
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

/// Checks one signed document against every CA directory (certificates'
/// validity periods at `certificates_at` when given); the report of the
/// first that trusts its chain, else of the last.
fn verify(
    bytes: &[u8],
    anchors: &Anchors,
    at: DateTime<Utc>,
    certificates_at: Option<DateTime<Utc>>,
) -> DocumentReport {
    let mut last = None;
    for ca in &anchors.ca_dirs {
        let report = check_document(
            bytes,
            &CheckOptions {
                ca_dir: Some(ca),
                vomsdir: anchors.vomsdir.as_ref(),
                at: Some(at),
                certificates_at,
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

/// A document whose signature verifies and whose signer's chain is trusted.
struct Verified {
    /// The whole report (metadata, expiry).
    report: DocumentReport,
    /// Whether the signing certificate carries the endorser's e-mail.
    email_binding: EmailBinding,
    /// The verified signer.
    identity: String,
    /// VOMS attributes of the signer's proxy.
    voms: Vec<VomsInfo>,
}

impl EntryVerdict {
    /// A verdict that does not count yet, with the entry's coordinates.
    fn unjudged(entry: &Fetched) -> EntryVerdict {
        EntryVerdict {
            email: entry.email.clone(),
            created: entry.created.clone(),
            signer: None,
            fqans: Vec::new(),
            counts: false,
            deprecated: None,
            expired: false,
            certificates_at: None,
            trusted: false,
            reason: String::new(),
            notes: Vec::new(),
        }
    }
}

/// The entry's document verified: fetched, well-formed, signed and with a
/// trusted chain; else why not. The trust core's notes go to `notes`.
fn verified(
    entry: &Fetched,
    anchors: &Anchors,
    at: DateTime<Utc>,
    certificates_at: Option<DateTime<Utc>>,
    notes: &mut Vec<String>,
) -> Result<Verified, String> {
    let bytes = match &entry.document {
        Ok(b) => b,
        Err(e) => return Err(format!("the signed document could not be fetched: {e}")),
    };
    let report = verify(bytes, anchors, at, certificates_at);
    notes.clone_from(&report.notes);
    if !report.problems.is_empty() {
        return Err(format!(
            "the document has format problems: {}",
            report.problems[0].message
        ));
    }
    let (email_binding, identity) = match &report.signature {
        SignatureStatus::Valid {
            email, identity, ..
        } => (*email, identity.clone()),
        SignatureStatus::Invalid { reason } => {
            return Err(format!("the signature does not verify: {reason}"));
        }
        SignatureStatus::Unsigned => return Err("the document is not signed".into()),
    };
    let voms = match &report.chain {
        ChainStatus::Trusted { voms, .. } => voms.clone(),
        ChainStatus::Untrusted { reason } => {
            return Err(format!("the signer's chain is not trusted: {reason}"));
        }
        ChainStatus::NotChecked => return Err("the signer's chain was not checked".into()),
    };
    Ok(Verified {
        report,
        email_binding,
        identity,
        voms,
    })
}

/// Whether the signed document is the one these coordinates name: the
/// marketplace could otherwise serve one entry's document for another.
fn same_coordinates(
    identifier: &str,
    entry: &Fetched,
    report: &DocumentReport,
) -> Result<(), String> {
    let m = &report.metadata;
    if m.identifier != identifier
        || !m.endorser_email().eq_ignore_ascii_case(&entry.email)
        || m.endorsement_created() != entry.created
    {
        return Err(format!(
            "the marketplace served the document {}/{}/{} for these coordinates",
            m.identifier,
            m.endorser_email(),
            m.endorsement_created()
        ));
    }
    Ok(())
}

impl Policy {
    /// Whether a signer holding FQAN `held` satisfies `fqans` (a listed
    /// group also accepts its sub-groups, roles and capabilities).
    pub fn accepts_fqan(&self, held: &str) -> bool {
        self.fqans.iter().any(|wanted| fqan_matches(held, wanted))
    }

    /// Whether the endorser with this verified identity (e-mail, how the
    /// certificate binds it, subject DN) is listed in `endorsers`.
    pub fn lists_endorser(&self, email: &str, binding: EmailBinding, subject: &str) -> bool {
        if self.endorsers.is_empty() {
            return true;
        }
        self.endorsers.iter().any(|e| {
            let e = e.trim();
            if e.contains('=') {
                DistinguishedName::same(e, subject)
            } else {
                binding == EmailBinding::Certified && e.eq_ignore_ascii_case(email)
            }
        })
    }

    /// Whether the verified signer is a trusted endorser: listed, and of
    /// an accepted VO and FQAN; else why not.
    fn trusts(&self, signed: &Verified, fqans: &[String]) -> Result<(), String> {
        let email = signed.report.metadata.endorser_email();
        let identity = &signed.identity;
        if !self.lists_endorser(email, signed.email_binding, identity) {
            return Err(
                if signed.email_binding == EmailBinding::Unverified
                    && self
                        .endorsers
                        .iter()
                        .any(|e| e.trim().eq_ignore_ascii_case(email))
                {
                    "the e-mail is listed, but the signing certificate does not carry it".into()
                } else {
                    format!("{identity} is not a trusted endorser")
                },
            );
        }
        let voms = &signed.voms;
        if !self.vos.is_empty() && !voms.iter().any(|a| self.vos.contains(&a.vo)) {
            return Err(format!(
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
            ));
        }
        if !self.fqans.is_empty() && !fqans.iter().any(|h| self.accepts_fqan(h)) {
            return Err(format!(
                "no accepted FQAN ({}) among the signer's ({})",
                self.fqans.join(", "),
                fqans.join(", ")
            ));
        }
        Ok(())
    }

    /// Whether a trusted endorser's entry counts, given its deprecation and
    /// expiry, and the reason to show.
    fn counting(&self, v: &EntryVerdict, valid: Option<&str>) -> (bool, String) {
        if let Some(r) = &v.deprecated {
            let counts = !self.refuse_deprecated;
            let mut reason = format!("deprecated: {r}");
            if counts {
                reason.push_str(" (counted: refuse_deprecated is off)");
            }
            return (counts, reason);
        }
        if v.expired {
            let counts = !self.refuse_expired;
            let reason = if counts {
                "expired (counted: refuse_expired is off)".into()
            } else {
                format!("expired at {}", valid.unwrap_or("?"))
            };
            return (counts, reason);
        }
        (true, "counts".into())
    }

    /// One entry's verdict (without the counting across entries).
    fn judge(
        &self,
        identifier: &str,
        entry: &Fetched,
        anchors: &Anchors,
        at: DateTime<Utc>,
    ) -> EntryVerdict {
        let mut v = EntryVerdict::unjudged(entry);
        if self.signing_time == SigningTime::Log {
            v.certificates_at = entry.integrated.map(|t| t.min(at));
        }
        let signed = match verified(entry, anchors, at, v.certificates_at, &mut v.notes)
            .and_then(|s| same_coordinates(identifier, entry, &s.report).map(|()| s))
        {
            Ok(s) => s,
            Err(reason) => {
                v.reason = reason;
                return v;
            }
        };
        v.signer = Some(signed.identity.clone());
        v.fqans = signed.voms.iter().flat_map(|a| a.fqans.clone()).collect();
        v.deprecated = signed.report.metadata.deprecated.clone();
        v.expired = signed.report.expired;
        if let Err(reason) = self.trusts(&signed, &v.fqans) {
            v.reason = reason;
            return v;
        }
        v.trusted = true;
        (v.counts, v.reason) = self.counting(&v, signed.report.metadata.valid.as_deref());
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
        // Each signer once (however its DN is written), as the trust core
        // printed it.
        let distinct = |filter: &dyn Fn(&EntryVerdict) -> bool| -> Vec<String> {
            let mut once = std::collections::BTreeMap::new();
            for signer in verdicts
                .iter()
                .filter(|v| filter(v))
                .filter_map(|v| v.signer.as_ref())
            {
                once.entry(dn_key(signer)).or_insert_with(|| signer.clone());
            }
            let mut list: Vec<String> = once.into_values().collect();
            list.sort();
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
