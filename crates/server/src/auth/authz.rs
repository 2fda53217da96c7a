//! Who may upload: the authorization rules of the configuration file
//! (`upload_access`, `upload_dns`, `upload_vos`, `upload_fqans`,
//! `upload_match_endorser`), applied by the upload pipeline
//! ([`crate::upload::ingest::Ingestor::ingest_as`]) to every upload route.
//!
//! The rules concern the *client* that sends the document — the identity
//! the connection layer established ([`crate::auth::identity`]: a client
//! certificate or proxy chain verified in the TLS handshake or passed by a
//! trusted TLS-terminating proxy) — not the signer, whose chain the trust
//! core checks anyway:
//!
//! - `anyone` (the default, as the original): any valid signed document is
//!   accepted, whoever sends it;
//! - `authenticated`: the client must present a certificate or proxy chain
//!   that verifies against the CA directory (`ca_dir`, with CRLs);
//! - `listed`: as `authenticated`, and the client's end-entity DN is one of
//!   `upload_dns`, or it is a member of one of `upload_vos`, or it holds one
//!   of `upload_fqans` (VOMS attributes verified against the vomsdir).
//!
//! Independently, `upload_match_endorser = true` requires an authenticated
//! client whose end-entity DN is the signer's (the certificate, or the user
//! behind the proxy, that endorsed the document): a client uploads only its
//! own endorsements.
//!
//! A refusal is a 403 whose message starts with `upload refused: ` and
//! names the rule (the configuration key) that refused.

use crate::auth::identity::ClientIdentity;
use crate::auth::whitelist::Whitelist;
use marketplace_trust::dn::DistinguishedName;
use marketplace_trust::voms::Fqan;
use serde::Deserialize;
use std::str::FromStr;

/// Why the upload rules refuse a client; its message starts with
/// `upload refused: ` and names the configuration key that refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    /// A rule needs an authenticated client and the client is anonymous.
    #[error(
        "upload refused: this marketplace accepts uploads only from authenticated clients \
         ({rule}): connect over HTTPS with a client certificate or proxy issued under a CA \
         this marketplace trusts"
    )]
    Anonymous {
        /// The rule that needs the identity (`upload_access = …` or
        /// `upload_match_endorser`).
        rule: String,
    },
    /// With `upload_access = listed`, the client is in none of the lists.
    #[error("upload refused: the client certificate ({subject}) {}", not_listed(.reasons))]
    NotListed {
        /// The client's subject DN.
        subject: String,
        /// What the client lacks, one per non-empty list.
        reasons: Vec<ListMiss>,
    },
    /// With `upload_match_endorser`, the signer is someone else.
    #[error(
        "upload refused: the document is endorsed by {signer}, but the client certificate is \
         {client}: clients may upload only their own endorsements (upload_match_endorser)"
    )]
    NotTheEndorser {
        /// The verified signer's subject DN.
        signer: String,
        /// The client's subject DN.
        client: String,
    },
}

/// One list of `upload_access = listed` that a client is not in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListMiss {
    /// Not one of `upload_dns` (how many are listed).
    #[error("is not one of the allowed DNs ({0} listed in upload_dns)")]
    Dn(usize),
    /// A member of none of `upload_vos`.
    #[error("is not a member of any allowed VO (allowed: {})", .0.join(", "))]
    Vo(Vec<String>),
    /// Holds none of `upload_fqans`.
    #[error("holds none of the allowed FQANs (allowed: {})", .0.join(", "))]
    Fqan(Vec<String>),
}

/// "a, b and c" of the reasons.
fn not_listed(reasons: &[ListMiss]) -> String {
    let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
    match reasons.len() {
        0 | 1 => reasons.concat(),
        n => format!("{} and {}", reasons[..n - 1].join(", "), reasons[n - 1]),
    }
}

/// Who may upload (`upload_access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadAccess {
    /// Anyone with a valid signed document (the original's behaviour).
    #[default]
    Anyone,
    /// Only authenticated clients (a chain to a CA of `ca_dir`).
    Authenticated,
    /// Only authenticated clients with a listed DN, VO or FQAN.
    Listed,
}

impl UploadAccess {
    /// The configuration value.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadAccess::Anyone => "anyone",
            UploadAccess::Authenticated => "authenticated",
            UploadAccess::Listed => "listed",
        }
    }
}

impl FromStr for UploadAccess {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "anyone" => Ok(UploadAccess::Anyone),
            "authenticated" => Ok(UploadAccess::Authenticated),
            "listed" => Ok(UploadAccess::Listed),
            _ => Err("expected anyone, authenticated or listed".into()),
        }
    }
}

/// The resolved upload rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadRules {
    /// Who may upload.
    pub access: UploadAccess,
    /// Allowed end-entity DNs, with `listed`.
    pub dns: Whitelist,
    /// Allowed VOs, with `listed`.
    pub vos: Vec<String>,
    /// Allowed FQANs (normalised: no `/Role=NULL`, `/Capability=NULL`), with `listed`.
    pub fqans: Vec<Fqan>,
    /// The client must be the endorser of the document.
    pub match_endorser: bool,
}

impl UploadRules {
    /// Builds and checks the rules. `access` defaults to `listed` when a
    /// list is given, else `anyone`.
    pub fn new(
        access: Option<UploadAccess>,
        dns: &[String],
        vos: &[String],
        fqans: &[String],
        match_endorser: bool,
    ) -> Result<Self, String> {
        let listed = !(dns.is_empty() && vos.is_empty() && fqans.is_empty());
        let access = access.unwrap_or(if listed {
            UploadAccess::Listed
        } else {
            UploadAccess::Anyone
        });
        if access == UploadAccess::Listed && !listed {
            return Err(
                "upload_access = \"listed\" needs upload_dns, upload_vos or upload_fqans".into(),
            );
        }
        if access != UploadAccess::Listed && listed {
            return Err(format!(
                "upload_dns, upload_vos and upload_fqans need upload_access = \"listed\" \
                 (it is \"{}\")",
                access.as_str()
            ));
        }
        for dn in dns {
            if DistinguishedName::parse(dn).is_err() {
                return Err(format!("upload_dns: not a DN: {dn}"));
            }
        }
        let dns = Whitelist::parse(&dns.join("\n"))?;
        let mut clean_vos = Vec::new();
        for vo in vos {
            let vo = vo.trim();
            if vo.is_empty() || vo.contains(|c: char| c == '/' || c.is_whitespace()) {
                return Err(format!("upload_vos: not a VO name: '{vo}'"));
            }
            clean_vos.push(vo.to_string());
        }
        let mut clean_fqans = Vec::new();
        for fqan in fqans {
            clean_fqans.push(Fqan::parse(fqan).map_err(|e| format!("upload_fqans: {e}"))?);
        }
        Ok(UploadRules {
            access,
            dns,
            vos: clean_vos,
            fqans: clean_fqans,
            match_endorser,
        })
    }

    /// Whether any rule needs an authenticated client.
    pub fn needs_identity(&self) -> bool {
        self.access != UploadAccess::Anyone || self.match_endorser
    }

    /// The rules that depend only on who is calling (checked before the
    /// document is verified).
    pub fn check_client(&self, client: Option<&ClientIdentity>) -> Result<(), UploadRefusal> {
        if !self.needs_identity() {
            return Ok(());
        }
        let Some(client) = client else {
            let rule = if self.access != UploadAccess::Anyone {
                format!("upload_access = {}", self.access.as_str())
            } else {
                "upload_match_endorser".to_string()
            };
            return Err(UploadRefusal::Anonymous { rule });
        };
        if self.access != UploadAccess::Listed || self.allows(client) {
            return Ok(());
        }
        let mut reasons = Vec::new();
        if !self.dns.is_empty() {
            reasons.push(ListMiss::Dn(self.dns.len()));
        }
        if !self.vos.is_empty() {
            reasons.push(ListMiss::Vo(self.vos.clone()));
        }
        if !self.fqans.is_empty() {
            reasons.push(ListMiss::Fqan(
                self.fqans.iter().map(|f| f.as_str().to_string()).collect(),
            ));
        }
        Err(UploadRefusal::NotListed {
            subject: client.subject.clone(),
            reasons,
        })
    }

    /// Whether a client passes the lists of `listed`.
    fn allows(&self, client: &ClientIdentity) -> bool {
        self.dns.contains(&client.subject)
            || client.vos.iter().any(|v| self.vos.contains(v))
            || client
                .fqans
                .iter()
                .any(|f| Fqan::parse(f).is_ok_and(|f| self.fqans.contains(&f)))
    }

    /// The rule that needs the verified document: with
    /// `upload_match_endorser`, the client must be the signer (`signer` is
    /// the end-entity subject DN the trust core verified).
    pub fn check_endorser(
        &self,
        client: Option<&ClientIdentity>,
        signer: &str,
    ) -> Result<(), UploadRefusal> {
        if !self.match_endorser {
            return Ok(());
        }
        let Some(client) = client else {
            return self.check_client(None);
        };
        if DistinguishedName::same(&client.subject, signer) {
            Ok(())
        } else {
            Err(UploadRefusal::NotTheEndorser {
                signer: signer.to_string(),
                client: client.subject.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::identity::IdentitySource;

    fn client(subject: &str, vos: &[&str], fqans: &[&str]) -> ClientIdentity {
        ClientIdentity {
            subject: subject.into(),
            issuer: "CN=CA".into(),
            vos: vos.iter().map(|s| s.to_string()).collect(),
            fqans: fqans.iter().map(|s| s.to_string()).collect(),
            source: IdentitySource::TlsClientCertificate,
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_allow_anyone() {
        let r = UploadRules::new(None, &[], &[], &[], false).unwrap();
        assert_eq!(r.access, UploadAccess::Anyone);
        assert!(r.check_client(None).is_ok());
        assert!(r.check_endorser(None, "CN=X").is_ok());
    }

    #[test]
    fn lists_imply_listed_and_are_checked() {
        let r = UploadRules::new(None, &[], &s(&["biomed"]), &[], false).unwrap();
        assert_eq!(r.access, UploadAccess::Listed);
        assert!(
            UploadRules::new(
                Some(UploadAccess::Authenticated),
                &[],
                &s(&["x"]),
                &[],
                false
            )
            .is_err()
        );
        assert!(UploadRules::new(Some(UploadAccess::Listed), &[], &[], &[], false).is_err());
        assert!(UploadRules::new(None, &s(&["not a dn"]), &[], &[], false).is_err());
        assert!(UploadRules::new(None, &[], &[], &s(&["biomed"]), false).is_err());
        let e = r.check_client(None).unwrap_err();
        assert_eq!(
            e,
            UploadRefusal::Anonymous {
                rule: "upload_access = listed".into()
            }
        );
        assert!(
            e.to_string()
                .contains("authenticated clients (upload_access = listed)"),
            "{e}"
        );
        let e = r
            .check_client(Some(&client("CN=Bob", &["testvo"], &["/testvo"])))
            .unwrap_err();
        assert_eq!(
            e,
            UploadRefusal::NotListed {
                subject: "CN=Bob".into(),
                reasons: vec![ListMiss::Vo(vec!["biomed".into()])]
            }
        );
        assert_eq!(
            e.to_string(),
            "upload refused: the client certificate (CN=Bob) is not a member of any allowed VO \
             (allowed: biomed)"
        );
        assert!(
            r.check_client(Some(&client("CN=A", &["biomed"], &[])))
                .is_ok()
        );
    }

    #[test]
    fn dns_and_fqans() {
        let r = UploadRules::new(
            None,
            &s(&["/C=EU/O=Grid/CN=Alice"]),
            &[],
            &s(&["/biomed/Role=VO-Admin/Capability=NULL"]),
            false,
        )
        .unwrap();
        assert!(
            r.check_client(Some(&client("CN=Alice,O=Grid,C=EU", &[], &[])))
                .is_ok()
        );
        assert!(
            r.check_client(Some(&client(
                "CN=Bob",
                &["biomed"],
                &["/biomed/Role=VO-Admin"]
            )))
            .is_ok()
        );
        let e = r
            .check_client(Some(&client("CN=Bob", &["biomed"], &["/biomed"])))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "is not one of the allowed DNs (1 listed in upload_dns) and holds none of the \
                 allowed FQANs (allowed: /biomed/Role=VO-Admin)"
            ),
            "{e}"
        );
    }

    #[test]
    fn endorser_match() {
        let r = UploadRules::new(None, &[], &[], &[], true).unwrap();
        assert!(r.needs_identity());
        assert!(r.check_client(None).is_err());
        let alice = client("CN=Alice,O=Grid,C=EU", &[], &[]);
        assert!(r.check_client(Some(&alice)).is_ok());
        assert!(
            r.check_endorser(Some(&alice), "CN=Alice, O=Grid, C=EU")
                .is_ok()
        );
        let e = r
            .check_endorser(Some(&alice), "CN=Bob,O=Grid,C=EU")
            .unwrap_err();
        assert!(
            matches!(&e, UploadRefusal::NotTheEndorser { signer, .. } if signer == "CN=Bob,O=Grid,C=EU")
        );
        assert!(e.to_string().contains("(upload_match_endorser)"), "{e}");
    }

    #[test]
    fn fqan_normalisation() {
        let r = UploadRules::new(
            None,
            &[],
            &[],
            &s(&[
                "/vo/Role=NULL/Capability=NULL",
                "/vo/Role=admin/Capability=NULL",
                "/vo/g1",
            ]),
            false,
        )
        .unwrap();
        let shown: Vec<&str> = r.fqans.iter().map(Fqan::as_str).collect();
        assert_eq!(shown, ["/vo", "/vo/Role=admin", "/vo/g1"]);
        let e = UploadRules::new(None, &[], &[], &s(&["/bio med"]), false).unwrap_err();
        assert_eq!(
            e,
            "upload_fqans: not a FQAN: '/bio med' (e.g. /biomed/Role=VO-Admin)"
        );
    }
}
