//! The typed [`Metadata`] built from the triples: the description's terms,
//! its checksums (with the identifier they define) and its endorsement.

use crate::graph::Graph;
use crate::identifier;
use crate::lines::Lines;
use crate::model::{Algorithm, Checksum, Endorsement, Endorser, Metadata};
use crate::problem::{Note, Problem, Rule};
use crate::terms::{
    CHECKSUM_TERMS, Checked, DESCRIPTION_TERMS, ENDORSEMENT_TERMS, ENDORSER_TERMS, Findings,
    check_terms, is_valid_email,
};
use oxrdf::{NamedOrBlankNode, Triple};

/// The metadata the triples hold about `subject` (the description's IRI;
/// without one, the one subject that is an IRI), with every problem and
/// note of the term passes.
pub(crate) fn build_metadata(
    triples: &[Triple],
    subject: Option<&str>,
    lines: &Lines,
    findings: &mut Findings<'_>,
) -> Metadata {
    let graph = Graph::new(triples);
    let Some(main) = main_subject(&graph, subject) else {
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
    let mut m = description_fields(&d);
    note_description_values(&mut m, lines, findings.notes);
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

/// The subject the description is about: `subject` when it is one of the
/// graph's IRI subjects, else the only IRI subject when there is one.
fn main_subject<'a>(graph: &Graph<'a>, subject: Option<&str>) -> Option<&'a NamedOrBlankNode> {
    let named = graph.named_subjects();
    let main = match subject {
        Some(iri) => named
            .iter()
            .find(|s| matches!(s, NamedOrBlankNode::NamedNode(n) if n.as_str() == iri))
            .copied(),
        None => None,
    };
    main.or_else(|| (named.len() == 1).then(|| named[0]))
}

/// The description's own terms as metadata fields (checksums and
/// endorsement are read from their own resources).
fn description_fields(d: &Checked<'_>) -> Metadata {
    let numbers = |local: &str| -> Vec<u64> {
        d.texts(local)
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect()
    };
    Metadata {
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
    }
}

/// Notes on description values read leniently: an empty `dcterms:type`
/// (then read as absent) and an image of 0 bytes.
fn note_description_values(m: &mut Metadata, lines: &Lines, notes: &mut Vec<Note>) {
    if m.kind_type.as_deref().is_some_and(|t| t.trim().is_empty()) {
        notes.push(
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
        notes.push(
            Note::new(
                "slreq:bytes",
                "slreq:bytes is 0: the document describes an empty image",
            )
            .at(lines.of("slreq:bytes")),
        );
    }
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
            if r.is_given("email") && !is_valid_email(&email) {
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
