//! The status of an entry at an instant: what its document says
//! (`slterms:deprecated`, `dcterms:valid`) read at that instant. Never
//! stored: the store, the API and the site policy compute it.

use crate::Metadata;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status of an entry at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Latest, not deprecated, not past `dcterms:valid`.
    Valid,
    /// Past `dcterms:valid` and not deprecated.
    Expired,
    /// Carries `slterms:deprecated`.
    Deprecated,
}

impl Status {
    /// The status of `metadata` at `now` (missing `valid` never expires).
    pub fn of(metadata: &Metadata, now: DateTime<Utc>) -> Status {
        if metadata.deprecated.is_some() {
            return Status::Deprecated;
        }
        let expired = metadata
            .valid
            .as_deref()
            .and_then(|v| crate::datetime::parse_utc(v).ok())
            .is_some_and(|until| until <= now);
        if expired {
            Status::Expired
        } else {
            Status::Valid
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expired => "expired",
            Status::Deprecated => "deprecated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecation_wins_then_expiry() {
        let now = crate::datetime::parse_utc("2020-01-01T00:00:00Z").unwrap();
        let mut m = Metadata::default();
        assert_eq!(Status::of(&m, now), Status::Valid);
        m.valid = Some("2020-01-01T00:00:00Z".into());
        assert_eq!(Status::of(&m, now), Status::Expired);
        m.valid = Some("2020-01-01T00:00:01Z".into());
        assert_eq!(Status::of(&m, now), Status::Valid);
        m.deprecated = Some("broken".into());
        assert_eq!(Status::of(&m, now), Status::Deprecated);
        assert_eq!(Status::Deprecated.as_str(), "deprecated");
        assert_eq!(
            serde_json::to_string(&Status::Expired).unwrap(),
            "\"expired\""
        );
    }
}
