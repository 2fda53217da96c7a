//! `marketplace policy check`: the site's decision from locally verified
//! signatures — trusted CAs, endorsers by certified e-mail or DN, VOs and
//! FQANs, k distinct endorsements, deprecated and expired entries.

use crate::harness::*;
use std::path::Path;

fn check(server: &Server, policy: &Path, id: &str, extra: &[&str]) -> std::process::Output {
    server.run(
        &[
            &["policy", "check", "--policy", policy.to_str().unwrap(), id],
            extra,
        ]
        .concat(),
    )
}

#[test]
fn k_of_n_trusted_endorsements() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let doc = describe_and_sign(
        work.path(),
        "p.img",
        &image_bytes(60, 8000),
        &[],
        &strs(&alice(pki)),
    );
    let id = identifier_of(&doc);
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);

    let anyone = policy_file(work.path(), "anyone.toml", "");
    let o = check(&server, &anyone, &id, &["--explain"]);
    expect(&o, 0);
    let out = text(&o);
    assert!(
        out.contains("decided by rule required_endorsements"),
        "{out}"
    );
    assert!(
        out.contains("alice@example.org") && out.contains("counts"),
        "{out}"
    );

    let two = policy_file(work.path(), "two.toml", "required_endorsements = 2\n");
    let o = check(&server, &two, &id, &["--json"]);
    expect(&o, 1);
    let v = json(&o);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["rule"], "required_endorsements");

    // Eve endorses too, but her CA is not trusted: still one.
    let o = server.run(&[&["endorse", &id], &strs(&eve(pki))[..]].concat());
    expect(&o, 0);
    let o = check(&server, &two, &id, &["--explain"]);
    expect(&o, 1);
    assert!(text(&o).contains("chain is not trusted"), "{}", text(&o));

    // Bob endorses: listed by e-mail it does not count (his certificate has
    // none), listed by DN it does.
    let o = server.run(&[&["endorse", &id], &strs(&bob(pki))[..]].concat());
    expect(&o, 0);
    let by_mail = policy_file(
        work.path(),
        "mail.toml",
        "required_endorsements = 2\nendorsers = [\"alice@example.org\", \"bob@example.org\"]\n",
    );
    let o = check(&server, &by_mail, &id, &["--explain"]);
    expect(&o, 1);
    assert!(
        text(&o).contains("the signing certificate does not carry it"),
        "{}",
        text(&o)
    );
    let by_dn = policy_file(
        work.path(),
        "dn.toml",
        "required_endorsements = 2\nendorsers = [\"alice@example.org\", \
         \"/C=EU/O=Marketplace Test Grid/OU=Users/CN=Bob Example\"]\n",
    );
    let o = check(&server, &by_dn, &id, &["--json"]);
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(v["endorsements"].as_array().unwrap().len(), 2, "{v}");
    let o = check(&server, &two, &id, &[]);
    expect(&o, 0);

    // Alice deprecates: a trusted deprecation refuses.
    let o = server.run(
        &[
            &["deprecate", &id, "--reason", "broken"],
            &strs(&alice(pki))[..],
        ]
        .concat(),
    );
    expect(&o, 0);
    let o = check(&server, &by_dn, &id, &["--explain"]);
    expect(&o, 1);
    assert!(
        text(&o).contains("decided by rule refuse_deprecated"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("broken"), "{}", text(&o));
    // ... unless the policy says otherwise.
    let lenient = policy_file(
        work.path(),
        "lenient.toml",
        "required_endorsements = 2\nrefuse_deprecated = false\n",
    );
    expect(&check(&server, &lenient, &id, &[]), 0);

    // Errors: a bad policy (2), an unknown image (4).
    let bad = work.path().join("bad.toml");
    std::fs::write(&bad, "ca_dirs = [\"x\"]\nrequired = 2\n").unwrap();
    let o = check(&server, &bad, &id, &[]);
    expect(&o, 2);
    assert!(text(&o).contains("required"), "{}", text(&o));
    expect(
        &check(&server, &anyone, "AAAAAAAAAAAAAAAAAAAAAAAAAAA", &[]),
        4,
    );
}

#[test]
fn expired_entries_and_voms() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    // An entry that expired long ago.
    let doc = describe_and_sign(
        work.path(),
        "old.img",
        &image_bytes(70, 8000),
        &[
            "--created",
            "2020-01-01T00:00:00Z",
            "--valid",
            "2021-01-01T00:00:00Z",
        ],
        &strs(&alice(pki)),
    );
    let id = identifier_of(&doc);
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);
    let strict = policy_file(work.path(), "strict.toml", "");
    let o = check(&server, &strict, &id, &["--explain"]);
    expect(&o, 1);
    assert!(
        text(&o).contains("decided by rule refuse_expired"),
        "{}",
        text(&o)
    );
    let lenient = policy_file(work.path(), "lenient.toml", "refuse_expired = false\n");
    expect(&check(&server, &lenient, &id, &[]), 0);

    if !pki.has_voms() {
        return;
    }
    // Signed with alice's VOMS proxy (VO testvo, role endorser).
    let doc = describe_and_sign(
        work.path(),
        "voms.img",
        &image_bytes(71, 8000),
        &[],
        &["--proxy", &pki.file("alice-voms.pem")],
    );
    let id = identifier_of(&doc);
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);
    let vomsdir = format!("vomsdir = \"{}\"\n", pki.file("vomsdir"));
    let at: chrono::DateTime<chrono::Utc> = pki.generated_at().parse().unwrap();
    let at = (at + chrono::Duration::minutes(5)).to_rfc3339();
    let role = policy_file(
        work.path(),
        "role.toml",
        &format!("{vomsdir}vos = [\"testvo\"]\nfqans = [\"/testvo/Role=endorser\"]\n"),
    );
    let o = check(&server, &role, &id, &["--explain", "--at", &at]);
    expect(&o, 0);
    assert!(text(&o).contains("/testvo/Role=endorser"), "{}", text(&o));
    let other = policy_file(
        work.path(),
        "other.toml",
        &format!("{vomsdir}vos = [\"othervo\"]\n"),
    );
    let o = check(&server, &other, &id, &["--explain", "--at", &at]);
    expect(&o, 1);
    assert!(
        text(&o).contains("not signed with a VOMS proxy of othervo"),
        "{}",
        text(&o)
    );
}
