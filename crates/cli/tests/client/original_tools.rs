//! A site that still runs the original StratusLab tools: documents written
//! by the original client and signed by the original Java library
//! (`marketplace_test_pki::original_tools`) go through `validate`,
//! `upload`, `download`, `policy check` and our own `deprecate`, each
//! showing its notes; our edit keeps every other byte of such a document.

use crate::harness::*;
use marketplace_test_pki::original_tools::OriginalTools;
use std::path::Path;

const SIGNED: &str = "2025-06-01T00:00:00Z";
const DEPRECATED: &str = "2025-07-01T00:00:00Z";

fn tools() -> Option<&'static OriginalTools> {
    static T: std::sync::OnceLock<Option<OriginalTools>> = std::sync::OnceLock::new();
    T.get_or_init(OriginalTools::compile).as_ref()
}

/// The identifier and the SHA-1 (hex) of `image`.
fn identify(image: &[u8]) -> (String, String) {
    let sha1: String = openssl::hash::hash(openssl::hash::MessageDigest::sha1(), image)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (
        marketplace_format::identifier::from_sha1_hex(&sha1).unwrap(),
        sha1,
    )
}

/// The document without its signature (the part our edits must keep).
fn unsigned(text: &str) -> String {
    marketplace_trust::dsig::strip_signature(text).unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn documents_of_the_original_tools_pass_every_client_path_with_notes() {
    let (Some(pki), Some(tools)) = (pki(), tools()) else {
        return;
    };
    let server = Server::start();
    let mirror = Mirror::start();
    let work = tempfile::tempdir().unwrap();
    let image = image_bytes(13, 4096);
    let url = mirror.put("original.img", image.clone());
    let (id, sha1_hex) = identify(&image);
    // stratus-build-metadata --no-md5 --no-sha256 --no-sha512, then stratus-sign-metadata.
    let built = tools.build(&[
        ("identifier", &id),
        ("bytes", "4096"),
        ("sha1", &sha1_hex),
        ("os", "ttylinux"),
        ("location", &url),
    ]);
    let entry = tools.sign(&built, &pki.file("alice.p12"), "secret", SIGNED);
    let entry_file = write(work.path(), "entry.xml", &entry);

    // validate
    let o = run(&["validate", &entry_file]);
    expect(&o, 0);
    let out = text(&o);
    assert!(
        out.contains("entry.xml: note: line 11: slreq:value: the MD5 checksum is empty"),
        "{out}"
    );

    // upload: the server's notes on standard error
    let o = server.run(&["upload", &entry_file]);
    expect(&o, 0);
    assert!(
        stderr(&o).contains("entry.xml: note: line 11: slreq:value: the SHA-256 checksum is empty"),
        "{}",
        stderr(&o)
    );

    // download: the SHA-1 verified, the empty checksums never tried
    let target = work.path().join("got.img");
    let o = server.run(&["download", &id, "--output", target.to_str().unwrap()]);
    expect(&o, 0);
    assert_eq!(std::fs::read(&target).unwrap(), image);
    assert!(
        stderr(&o).contains(&format!(
            "note: alice@example.org's entry of {SIGNED}: line 11: slreq:value: the MD5 checksum"
        )),
        "{}",
        stderr(&o)
    );

    // policy check
    let policy = policy_file(
        work.path(),
        "policy.toml",
        "endorsers = [\"alice@example.org\"]\n",
    );
    let o = server.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &id]);
    expect(&o, 0);
    assert!(text(&o).contains("allowed"), "{}", text(&o));
    assert!(
        stderr(&o).contains("note: alice@example.org's entry of 2025-06-01T00:00:00Z:"),
        "{}",
        stderr(&o)
    );

    // stratus-deprecate-metadata: the stored entry, rewritten and signed again.
    let o = server.run(&["show", "--xml", &id]);
    expect(&o, 0);
    let stored = String::from_utf8(o.stdout).unwrap();
    let deprecation = tools.sign(
        &tools.deprecate(&stored, "broken kernel"),
        &pki.file("alice.p12"),
        "secret",
        DEPRECATED,
    );
    assert!(deprecation.contains(":endorsement parseType=\"Resource\">"));
    let deprecation_file = write(work.path(), "deprecation.xml", &deprecation);
    let o = run(&["validate", &deprecation_file]);
    expect(&o, 0);
    assert!(
        text(&o).contains(
            "slreq:endorsement/@parseType: the attribute parseType has no namespace: read as \
             rdf:parseType"
        ),
        "{}",
        text(&o)
    );
    let o = server.run(&["upload", &deprecation_file]);
    expect(&o, 0);
    assert!(stderr(&o).contains("has no namespace"), "{}", stderr(&o));
    let o = server.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &id]);
    expect(&o, 1);
    assert!(stderr(&o).contains("has no namespace"), "{}", stderr(&o));
}

#[test]
fn our_edits_keep_every_other_byte_of_an_original_document() {
    let (Some(pki), Some(tools)) = (pki(), tools()) else {
        return;
    };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let image = image_bytes(17, 2048);
    let (id, sha1_hex) = identify(&image);
    // Built, given an inbound port by the client (ElementTree writes it all
    // again: ns0, ns1, ... prefixes), then signed by the Java library.
    let built = tools.build(&[
        ("identifier", &id),
        ("bytes", "2048"),
        ("sha1", &sha1_hex),
        ("location", "https://images.example.org/edit.img"),
    ]);
    let rewritten = tools.add_element(&built, "inbound-port", "22");
    let original = tools.sign(&rewritten, &pki.file("alice.p12"), "secret", SIGNED);
    assert!(original.contains("<endorser xmlns=\"http://mp.stratuslab.eu/slreq#\""));
    let file = write(work.path(), "original.xml", &original);
    expect(&server.run(&["upload", &file]), 0);

    // Our `tag`: a new endorsement and the tag, every other byte kept.
    let mut tag = vec!["tag", &id, "v2"];
    let credentials = alice(pki);
    tag.extend(strs(&credentials));
    let o = server.run(&tag);
    expect(&o, 0);
    assert!(
        stderr(&o).contains("note: line 11: slreq:value: the MD5 checksum is empty"),
        "{}",
        stderr(&o)
    );
    let o = server.run(&["show", "--xml", &id]);
    expect(&o, 0);
    let ours = unsigned(&String::from_utf8(o.stdout).unwrap());
    let theirs = unsigned(&original);
    let prefix = |t: &str, name: &str| {
        let open = t.find(&format!(":{name}")).unwrap();
        let lt = t[..open].rfind('<').unwrap();
        t[lt + 1..open].to_string()
    };
    let (dc, req) = (
        prefix(&theirs, "alternative"),
        prefix(&theirs, "endorsement"),
    );
    let empty_tag = format!("<{dc}:alternative/>");
    let tag_at = theirs
        .find(&empty_tag)
        .unwrap_or_else(|| panic!("{theirs}"));
    let start = theirs.find(&format!("<{req}:endorsement")).unwrap();
    let close = format!("</{req}:endorsement>");
    let end = theirs.find(&close).unwrap() + close.len();
    let ours_start = ours.find("<slreq:endorsement").unwrap();
    let ours_end = ours.find("</slreq:endorsement>").unwrap() + "</slreq:endorsement>".len();
    // Before the endorsement: the same bytes, the tag filled in.
    let (first, second) = if tag_at < start {
        (
            theirs[..tag_at].to_string()
                + &format!("<{dc}:alternative>v2</{dc}:alternative>")
                + &theirs[tag_at + empty_tag.len()..start],
            theirs[end..].to_string(),
        )
    } else {
        (
            theirs[..start].to_string(),
            theirs[end..tag_at].to_string()
                + &format!("<{dc}:alternative>v2</{dc}:alternative>")
                + &theirs[tag_at + empty_tag.len()..],
        )
    };
    assert_eq!(&ours[..ours_start], first, "{ours}");
    // After it: the same bytes; our signature (removed here) ended with a
    // line break of its own before </rdf:RDF>.
    assert_eq!(
        ours[ours_end..].strip_suffix("\n</rdf:RDF>"),
        second.strip_suffix("</rdf:RDF>"),
        "{ours}"
    );
}
