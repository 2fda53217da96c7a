//! The limits on uploads: the markup's (namespace declarations, elements,
//! attributes), refused before any parser runs, and each term's size and
//! count (`limits::FIELD_LIMITS`), refused by the rules with a problem that
//! names the term, its size and the limit. Only outcomes are asserted; the
//! CPU time of the worst cases is measured by `examples/worst_case.rs`.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_format::limits::{self, FIELD_LIMITS, field_limit};
use marketplace_format::{
    Algorithm, Checksum, Endorsement, Endorser, MAX_PROBLEMS, Metadata, Problem, Rule, identifier,
    markup, parse, write,
};

const SHA1: &str = "d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7";

/// A valid document's metadata (SHA-1 of "image"), every free-text term
/// given once.
fn metadata() -> Metadata {
    Metadata {
        identifier: identifier::from_sha1_hex(SHA1).unwrap(),
        title: Some("Ubuntu".into()),
        description: Some("A server image.".into()),
        kind_type: Some("machine".into()),
        bytes: Some(1024),
        checksums: vec![Checksum {
            algorithm: Algorithm::Sha1,
            value: SHA1.into(),
        }],
        locations: vec!["https://images.example.org/a.img".into()],
        endorsement: Some(Endorsement {
            created: "2025-01-01T00:00:00Z".into(),
            endorser: Endorser {
                email: "a@example.org".into(),
                subject: "CN=A".into(),
                issuers: vec!["CN=CA".into()],
                email_unverified: false,
            },
        }),
        ..Metadata::default()
    }
}

fn endorser(m: &mut Metadata) -> &mut Endorser {
    &mut m.endorsement.as_mut().unwrap().endorser
}

/// Sets every value of the free-text `term` of `m` to `values` (one value
/// for the terms that occur once); `None` for the typed terms.
fn set(m: &mut Metadata, term: &str, values: Vec<String>) -> Option<()> {
    let one = || Some(values[0].clone());
    match term {
        "dcterms:title" => m.title = one(),
        "dcterms:description" => m.description = one(),
        "dcterms:type" => m.kind_type = one(),
        "dcterms:creator" => m.creator = one(),
        "dcterms:publisher" => m.publisher = one(),
        "dcterms:format" => m.format = one(),
        "dcterms:alternative" => m.alternative = one(),
        "dcterms:compression" => m.compression = one(),
        "slterms:kind" => m.kind = one(),
        "slterms:version" => m.version = one(),
        "slterms:hypervisor" => m.hypervisor = one(),
        "slterms:os" => m.os = one(),
        "slterms:os-version" => m.os_version = one(),
        "slterms:os-arch" => m.os_arch = one(),
        "slterms:deprecated" => m.deprecated = one(),
        "slterms:location" => m.locations = values,
        "slterms:disks-bus" => m.disks_bus = values,
        "mp:visible-to" => m.visible_to = values,
        "slreq:subject" => endorser(m).subject = values[0].clone(),
        "slreq:issuer" => endorser(m).issuers = values,
        _ => return None,
    }
    Some(())
}

/// A value of `len` bytes for `term`, multi-byte characters included (the
/// limits count bytes of UTF-8).
fn value_of(term: &str, len: usize) -> String {
    if term == "slterms:location" {
        let head = "https://images.example.org/";
        return format!("{head}{}", "l".repeat(len - head.len()));
    }
    let mut v = "é".repeat(len / 4);
    v.push_str(&"x".repeat(len - v.len()));
    v
}

/// The problems of `m` written and read back.
fn problems(m: &Metadata) -> (Vec<Problem>, Metadata) {
    let parsed = parse(write::to_xml(m).as_bytes());
    (parsed.problems, parsed.metadata)
}

/// The size problems about `term`.
fn size_problems<'a>(problems: &'a [Problem], term: &str) -> Vec<&'a Problem> {
    problems
        .iter()
        .filter(|p| p.element == term && p.rule == Rule::Size)
        .collect()
}

#[test]
fn every_free_text_term_up_to_its_size_is_accepted_and_one_byte_more_is_refused() {
    let mut tested = 0;
    for limit in FIELD_LIMITS {
        let mut m = metadata();
        let at_limit = value_of(limit.term, limit.max_bytes);
        if set(&mut m, limit.term, vec![at_limit]).is_none() {
            continue;
        }
        let (found, _) = problems(&m);
        assert!(found.is_empty(), "{}: {found:?}", limit.term);

        let mut m = metadata();
        let over = value_of(limit.term, limit.max_bytes + 1);
        set(&mut m, limit.term, vec![over.clone()]).unwrap();
        let (found, read) = problems(&m);
        let size = size_problems(&found, limit.term);
        assert_eq!(size.len(), 1, "{}: {found:?}", limit.term);
        assert_eq!(
            size[0].message,
            format!(
                "{} has {} bytes; at most {} are allowed",
                limit.term,
                limit.max_bytes + 1,
                limit.max_bytes
            )
        );
        assert!(size[0].line.is_some(), "{}", limit.term);
        // The value is not read, and no problem repeats it.
        assert!(
            !format!("{read:?}").contains(&over),
            "{}: read anyway",
            limit.term
        );
        assert!(found.iter().all(|p| !p.message.contains(&over)));
        tested += 1;
    }
    assert_eq!(tested, 20);
}

#[test]
fn the_issue_s_900_kb_description_is_refused() {
    let mut m = metadata();
    m.description = Some("x".repeat(900 * 1024));
    let (found, read) = problems(&m);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::Size);
    assert_eq!(found[0].element, "dcterms:description");
    assert_eq!(
        found[0].message,
        "dcterms:description has 921600 bytes; at most 8192 are allowed"
    );
    let line = write::to_xml(&m)
        .lines()
        .position(|l| l.contains("<dcterms:description>"))
        .unwrap()
        + 1;
    assert_eq!(found[0].line, Some(line as u32));
    assert_eq!(
        found[0].to_string(),
        format!(
            "line {line}: dcterms:description: dcterms:description has 921600 bytes; at most \
             8192 are allowed [size]"
        )
    );
    assert_eq!(read.description, None);
}

#[test]
fn repeated_terms_up_to_their_count_are_accepted_and_one_more_is_refused() {
    let mut tested = 0;
    for limit in FIELD_LIMITS.iter().filter(|l| l.max_count > 1) {
        let values = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| match limit.term {
                    "slterms:location" => format!("https://mirror{i}.example.org/a.img"),
                    _ => format!("value-{i}"),
                })
                .collect()
        };
        let mut m = metadata();
        match limit.term {
            "slterms:inbound-port" => m.inbound_ports = (0..limit.max_count as u16).collect(),
            "slterms:outbound-port" => m.outbound_ports = (0..limit.max_count as u16).collect(),
            "slterms:icmp" => m.icmp = (0..limit.max_count as u8).collect(),
            // Four algorithms, each at most once: the count is checked
            // below with duplicates.
            "slreq:checksum" => continue,
            term => set(&mut m, term, values(limit.max_count)).unwrap(),
        }
        let (found, read) = problems(&m);
        assert!(found.is_empty(), "{}: {found:?}", limit.term);
        let mut over = m.clone();
        match limit.term {
            "slterms:inbound-port" => over.inbound_ports.push(8080),
            "slterms:outbound-port" => over.outbound_ports.push(8080),
            "slterms:icmp" => over.icmp.push(8),
            term => set(&mut over, term, values(limit.max_count + 1)).unwrap(),
        }
        let (found, read_over) = problems(&over);
        assert_eq!(found.len(), 1, "{}: {found:?}", limit.term);
        assert_eq!(found[0].rule, Rule::Size);
        assert_eq!(found[0].element, limit.term);
        assert!(found[0].line.is_some());
        assert!(
            found[0].message.starts_with(&format!(
                "{} occurs {} times in ",
                limit.term,
                limit.max_count + 1
            )) && found[0]
                .message
                .ends_with(&format!("; at most {} are allowed", limit.max_count)),
            "{}",
            found[0]
        );
        // The first values are read, the others not.
        assert_eq!(read_over, read, "{}", limit.term);
        tested += 1;
    }
    assert_eq!(tested, 7);
}

#[test]
fn checksum_blocks_are_counted() {
    let mut m = metadata();
    let limit = field_limit("slreq:checksum").unwrap();
    for _ in 0..limit.max_count {
        m.checksums.push(Checksum {
            algorithm: Algorithm::Md5,
            value: "0".repeat(32),
        });
    }
    let (found, read) = problems(&m);
    let size = size_problems(&found, "slreq:checksum");
    assert_eq!(size.len(), 1, "{found:?}");
    assert_eq!(
        size[0].message,
        "slreq:checksum occurs 17 times in the image description; at most 16 are allowed"
    );
    assert_eq!(read.checksums.len(), 16);
}

#[test]
fn typed_values_over_their_size_get_one_problem_that_does_not_repeat_them() {
    let xml = write::to_xml(&metadata());
    let cases = [
        ("<dcterms:identifier>", "dcterms:identifier", "A"),
        ("<dcterms:created>", "dcterms:created", "2"),
        ("<slreq:bytes>", "slreq:bytes", "1"),
        ("<slreq:value>", "slreq:value", "0"),
        ("<slreq:algorithm>", "slreq:algorithm", "S"),
        ("<slreq:email>", "slreq:email", "a"),
    ];
    for (tag, term, filler) in cases {
        let limit = field_limit(term).unwrap();
        let long = filler.repeat(100_000);
        let doc = xml.replacen(tag, &format!("{tag}{long}"), 1);
        let parsed = parse(doc.as_bytes());
        let size = size_problems(&parsed.problems, term);
        assert_eq!(size.len(), 1, "{term}: {:?}", parsed.problems);
        assert!(
            size[0]
                .message
                .ends_with(&format!("at most {} are allowed", limit.max_bytes)),
            "{}",
            size[0]
        );
        for p in &parsed.problems {
            assert!(p.message.len() < 200, "{term}: {p}");
            // Not reported as missing either: it was given.
            assert_ne!(p.rule, Rule::Cardinality, "{term}: {p}");
        }
    }
}

#[test]
fn the_longest_valid_email_is_accepted() {
    let limit = limits::EMAIL.max_bytes;
    let local = "l".repeat(64);
    let domain_len = limit - local.len() - 1;
    let labels: Vec<String> = (0..domain_len / 63 + 1).map(|_| "d".repeat(62)).collect();
    let mut domain = labels.join(".");
    domain.truncate(domain_len - 4);
    let email = format!("{local}@{domain}.org");
    assert_eq!(email.len(), limit);
    let mut m = metadata();
    endorser(&mut m).email = email.clone();
    assert_eq!(problems(&m).0, vec![]);
    endorser(&mut m).email = format!("x{email}");
    let (found, _) = problems(&m);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::Size);
}

#[test]
fn the_corpus_and_our_documents_are_far_below_every_limit() {
    let full = metadata();
    let (found, _) = problems(&full);
    assert!(found.is_empty());
    // A document's metadata is bounded whatever it says.
    assert!(limits::max_metadata_bytes() < 160 * 1024);
}

#[test]
fn markup_limits_are_refused_by_parse_before_the_rules() {
    let xml = write::to_xml(&metadata());
    let mut bomb = String::new();
    for level in 0..126 {
        bomb.push_str("<ex:n");
        for k in 0..62 {
            bomb.push_str(&format!(" xmlns:p{level}x{k}=\"urn:x:{k}\""));
        }
        bomb.push('>');
    }
    bomb.push_str(&"</ex:n>".repeat(126));
    let doc = xml.replacen(
        "  </rdf:Description>",
        &format!("{bomb}\n  </rdf:Description>"),
        1,
    );
    let parsed = parse(doc.as_bytes());
    assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
    let p = &parsed.problems[0];
    assert_eq!(p.rule, Rule::XmlSyntax);
    assert_eq!(p.element, "document");
    assert!(p.line.is_some());
    assert!(
        p.message.contains(&format!(
            "declares 62 namespaces; at most {} may be declared on one element",
            markup::MAX_NAMESPACES_PER_ELEMENT
        )),
        "{p}"
    );
    assert_eq!(parsed.metadata, Metadata::default());

    let many = "<ex:e/>".repeat(markup::MAX_ELEMENTS);
    let doc = xml
        .replacen(" xml:base=", " xmlns:ex=\"urn:ex\" xml:base=", 1)
        .replacen(
            "  </rdf:Description>",
            &format!("{many}  </rdf:Description>"),
            1,
        );
    let parsed = parse(doc.as_bytes());
    assert_eq!(parsed.problems.len(), 1);
    assert!(
        parsed.problems[0].message.starts_with(&format!(
            "the document has more than {} elements",
            markup::MAX_ELEMENTS
        )),
        "{}",
        parsed.problems[0]
    );
}

#[test]
fn problems_are_bounded() {
    let xml = write::to_xml(&metadata());
    let many = "<slterms:inbound-port>99999</slterms:inbound-port>\n".repeat(60)
        + &"<dcterms:valid>never</dcterms:valid>\n".repeat(3 * MAX_PROBLEMS);
    let doc = xml.replacen(
        "  </rdf:Description>",
        &format!("{many}  </rdf:Description>"),
        1,
    );
    let parsed = parse(doc.as_bytes());
    assert_eq!(parsed.problems.len(), MAX_PROBLEMS);
    let last = parsed.problems.last().unwrap();
    assert_eq!(last.element, "document");
    // 60 ports, one cardinality problem and 300 dates: 361 in all.
    assert_eq!(last.message, "262 more problems are not listed");
}

#[test]
fn a_long_rdf_about_is_quoted_in_part() {
    let xml = write::to_xml(&metadata());
    let doc = xml.replacen(
        "rdf:about=\"#",
        &format!("rdf:about=\"#{}", "a".repeat(500_000)),
        1,
    );
    let parsed = parse(doc.as_bytes());
    let about: Vec<_> = parsed
        .problems
        .iter()
        .filter(|p| p.rule == Rule::About)
        .collect();
    assert_eq!(about.len(), 1, "{:?}", parsed.problems);
    assert!(about[0].message.len() < 200, "{}", about[0]);
    assert!(
        about[0].message.contains("... (500028 bytes)"),
        "{}",
        about[0]
    );
}
