//! End-to-end tests of `marketplace build`: the real binary on generated image
//! files, checked against coreutils and the format crate's parser.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use marketplace_format::{Algorithm, Metadata, Problem, Rule, identifier};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_marketplace");

/// A few MiB of deterministic pseudo-random bytes, not a multiple of any chunk size.
fn make_image(dir: &Path, name: &str, len: usize) -> PathBuf {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn build(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("build")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs build writing to stdout, expects success, parses the document and
/// checks it has no problem other than the empty endorsement.
fn build_ok(dir: &Path, args: &[&str]) -> (String, Metadata) {
    let mut all = vec!["-o", "-"];
    all.extend_from_slice(args);
    let out = build(dir, &all);
    assert!(out.status.success(), "build failed: {}", stderr(&out));
    let xml = String::from_utf8(out.stdout).unwrap();
    let parsed = marketplace_format::parse(xml.as_bytes());
    let unexpected: Vec<&Problem> = parsed
        .problems
        .iter()
        .filter(|p| !about_empty_endorsement(p))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}\n{xml}");
    assert!(
        xml.contains("<slreq:endorsement rdf:parseType=\"Resource\"/>"),
        "{xml}"
    );
    assert!(parsed.metadata.endorsement.is_some());
    (xml, parsed.metadata)
}

fn about_empty_endorsement(p: &Problem) -> bool {
    p.rule == Rule::Cardinality
        && (p.element.starts_with("slreq:endorse") || p.message.contains("slreq:endorsement"))
}

/// The digest coreutils computes, e.g. `coreutil("sha256sum", path)`.
fn coreutil(tool: &str, path: &Path) -> String {
    let out = Command::new(tool).arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

const TOOLS: [(Algorithm, &str); 4] = [
    (Algorithm::Md5, "md5sum"),
    (Algorithm::Sha1, "sha1sum"),
    (Algorithm::Sha256, "sha256sum"),
    (Algorithm::Sha512, "sha512sum"),
];

#[test]
fn checksums_size_and_identifier_match_coreutils() {
    let dir = tempfile::tempdir().unwrap();
    let len = 5 * 1024 * 1024 + 12_345;
    let image = make_image(dir.path(), "disk.img", len);
    let (_, m) = build_ok(dir.path(), &["disk.img"]);
    assert_eq!(m.bytes, Some(len as u64));
    let algorithms: Vec<Algorithm> = m.checksums.iter().map(|c| c.algorithm).collect();
    assert_eq!(algorithms, Algorithm::ALL);
    for (algorithm, tool) in TOOLS {
        assert_eq!(
            m.checksum(algorithm).unwrap(),
            coreutil(tool, &image),
            "{algorithm}"
        );
    }
    let sha1 = coreutil("sha1sum", &image);
    assert_eq!(m.identifier, identifier::from_sha1_hex(&sha1).unwrap());
    assert_eq!(m.kind_type.as_deref(), Some("machine"));
}

#[test]
fn options_map_to_terms() {
    let dir = tempfile::tempdir().unwrap();
    make_image(dir.path(), "disk.img", 100_000);
    let (xml, m) = build_ok(
        dir.path(),
        &[
            "--author",
            "Jane Doe",
            "--os",
            "ubuntu",
            "--os-version",
            "24.04",
            "--os-arch",
            "x86_64",
            "--image-version",
            "1.2",
            "--comment",
            "A <minimal> server & more",
            "--compression",
            "gz",
            "--location",
            "https://a.example.org/disk.img.gz",
            "--location",
            "https://b.example.org/disk.img.gz",
            "--format",
            "raw",
            "--hypervisor",
            "kvm",
            "--title",
            "Ubuntu server",
            "--tag",
            "ubuntu-server",
            "--type",
            "disk",
            "--kind",
            "datablock",
            "--disks-bus",
            "virtio",
            "--disks-bus",
            "scsi",
            "--visible-to",
            "biomed",
            "--visible-to",
            " atlas ",
            "--created",
            "2024-01-31T10:00:00Z",
            "--valid",
            "1y",
            "disk.img",
        ],
    );
    assert_eq!(m.creator.as_deref(), Some("Jane Doe"));
    assert_eq!(m.os.as_deref(), Some("ubuntu"));
    assert_eq!(m.os_version.as_deref(), Some("24.04"));
    assert_eq!(m.os_arch.as_deref(), Some("x86_64"));
    assert_eq!(m.version.as_deref(), Some("1.2"));
    assert_eq!(m.description.as_deref(), Some("A <minimal> server & more"));
    assert_eq!(m.compression.as_deref(), Some("gz"));
    assert_eq!(
        m.locations,
        [
            "https://a.example.org/disk.img.gz",
            "https://b.example.org/disk.img.gz"
        ]
    );
    assert_eq!(m.format.as_deref(), Some("raw"));
    assert_eq!(m.hypervisor.as_deref(), Some("kvm"));
    assert_eq!(m.title.as_deref(), Some("Ubuntu server"));
    assert_eq!(m.alternative.as_deref(), Some("ubuntu-server"));
    assert_eq!(m.kind_type.as_deref(), Some("disk"));
    assert_eq!(m.kind.as_deref(), Some("datablock"));
    assert_eq!(m.disks_bus, ["virtio", "scsi"]);
    assert_eq!(m.visible_to, ["biomed", "atlas"]);
    assert!(
        xml.contains("<mp:visible-to>biomed</mp:visible-to>"),
        "{xml}"
    );
    assert_eq!(m.created.as_deref(), Some("2024-01-31T10:00:00Z"));
    assert_eq!(m.valid.as_deref(), Some("2025-01-31T10:00:00Z"));
    assert!(xml.contains("<dcterms:creator>Jane Doe</dcterms:creator>"));
    assert!(xml.contains("<slterms:version>1.2</slterms:version>"));
    assert!(xml.contains("A &lt;minimal&gt; server &amp; more"));
}

#[test]
fn no_options_leave_checksums_out() {
    let dir = tempfile::tempdir().unwrap();
    let image = make_image(dir.path(), "disk.img", 70_000);
    let (_, m) = build_ok(dir.path(), &["--no-md5", "--no-sha512", "disk.img"]);
    let algorithms: Vec<Algorithm> = m.checksums.iter().map(|c| c.algorithm).collect();
    assert_eq!(algorithms, [Algorithm::Sha1, Algorithm::Sha256]);
    assert_eq!(
        m.checksum(Algorithm::Sha256).unwrap(),
        coreutil("sha256sum", &image)
    );
    let (_, m) = build_ok(dir.path(), &["--no-sha256", "disk.img"]);
    assert!(m.checksum(Algorithm::Sha256).is_none());
    assert!(m.checksum(Algorithm::Md5).is_some());
}

#[test]
fn supplied_digests_are_used_instead_of_computed() {
    let dir = tempfile::tempdir().unwrap();
    let image = make_image(dir.path(), "disk.img", 300_000);
    // A well-formed but wrong MD5 shows it is taken as given, not computed.
    let md5 = "0123456789ABCDEF0123456789abcdef";
    let (_, m) = build_ok(dir.path(), &["--md5", md5, "disk.img"]);
    assert_eq!(
        m.checksum(Algorithm::Md5),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        m.checksum(Algorithm::Sha512).unwrap(),
        coreutil("sha512sum", &image)
    );

    // Every needed digest given: the file is not read, its size comes from the file system ...
    let sha1 = "00f3e30c030f8b93f220b04131032dddf51f2100";
    let sha256 = "ab".repeat(32);
    let given = [
        "--no-md5",
        "--no-sha512",
        "--sha1",
        sha1,
        "--sha256",
        &sha256,
    ];
    let mut args = given.to_vec();
    args.push("disk.img");
    let (_, m) = build_ok(dir.path(), &args);
    assert_eq!(m.bytes, Some(300_000));
    assert_eq!(m.checksum(Algorithm::Sha1), Some(sha1));
    assert_eq!(m.identifier, identifier::from_sha1_hex(sha1).unwrap());

    // ... or from --bytes, and then the file need not exist.
    let mut args = given.to_vec();
    args.extend(["--bytes", "4096", "elsewhere.img"]);
    let (_, m) = build_ok(dir.path(), &args);
    assert_eq!(m.bytes, Some(4096));

    let mut args = vec!["-o", "-"];
    args.extend(given);
    args.push("elsewhere.img");
    let out = build(dir.path(), &args);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--bytes"), "{}", stderr(&out));

    // --bytes must agree with the file.
    let out = build(dir.path(), &["-o", "-", "--bytes", "5", "disk.img"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--bytes 5 does not match"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn valid_accepts_durations_and_dates() {
    let dir = tempfile::tempdir().unwrap();
    make_image(dir.path(), "disk.img", 10_000);
    let created = "2024-01-31T10:00:00Z";
    for (valid, expected) in [
        ("6m", "2024-07-31T10:00:00Z"),
        ("90d", "2024-04-30T10:00:00Z"),
        ("2w", "2024-02-14T10:00:00Z"),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("2030-01-01T01:30:00+02:00", "2029-12-31T23:30:00Z"),
        ("2030-01-01", "2030-01-01T00:00:00Z"),
    ] {
        let (_, m) = build_ok(
            dir.path(),
            &["--created", created, "--valid", valid, "disk.img"],
        );
        assert_eq!(m.valid.as_deref(), Some(expected), "--valid {valid}");
    }
    // The default is six months from now.
    let (_, m) = build_ok(dir.path(), &["disk.img"]);
    let created = chrono::DateTime::parse_from_rfc3339(m.created.as_deref().unwrap()).unwrap();
    let valid = chrono::DateTime::parse_from_rfc3339(m.valid.as_deref().unwrap()).unwrap();
    let days = (valid - created).num_days();
    assert!((181..=184).contains(&days), "{days} days");
}

#[test]
fn bad_valid_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    make_image(dir.path(), "disk.img", 10_000);
    let out = build(dir.path(), &["--valid", "soon", "disk.img"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--valid") && err.contains("'soon' is neither a date"),
        "{err}"
    );
    assert!(!dir.path().join("disk.img.xml").exists());

    let out = build(
        dir.path(),
        &[
            "--created",
            "2024-01-01T00:00:00Z",
            "--valid",
            "2023-01-01T00:00:00Z",
            "disk.img",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not after the creation time"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path(), &["no-such.img"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no-such.img") && err.contains("No such file"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(!dir.path().join("no-such.img.xml").exists());
}

#[test]
fn other_bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_image(dir.path(), "disk.img", 1000);
    std::fs::write(dir.path().join("empty.img"), b"").unwrap();
    let refused = |args: &[&str], needle: &str| {
        let out = build(dir.path(), args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    };
    refused(&["empty.img"], "is empty");
    refused(
        &["--sha1", "abc", "disk.img"],
        "expected 40 hexadecimal digits",
    );
    refused(
        &["--md5", &"0".repeat(32), "--no-md5", "disk.img"],
        "--no-md5",
    );
    refused(&["--location", "not a uri", "disk.img"], "slterms:location");
    refused(&["--type", "", "disk.img"], "dcterms:type");
    refused(
        &["--visible-to", " ", "disk.img"],
        "a VO name cannot be blank",
    );
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    refused(&["adir"], "is a directory");
    refused(&["-o", "-", "."], "is a directory");
    assert!(!dir.path().join("disk.img.xml").exists());
}

#[test]
fn default_output_is_named_after_the_image_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("images")).unwrap();
    make_image(&dir.path().join("images"), "disk.img", 20_000);
    let out = build(dir.path(), &["images/disk.img"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = std::fs::read(dir.path().join("disk.img.xml")).unwrap();
    assert!(marketplace_format::parse(&written).metadata.bytes == Some(20_000));

    let out = build(dir.path(), &["-o", "meta/x.xml", "images/disk.img"]);
    assert!(!out.status.success(), "the directory does not exist");
    let out = build(dir.path(), &["--output", "x.xml", "images/disk.img"]);
    assert!(out.status.success());
    assert!(dir.path().join("x.xml").exists());
}

#[test]
fn help_has_an_example() {
    let out = Command::new(BIN)
        .args(["build", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:") && help.contains("marketplace build --author"));
    assert!(help.contains("six"), "the default expiry is documented");
}
