//! The largest value, and the most values, each term of the format may
//! have.
//!
//! A document is at most [`crate::MAX_DOCUMENT_BYTES`] (1 MiB), but the
//! values the rules read become [`crate::Metadata`], which the registry
//! indexes, keeps in memory and sends in every summary and listing (a page
//! of a listing holds up to 1000 of them): a 900 KB `dcterms:description`
//! would travel with each. Every term therefore has a limit far above what
//! real metadata needs — the conformance corpus's values have at most 62
//! bytes (a DN; 128 for a SHA-512 checksum), and the original tools wrote
//! titles and descriptions of a line or two — and a value over it, or a repeated term over its count, is a
//! [`Rule::Size`](crate::Rule::Size) problem naming the term, its size and
//! the limit, at the term's line.
//!
//! Sizes are in bytes of UTF-8 after XML references are decoded (what the
//! metadata holds; an `é` is two bytes). A value over its limit is not read
//! further (no other rule looks at it), and values of a term beyond its
//! count are not read. Terms in other namespaces (application metadata)
//! are kept in the document but never read, so only the document's size
//! bounds them; the shape of the markup is bounded before any of this by
//! [`crate::markup`].
//!
//! [`FIELD_LIMITS`] lists every term with its limits, in the order of the
//! format's term table; [`field_limit`] finds one.

/// The limits of one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLimit {
    /// The term, as `prefix:name` (`dcterms:`, `slreq:`, `slterms:`, `mp:`).
    pub term: &'static str,
    /// The longest value, in bytes of UTF-8.
    pub max_bytes: usize,
    /// The most values of the term in one resource (the description, a
    /// checksum, the endorsement or the endorser). Terms that may occur
    /// once have 1 (their cardinality rule refuses a second value).
    pub max_count: usize,
}

const fn once(term: &'static str, max_bytes: usize) -> FieldLimit {
    FieldLimit {
        term,
        max_bytes,
        max_count: 1,
    }
}

const fn repeated(term: &'static str, max_bytes: usize, max_count: usize) -> FieldLimit {
    FieldLimit {
        term,
        max_bytes,
        max_count,
    }
}

/// Identifiers (`dcterms:identifier`, `isReplacedBy`, `replaces`,
/// `isVersionOf`) have 27 characters; longer values up to this get the
/// identifier rule's message.
const IDENTIFIER_BYTES: usize = 64;
/// Dates have 20 characters (`2011-01-24T09:59:42Z`).
const DATE_BYTES: usize = 64;
/// Numbers (`slreq:bytes`, serial numbers, ports, ICMP types) have at most
/// 20 digits.
const NUMBER_BYTES: usize = 32;
/// Keywords (`dcterms:type`, `slterms:kind`, formats, compression,
/// hypervisors, architectures, disk buses): `machine`, `qcow2`, `x86_64`.
const KEYWORD_BYTES: usize = 128;
/// Names of people, groups and operating systems.
const NAME_BYTES: usize = 256;
/// Distinguished names (`slreq:subject`, `slreq:issuer`): the corpus's
/// have 62 bytes, grid certificates' up to about 200.
const DN_BYTES: usize = 1024;

/// `dcterms:title`: a short title (the corpus's has 18 bytes).
pub const TITLE: FieldLimit = once("dcterms:title", 1024);
/// `dcterms:description`: a few paragraphs (the corpus's have at most 20
/// bytes).
pub const DESCRIPTION: FieldLimit = once("dcterms:description", 8 * 1024);
/// `slterms:location`: a URL (the corpus's have 22 bytes; 2,000 is what
/// every browser and server accepts), and at most 32 of them (real
/// documents give one to three).
pub const LOCATION: FieldLimit = repeated("slterms:location", 2048, 32);
/// `slreq:checksum`: at most 16 blocks (four algorithms, each at most once).
pub const CHECKSUM: FieldLimit = repeated("slreq:checksum", 0, 16);
/// `slreq:value` of a checksum: 128 hex digits for SHA-512 (extra leading
/// zeros are accepted, so the limit is above that).
pub const CHECKSUM_VALUE: FieldLimit = once("slreq:value", 256);
/// `slreq:email` of the endorser (an address has at most 254 bytes, RFC
/// 5321).
pub const EMAIL: FieldLimit = once("slreq:email", 254);
/// `slterms:deprecated`: the reason an image is deprecated.
pub const DEPRECATED: FieldLimit = once("slterms:deprecated", 4096);
/// `mp:visible-to`: the VOs an entry is restricted to (VO names are DNS
/// names, at most 253 bytes; searches take at most 64 VOs).
pub const VISIBLE_TO: FieldLimit = repeated("mp:visible-to", 255, 64);

/// Every term the format reads, with its limits, in the order of the
/// format's term table (the description's terms, then the checksum's, the
/// endorsement's and the endorser's). `max_bytes` of a structured term
/// (`slreq:checksum`, `slreq:endorsement`, `slreq:endorser`) is 0: its
/// values are resources, bounded by their own terms.
pub const FIELD_LIMITS: &[FieldLimit] = &[
    once("dcterms:identifier", IDENTIFIER_BYTES),
    once("dcterms:isReplacedBy", IDENTIFIER_BYTES),
    once("dcterms:replaces", IDENTIFIER_BYTES),
    once("dcterms:isVersionOf", IDENTIFIER_BYTES),
    once("dcterms:valid", DATE_BYTES),
    TITLE,
    DESCRIPTION,
    once("dcterms:type", KEYWORD_BYTES),
    once("dcterms:creator", NAME_BYTES),
    once("dcterms:created", DATE_BYTES),
    once("dcterms:publisher", NAME_BYTES),
    once("dcterms:format", KEYWORD_BYTES),
    // A tag: a label for a series (namespaced by the endorser's e-mail).
    once("dcterms:alternative", NAME_BYTES),
    once("dcterms:compression", KEYWORD_BYTES),
    once("slreq:bytes", NUMBER_BYTES),
    CHECKSUM,
    once("slreq:endorsement", 0),
    once("slterms:kind", KEYWORD_BYTES),
    LOCATION,
    once("slterms:serial-number", NUMBER_BYTES),
    once("slterms:version", KEYWORD_BYTES),
    once("slterms:hypervisor", KEYWORD_BYTES),
    repeated("slterms:inbound-port", NUMBER_BYTES, 64),
    repeated("slterms:outbound-port", NUMBER_BYTES, 64),
    repeated("slterms:icmp", NUMBER_BYTES, 64),
    once("slterms:os", NAME_BYTES),
    once("slterms:os-version", KEYWORD_BYTES),
    once("slterms:os-arch", KEYWORD_BYTES),
    repeated("slterms:disks-bus", KEYWORD_BYTES, 16),
    DEPRECATED,
    VISIBLE_TO,
    // slreq:checksum
    once("slreq:algorithm", KEYWORD_BYTES),
    CHECKSUM_VALUE,
    // slreq:endorsement (its dcterms:created is the description's term)
    once("slreq:endorser", 0),
    // slreq:endorser
    EMAIL,
    once("slreq:subject", DN_BYTES),
    repeated("slreq:issuer", DN_BYTES, 8),
    once("mp:email-verified", KEYWORD_BYTES),
];

/// The limits of `term` (`prefix:name`), if the format reads it.
pub fn field_limit(term: &str) -> Option<&'static FieldLimit> {
    FIELD_LIMITS.iter().find(|l| l.term == term)
}

/// The most any one document's metadata can hold, in bytes of values:
/// the sum over [`FIELD_LIMITS`] of `max_bytes × max_count` (the
/// structured terms' values are counted through their own terms, once per
/// checksum block allowed).
pub fn max_metadata_bytes() -> usize {
    let checksum_terms: usize = ["slreq:algorithm", "slreq:value"]
        .iter()
        .filter_map(|t| field_limit(t))
        .map(|l| l.max_bytes * l.max_count)
        .sum();
    FIELD_LIMITS
        .iter()
        .filter(|l| !matches!(l.term, "slreq:algorithm" | "slreq:value"))
        .map(|l| l.max_bytes * l.max_count)
        .sum::<usize>()
        + checksum_terms * CHECKSUM.max_count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_has_one_entry() {
        for (i, l) in FIELD_LIMITS.iter().enumerate() {
            assert!(
                FIELD_LIMITS[i + 1..].iter().all(|o| o.term != l.term),
                "{} twice",
                l.term
            );
            assert!(l.max_count >= 1, "{}", l.term);
        }
        assert_eq!(field_limit("dcterms:description"), Some(&DESCRIPTION));
        assert_eq!(field_limit("ex:other"), None);
    }

    #[test]
    fn a_document_s_metadata_is_bounded() {
        // What a listing of 1000 summaries can carry at most: well under
        // the 1 GB a list of 900 KB descriptions could reach before.
        let most = max_metadata_bytes();
        assert!(most < 128 * 1024, "{most}");
    }
}
