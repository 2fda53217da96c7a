//! Grid identities as a policy compares them: subject DNs in either of
//! their written forms, and VOMS FQANs.

/// A DN in one comparable form: RFC 2253 order (most specific first),
/// no spaces around separators, attribute types upper-cased. OpenSSL's
/// `/C=…/O=…/CN=…` form is turned around.
pub(crate) fn normalise_dn(dn: &str) -> String {
    let dn = dn.trim();
    let parts: Vec<String> = if let Some(rest) = dn.strip_prefix('/') {
        rest.split('/').rev().map(str::to_string).collect()
    } else {
        marketplace_trust::dn::split_unquoted(dn, ',')
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
pub(crate) fn fqan_matches(held: &str, wanted: &str) -> bool {
    let clean = |f: &str| {
        f.trim()
            .trim_end_matches("/Capability=NULL")
            .trim_end_matches("/Role=NULL")
            .to_string()
    };
    let (held, wanted) = (clean(held), clean(wanted));
    held == wanted || held.starts_with(&format!("{wanted}/"))
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
}
