//! `marketplace occi-link` against an OCCI 1.1 service speaking the
//! text/plain and text/uri-list renderings, with the errors real services
//! return.

use crate::harness::*;

fn site(uri_list: bool, credentials: Option<&str>) -> String {
    Occi {
        templates: vec![
            ("uuid_ubuntu_2404".into(), "Ubuntu 24.04".into()),
            ("uuid_debian_12".into(), "Debian 12".into()),
            ("uuid_debian_12b".into(), "Debian 12".into()),
        ],
        storage: vec![
            ("101".into(), "ttylinux".into()),
            ("102".into(), "CentOS 7, minimal".into()),
        ],
        uri_list,
        credentials: credentials.map(str::to_string),
    }
    .start()
}

fn link(endpoint: &str, image: &str, extra: &[&str]) -> std::process::Output {
    run(&[
        &["occi-link", "--endpoint", endpoint, "--image", image],
        extra,
    ]
    .concat())
}

#[test]
fn finds_templates_and_storage_by_title() {
    let endpoint = site(true, None);
    let o = link(&endpoint, "Ubuntu 24.04", &[]);
    expect(&o, 0);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "http://site.example.org/occi/os_tpl#uuid_ubuntu_2404"
    );
    let o = link(&endpoint, "CentOS 7, minimal", &["--json"]);
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(v["kind"], "storage");
    assert_eq!(v["url"], format!("{endpoint}/storage/102"));
    // Case is ignored when nothing matches exactly.
    let o = link(&endpoint, "TTYLINUX", &[]);
    expect(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).ends_with("/storage/101\n"));

    // Services that list collections only as X-OCCI-Location lines.
    let plain = site(false, None);
    let o = link(&plain, "ttylinux", &["--kind", "storage"]);
    expect(&o, 0);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("{plain}/storage/101")
    );
}

#[test]
fn no_match_several_matches_and_authentication() {
    let endpoint = site(true, None);
    let o = link(&endpoint, "Windows", &[]);
    expect(&o, 4);
    let err = text(&o);
    assert!(
        err.contains("no OS template or storage resource titled 'Windows'"),
        "{err}"
    );
    assert!(
        err.contains("Ubuntu 24.04 (os_tpl)") && err.contains("ttylinux (storage)"),
        "{err}"
    );

    let o = link(&endpoint, "Debian 12", &[]);
    expect(&o, 1);
    let err = text(&o);
    assert!(
        err.contains("uuid_debian_12b") && err.contains("uuid_debian_12\n"),
        "{err}"
    );
    assert!(err.contains("2 entities"), "{err}");
    let o = link(&endpoint, "Debian 12", &["--kind", "storage"]);
    expect(&o, 4);

    // 401: say how to give credentials.
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "jane:s3cret")
    );
    let locked = site(true, Some(&basic));
    let o = link(&locked, "ttylinux", &[]);
    expect(&o, 5);
    let err = text(&o);
    assert!(
        err.contains("--user and --password") && err.contains("Basic realm"),
        "{err}"
    );
    let o = link(
        &locked,
        "ttylinux",
        &["--user", "jane", "--password", "wrong"],
    );
    expect(&o, 5);
    assert!(
        text(&o).contains("credentials of 'jane' were refused"),
        "{}",
        text(&o)
    );
    let o = marketplace()
        .args([
            "occi-link",
            "--endpoint",
            &locked,
            "--image",
            "ttylinux",
            "--user",
            "jane",
        ])
        .env("OCCI_PASSWORD", "s3cret")
        .output()
        .unwrap();
    expect(&o, 0);

    // Not an OCCI service at all, and nothing listening.
    let mirror = Mirror::start();
    let o = link(&mirror.url, "x", &[]);
    expect(&o, 3);
    assert!(
        text(&o).contains("does not look like an OCCI 1.1 service"),
        "{}",
        text(&o)
    );
    let o = link("http://127.0.0.1:9", "x", &[]);
    expect(&o, 3);
}
