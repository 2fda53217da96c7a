//! The term table: which terms the description, a checksum, the
//! endorsement and the endorser have, how often each may occur and what its
//! value must be; and the check of one resource's properties against it.

use crate::datetime;
use crate::graph::{Properties, term_text};
use crate::identifier;
use crate::limits;
use crate::lines::Lines;
use crate::ns::{self, DCTERMS, MARKETPLACE, SLREQ, SLTERMS};
use crate::problem::{Note, Problem, Rule};
use oxrdf::{NamedOrBlankNode, Term};
use std::collections::HashMap;

/// Where the term passes put what they find.
pub(crate) struct Findings<'a> {
    /// What makes the document invalid.
    pub problems: &'a mut Vec<Problem>,
    /// What was accepted with a remark (see `docs/compatibility.md`).
    pub notes: &'a mut Vec<Note>,
}

/// How many times a term may occur.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    One,
    Optional,
    Many,
    AtLeastOne,
}

/// What a term's value must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Identifier,
    DateTime,
    NonNegativeInteger,
    Port,
    Icmp,
    Uri,
    Resource,
}

/// One row of the term table.
pub(crate) struct TermRule {
    ns: &'static str,
    local: &'static str,
    card: Card,
    kind: Kind,
}

/// A row of the term table (short, to keep the table one row a line).
const fn rule(ns: &'static str, local: &'static str, card: Card, kind: Kind) -> TermRule {
    TermRule {
        ns,
        local,
        card,
        kind,
    }
}

/// The terms of the image description itself.
pub(crate) const DESCRIPTION_TERMS: &[TermRule] = &[
    rule(DCTERMS, "identifier", Card::One, Kind::Identifier),
    rule(DCTERMS, "isReplacedBy", Card::Optional, Kind::Identifier),
    rule(DCTERMS, "replaces", Card::Optional, Kind::Identifier),
    rule(DCTERMS, "isVersionOf", Card::Optional, Kind::Identifier),
    rule(DCTERMS, "valid", Card::Optional, Kind::DateTime),
    rule(DCTERMS, "title", Card::Optional, Kind::Text),
    rule(DCTERMS, "description", Card::Optional, Kind::Text),
    rule(DCTERMS, "type", Card::One, Kind::Text),
    rule(DCTERMS, "creator", Card::Optional, Kind::Text),
    rule(DCTERMS, "created", Card::Optional, Kind::DateTime),
    rule(DCTERMS, "publisher", Card::Optional, Kind::Text),
    rule(DCTERMS, "format", Card::Optional, Kind::Text),
    rule(DCTERMS, "alternative", Card::Optional, Kind::Text),
    rule(DCTERMS, "compression", Card::Optional, Kind::Text),
    rule(SLREQ, "bytes", Card::One, Kind::NonNegativeInteger),
    rule(SLREQ, "checksum", Card::AtLeastOne, Kind::Resource),
    rule(SLREQ, "endorsement", Card::One, Kind::Resource),
    rule(SLTERMS, "kind", Card::Optional, Kind::Text),
    rule(SLTERMS, "location", Card::Many, Kind::Uri),
    rule(
        SLTERMS,
        "serial-number",
        Card::Optional,
        Kind::NonNegativeInteger,
    ),
    rule(SLTERMS, "version", Card::Optional, Kind::Text),
    rule(SLTERMS, "hypervisor", Card::Optional, Kind::Text),
    rule(SLTERMS, "inbound-port", Card::Many, Kind::Port),
    rule(SLTERMS, "outbound-port", Card::Many, Kind::Port),
    rule(SLTERMS, "icmp", Card::Many, Kind::Icmp),
    rule(SLTERMS, "os", Card::Optional, Kind::Text),
    rule(SLTERMS, "os-version", Card::Optional, Kind::Text),
    rule(SLTERMS, "os-arch", Card::Optional, Kind::Text),
    rule(SLTERMS, "disks-bus", Card::Many, Kind::Text),
    rule(SLTERMS, "deprecated", Card::Optional, Kind::Text),
    rule(MARKETPLACE, "visible-to", Card::Many, Kind::Text),
];

/// The terms of a checksum.
pub(crate) const CHECKSUM_TERMS: &[TermRule] = &[
    rule(SLREQ, "algorithm", Card::One, Kind::Text),
    rule(SLREQ, "value", Card::One, Kind::Text),
];

/// The terms of the endorsement.
pub(crate) const ENDORSEMENT_TERMS: &[TermRule] = &[
    rule(DCTERMS, "created", Card::One, Kind::DateTime),
    rule(SLREQ, "endorser", Card::One, Kind::Resource),
];

/// The terms of the endorser.
pub(crate) const ENDORSER_TERMS: &[TermRule] = &[
    rule(SLREQ, "email", Card::One, Kind::Text),
    rule(SLREQ, "subject", Card::One, Kind::Text),
    rule(SLREQ, "issuer", Card::AtLeastOne, Kind::Text),
    rule(MARKETPLACE, "email-verified", Card::Optional, Kind::Text),
];

/// Reads and checks the terms of one resource against `terms`; returns the
/// checked values of each known term, keyed by local name.
pub(crate) struct Checked<'a> {
    values: HashMap<&'static str, Vec<&'a Term>>,
}

impl<'a> Checked<'a> {
    /// Whether the resource has a value of the term `local` (one refused
    /// for its size or read as absent is not counted).
    pub(crate) fn is_given(&self, local: &str) -> bool {
        self.values.get(local).is_some_and(|v| !v.is_empty())
    }

    /// The text of every value of the term `local`.
    pub(crate) fn texts(&self, local: &str) -> Vec<String> {
        self.values
            .get(local)
            .map(|v| v.iter().filter_map(|t| term_text(t)).collect())
            .unwrap_or_default()
    }

    /// The text of the first value of the term `local`.
    pub(crate) fn text(&self, local: &str) -> Option<String> {
        self.texts(local).into_iter().next()
    }

    /// The resources (blank nodes or IRIs) that are values of the term
    /// `local`.
    pub(crate) fn nodes(&self, local: &str) -> Vec<NamedOrBlankNode> {
        self.values
            .get(local)
            .map(|v| {
                v.iter()
                    .filter_map(|t| match t {
                        Term::BlankNode(b) => Some(NamedOrBlankNode::BlankNode(b.clone())),
                        Term::NamedNode(n) => Some(NamedOrBlankNode::NamedNode(n.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Checks the properties of one resource against `terms` (`context` names
/// the resource in messages): sizes, counts, cardinalities and values, and
/// a note for each StratusLab term the table does not have.
pub(crate) fn check_terms<'a>(
    props: &Properties<'a>,
    terms: &[TermRule],
    context: &str,
    lines: &Lines,
    findings: &mut Findings<'_>,
) -> Checked<'a> {
    let mut values = HashMap::new();
    for term in terms {
        let iri = format!("{}{}", term.ns, term.local);
        let qname = ns::qname(term.ns, term.local);
        let mut found: Vec<&Term> = props.get(iri.as_str()).cloned().unwrap_or_default();
        let line = lines.of(&qname);
        let oversized = check_sizes(&qname, &mut found, line, findings.problems);
        found.retain(|value| match read_as_absent(term, value) {
            Some(message) => {
                findings.notes.push(Note::new(&qname, message).at(line));
                false
            }
            None => true,
        });
        check_count(
            &qname,
            &mut found,
            oversized,
            context,
            line,
            findings.problems,
        );
        // A value refused for its size still counts as given.
        let count = found.len() + oversized;
        let card_problem = match term.card {
            Card::One if count == 0 => Some(format!("{qname} is required in {context}")),
            Card::One | Card::Optional if count > 1 => Some(format!(
                "{qname} may occur at most once in {context}, but occurs {count} times"
            )),
            Card::AtLeastOne if count == 0 => {
                Some(format!("at least one {qname} is required in {context}"))
            }
            _ => None,
        };
        if let Some(message) = card_problem {
            findings
                .problems
                .push(Problem::new(&qname, Rule::Cardinality, message).at(line));
        }
        for value in &found {
            if let Some(p) = check_value(term, &qname, value) {
                findings.problems.push(p.at(line));
            }
        }
        values.insert(term.local, found);
    }
    // Terms of the StratusLab namespaces that the format does not define
    // are kept (the original tools could add any) but not read: a note
    // points at them, since they are most often typos.
    for predicate in props.keys() {
        for space in [SLREQ, SLTERMS] {
            if let Some(local) = predicate.strip_prefix(space)
                && !terms.iter().any(|t| t.ns == space && t.local == local)
            {
                let qname = ns::qname(space, local);
                findings.notes.push(
                    Note::new(
                        &qname,
                        format!(
                            "{qname} is not a term of {context}: kept in the document, \
                             but not read or indexed (a misspelt term?)"
                        ),
                    )
                    .at(lines.of(&qname)),
                );
            }
        }
    }
    Checked { values }
}

/// Drops each value of the term over its size in [`limits`], with a
/// problem naming its size (no other rule reads it, so no message repeats
/// it); returns how many were dropped.
fn check_sizes(
    qname: &str,
    found: &mut Vec<&Term>,
    line: Option<u32>,
    problems: &mut Vec<Problem>,
) -> usize {
    let Some(limit) = limits::field_limit(qname).filter(|l| l.max_bytes > 0) else {
        return 0;
    };
    let before = found.len();
    found.retain(|value| {
        let len = match value {
            Term::Literal(l) => l.value().len(),
            Term::NamedNode(n) => n.as_str().len(),
            _ => 0,
        };
        if len <= limit.max_bytes {
            return true;
        }
        problems.push(
            Problem::new(
                qname,
                Rule::Size,
                format!(
                    "{qname} has {len} bytes; at most {} are allowed",
                    limit.max_bytes
                ),
            )
            .at(line),
        );
        false
    });
    before - found.len()
}

/// Keeps the first values of a repeated term up to its count in
/// [`limits`] (the others are not read), with a problem when there are
/// more; `oversized` values, already dropped, count as given.
fn check_count(
    qname: &str,
    found: &mut Vec<&Term>,
    oversized: usize,
    context: &str,
    line: Option<u32>,
    problems: &mut Vec<Problem>,
) {
    let Some(limit) = limits::field_limit(qname).filter(|l| l.max_count > 1) else {
        return;
    };
    let given = found.len() + oversized;
    if given > limit.max_count {
        problems.push(
            Problem::new(
                qname,
                Rule::Size,
                format!(
                    "{qname} occurs {given} times in {context}; at most {} are allowed",
                    limit.max_count
                ),
            )
            .at(line),
        );
        found.truncate(limit.max_count);
    }
}
/// Why a value of an optional term is read as absent instead of refused,
/// when it is: an empty element of a typed optional term (the original
/// tools' template writes every element, empty when the option was not
/// given, and the original server let empty values pass), or a location
/// that is not an absolute URI (nobody can fetch it, so it is no link).
fn read_as_absent(term: &TermRule, value: &Term) -> Option<String> {
    if !matches!(term.card, Card::Optional | Card::Many)
        || matches!(term.kind, Kind::Text | Kind::Resource)
    {
        return None;
    }
    let Term::Literal(literal) = value else {
        return None;
    };
    let text = literal.value();
    if text.trim().is_empty() {
        return Some(format!(
            "empty element, read as absent{}",
            if term.kind == Kind::Uri {
                " (no link, not indexed, never downloaded)"
            } else {
                ""
            }
        ));
    }
    if term.kind == Kind::Uri && !has_uri_scheme(text) {
        return Some(format!(
            "'{text}' is not an absolute URI (scheme:...): read as absent \
             (no link, not indexed, never downloaded)"
        ));
    }
    None
}

fn check_value(term: &TermRule, qname: &str, value: &Term) -> Option<Problem> {
    if term.kind == Kind::Resource {
        return match value {
            Term::BlankNode(_) | Term::NamedNode(_) => None,
            _ => Some(Problem::new(
                qname,
                Rule::ParseType,
                format!("{qname} must be a structured resource (rdf:parseType=\"Resource\")"),
            )),
        };
    }
    let Some(text) = term_text(value) else {
        return Some(Problem::new(
            qname,
            Rule::Datatype,
            format!("{qname} must have a text value, not nested elements"),
        ));
    };
    let bad = |rule, message: String| Some(Problem::new(qname, rule, message));
    match term.kind {
        Kind::Text | Kind::Resource => None,
        Kind::Identifier => identifier::to_sha1_bytes(&text).err().and_then(|e| {
            bad(
                Rule::Identifier,
                format!("'{text}' is not an identifier: {e}"),
            )
        }),
        Kind::DateTime => datetime::parse_utc(&text)
            .err()
            .and_then(|e| bad(Rule::DateTime, e)),
        Kind::NonNegativeInteger => text.parse::<u64>().err().and_then(|_| {
            bad(
                Rule::Datatype,
                format!("'{text}' is not a non-negative integer"),
            )
        }),
        Kind::Port => match text.parse::<u32>() {
            Ok(n) if n <= 65535 => None,
            Ok(_) => bad(Rule::Range, format!("port {text} is outside 0-65535")),
            Err(_) => bad(Rule::Datatype, format!("'{text}' is not a port number")),
        },
        Kind::Icmp => match text.parse::<u32>() {
            Ok(n) if n <= 255 => None,
            Ok(_) => bad(Rule::Range, format!("ICMP type {text} is outside 0-255")),
            Err(_) => bad(Rule::Datatype, format!("'{text}' is not an ICMP type")),
        },
        Kind::Uri => {
            if has_uri_scheme(&text) {
                None
            } else {
                bad(
                    Rule::Datatype,
                    format!("'{text}' is not an absolute URI (scheme:...)"),
                )
            }
        }
    }
}

fn has_uri_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && !text.chars().any(char::is_whitespace)
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

/// Whether `email` is a plausible address: `local@domain.tld`.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_read_has_limits() {
        for terms in [
            DESCRIPTION_TERMS,
            CHECKSUM_TERMS,
            ENDORSEMENT_TERMS,
            ENDORSER_TERMS,
        ] {
            for term in terms {
                let qname = ns::qname(term.ns, term.local);
                let limit = limits::field_limit(&qname)
                    .unwrap_or_else(|| panic!("{qname} has no entry in FIELD_LIMITS"));
                assert_eq!(limit.max_bytes == 0, term.kind == Kind::Resource, "{qname}");
                let repeats = matches!(term.card, Card::Many | Card::AtLeastOne);
                assert_eq!(limit.max_count > 1, repeats, "{qname}");
            }
        }
    }

    #[test]
    fn emails() {
        assert!(is_valid_email("jane.tester@example.org"));
        assert!(is_valid_email("a+b@sub.example-x.eu"));
        assert!(!is_valid_email("jane.tester_at_example.org"));
        assert!(!is_valid_email("jane@localhost"));
        assert!(!is_valid_email("@example.org"));
        assert!(!is_valid_email("jane@@example.org"));
        assert!(!is_valid_email("ja ne@example.org"));
    }
}
