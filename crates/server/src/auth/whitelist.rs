//! The endorser whitelist (`endorser_whitelist`): certificate subject DNs
//! whose uploads skip e-mail confirmation (the README's "E-mail
//! confirmation").
//!
//! The file has one DN per line, either in RFC 2253 form
//! (`CN=Jim Tester,O=StratusLab Project,C=EU`, most specific first) or in
//! OpenSSL's one-line form (`/C=EU/O=StratusLab Project/CN=Jim Tester`,
//! most general first); blank lines and lines starting with `#` are
//! ignored, and a line that is not a DN stops start-up (as the original).
//! Both forms are compared as [`DistinguishedName`]s, by one canonical
//! form: RDNs most specific first, attribute types by one name
//! (`emailAddress`, `E` and `1.2.840.113549.1.9.1` are the same), `#hex`
//! values decoded, and values compared ignoring case and repeated spaces.
//!
//! A whitelisted signer is trusted only when its chain was verified against
//! the configured CA directory (`ca_dir`), see [`skips_confirmation`].

use marketplace_trust::dn::DistinguishedName;
use marketplace_trust::document::ChainStatus;
use std::collections::HashSet;
use std::path::Path;

/// The whitelisted DNs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whitelist {
    names: HashSet<DistinguishedName>,
}

impl Whitelist {
    /// Reads a whitelist file; an unreadable file or a line that is not a
    /// DN is an error naming the line.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the endorser whitelist {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("endorser whitelist {}: {e}", path.display()))
    }

    /// Parses the text of a whitelist file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut names = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let dn = DistinguishedName::parse(line)
                .map_err(|_| format!("line {}: not a DN: {line}", n + 1))?;
            names.insert(dn);
        }
        Ok(Whitelist { names })
    }

    /// Whether `dn` (either form) is on the list.
    pub fn contains(&self, dn: &str) -> bool {
        DistinguishedName::parse(dn).is_ok_and(|d| self.names.contains(&d))
    }

    /// Number of DNs on the list.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Whether a signer with an uncertified e-mail skips e-mail confirmation:
/// its identity `subject` is on the whitelist **and** its chain was
/// verified against the CA directory (`chain` is trusted). Without a
/// whitelist, or with an unverified chain, never.
pub(crate) fn skips_confirmation(
    whitelist: Option<&Whitelist>,
    chain: &ChainStatus,
    subject: &str,
) -> bool {
    matches!(chain, ChainStatus::Trusted { .. }) && whitelist.is_some_and(|w| w.contains(subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_errors() {
        for bad in ["/", "just text", "CN=x,,O=y", "CN", "/=x", "CN=x,O"] {
            let err = Whitelist::parse(bad).unwrap_err();
            assert_eq!(err, format!("line 1: not a DN: {bad}"));
        }
        let err = Whitelist::parse("# comment\n\nCN=ok,C=EU\nnot a dn\n").unwrap_err();
        assert!(err.starts_with("line 4:"), "{err}");
        let w =
            Whitelist::parse("# admins\n/C=EU/O=Grid/CN=Alice\n\nCN=Bob,O=Grid,C=EU\n").unwrap();
        assert_eq!(w.len(), 2);
        assert!(w.contains("CN=Alice,O=Grid,C=EU"));
        assert!(w.contains("/C=EU/O=Grid/CN=Bob"));
        assert!(!w.contains("CN=Mallory,O=Grid,C=EU"));
    }

    #[test]
    fn only_verified_chains_skip() {
        let w = Whitelist::parse("CN=Alice,O=Grid,C=EU").unwrap();
        let trusted = ChainStatus::Trusted {
            subject: "CN=Alice,O=Grid,C=EU".into(),
            issuer: "CN=CA".into(),
            proxy_depth: 0,
            voms: Vec::new(),
        };
        assert!(skips_confirmation(
            Some(&w),
            &trusted,
            "CN=Alice,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(
            Some(&w),
            &trusted,
            "CN=Eve,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(
            Some(&w),
            &ChainStatus::NotChecked,
            "CN=Alice,O=Grid,C=EU"
        ));
        assert!(!skips_confirmation(None, &trusted, "CN=Alice,O=Grid,C=EU"));
    }
}
