//! Endorser identity from the command line: an upload in another's name
//! is refused, and the operator's `admin import` / `admin endorser`
//! commands report and change bindings.

use crate::harness::*;
use std::path::Path;

/// Bob's certificate, claiming Alice's address (it carries none itself).
fn bob_as_alice(pki: &marketplace_test_pki::TestPki) -> Vec<String> {
    let mut options = bob(pki);
    let email = options.iter().position(|o| o == "bob@example.org").unwrap();
    options[email] = "alice@example.org".into();
    options
}

/// `marketplace admin --data-dir DATA ARGS`.
fn admin(data: &Path, args: &[&str]) -> std::process::Output {
    marketplace()
        .args(["admin", "--data-dir"])
        .arg(data)
        .args(args)
        .env("MARKETPLACE_REQUIRE_CERTIFIED_EMAIL", "false")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn an_upload_in_another_endorsers_name_is_refused() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let hers = describe_and_sign(
        work.path(),
        "a.img",
        &image_bytes(1, 4096),
        &[],
        &strs(&alice(pki)),
    );
    expect(&server.run(&["upload", hers.to_str().unwrap()]), 0);

    let forged = describe_and_sign(
        work.path(),
        "b.img",
        &image_bytes(2, 4096),
        &[],
        &strs(&bob_as_alice(pki)),
    );
    let o = server.run(&["upload", forged.to_str().unwrap()]);
    expect(&o, 5); // refused (403): authentication refused
    let err = text(&o);
    assert!(err.contains("refused (403)"), "{err}");
    assert!(err.contains("alice@example.org is bound to"), "{err}");
    assert!(err.contains("CN=Alice"), "{err}");
    assert!(err.contains("admin endorser rebind"), "{err}");

    // Without a CA directory, Alice's identity is hers by first use only.
    let o = server.run(&["show", &identifier_of(&hers)]);
    expect(&o, 0);
    assert!(text(&o).contains("self-asserted"), "{}", text(&o));
}

#[test]
fn import_reports_several_keys_and_the_operator_rebinds() {
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let originals = work.path().join("originals");
    std::fs::create_dir(&originals).unwrap();
    let hers = describe_and_sign(
        &originals,
        "a.img",
        &image_bytes(1, 4096),
        &[],
        &strs(&alice(pki)),
    );
    // A later entry under her address with another key, as the original
    // server accepted.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let later = describe_and_sign(
        &originals,
        "b.img",
        &image_bytes(2, 4096),
        &[],
        &strs(&bob_as_alice(pki)),
    );
    for image in ["a.img", "b.img"] {
        std::fs::remove_file(originals.join(image)).unwrap();
    }
    assert!(hers.exists() && later.exists());

    let data = work.path().join("data");
    let o = admin(&data, &["import", originals.to_str().unwrap()]);
    expect(&o, 0);
    let out = text(&o);
    assert!(out.contains("2 files: 2 created"), "{out}");
    assert!(
        out.contains("endorser alice@example.org signed with 2 keys"),
        "{out}"
    );
    assert!(out.contains("CN=Alice") && out.contains("CN=Bob"), "{out}");

    // Bound to the newest entry's signer: Bob's certificate.
    let o = admin(&data, &["endorser", "show", "Alice@Example.org"]);
    expect(&o, 0);
    let out = text(&o);
    assert!(
        out.starts_with("alice@example.org: the certificate of"),
        "{out}"
    );
    assert!(out.contains("CN=Bob"), "{out}");

    // The operator gives it back to Alice's certificate.
    let o = admin(
        &data,
        &[
            "endorser",
            "rebind",
            "alice@example.org",
            "--certificate",
            &pki.file("alice.pem"),
        ],
    );
    expect(&o, 0);
    let out = text(&o);
    assert!(
        out.contains("was bound to the certificate of") && out.contains("CN=Bob"),
        "{out}"
    );
    assert!(
        out.contains("is now bound to") && out.contains("CN=Alice"),
        "{out}"
    );
    assert!(out.contains("WARN"), "the change is logged: {out}");
    let o = admin(&data, &["endorser", "show", "alice@example.org"]);
    assert!(text(&o).contains("CN=Alice"), "{}", text(&o));

    // Released: the next accepted entry binds it.
    let o = admin(&data, &["endorser", "rebind", "alice@example.org"]);
    expect(&o, 0);
    assert!(text(&o).contains("is released"), "{}", text(&o));
    let o = admin(&data, &["endorser", "show", "alice@example.org"]);
    assert!(text(&o).contains("not bound"), "{}", text(&o));

    // A file that is not a certificate is an error, and changes nothing.
    let o = admin(
        &data,
        &[
            "endorser",
            "rebind",
            "alice@example.org",
            "--certificate",
            hers.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let o = admin(&data, &["endorser", "show", "alice@example.org"]);
    assert!(text(&o).contains("not bound"), "{}", text(&o));
}
