//! New entries from existing ones: `endorse` (double endorsement), `tag`
//! and `deprecate`, which keep every other byte of the description.

use crate::harness::*;

/// The document without its signature and endorsement (what endorsers
/// share, byte for byte).
fn description(doc: &str) -> String {
    let cut = |text: &str, open: &str, close: &str| -> String {
        match (text.find(open), text.find(close)) {
            (Some(a), Some(b)) => format!("{}{}", text[..a].trim_end(), &text[b + close.len()..]),
            _ => text.to_string(),
        }
    };
    let text = cut(doc, "<ds:Signature", "</ds:Signature>");
    let text = cut(&text, "<slreq:endorsement", "</slreq:endorsement>");
    text.trim_end().to_string()
}

#[test]
fn endorse_tag_and_deprecate() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let doc = describe_and_sign(
        work.path(),
        "e.img",
        &image_bytes(50, 10_000),
        &["--title", "Entries & <tags>", "--comment", "kept as it is"],
        &strs(&alice(pki)),
    );
    let id = identifier_of(&doc);
    let original = std::fs::read_to_string(&doc).unwrap();
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);

    // Bob endorses alice's description: two current endorsements.
    let o = server.run(&[&["endorse", &id], &strs(&bob(pki))[..]].concat());
    expect(&o, 0);
    assert!(
        text(&o).contains("created") && text(&o).contains("bob@example.org"),
        "{}",
        text(&o)
    );
    let o = server.run(&["show", "--json", &id]);
    let v = json(&o);
    assert_eq!(v["current"].as_array().unwrap().len(), 2, "{v}");
    let o = server.run(&["show", "--xml", "--endorser", "bob@example.org", &id]);
    expect(&o, 0);
    let bobs = String::from_utf8(o.stdout).unwrap();
    assert!(bobs.contains("<slreq:email>bob@example.org</slreq:email>"));
    assert_eq!(
        description(&bobs),
        description(&original),
        "the description is copied byte for byte"
    );

    // Alice tags her entry; the tag is searchable and the rest unchanged.
    let o = server.run(&[&["tag", "--json", &id, "lts"], &strs(&alice(pki))[..]].concat());
    expect(&o, 0);
    assert_eq!(json(&o)["upload"]["outcome"], "created");
    let o = server.run(&["search", "--tag", "lts", "--json"]);
    assert_eq!(json(&o)["matching"], 1);
    let o = server.run(&["show", "--xml", "--endorser", "alice@example.org", &id]);
    let tagged = String::from_utf8(o.stdout).unwrap();
    assert!(tagged.contains(">lts</dcterms:alternative>"), "{tagged}");
    let tag_line = tagged
        .lines()
        .find(|l| l.contains("dcterms:alternative"))
        .unwrap()
        .to_string()
        + "\n";
    assert_eq!(
        description(&tagged.replace(&tag_line, "")),
        description(&original)
    );

    // Alice deprecates hers (the compatibility name and options work too).
    let o = server.run(
        &[
            &[
                "stratus-deprecate-metadata",
                "--reason",
                "superseded by 2.0",
                &id,
            ],
            &strs(&alice(pki))[..],
        ]
        .concat(),
    );
    expect(&o, 0);
    let o = server.run(&["show", "--xml", "--endorser", "alice@example.org", &id]);
    let deprecated = String::from_utf8(o.stdout).unwrap();
    assert!(
        deprecated.contains(">superseded by 2.0</slterms:deprecated>"),
        "{deprecated}"
    );
    let dep_line = deprecated
        .lines()
        .find(|l| l.contains("slterms:deprecated"))
        .unwrap()
        .to_string()
        + "\n";
    assert_eq!(
        description(&deprecated.replace(&dep_line, "")),
        description(&tagged),
        "deprecation keeps every other byte"
    );
    let o = server.run(&["show", "--json", &id]);
    let v = json(&o);
    assert_eq!(v["current"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["inactive"][0]["deprecated"], "superseded by 2.0");
    // Again: nothing to do.
    let o = server.run(&[&["deprecate", &id], &strs(&alice(pki))[..]].concat());
    expect(&o, 0);
    assert!(text(&o).contains("already deprecated"), "{}", text(&o));
    // A tag on a deprecated entry is refused.
    let o = server.run(&[&["tag", &id, "x"], &strs(&alice(pki))[..]].concat());
    expect(&o, 1);

    // Eve has no entry: nothing to deprecate (4), with the endorsers listed.
    let o = server.run(&[&["deprecate", &id], &strs(&eve(pki))[..]].concat());
    expect(&o, 4);
    assert!(text(&o).contains("alice@example.org"), "{}", text(&o));

    // Without a credential: a usage error saying how to give one.
    let o = server.run(&["deprecate", &id]);
    expect(&o, 2);
    assert!(text(&o).contains("--p12-cert"), "{}", text(&o));
}
