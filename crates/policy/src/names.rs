//! Grid identities as a policy compares them: subject DNs in either of
//! their written forms, and VOMS FQANs — through the trust crate's
//! [`DistinguishedName`] and [`Fqan`], the same types the server's upload
//! rules and whitelist compare with, so that a site's policy and the
//! marketplace never disagree about whether two names are the same.

use marketplace_trust::dn::DistinguishedName;
use marketplace_trust::voms::Fqan;

/// The key under which a DN counts once: its canonical form (or the text
/// itself when it is not a DN).
pub(crate) fn dn_key(dn: &str) -> String {
    DistinguishedName::parse(dn)
        .map(|d| d.canonical().to_string())
        .unwrap_or_else(|_| dn.trim().to_string())
}

/// Whether the FQAN `held` satisfies the policy's `wanted`: the same
/// group, or a sub-group, role or capability within it.
pub(crate) fn fqan_matches(held: &str, wanted: &str) -> bool {
    match (Fqan::parse(held), Fqan::parse(wanted)) {
        (Ok(held), Ok(wanted)) => held.is_within(&wanted),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_count_once_in_either_form() {
        assert_eq!(dn_key("CN=A, O=X"), dn_key("/O=X/CN=A"));
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
}
