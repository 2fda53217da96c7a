//! Every consumer of grid identities agrees: the trust crate's
//! `DistinguishedName` and `Fqan`, the server's upload rules (listed DNs,
//! `upload_match_endorser`, listed FQANs) and a site's policy (trusted
//! endorsers, accepted FQANs) say "the same name" of exactly the same pairs,
//! whichever notation (RFC 2253 or OpenSSL one-line), spacing or case each
//! side writes.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_policy::Policy;
use marketplace_server::auth::authz::UploadRules;
use marketplace_server::auth::identity::{ClientIdentity, IdentitySource};
use marketplace_trust::dn::DistinguishedName;
use marketplace_trust::endorsement::EmailBinding;
use marketplace_trust::voms::Fqan;
use proptest::prelude::*;

/// One attribute of a DN: its type and value.
#[derive(Debug, Clone)]
struct Attribute {
    key: &'static str,
    value: String,
}

/// Letters, digits, inner spaces, dots, dashes and commas; with `special`,
/// also '+' and '=' (RFC 2253 escapes them; the one-line notation cannot
/// carry them, as they separate multi-valued RDNs and types there).
fn attribute(special: bool) -> impl Strategy<Value = Attribute> {
    let value = if special {
        "[A-Za-z0-9][A-Za-z0-9 .,+=-]{0,12}[A-Za-z0-9]"
    } else {
        "[A-Za-z0-9][A-Za-z0-9 .,-]{0,12}[A-Za-z0-9]"
    };
    (
        prop::sample::select(vec!["CN", "O", "OU", "C", "L", "DC"]),
        value,
    )
        .prop_map(|(key, value)| Attribute { key, value })
}

/// A DN: two to five RDNs, most specific first.
fn dn(special: bool) -> impl Strategy<Value = Vec<Attribute>> {
    prop::collection::vec(attribute(special), 2..=5)
}

/// How one side writes a DN.
#[derive(Debug, Clone, Copy)]
struct Writing {
    oneline: bool,
    lower_keys: bool,
    spaced: bool,
}

fn writing() -> impl Strategy<Value = Writing> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(oneline, lower_keys, spaced)| {
        Writing {
            oneline,
            lower_keys,
            spaced,
        }
    })
}

fn written(dn: &[Attribute], how: Writing) -> String {
    let key = |a: &Attribute| {
        if how.lower_keys {
            a.key.to_ascii_lowercase()
        } else {
            a.key.to_string()
        }
    };
    if how.oneline {
        // Least specific first; OpenSSL writes the value as it is.
        dn.iter()
            .rev()
            .map(|a| format!("/{}={}", key(a), a.value))
            .collect()
    } else {
        let escaped = |v: &str| {
            v.chars().fold(String::new(), |mut out, c| {
                if ",+=\\\"<>;".contains(c) {
                    out.push('\\');
                }
                out.push(c);
                out
            })
        };
        let separator = if how.spaced { ", " } else { "," };
        dn.iter()
            .map(|a| format!("{}={}", key(a), escaped(&a.value)))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

fn client(subject: &str, fqans: &[&str]) -> ClientIdentity {
    ClientIdentity {
        subject: subject.to_string(),
        issuer: "CN=Test CA".to_string(),
        vos: Vec::new(),
        fqans: fqans.iter().map(|f| f.to_string()).collect(),
        source: IdentitySource::TlsClientCertificate,
    }
}

fn policy(endorsers: Vec<String>, fqans: Vec<String>) -> Policy {
    Policy {
        ca_dirs: Vec::new(),
        vomsdir: None,
        endorsers,
        vos: Vec::new(),
        fqans,
        required_endorsements: 1,
        refuse_deprecated: true,
        refuse_expired: true,
        signing_time: marketplace_policy::SigningTime::Now,
        log: None,
    }
}

/// What each consumer says of "is `a` the same subject as `b`".
fn verdicts(a: &str, b: &str) -> [bool; 4] {
    let trust = match (DistinguishedName::parse(a), DistinguishedName::parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        other => panic!("generated DNs must parse: {other:?}"),
    };
    let listed = UploadRules::new(None, &[a.to_string()], &[], &[], false).unwrap();
    let upload_dns = listed.check_client(Some(&client(b, &[]))).is_ok();
    let matching = UploadRules::new(None, &[], &[], &[], true).unwrap();
    let match_endorser = matching.check_endorser(Some(&client(a, &[])), b).is_ok();
    let site = policy(vec![a.to_string()], Vec::new()).lists_endorser(
        "nobody@example.org",
        EmailBinding::Unverified,
        b,
    );
    [trust, upload_dns, match_endorser, site]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The same DN, however each side writes it, is the same for everyone.
    #[test]
    fn one_dn_in_any_writing(dn in dn(false), one in writing(), other in writing()) {
        let (a, b) = (written(&dn, one), written(&dn, other));
        prop_assert_eq!(verdicts(&a, &b), [true; 4], "{} vs {}", a, b);
    }

    /// Two DNs — unrelated, or one with its values in another case: every
    /// consumer gives the same answer (whatever it is).
    #[test]
    fn two_dns_one_answer(
        x in dn(true),
        y in dn(true),
        recased in any::<bool>(),
        one in writing(),
        other in writing(),
    ) {
        let y = if recased {
            x.iter()
                .map(|a| Attribute { key: a.key, value: a.value.to_uppercase() })
                .collect()
        } else {
            y
        };
        let (a, b) = (written(&x, one), written(&y, other));
        let v = verdicts(&a, &b);
        prop_assert!(v.iter().all(|&s| s == v[0]), "{} vs {}: {:?}", a, b, v);
    }

    /// A FQAN and its written variants (trailing NULL role and capability,
    /// surrounding spaces) are one FQAN for the upload rules and the policy.
    #[test]
    fn one_fqan_in_any_writing(
        groups in prop::collection::vec("[a-z][a-z0-9.-]{0,8}", 1..=3),
        role in prop::option::of("[A-Za-z][A-Za-z0-9-]{0,8}"),
        null_role in any::<bool>(),
        null_capability in any::<bool>(),
        padded in any::<bool>(),
    ) {
        let mut base = format!("/{}", groups.join("/"));
        if let Some(r) = &role {
            base.push_str(&format!("/Role={r}"));
        }
        let mut variant = base.clone();
        if role.is_none() && null_role {
            variant.push_str("/Role=NULL");
        }
        if null_capability {
            variant.push_str("/Capability=NULL");
        }
        if padded {
            variant = format!("  {variant} ");
        }
        prop_assert_eq!(Fqan::parse(&base).unwrap(), Fqan::parse(&variant).unwrap());
        let rules = UploadRules::new(None, &[], &[], &[base.clone()], false).unwrap();
        prop_assert!(rules.check_client(Some(&client("CN=x", &[&variant]))).is_ok());
        prop_assert!(policy(Vec::new(), vec![base.clone()]).accepts_fqan(&variant));
        prop_assert!(policy(Vec::new(), vec![variant.clone()]).accepts_fqan(&base));
    }
}
