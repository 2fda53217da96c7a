//! The format's rules: term cardinalities and datatypes, and the metadata
//! built from the RDF triples.

use crate::datetime;
use crate::identifier;
use crate::limits;
use crate::lines::Lines;
use crate::model::{Algorithm, Checksum, Endorsement, Endorser, Metadata};
use crate::ns::{self, DCTERMS, MARKETPLACE, SLREQ, SLTERMS};
use crate::problem::{Note, Problem, Rule};
use oxrdf::{NamedOrBlankNode, Term, Triple};
use std::collections::HashMap;

/// Where the term passes put what they find.
pub(crate) struct Findings<'a> {
    /// What makes the document invalid.
    pub problems: &'a mut Vec<Problem>,
    /// What was accepted with a remark (see `docs/compatibility.md`).
    pub notes: &'a mut Vec<Note>,
}

pub(crate) fn read_triples(text: &str) -> Result<Vec<Triple>, Problem> {
    let parser = oxrdfxml::RdfXmlParser::new()
        .with_base_iri(ns::XML_BASE)
        .expect("the StratusLab base is a valid IRI");
    parser
        .for_slice(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Problem::new(
                "document",
                Rule::RdfModel,
                format!("not valid RDF/XML: {e}"),
            )
        })
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

struct Term_ {
    ns: &'static str,
    local: &'static str,
    card: Card,
    kind: Kind,
}

const fn t(ns: &'static str, local: &'static str, card: Card, kind: Kind) -> Term_ {
    Term_ {
        ns,
        local,
        card,
        kind,
    }
}

/// The terms of the image description itself.
const DESCRIPTION_TERMS: &[Term_] = &[
    t(DCTERMS, "identifier", Card::One, Kind::Identifier),
    t(DCTERMS, "isReplacedBy", Card::Optional, Kind::Identifier),
    t(DCTERMS, "replaces", Card::Optional, Kind::Identifier),
    t(DCTERMS, "isVersionOf", Card::Optional, Kind::Identifier),
    t(DCTERMS, "valid", Card::Optional, Kind::DateTime),
    t(DCTERMS, "title", Card::Optional, Kind::Text),
    t(DCTERMS, "description", Card::Optional, Kind::Text),
    t(DCTERMS, "type", Card::One, Kind::Text),
    t(DCTERMS, "creator", Card::Optional, Kind::Text),
    t(DCTERMS, "created", Card::Optional, Kind::DateTime),
    t(DCTERMS, "publisher", Card::Optional, Kind::Text),
    t(DCTERMS, "format", Card::Optional, Kind::Text),
    t(DCTERMS, "alternative", Card::Optional, Kind::Text),
    t(DCTERMS, "compression", Card::Optional, Kind::Text),
    t(SLREQ, "bytes", Card::One, Kind::NonNegativeInteger),
    t(SLREQ, "checksum", Card::AtLeastOne, Kind::Resource),
    t(SLREQ, "endorsement", Card::One, Kind::Resource),
    t(SLTERMS, "kind", Card::Optional, Kind::Text),
    t(SLTERMS, "location", Card::Many, Kind::Uri),
    t(
        SLTERMS,
        "serial-number",
        Card::Optional,
        Kind::NonNegativeInteger,
    ),
    t(SLTERMS, "version", Card::Optional, Kind::Text),
    t(SLTERMS, "hypervisor", Card::Optional, Kind::Text),
    t(SLTERMS, "inbound-port", Card::Many, Kind::Port),
    t(SLTERMS, "outbound-port", Card::Many, Kind::Port),
    t(SLTERMS, "icmp", Card::Many, Kind::Icmp),
    t(SLTERMS, "os", Card::Optional, Kind::Text),
    t(SLTERMS, "os-version", Card::Optional, Kind::Text),
    t(SLTERMS, "os-arch", Card::Optional, Kind::Text),
    t(SLTERMS, "disks-bus", Card::Many, Kind::Text),
    t(SLTERMS, "deprecated", Card::Optional, Kind::Text),
    t(MARKETPLACE, "visible-to", Card::Many, Kind::Text),
];

const CHECKSUM_TERMS: &[Term_] = &[
    t(SLREQ, "algorithm", Card::One, Kind::Text),
    t(SLREQ, "value", Card::One, Kind::Text),
];

const ENDORSEMENT_TERMS: &[Term_] = &[
    t(DCTERMS, "created", Card::One, Kind::DateTime),
    t(SLREQ, "endorser", Card::One, Kind::Resource),
];

const ENDORSER_TERMS: &[Term_] = &[
    t(SLREQ, "email", Card::One, Kind::Text),
    t(SLREQ, "subject", Card::One, Kind::Text),
    t(SLREQ, "issuer", Card::AtLeastOne, Kind::Text),
    t(MARKETPLACE, "email-verified", Card::Optional, Kind::Text),
];

type Properties<'a> = HashMap<&'a str, Vec<&'a Term>>;

/// Triples grouped by subject, then by predicate IRI.
struct Graph<'a> {
    by_subject: HashMap<&'a NamedOrBlankNode, Properties<'a>>,
}

impl<'a> Graph<'a> {
    fn new(triples: &'a [Triple]) -> Self {
        let mut by_subject: HashMap<&NamedOrBlankNode, Properties<'a>> = HashMap::new();
        for tr in triples {
            by_subject
                .entry(&tr.subject)
                .or_default()
                .entry(tr.predicate.as_str())
                .or_default()
                .push(&tr.object);
        }
        Graph { by_subject }
    }

    fn properties(&self, node: &NamedOrBlankNode) -> Properties<'a> {
        self.by_subject.get(node).cloned().unwrap_or_default()
    }
}

/// Reads and checks the terms of one resource against `terms`; returns the
/// checked values of each known term, keyed by local name.
struct Checked<'a> {
    values: HashMap<&'static str, Vec<&'a Term>>,
}

impl<'a> Checked<'a> {
    fn texts(&self, local: &str) -> Vec<String> {
        self.values
            .get(local)
            .map(|v| v.iter().filter_map(|t| term_text(t)).collect())
            .unwrap_or_default()
    }

    fn text(&self, local: &str) -> Option<String> {
        self.texts(local).into_iter().next()
    }

    fn nodes(&self, local: &str) -> Vec<NamedOrBlankNode> {
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

fn term_text(term: &Term) -> Option<String> {
    match term {
        Term::Literal(l) => Some(l.value().to_string()),
        Term::NamedNode(n) => Some(n.as_str().to_string()),
        _ => None,
    }
}

fn check_terms<'a>(
    props: &Properties<'a>,
    terms: &[Term_],
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
fn read_as_absent(term: &Term_, value: &Term) -> Option<String> {
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

fn check_value(term: &Term_, qname: &str, value: &Term) -> Option<Problem> {
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

pub(crate) fn build_metadata(
    triples: &[Triple],
    subject: Option<&str>,
    lines: &Lines,
    findings: &mut Findings<'_>,
) -> Metadata {
    let graph = Graph::new(triples);
    let named: Vec<&NamedOrBlankNode> = graph
        .by_subject
        .keys()
        .copied()
        .filter(|s| matches!(s, NamedOrBlankNode::NamedNode(_)))
        .collect();
    let main = match subject {
        Some(iri) => named
            .iter()
            .find(|s| matches!(s, NamedOrBlankNode::NamedNode(n) if n.as_str() == iri))
            .copied(),
        None => None,
    };
    let Some(main) = main.or_else(|| (named.len() == 1).then(|| named[0])) else {
        findings.problems.push(Problem::new(
            "rdf:Description",
            Rule::About,
            "the description has no rdf:about naming the image (#identifier)",
        ));
        return Metadata::default();
    };
    let context = "the image description";
    let d = check_terms(
        &graph.properties(main),
        DESCRIPTION_TERMS,
        context,
        lines,
        findings,
    );
    let numbers = |local: &str| -> Vec<u64> {
        d.texts(local)
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect()
    };
    let mut m = Metadata {
        identifier: d.text("identifier").unwrap_or_default(),
        is_replaced_by: d.text("isReplacedBy"),
        replaces: d.text("replaces"),
        is_version_of: d.text("isVersionOf"),
        valid: d.text("valid"),
        title: d.text("title"),
        description: d.text("description"),
        kind_type: d.text("type"),
        kind: d.text("kind"),
        creator: d.text("creator"),
        created: d.text("created"),
        publisher: d.text("publisher"),
        format: d.text("format"),
        alternative: d.text("alternative"),
        compression: d.text("compression"),
        bytes: numbers("bytes").first().copied(),
        locations: d.texts("location"),
        serial_number: numbers("serial-number").first().copied(),
        version: d.text("version"),
        hypervisor: d.text("hypervisor"),
        inbound_ports: numbers("inbound-port")
            .into_iter()
            .filter_map(|n| u16::try_from(n).ok())
            .collect(),
        outbound_ports: numbers("outbound-port")
            .into_iter()
            .filter_map(|n| u16::try_from(n).ok())
            .collect(),
        icmp: numbers("icmp")
            .into_iter()
            .filter_map(|n| u8::try_from(n).ok())
            .collect(),
        os: d.text("os"),
        os_version: d.text("os-version"),
        os_arch: d.text("os-arch"),
        disks_bus: d.texts("disks-bus"),
        deprecated: d.text("deprecated"),
        visible_to: d.texts("visible-to"),
        ..Metadata::default()
    };
    if m.kind_type.as_deref().is_some_and(|t| t.trim().is_empty()) {
        findings.notes.push(
            Note::new(
                "dcterms:type",
                "empty element (the original build tool writes it so without --type), read as \
                 absent",
            )
            .at(lines.of("dcterms:type")),
        );
        m.kind_type = None;
    }
    if m.bytes == Some(0) {
        findings.notes.push(
            Note::new(
                "slreq:bytes",
                "slreq:bytes is 0: the document describes an empty image",
            )
            .at(lines.of("slreq:bytes")),
        );
    }
    for node in d.nodes("checksum") {
        if let Some(c) = read_checksum(&graph, &node, lines, findings) {
            m.checksums.push(c);
        }
    }
    check_checksums(&m, lines, findings.problems);
    m.endorsement = d
        .nodes("endorsement")
        .first()
        .map(|node| read_endorsement(&graph, node, lines, findings));
    m
}

fn read_checksum(
    graph: &Graph<'_>,
    node: &NamedOrBlankNode,
    lines: &Lines,
    findings: &mut Findings<'_>,
) -> Option<Checksum> {
    let c = check_terms(
        &graph.properties(node),
        CHECKSUM_TERMS,
        "slreq:checksum",
        lines,
        findings,
    );
    let name = c.text("algorithm")?;
    let value = c.text("value")?;
    let line = lines.of("slreq:checksum");
    let value_line = lines.of("slreq:value").or(line);
    let Some(algorithm) = Algorithm::from_name(&name) else {
        findings.problems.push(
            Problem::new(
                "slreq:algorithm",
                Rule::Checksum,
                format!("unknown checksum algorithm '{name}' (use MD5, SHA-1, SHA-256 or SHA-512)"),
            )
            .at(lines.of("slreq:algorithm")),
        );
        return None;
    };
    if value.trim().is_empty() && algorithm != Algorithm::Sha1 {
        // `stratus-build-metadata --no-md5` (and --no-sha256, --no-sha512)
        // writes the block with an empty value; the SHA-1 defines the
        // identifier and stays required.
        findings.notes.push(
            Note::new(
                "slreq:value",
                format!(
                    "the {name} checksum is empty (as the original build tool writes it for \
                     a checksum it did not compute): read as absent"
                ),
            )
            .at(value_line),
        );
        return None;
    }
    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    let significant = value.trim_start_matches('0').len();
    if !hex || value.is_empty() {
        findings.problems.push(
            Problem::new(
                "slreq:value",
                Rule::Checksum,
                format!("{name} value '{value}' is not hexadecimal"),
            )
            .at(value_line),
        );
    } else if value.len() < algorithm.hex_len() || significant > algorithm.hex_len() {
        findings.problems.push(
            Problem::new(
                "slreq:value",
                Rule::Checksum,
                format!(
                    "{name} value '{value}' has {} hex digits; {name} has {}",
                    value.len(),
                    algorithm.hex_len()
                ),
            )
            .at(value_line),
        );
    }
    let value = if hex && value.bytes().any(|b| b.is_ascii_uppercase()) {
        // A checksum given on the original tools' command line is written
        // as typed; the digits mean the same in either case.
        findings.notes.push(
            Note::new(
                "slreq:value",
                format!("the {name} value has uppercase digits: read in lowercase"),
            )
            .at(value_line),
        );
        value.to_ascii_lowercase()
    } else {
        value
    };
    Some(Checksum { algorithm, value })
}

fn check_checksums(m: &Metadata, lines: &Lines, problems: &mut Vec<Problem>) {
    let line = lines.of("slreq:checksum");
    for algorithm in Algorithm::ALL {
        let count = m
            .checksums
            .iter()
            .filter(|c| c.algorithm == algorithm)
            .count();
        if count > 1 {
            problems.push(
                Problem::new(
                    "slreq:checksum",
                    Rule::Cardinality,
                    format!("{count} {algorithm} checksums; at most one is allowed"),
                )
                .at(line),
            );
        }
    }
    let Some(sha1) = m.checksum(Algorithm::Sha1) else {
        problems.push(
            Problem::new(
                "slreq:checksum",
                Rule::Checksum,
                "a SHA-1 checksum is required: it defines the identifier",
            )
            .at(line),
        );
        return;
    };
    let (Ok(from_id), Ok(from_sum)) = (
        identifier::to_sha1_bytes(&m.identifier),
        identifier::sha1_hex_to_bytes(sha1),
    ) else {
        return;
    };
    if from_id != from_sum {
        problems.push(
            Problem::new(
                "dcterms:identifier",
                Rule::Identifier,
                format!(
                    "identifier '{}' does not match the SHA-1 checksum {sha1} (it encodes {})",
                    m.identifier,
                    identifier::to_sha1_hex(&m.identifier).unwrap_or_default()
                ),
            )
            .at(lines.of("dcterms:identifier")),
        );
    }
}

fn read_endorsement(
    graph: &Graph<'_>,
    node: &NamedOrBlankNode,
    lines: &Lines,
    findings: &mut Findings<'_>,
) -> Endorsement {
    let e = check_terms(
        &graph.properties(node),
        ENDORSEMENT_TERMS,
        "slreq:endorsement",
        lines,
        findings,
    );
    let endorser = e
        .nodes("endorser")
        .first()
        .map(|n| {
            let r = check_terms(
                &graph.properties(n),
                ENDORSER_TERMS,
                "slreq:endorser",
                lines,
                findings,
            );
            let email = r.text("email").unwrap_or_default();
            if r.values.get("email").is_some_and(|v| !v.is_empty()) && !is_valid_email(&email) {
                findings.problems.push(
                    Problem::new(
                        "slreq:email",
                        Rule::Email,
                        format!("'{email}' is not a valid e-mail address"),
                    )
                    .at(lines.of("slreq:email")),
                );
            }
            Endorser {
                email,
                subject: r.text("subject").unwrap_or_default(),
                issuers: r.texts("issuer"),
                email_unverified: r.text("email-verified").as_deref() == Some("false"),
            }
        })
        .unwrap_or_default();
    Endorsement {
        created: e.text("created").unwrap_or_default(),
        endorser,
    }
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
