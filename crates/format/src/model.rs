//! The typed content of a metadata document.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A checksum algorithm the format knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5 (32 hex digits).
    #[serde(rename = "MD5")]
    Md5,
    /// SHA-1 (40 hex digits); required, it defines the identifier.
    #[serde(rename = "SHA-1")]
    Sha1,
    /// SHA-256 (64 hex digits).
    #[serde(rename = "SHA-256")]
    Sha256,
    /// SHA-512 (128 hex digits).
    #[serde(rename = "SHA-512")]
    Sha512,
}

impl Algorithm {
    /// All algorithms, in the order documents list them.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Sha512,
    ];

    /// The name used in `slreq:algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA-1",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512 => "SHA-512",
        }
    }

    /// Number of hex digits of a value.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// The algorithm named `name` in a document.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `slreq:checksum` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Lowercase hexadecimal value.
    pub value: String,
}

/// Who vouches for the image (`slreq:endorser`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Endorser {
    /// E-mail address; the endorser's key in the registry.
    pub email: String,
    /// Subject DN of the signing certificate, RFC 2253 form.
    pub subject: String,
    /// Issuer DN(s) of the signing certificate, RFC 2253 form.
    pub issuers: Vec<String>,
    /// True when the document says the certificate does not vouch for the
    /// e-mail (`mp:email-verified` is `false`): the signer supplied it.
    #[serde(default)]
    pub email_unverified: bool,
}

/// The `slreq:endorsement` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Endorsement {
    /// When the endorsement was made (`dcterms:created`), as written.
    pub created: String,
    /// The endorser.
    pub endorser: Endorser,
}

/// Everything a metadata document says about an image.
///
/// Dates are kept as the text the document carries (their syntax is checked
/// by validation); numbers are parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// `dcterms:identifier`, 27 characters derived from the SHA-1.
    pub identifier: String,
    /// `dcterms:isReplacedBy`.
    pub is_replaced_by: Option<String>,
    /// `dcterms:replaces`.
    pub replaces: Option<String>,
    /// `dcterms:isVersionOf`.
    pub is_version_of: Option<String>,
    /// `dcterms:valid`: expiry of this entry.
    pub valid: Option<String>,
    /// `dcterms:title`.
    pub title: Option<String>,
    /// `dcterms:description`.
    pub description: Option<String>,
    /// `dcterms:type` (machine, disk, ...).
    pub kind_type: Option<String>,
    /// `slterms:kind`.
    pub kind: Option<String>,
    /// `dcterms:creator`.
    pub creator: Option<String>,
    /// `dcterms:created`: creation of the image or record.
    pub created: Option<String>,
    /// `dcterms:publisher`.
    pub publisher: Option<String>,
    /// `dcterms:format` (raw, qcow2, ...).
    pub format: Option<String>,
    /// `dcterms:alternative`: a tag.
    pub alternative: Option<String>,
    /// `dcterms:compression` of the file at the locations (gz, bz2, ...).
    pub compression: Option<String>,
    /// `slreq:bytes`: image size.
    pub bytes: Option<u64>,
    /// `slreq:checksum` blocks.
    pub checksums: Vec<Checksum>,
    /// `slreq:endorsement`.
    pub endorsement: Option<Endorsement>,
    /// `slterms:location` URLs.
    pub locations: Vec<String>,
    /// `slterms:serial-number`.
    pub serial_number: Option<u64>,
    /// `slterms:version`.
    pub version: Option<String>,
    /// `slterms:hypervisor`.
    pub hypervisor: Option<String>,
    /// `slterms:inbound-port`.
    pub inbound_ports: Vec<u16>,
    /// `slterms:outbound-port`.
    pub outbound_ports: Vec<u16>,
    /// `slterms:icmp`.
    pub icmp: Vec<u8>,
    /// `slterms:os`.
    pub os: Option<String>,
    /// `slterms:os-version`.
    pub os_version: Option<String>,
    /// `slterms:os-arch`.
    pub os_arch: Option<String>,
    /// `slterms:disks-bus`.
    pub disks_bus: Vec<String>,
    /// `slterms:deprecated`: the reason, when the image is deprecated.
    pub deprecated: Option<String>,
    /// VOs this entry is restricted to (our own `mp:visible-to` term).
    pub visible_to: Vec<String>,
}

impl Metadata {
    /// The value of the checksum for `algorithm`, if the document has one.
    pub fn checksum(&self, algorithm: Algorithm) -> Option<&str> {
        self.checksums
            .iter()
            .find(|c| c.algorithm == algorithm)
            .map(|c| c.value.as_str())
    }

    /// The endorser's e-mail, or "" when there is no endorsement.
    pub fn endorser_email(&self) -> &str {
        self.endorsement
            .as_ref()
            .map(|e| e.endorser.email.as_str())
            .unwrap_or("")
    }

    /// The endorsement's creation time, or "" when there is none.
    pub fn endorsement_created(&self) -> &str {
        self.endorsement
            .as_ref()
            .map(|e| e.created.as_str())
            .unwrap_or("")
    }
}
