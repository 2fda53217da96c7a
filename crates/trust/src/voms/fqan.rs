//! [`Fqan`]: a VOMS Fully Qualified Attribute Name (`/vo[/group...][/Role=r][/Capability=c]`)
//! in its one normalised form.

use std::fmt;
use std::str::FromStr;

/// A FQAN, normalised: surrounding spaces and trailing `/Role=NULL` and `/Capability=NULL`
/// removed (`/vo/Role=NULL/Capability=NULL` is `/vo`, `/vo/Role=admin/Capability=NULL` is
/// `/vo/Role=admin`), as VOMS servers mean them and as the trust core reports them.
///
/// `Eq` and `Hash` compare the normalised text; [`Fqan::is_within`] is the looser "holds this
/// group or a sub-group, role or capability of it" a site policy asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fqan(String);

/// Why a text is not a FQAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FqanError {
    text: String,
}

impl fmt::Display for FqanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a FQAN: '{}' (e.g. /biomed/Role=VO-Admin)",
            self.text
        )
    }
}

impl std::error::Error for FqanError {}

impl Fqan {
    /// Parses and normalises a FQAN: after [`Fqan::normalise`] it must start with `/`, name
    /// something after it, and hold no whitespace.
    pub fn parse(text: &str) -> Result<Self, FqanError> {
        let f = Self::normalise(text);
        if !f.starts_with('/') || f.len() < 2 || f.contains(char::is_whitespace) {
            return Err(FqanError {
                text: text.to_string(),
            });
        }
        Ok(Fqan(f.to_string()))
    }

    /// The normalised text of any string (no check that it is a FQAN): trimmed, and trailing
    /// `/Role=NULL` and `/Capability=NULL` removed, repeatedly.
    pub fn normalise(text: &str) -> &str {
        let mut f = text.trim();
        loop {
            let before = f;
            f = f
                .strip_suffix("/Capability=NULL")
                .or_else(|| f.strip_suffix("/Role=NULL"))
                .unwrap_or(f);
            if f == before {
                return f;
            }
        }
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The VO: the first element (`biomed` of `/biomed/lab/Role=VO-Admin`).
    pub fn vo(&self) -> &str {
        self.0[1..].split('/').next().unwrap_or_default()
    }

    /// Whether holding `self` satisfies a requirement of `wanted`: the same FQAN, or one
    /// below it (`/vo/sub`, `/vo/Role=r` and `/vo/sub/Role=r` are within `/vo`;
    /// `/vo/Role=r/Capability=c` is within `/vo/Role=r`).
    pub fn is_within(&self, wanted: &Fqan) -> bool {
        self.0
            .strip_prefix(wanted.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

impl FromStr for Fqan {
    type Err = FqanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Fqan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Fqan {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        Fqan::parse(s).unwrap().to_string()
    }

    #[test]
    fn null_role_and_capability_are_dropped() {
        assert_eq!(n("/vo/Role=NULL/Capability=NULL"), "/vo");
        assert_eq!(n("/vo/Role=admin/Capability=NULL"), "/vo/Role=admin");
        assert_eq!(n("/vo/g1"), "/vo/g1");
        assert_eq!(n("/testvo/Role=NULL"), "/testvo");
        assert_eq!(n(" /testvo/sub/Capability=NULL "), "/testvo/sub");
        assert_eq!(n("/vo/Capability=NULL/Role=NULL"), "/vo");
        assert_eq!(
            Fqan::parse("/vo/Role=NULL").unwrap(),
            Fqan::parse("/vo").unwrap()
        );
        assert_eq!(Fqan::parse("/biomed/lab/Role=x").unwrap().vo(), "biomed");
    }

    #[test]
    fn malformed_fqans_are_errors() {
        for bad in ["", "/", "biomed", "/bio med", "/Role=NULL", "  "] {
            let e = Fqan::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("not a FQAN: '{bad}' (e.g. /biomed/Role=VO-Admin)")
            );
        }
    }

    #[test]
    fn sub_groups_roles_and_capabilities_are_within() {
        let f = |s: &str| Fqan::parse(s).unwrap();
        assert!(f("/testvo/Role=NULL/Capability=NULL").is_within(&f("/testvo")));
        assert!(f("/testvo/Role=endorser/Capability=NULL").is_within(&f("/testvo/Role=endorser")));
        assert!(f("/testvo/sub/Role=NULL/Capability=NULL").is_within(&f("/testvo")));
        assert!(!f("/testvo/Role=NULL/Capability=NULL").is_within(&f("/testvo/Role=endorser")));
        assert!(!f("/testvo2/Role=NULL").is_within(&f("/testvo")));
        assert!(!f("/testvo").is_within(&f("/testvo/sub")));
    }
}
