//! CPU time of `marketplace_format::parse` (markup scan, XML pass, RDF pass
//! and the format rules) on the most expensive uploads we could build within
//! the limits, against a normal document in the same process.
//!
//! Each case is generated here, under `MAX_DOCUMENT_BYTES` (1 MiB), as an
//! attacker would shape it: namespace declarations (the "namespace bomb" of
//! the hardening issue, refused, and the most the markup limits let
//! through), many attributes, deep nesting, long attribute values,
//! character and entity references, huge text nodes, comments and
//! processing instructions, many locations, checksums, problems and
//! elements, long identifiers, XML literals, `xml:base` and `xml:lang`
//! inheritance, reification. A case made of a repeated unit holds as many
//! units as the size limit allows without being refused as XML (by
//! `markup` or the parser), so that every pass reads it. For each case it
//! prints the size, the outcome (valid, or the first problem), the CPU time
//! of one parse and its ratio to the parse of a normal document
//! (`write::to_xml` of a full `Metadata`, 2.7 KB) measured in the same run,
//! and the least wall-clock time of one run.
//!
//! CPU time is the thread's, from `/proc/thread-self/schedstat`, which only
//! moves at scheduler ticks: each case is run until it has used a window of
//! CPU time (300 ms by default; at least once) and the mean is printed. On a
//! shared machine that figure moves least; the ratio to the reference
//! cancels most of the rest. The target is that no case takes more than
//! 50 ms of CPU in a release build; a case over it is marked `OVER`. Timings
//! are never asserted in tests.
//!
//! ```text
//! cargo run --release -p marketplace-format --example worst_case
//! cargo run --release -p marketplace-format --example worst_case -- --only ns- --window-ms 1000
//! ```
//!
//! Options: `--only TEXT` (the cases whose name contains TEXT), `--window-ms
//! MS` (CPU time per case), `--list` (names and sizes only). The last lines
//! are `RESULT <name> <bytes> <cpu ms> <ratio>`, for
//! `bench/format_worst_case.sh`.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_format::{
    Algorithm, Checksum, Endorsement, Endorser, MAX_DOCUMENT_BYTES, Metadata, Rule, identifier,
    markup, parse, write,
};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The target: no upload within the limits costs more CPU than this.
const TARGET: Duration = Duration::from_millis(50);

/// A little under the limit, so every case is within it.
const BUDGET: usize = MAX_DOCUMENT_BYTES - 4096;

/// CPU time of the calling thread so far (Linux, nanoseconds); the
/// monotonic clock where `/proc/thread-self/schedstat` is missing.
fn thread_cpu(start: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| start.elapsed())
}

/// The CPU time of one `parse` of `bytes` (the mean over enough runs to
/// fill `window` of CPU, at least one, at most `max_runs`: the thread's CPU
/// clock in `/proc` only moves at scheduler ticks, so single short runs
/// cannot be timed with it), the least wall-clock time of one run, and the
/// number of runs.
fn measure(bytes: &[u8], window: Duration, max_runs: usize) -> (Duration, Duration, usize) {
    let clock = Instant::now();
    let start = thread_cpu(clock);
    let mut least_wall = Duration::MAX;
    let mut runs = 0;
    loop {
        let wall = Instant::now();
        black_box(parse(black_box(bytes)));
        least_wall = least_wall.min(wall.elapsed());
        runs += 1;
        let spent = thread_cpu(clock).saturating_sub(start);
        if spent >= window || runs >= max_runs {
            let per_run = spent / u32::try_from(runs).unwrap_or(u32::MAX);
            return (per_run, least_wall, runs);
        }
    }
}

const SHA1: &str = "d05b5deb9d3ff8d9e0a0fb7b0bf4e5a0f8a2e4a7";

/// A full, valid, normal document: what a real upload looks like.
fn reference() -> String {
    write::to_xml(&Metadata {
        identifier: identifier::from_sha1_hex(SHA1).unwrap(),
        title: Some("Ubuntu 24.04 LTS server (cloud image)".into()),
        description: Some(
            "Ubuntu Server 24.04 LTS with cloud-init, contextualisation and the \
             site's monitoring agent; root login disabled, updates to 2025-01-01."
                .into(),
        ),
        kind_type: Some("machine".into()),
        creator: Some("Jane Tester".into()),
        created: Some("2025-01-01T00:00:00Z".into()),
        publisher: Some("Example Grid Site".into()),
        format: Some("qcow2".into()),
        alternative: Some("ubuntu-24.04".into()),
        compression: Some("gz".into()),
        bytes: Some(2_147_483_648),
        checksums: vec![
            Checksum {
                algorithm: Algorithm::Md5,
                value: "0123456789abcdef0123456789abcdef".into(),
            },
            Checksum {
                algorithm: Algorithm::Sha1,
                value: SHA1.into(),
            },
            Checksum {
                algorithm: Algorithm::Sha256,
                value: "ab".repeat(32),
            },
        ],
        endorsement: Some(Endorsement {
            created: "2025-01-01T00:00:00Z".into(),
            endorser: Endorser {
                email: "jane.tester@example.org".into(),
                subject: "CN=Jane Tester,OU=Testing,O=Example,C=EU".into(),
                issuers: vec!["CN=Example CA,O=Example,C=EU".into()],
                email_unverified: false,
            },
        }),
        locations: vec![
            "https://images.example.org/ubuntu-24.04.qcow2.gz".into(),
            "http://mirror.example.net/images/ubuntu-24.04.qcow2.gz".into(),
        ],
        serial_number: Some(3),
        version: Some("24.04.1".into()),
        hypervisor: Some("kvm".into()),
        inbound_ports: vec![22, 443],
        os: Some("Ubuntu".into()),
        os_version: Some("24.04".into()),
        os_arch: Some("x86_64".into()),
        disks_bus: vec!["virtio".into()],
        ..Metadata::default()
    })
}

const EX: &str = "http://example.org/app#";

/// The reference document with `inside` added at the end of its
/// description and `root` added to the root's attributes.
fn with(root: &str, inside: &str) -> String {
    let doc = reference();
    let doc = doc.replacen(
        " xml:base=",
        &format!(" xmlns:ex=\"{EX}\"{root} xml:base="),
        1,
    );
    doc.replacen(
        "  </rdf:Description>",
        &format!("{inside}  </rdf:Description>"),
        1,
    )
}

/// `unit` repeated (numbered through `{i}`) between `before` and `after`
/// at the end of the description, as many times as the document stays
/// within the size limit and is not refused as XML (by the markup limits
/// or the parser's own): the most costly upload of that shape that every
/// pass reads.
fn fill(root: &str, before: &str, unit: &str, after: &str) -> String {
    fill_then(root, before, unit, after, |doc| doc)
}

/// [`fill`], with `then` applied to the document before it is measured.
fn fill_then(
    root: &str,
    before: &str,
    unit: &str,
    after: &str,
    then: impl Fn(String) -> String,
) -> String {
    let build = |n: usize| {
        let mut body = String::from(before);
        for i in 0..n {
            body.push_str(&unit.replace("{i}", &i.to_string()));
        }
        body.push_str(after);
        then(with(root, &body))
    };
    let fits = |doc: &str| {
        doc.len() <= BUDGET
            && markup::check(doc).is_ok()
            && !parse(doc.as_bytes())
                .problems
                .iter()
                .any(|p| p.rule == Rule::XmlSyntax)
    };
    // The largest n that fits (more units never fit better).
    let (mut low, mut high) = (0usize, BUDGET / unit.len().max(1) + 1);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(&build(mid)) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    build(low)
}

/// `n` namespace declarations `xmlns:{prefix}{k}="{uri}{k}"`.
fn declarations(prefix: &str, n: usize, uri: &str) -> String {
    let mut out = String::new();
    for k in 0..n {
        let _ = write!(out, " xmlns:{prefix}{k}=\"{uri}{k}\"");
    }
    out
}

/// A URI of `len` bytes (before the number [`declarations`] appends).
fn uri(len: usize) -> String {
    format!("urn:{}", "u".repeat(len.saturating_sub(8)))
}

/// The hardening issue's document: `levels` nested elements each declaring
/// `per_element` prefixes (126 × 62 made 159 KB and 2.5 s of CPU), as RDF
/// striping so that every pass reads it; `uri_len` grows until the
/// document is near the size limit.
fn namespace_bomb(levels: usize, per_element: usize, fill_up: bool) -> String {
    let build = |uri_len: usize| {
        let mut inside = String::new();
        for level in 0..levels {
            let _ = write!(
                inside,
                "<ex:n rdf:parseType=\"Resource\"{}>",
                declarations(&format!("p{level}x"), per_element, &uri(uri_len))
            );
        }
        inside.push_str("<ex:leaf>x</ex:leaf>");
        for _ in 0..levels {
            inside.push_str("</ex:n>");
        }
        with("", &inside)
    };
    let mut uri_len = 8;
    while fill_up && build(uri_len * 2).len() <= BUDGET {
        uri_len *= 2;
    }
    build(uri_len)
}

/// Nested elements declaring namespaces until the scope is full (`count`
/// declarations in scope with the root's, URIs of `uri_len` bytes), inside
/// siblings that bring the document's declarations to the limit, and
/// inside the nest the most elements and attributes whose names are looked
/// up through the whole scope (the root's `ex:` prefix: the last one both
/// roxmltree and quick-xml find).
fn namespace_scope(count: usize, uri_len: usize) -> String {
    use markup::{MAX_NAMESPACE_DECLARATIONS, MAX_NAMESPACES_PER_ELEMENT};
    let root_declarations = 5; // rdf, dcterms, slreq, slterms, ex
    let mut total = root_declarations;
    let mut siblings = String::new();
    let sibling_uri = uri(64);
    let mut k = 0;
    // Siblings first: each declares the most one element may.
    while total + MAX_NAMESPACES_PER_ELEMENT + count <= MAX_NAMESPACE_DECLARATIONS {
        let _ = write!(
            siblings,
            "<ex:d{}/>",
            declarations(&format!("d{k}x"), MAX_NAMESPACES_PER_ELEMENT, &sibling_uri)
        );
        total += MAX_NAMESPACES_PER_ELEMENT;
        k += 1;
    }
    let (mut open, mut close) = (String::new(), String::new());
    let mut left = count - root_declarations;
    let mut level = 0;
    while left > 0 {
        let n = left.min(MAX_NAMESPACES_PER_ELEMENT);
        let _ = write!(
            open,
            "<ex:s rdf:parseType=\"Resource\"{}>",
            declarations(&format!("s{level}x"), n, &uri(uri_len))
        );
        close.insert_str(0, "</ex:s>");
        left -= n;
        level += 1;
    }
    fill(
        "",
        &format!("{siblings}{open}"),
        "<ex:e ex:a=\"1\" ex:b=\"2\" ex:c=\"3\" ex:d=\"4\"/>",
        &close,
    )
}

/// Every namespace in scope (as many bytes of URIs as allowed) written
/// again by oxrdfxml on each top-level element of an
/// `rdf:parseType="Literal"` value, to keep the literal self-contained.
fn literal_amplification(count: usize) -> String {
    let per_uri = ((markup::MAX_NAMESPACE_BYTES_IN_SCOPE - 250) / count)
        .min(markup::MAX_NAMESPACE_URI_BYTES - 4);
    let (mut open, mut close) = (String::new(), String::new());
    let mut left = count;
    let mut level = 0;
    while left > 0 {
        let n = left.min(markup::MAX_NAMESPACES_PER_ELEMENT);
        let _ = write!(
            open,
            "<ex:l rdf:parseType=\"Resource\"{}>",
            declarations(&format!("l{level}x"), n, &uri(per_uri))
        );
        close.insert_str(0, "</ex:l>");
        left -= n;
        level += 1;
    }
    fill(
        "",
        &format!("{open}<ex:lit rdf:parseType=\"Literal\">"),
        "<a/>",
        &format!("</ex:lit>{close}"),
    )
}

/// The largest valid document the field limits allow: every term the
/// rules read at its longest, each repeated term as often as allowed.
fn every_field_at_its_limits() -> String {
    use marketplace_format::limits::field_limit;
    let bytes = |term: &str| field_limit(term).unwrap().max_bytes;
    let count = |term: &str| field_limit(term).unwrap().max_count;
    let text = |term: &str| "é".repeat(bytes(term) / 2);
    let mut m = Metadata {
        title: Some(text("dcterms:title")),
        description: Some(text("dcterms:description")),
        kind_type: Some(text("dcterms:type")),
        kind: Some(text("slterms:kind")),
        creator: Some(text("dcterms:creator")),
        publisher: Some(text("dcterms:publisher")),
        format: Some(text("dcterms:format")),
        alternative: Some(text("dcterms:alternative")),
        compression: Some(text("dcterms:compression")),
        version: Some(text("slterms:version")),
        hypervisor: Some(text("slterms:hypervisor")),
        os: Some(text("slterms:os")),
        os_version: Some(text("slterms:os-version")),
        os_arch: Some(text("slterms:os-arch")),
        deprecated: Some(text("slterms:deprecated")),
        ..Metadata::default()
    };
    let base = marketplace_format::parse(reference().as_bytes()).metadata;
    m.identifier = base.identifier;
    m.bytes = base.bytes;
    m.checksums = base.checksums;
    m.valid = Some("2030-01-01T00:00:00Z".into());
    m.created = Some("2025-01-01T00:00:00Z".into());
    m.serial_number = Some(u64::MAX);
    let location = |i: usize| {
        let head = format!("https://mirror{i}.example.org/");
        format!(
            "{head}{}",
            "l".repeat(bytes("slterms:location") - head.len())
        )
    };
    m.locations = (0..count("slterms:location")).map(location).collect();
    m.inbound_ports = (0..count("slterms:inbound-port") as u16).collect();
    m.outbound_ports = (0..count("slterms:outbound-port") as u16).collect();
    m.icmp = (0..count("slterms:icmp") as u8).collect();
    m.disks_bus = (0..count("slterms:disks-bus"))
        .map(|i| format!("{i}{}", "b".repeat(bytes("slterms:disks-bus") - 4)))
        .collect();
    m.visible_to = (0..count("mp:visible-to"))
        .map(|i| format!("{i}{}", "v".repeat(bytes("mp:visible-to") - 4)))
        .collect();
    let mut endorsement = base.endorsement.unwrap();
    endorsement.endorser.subject = format!("CN={}", "s".repeat(bytes("slreq:subject") - 3));
    endorsement.endorser.issuers = (0..count("slreq:issuer"))
        .map(|i| format!("CN={i}{}", "i".repeat(bytes("slreq:issuer") - 6)))
        .collect();
    m.endorsement = Some(endorsement);
    let doc = write::to_xml(&m);
    let parsed = parse(doc.as_bytes());
    assert!(parsed.is_valid(), "{:?}", parsed.problems);
    doc
}

/// A case: its name and document.
struct Case {
    name: &'static str,
    text: String,
}

/// A description term repeated with `value`.
fn many(term: &str, value: &str) -> String {
    fill("", "", &format!("<{term}>{value}</{term}>"), "")
}

/// The reference document with one more term whose value is as long as
/// the size limit allows.
fn huge(term: &str, prefix: &str, unit: &str) -> String {
    fill(
        "",
        &format!("<{term}>{prefix}"),
        unit,
        &format!("</{term}>"),
    )
}

fn cases() -> Vec<Case> {
    use markup::{
        MAX_ATTRIBUTES, MAX_DEPTH, MAX_NAMESPACE_BYTES_IN_SCOPE, MAX_NAMESPACE_URI_BYTES,
        MAX_NAMESPACES_IN_SCOPE, MAX_XML_LANG_BYTES,
    };
    let mut out = Vec::new();
    let mut add = |name: &'static str, text: String| out.push(Case { name, text });
    let long = |n: usize| "l".repeat(n);

    // Namespaces: refused.
    add("ns-bomb-issue-126x62", namespace_bomb(126, 62, false));
    add("ns-bomb-1MiB-120x62", namespace_bomb(120, 62, true));
    add(
        "ns-too-long-uri",
        with(&format!(" xmlns:q=\"urn:{}\"", long(900_000)), ""),
    );
    // Namespaces: the most that is accepted.
    add(
        "ns-scope-full-short-uris",
        namespace_scope(MAX_NAMESPACES_IN_SCOPE, MAX_NAMESPACE_BYTES_IN_SCOPE / 70),
    );
    add(
        "ns-scope-full-long-uris",
        namespace_scope(
            5 + (MAX_NAMESPACE_BYTES_IN_SCOPE - 250) / MAX_NAMESPACE_URI_BYTES,
            MAX_NAMESPACE_URI_BYTES - 4,
        ),
    );
    add(
        "ns-long-uri-many-uses",
        fill(
            &format!(" xmlns:q=\"{}\"", uri(MAX_NAMESPACE_URI_BYTES)),
            "",
            "<q:p q:a=\"1\"/>",
            "",
        ),
    );
    add(
        "ns-long-uri-names-and-attributes",
        fill(
            &format!(" xmlns:q=\"{}\"", uri(MAX_NAMESPACE_URI_BYTES)),
            "",
            "<q:p q:a=\"1\" q:b=\"2\"/>",
            "",
        ),
    );
    add(
        "literal-scope-short-uris",
        literal_amplification(MAX_NAMESPACES_IN_SCOPE - 6),
    );
    add(
        "literal-scope-long-uris",
        literal_amplification((MAX_NAMESPACE_BYTES_IN_SCOPE - 250) / (MAX_NAMESPACE_URI_BYTES - 4)),
    );
    add(
        "xml-base-long-many-resolutions",
        fill(
            "",
            &format!(
                "<ex:b rdf:parseType=\"Resource\" xml:base=\"http://x.example/{}\">",
                long(MAX_NAMESPACE_URI_BYTES - 20)
            ),
            "<ex:r rdf:resource=\"\"/>",
            "</ex:b>",
        ),
    );
    add(
        "xml-lang-long-many-literals",
        fill(
            "",
            &format!(
                "<ex:g rdf:parseType=\"Resource\" xml:lang=\"en-x{}\">",
                "-abcdefgh".repeat((MAX_XML_LANG_BYTES - 8) / 9)
            ),
            "<ex:t>x</ex:t>",
            "</ex:g>",
        ),
    );

    // Attributes.
    let mut attributes = String::from("<ex:m");
    for a in 0..MAX_ATTRIBUTES {
        let _ = write!(attributes, " ex:a{a}=\"v\"");
    }
    attributes.push_str("/>");
    add("attributes-64-per-element", fill("", "", &attributes, ""));
    let mut too_many = String::from("<ex:m");
    for a in 0..80_000 {
        let _ = write!(too_many, " a{a}=\"\"");
    }
    too_many.push_str("/>");
    add("attributes-80000-on-one", with("", &too_many));
    let mut referenced = String::from("<ex:m");
    for a in 0..MAX_ATTRIBUTES {
        let _ = write!(
            referenced,
            " ex:a{a}=\"{}\"",
            "&#x41;&amp;".repeat(BUDGET / MAX_ATTRIBUTES / 12)
        );
    }
    referenced.push_str("/>");
    add("attributes-64-of-char-refs", with("", &referenced));
    add(
        "attribute-value-1MiB",
        huge("ex:v", "", "v")
            .replacen("<ex:v>", "<ex:v ex:a=\"", 1)
            .replacen("</ex:v>", "\"/>", 1),
    );
    add(
        "rdf-about-1MiB",
        fill(
            "",
            "<ex:o><rdf:Description rdf:about=\"#",
            "a",
            "\"/></ex:o>",
        ),
    );

    // Depth.
    let striped =
        |depth: usize| "<ex:p rdf:parseType=\"Resource\">".repeat(depth) + &"</ex:p>".repeat(depth);
    add(
        "depth-limit-rdf-striping",
        fill("", "", &striped(MAX_DEPTH - 4), ""),
    );
    add(
        "depth-limit-in-literal",
        fill(
            "",
            "<ex:x rdf:parseType=\"Literal\">",
            &("<e>".repeat(MAX_DEPTH - 5) + &"</e>".repeat(MAX_DEPTH - 5)),
            "</ex:x>",
        ),
    );
    add("depth-over-limit", with("", &"<e>".repeat(100_000)));

    // References, text and other markup.
    add("char-refs-in-text", huge("ex:t", "", "&#x41;&#66;"));
    add("entity-refs-in-text", huge("ex:t", "", "&amp;&lt;"));
    add("text-1MiB", huge("ex:text", "", "Lorem ipsum "));
    add("text-many-lines", huge("ex:text", "", "x\n"));
    add(
        "comments-many",
        fill("", "<ex:text>", "<!---->", "</ex:text>"),
    );
    add(
        "processing-instructions-many",
        fill("", "<ex:text>", "<?p?>", "</ex:text>"),
    );
    add(
        "cdata-many",
        fill("", "<ex:text>", "<![CDATA[<]]>", "</ex:text>"),
    );
    add(
        "comments-between-text-in-literal",
        fill(
            "",
            "<ex:x rdf:parseType=\"Literal\">",
            "a<!---->",
            "</ex:x>",
        ),
    );

    // The terms the rules read, at their largest and most numerous.
    add("title-1MiB", huge("dcterms:abstract", "", "Lorem ipsum "));
    add(
        "description-1MiB",
        huge("dcterms:description", "", "Lorem ipsum ")
            .replacen("<dcterms:description>Ubuntu", "<dcterms:x>Ubuntu", 1)
            .replacen("</dcterms:description>", "</dcterms:x>", 1),
    );
    add(
        "locations-many",
        many("slterms:location", "http://a.example/{i}"),
    );
    add(
        "location-1MiB",
        huge("slterms:location", "http://a.example/", "l"),
    );
    add(
        "checksums-many",
        fill(
            "",
            "",
            "<slreq:checksum rdf:parseType=\"Resource\"><slreq:algorithm>MD5\
             </slreq:algorithm><slreq:value>0123456789abcdef0123456789abcdef\
             </slreq:value></slreq:checksum>",
            "",
        ),
    );
    add(
        "checksum-value-1MiB",
        fill(
            "",
            "<slreq:checksum rdf:parseType=\"Resource\"><slreq:algorithm>SHA-512\
             </slreq:algorithm><slreq:value>",
            "a",
            "</slreq:value></slreq:checksum>",
        ),
    );
    add(
        "identifier-1MiB",
        reference().replacen(
            "<dcterms:identifier>",
            &format!("<dcterms:identifier>{}", "A".repeat(BUDGET - 4096)),
            1,
        ),
    );
    add(
        "replaced-by-many-long",
        many("dcterms:isReplacedBy", &"B".repeat(200)),
    );
    add(
        "ports-many-invalid",
        many("slterms:inbound-port", "99999{i}"),
    );
    add(
        "dates-many-invalid",
        many("dcterms:valid", "not a date {i}"),
    );
    add("os-many", many("slterms:os", "Linux {i}"));
    add("disks-bus-many", many("slterms:disks-bus", "virtio"));
    add(
        "visible-to-many",
        fill(
            " xmlns:mp=\"http://marketplace.egi.eu/terms#\"",
            "",
            "<mp:visible-to>vo{i}.example.org</mp:visible-to>",
            "",
        ),
    );
    add(
        "issuers-many",
        reference().replacen(
            "<slreq:issuer>",
            &format!(
                "{}<slreq:issuer>",
                "<slreq:issuer>CN=Example CA,O=Example,C=EU</slreq:issuer>"
                    .repeat(markup::MAX_ELEMENTS - 100)
            ),
            1,
        ),
    );
    add(
        "email-1MiB",
        reference().replacen(
            "<slreq:email>",
            &format!("<slreq:email>{}", "e".repeat(BUDGET - 4096)),
            1,
        ),
    );

    // Elements and RDF forms.
    add("empty-elements-many", fill("", "", "<ex:e/>", ""));
    add("distinct-elements-many", fill("", "", "<ex:e{i}/>", ""));
    add("unknown-slterms-many", fill("", "", "<slterms:x{i}/>", ""));
    add(
        "unqualified-parsetype-many",
        fill("", "", "<ex:u parseType=\"Resource\"/>", ""),
    );
    add("unqualified-rdf-in-default-namespace", {
        // RDF as the default namespace: each unqualified attribute needs a
        // prefix declared for it, searched among the rdfq prefixes taken.
        let taken: String = (0..markup::MAX_NAMESPACES_PER_ELEMENT - 5)
            .map(|k| {
                let name = if k == 0 {
                    "rdfq".to_string()
                } else {
                    format!("rdfq{k}")
                };
                format!(" xmlns:{name}=\"urn:{k}\"")
            })
            .collect();
        fill_then(&taken, "", "<ex:u parseType=\"Resource\"/>", "", |doc| {
            doc.replace("rdf:", "").replace("xmlns:rdf=", "xmlns=")
        })
    });
    add(
        "blank-nodes-many",
        fill("", "", "<ex:b rdf:nodeID=\"n{i}\"/>", ""),
    );
    add(
        "rdf-ids-many",
        fill("", "", "<ex:i rdf:ID=\"i{i}\">x</ex:i>", ""),
    );
    add(
        "rdf-ids-long",
        fill(
            "",
            "",
            &format!("<ex:i rdf:ID=\"i{{i}}{}\">x</ex:i>", long(150)),
            "",
        ),
    );
    add(
        "rdf-ids-long-under-long-base",
        fill(
            "",
            &format!(
                "<ex:b rdf:parseType=\"Resource\" xml:base=\"http://x.example/{}\">",
                long(MAX_NAMESPACE_URI_BYTES - 20)
            ),
            &format!("<ex:i rdf:ID=\"i{{i}}{}\">x</ex:i>", long(150)),
            "</ex:b>",
        ),
    );
    add(
        "rdf-ids-long-everything-long",
        fill(
            &format!(" xmlns:q=\"{}\"", uri(MAX_NAMESPACE_URI_BYTES)),
            &format!(
                "<ex:b rdf:parseType=\"Resource\" xml:lang=\"en-x{}\" \
                 xml:base=\"http://x.example/{}\">",
                "-abcdefgh".repeat((MAX_XML_LANG_BYTES - 8) / 9),
                long(MAX_NAMESPACE_URI_BYTES - 20)
            ),
            &format!("<q:p rdf:ID=\"i{{i}}{}\" q:a=\"1\"/>", long(120)),
            "</ex:b>",
        ),
    );
    add("every-field-at-its-limits", every_field_at_its_limits());
    add(
        "property-attributes-many",
        fill(
            "",
            "",
            &format!("<ex:m {}/>", {
                let mut a = String::new();
                for k in 0..MAX_ATTRIBUTES {
                    let _ = write!(a, " ex:p{k}=\"{}\"", long(8));
                }
                a
            }),
            "",
        ),
    );
    add(
        "collection-many",
        fill(
            "",
            "<ex:c rdf:parseType=\"Collection\">",
            "<rdf:Description/>",
            "</ex:c>",
        ),
    );
    add(
        "li-many",
        fill(
            "",
            "<ex:bag><rdf:Bag>",
            "<rdf:li>x</rdf:li>",
            "</rdf:Bag></ex:bag>",
        ),
    );
    add(
        "lang-datatype-many",
        fill(
            "",
            "",
            "<ex:l xml:lang=\"en-GB\">x</ex:l><ex:d \
             rdf:datatype=\"http://www.w3.org/2001/XMLSchema#integer\">1</ex:d>",
            "",
        ),
    );
    add(
        "long-element-name",
        with(
            "",
            &format!("<ex:{0}>x</ex:{0}>", "n".repeat((BUDGET - 8192) / 2)),
        ),
    );
    add("descriptions-many", {
        let doc = reference();
        let unit = "<rdf:Description rdf:about=\"#x\"/>";
        let room = (markup::MAX_ELEMENTS - 100).min((BUDGET - doc.len()) / unit.len());
        doc.replacen("</rdf:RDF>", &format!("{}</rdf:RDF>", unit.repeat(room)), 1)
    });
    out
}

fn main() {
    let mut only: Option<String> = None;
    let mut window = Duration::from_millis(300);
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => only = args.next(),
            "--window-ms" => {
                window = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .map(Duration::from_millis)
                    .unwrap_or(window)
            }
            "--list" => list = true,
            other => {
                eprintln!("unknown option {other} (--only TEXT, --window-ms MS, --list)");
                std::process::exit(2);
            }
        }
    }
    let reference = reference();
    let parsed = parse(reference.as_bytes());
    assert!(parsed.is_valid(), "{:?}", parsed.problems);
    let (base, base_wall, base_runs) = measure(reference.as_bytes(), window * 3, 1_000_000);
    println!(
        "reference: a normal document of {} bytes: {:.1} µs of CPU per parse \
         (mean of {base_runs} runs; least wall-clock {:.1} µs)",
        reference.len(),
        base.as_secs_f64() * 1e6,
        base_wall.as_secs_f64() * 1e6,
    );
    println!(
        "{:<32} {:>7} {:>9} {:>9} {:>5} {:>7}  outcome",
        "case", "KiB", "cpu ms", "wall ms", "runs", "ratio"
    );
    let mut results = Vec::new();
    let mut over = 0;
    for case in cases() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        assert!(
            case.text.len() <= MAX_DOCUMENT_BYTES,
            "{}: {} bytes",
            case.name,
            case.text.len()
        );
        if list {
            println!("{:<32} {:>7.1}", case.name, case.text.len() as f64 / 1024.0);
            continue;
        }
        let parsed = parse(case.text.as_bytes());
        let outcome = match parsed.problems.first() {
            None => "valid".to_string(),
            Some(p) => {
                let mut s = format!("{} problem(s); {p}", parsed.problems.len());
                if s.len() > 110 {
                    let mut cut = 107;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push_str("...");
                }
                s
            }
        };
        let (cpu, wall, runs) = measure(case.text.as_bytes(), window, 10_000);
        let ratio = cpu.as_secs_f64() / base.as_secs_f64();
        let flag = if cpu > TARGET {
            over += 1;
            " OVER"
        } else {
            ""
        };
        println!(
            "{:<32} {:>7.1} {:>9.2} {:>9.2} {runs:>5} {ratio:>7.0}{flag}  {outcome}",
            case.name,
            case.text.len() as f64 / 1024.0,
            cpu.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e3,
        );
        results.push((case.name, case.text.len(), cpu, ratio));
    }
    for (name, len, cpu, ratio) in &results {
        println!(
            "RESULT {name} {len} {:.3} {ratio:.1}",
            cpu.as_secs_f64() * 1e3
        );
    }
    if over > 0 {
        println!(
            "{over} case(s) over the target of {} ms",
            TARGET.as_millis()
        );
    }
}
