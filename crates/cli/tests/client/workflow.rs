//! The seed's workflow end to end: find the OCCI link, build, sign,
//! upload; then search, show, download and the site's policy check.

use crate::harness::*;

#[test]
fn provider_and_site_workflow() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let mirror = Mirror::start();
    let occi = Occi {
        templates: vec![("uuid_ttylinux_7".into(), "ttylinux 16.1".into())],
        storage: vec![("7".into(), "ttylinux 16.1".into())],
        uri_list: true,
        credentials: None,
    }
    .start();
    let work = tempfile::tempdir().unwrap();

    // 1. The OCCI link of the image in the site's store.
    let o = run(&[
        "occi-link",
        "--endpoint",
        &occi,
        "--image",
        "ttylinux 16.1",
        "--kind",
        "storage",
    ]);
    expect(&o, 0);
    let occi_link = String::from_utf8(o.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(occi_link, format!("{occi}/storage/7"));

    // 2-3. Build and sign; the image is also on a web mirror.
    let image = image_bytes(1, 2 * 1024 * 1024 + 17);
    let web = mirror.put("ttylinux.img", image.clone());
    let doc = describe_and_sign(
        work.path(),
        "ttylinux.img",
        &image,
        &[
            "--title",
            "ttylinux 16.1",
            "--comment",
            "a tiny Linux",
            "--location",
            &occi_link,
            "--location",
            &web,
        ],
        &strs(&alice(pki)),
    );
    let id = identifier_of(&doc);

    // 4. Upload (twice: the second time it is already there).
    let o = server.run(&["upload", doc.to_str().unwrap()]);
    expect(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("created") && out.contains(&format!("/metadata/{id}/alice@example.org/")),
        "{out}"
    );
    let o = server.run(&["upload", "--json", doc.to_str().unwrap()]);
    expect(&o, 0);
    assert_eq!(json(&o)[0]["outcome"], "already-present");

    // Search, paged, as a table and as JSON.
    let o = server.run(&["search", "tiny"]);
    expect(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.starts_with("IDENTIFIER"), "{out}");
    assert!(
        out.contains(&id) && out.contains("alice@example.org"),
        "{out}"
    );
    let o = server.run(&[
        "search",
        "--os",
        "ttylinux",
        "--os-arch",
        "x86_64",
        "--json",
    ]);
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(v["matching"], 1);
    assert_eq!(v["items"][0]["identifier"], id.as_str());
    let o = server.run(&["search", "--os", "windows"]);
    expect(&o, 0);
    assert!(text(&o).contains("no entries match"), "{}", text(&o));

    // Show.
    let o = server.run(&["show", &id]);
    expect(&o, 0);
    let out = text(&o);
    assert!(
        out.contains("1 current endorsement") && out.contains(&web),
        "{out}"
    );
    let o = server.run(&["show", "--xml", &id]);
    expect(&o, 0);
    assert_eq!(o.stdout, std::fs::read(&doc).unwrap(), "the signed bytes");
    let o = server.run(&["show", "--history", "--json", &id]);
    expect(&o, 0);
    assert_eq!(json(&o)["count"], 1);

    // Download: the OCCI link is not the file (it fails verification), the mirror is.
    let target = work.path().join("got.img");
    let o = server.run(&["download", &id, "--output", target.to_str().unwrap()]);
    expect(&o, 0);
    assert_eq!(std::fs::read(&target).unwrap(), image);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("MISMATCH") && err.contains(&occi_link),
        "{err}"
    );

    // The site's policy: alice is trusted.
    let policy = policy_file(
        work.path(),
        "policy.toml",
        "endorsers = [\"alice@example.org\"]\n",
    );
    let o = server.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &id]);
    expect(&o, 0);
    assert!(text(&o).contains("allowed"), "{}", text(&o));
}

#[test]
fn uploads_report_refusals_and_use_the_original_names() {
    let Some(pki) = pki() else { return };
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let doc = describe_and_sign(
        work.path(),
        "a.img",
        &image_bytes(2, 4096),
        &[],
        &strs(&alice(pki)),
    );
    // A tampered document: the server's reason is shown, exit status 1.
    let tampered = work.path().join("tampered.xml");
    let text_doc = std::fs::read_to_string(&doc).unwrap();
    std::fs::write(&tampered, text_doc.replace("ttylinux", "ttyLinux")).unwrap();
    // An unsigned one is refused before sending.
    let unsigned = work.path().join("unsigned.xml");
    let o = run(&[
        "build",
        "--output",
        unsigned.to_str().unwrap(),
        doc.to_str().unwrap(),
    ]);
    expect(&o, 0);
    let o = server.run(&[
        "upload",
        tampered.to_str().unwrap(),
        unsigned.to_str().unwrap(),
    ]);
    expect(&o, 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tampered.xml: refused (400)"), "{err}");
    assert!(err.contains("signature"), "{err}");
    assert!(err.contains("not signed; sign it first"), "{err}");

    // stratus-upload-metadata with its option name.
    let o = marketplace()
        .args([
            "stratus-upload-metadata",
            "--marketplace-endpoint",
            &server.url,
            doc.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    expect(&o, 0);
    assert!(text(&o).contains("created"), "{}", text(&o));
}

#[test]
fn every_command_has_an_example_in_its_help() {
    for command in [
        "build",
        "sign",
        "validate",
        "upload",
        "search",
        "show",
        "download",
        "deprecate",
        "endorse",
        "tag",
        "occi-link",
        "policy check",
        "config",
        "serve",
        "admin",
    ] {
        let args: Vec<&str> = command.split(' ').chain(["--help"]).collect();
        let o = run(&args);
        expect(&o, 0);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(
            help.contains("Examples:") || help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
    let o = run(&["--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("Exit status:") && help.contains("3  network"),
        "{help}"
    );
}

#[test]
fn uploads_waiting_for_email_confirmation_say_so() {
    let Some(pki) = pki() else { return };
    let Some(smtp) = marketplace_test_pki::smtp::SmtpServer::start() else {
        return;
    };
    let port = smtp.port().to_string();
    let server = Server::start_with(&[
        ("MARKETPLACE_VALIDATE_EMAIL", "true"),
        ("MARKETPLACE_SMTP_HOST", "127.0.0.1"),
        ("MARKETPLACE_SMTP_PORT", &port),
        ("MARKETPLACE_SMTP_TLS", "none"),
        ("MARKETPLACE_MAIL_FROM", "marketplace@example.org"),
    ]);
    let work = tempfile::tempdir().unwrap();
    // Bob's certificate carries no e-mail: the address must be confirmed.
    let doc = describe_and_sign(
        work.path(),
        "c.img",
        &image_bytes(3, 4096),
        &[],
        &strs(&bob(pki)),
    );
    let o = server.run(&["upload", doc.to_str().unwrap()]);
    expect(&o, 0);
    let out = text(&o);
    assert!(out.contains("waiting for e-mail confirmation"), "{out}");
    assert!(out.contains("bob@example.org"), "{out}");
    assert_eq!(
        smtp.wait_for(1, std::time::Duration::from_secs(10)).len(),
        1,
        "one confirmation mail"
    );
    let o = server.run(&["upload", "--json", doc.to_str().unwrap()]);
    let v = json(&o);
    assert!(
        v[0]["outcome"] == "pending-confirmation" || v[0]["outcome"] == "already-present",
        "{v}"
    );
}
