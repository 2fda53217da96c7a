//! The three coordinates that name an entry — the image [`Identifier`], the
//! endorser's [`Email`] and the endorsement's [`Created`] instant — as types
//! that can only hold well-formed values.
//!
//! Everything that takes a coordinate from outside (an upload, a URL path, a
//! store row, a command line) parses it once here; past that point a value of
//! one of these types is known to be well formed, and nobody checks again.

use crate::{datetime, identifier, terms};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a text is not a coordinate. The messages name the coordinate and quote
/// the text, as an upload's refusal shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinateError {
    /// Not an identifier the marketplace derives from a SHA-1 (27 base64url
    /// digits, the first one A–P).
    Identifier(String),
    /// Not an e-mail address of the form `local@domain.tld`.
    Email(String),
    /// Not a UTC instant of the form `YYYY-MM-DDTHH:MM:SSZ` (the sentence says
    /// why).
    Created(String),
}

impl fmt::Display for CoordinateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoordinateError::Identifier(text) => {
                write!(f, "'{text}' is not a well-formed identifier")
            }
            CoordinateError::Email(text) => {
                write!(f, "the endorser e-mail '{text}' is not a valid address")
            }
            CoordinateError::Created(why) => write!(f, "the endorsement date: {why}"),
        }
    }
}

impl std::error::Error for CoordinateError {}

/// Writes the traits every coordinate shares: reading it as text, printing it,
/// comparing it with text, and (de)serialising it as a string that is parsed
/// again on the way in.
macro_rules! text_coordinate {
    ($name:ident) => {
        impl $name {
            /// The coordinate as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The coordinate as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        // A coordinate reads as the text it holds; only its construction is
        // checked.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoordinateError;
            fn from_str(text: &str) -> Result<Self, CoordinateError> {
                Self::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoordinateError;
            fn try_from(text: String) -> Result<Self, CoordinateError> {
                Self::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl From<&$name> for String {
            fn from(value: &$name) -> String {
                value.0.clone()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }
    };
}

/// An image identifier: the 27 base64url digits derived from the image's
/// SHA-1 checksum (see [`identifier`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identifier(String);

text_coordinate!(Identifier);

impl Identifier {
    /// Reads an identifier; anything but 27 base64url digits with a first
    /// digit A–P is refused.
    pub fn parse(text: &str) -> Result<Self, CoordinateError> {
        if identifier::is_well_formed(text) {
            Ok(Self(text.to_string()))
        } else {
            Err(CoordinateError::Identifier(text.to_string()))
        }
    }

    /// The identifier of the image whose SHA-1 digest is `sha1`.
    pub fn from_sha1(sha1: &[u8; 20]) -> Self {
        Self(identifier::from_sha1_bytes(sha1))
    }
}

/// An endorser's e-mail address. Uploads store it in lower case
/// ([`Email::lowered`]): one endorser whatever the case an address was written
/// in (its domain is case-insensitive, and nobody tells local parts apart by
/// case). [`Email::parse`] keeps the case it is given, so that an address read
/// back from storage or a URL names exactly what was stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

text_coordinate!(Email);

impl Email {
    /// Reads an address of the form `local@domain.tld`, as written.
    pub fn parse(text: &str) -> Result<Self, CoordinateError> {
        if terms::is_valid_email(text) {
            Ok(Self(text.to_string()))
        } else {
            Err(CoordinateError::Email(text.to_string()))
        }
    }

    /// Reads an address and lowers its case: the endorser an upload names.
    pub fn lowered(text: &str) -> Result<Self, CoordinateError> {
        Self::parse(text).map(|email| Self(email.0.to_ascii_lowercase()))
    }
}

/// An endorsement's `dcterms:created`: a UTC instant written exactly
/// `YYYY-MM-DDTHH:MM:SSZ`. Its text orders as its instant does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Created(String);

text_coordinate!(Created);

impl Created {
    /// Reads the strict form; the error says whether the shape or the date
    /// itself is wrong.
    pub fn parse(text: &str) -> Result<Self, CoordinateError> {
        match datetime::parse_utc(text) {
            Ok(_) => Ok(Self(text.to_string())),
            Err(why) => Err(CoordinateError::Created(why)),
        }
    }

    /// The instant `at`, to the second.
    pub fn from_instant(at: DateTime<Utc>) -> Self {
        Self(datetime::format_utc(at))
    }

    /// The instant it names.
    pub fn instant(&self) -> DateTime<Utc> {
        // Checked by `parse` or written by `format_utc`; the fallback is never
        // taken.
        datetime::parse_utc(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "HZ6rsTmtcc0dJgoGrgRhvwN3o0q";

    #[test]
    fn identifiers_are_checked() {
        assert_eq!(Identifier::parse(ID).unwrap(), ID);
        for bad in [
            "",
            "short",
            &format!("{ID}A"),
            "ZZ6rsTmtcc0dJgoGrgRhvwN3o0q",
        ] {
            assert_eq!(
                Identifier::parse(bad),
                Err(CoordinateError::Identifier(bad.to_string()))
            );
        }
        let sha1 = identifier::to_sha1_bytes(ID).unwrap();
        assert_eq!(Identifier::from_sha1(&sha1), ID);
    }

    #[test]
    fn emails_are_checked_and_lowered() {
        assert_eq!(
            Email::parse("Jane.Doe@Example.ORG").unwrap(),
            "Jane.Doe@Example.ORG"
        );
        let email = Email::lowered("Jane.Doe@Example.ORG").unwrap();
        assert_eq!(email, "jane.doe@example.org");
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.org",
            "jane@localhost",
            "a b@c.org",
        ] {
            assert_eq!(
                Email::parse(bad),
                Err(CoordinateError::Email(bad.to_string()))
            );
            assert!(Email::lowered(bad).is_err());
        }
    }

    #[test]
    fn created_is_the_strict_utc_form() {
        let created = Created::parse("2011-01-24T09:59:42Z").unwrap();
        assert_eq!(Created::from_instant(created.instant()), created);
        let shape = Created::parse("2011-01-24 09:59:42").unwrap_err();
        assert!(
            shape.to_string().contains("YYYY-MM-DDTHH:MM:SSZ"),
            "{shape}"
        );
        let date = Created::parse("2011-02-30T09:59:42Z").unwrap_err();
        assert!(date.to_string().contains("not a real date"), "{date}");
        assert!(Created::parse("2011-01-24T09:59:42+01:00").is_err());
    }

    #[test]
    fn deserialising_checks_too() {
        let ok: Identifier = serde_json::from_str(&format!("\"{ID}\"")).unwrap();
        assert_eq!(ok, ID);
        assert_eq!(serde_json::to_string(&ok).unwrap(), format!("\"{ID}\""));
        let bad = serde_json::from_str::<Email>("\"not-an-address\"").unwrap_err();
        assert!(bad.to_string().contains("not a valid address"), "{bad}");
        let as_written: Email = serde_json::from_str("\"A@B.org\"").unwrap();
        assert_eq!(as_written, "A@B.org");
    }

    #[test]
    fn messages_name_the_coordinate() {
        assert_eq!(
            CoordinateError::Identifier("x".into()).to_string(),
            "'x' is not a well-formed identifier"
        );
        assert_eq!(
            CoordinateError::Email("x".into()).to_string(),
            "the endorser e-mail 'x' is not a valid address"
        );
    }
}
