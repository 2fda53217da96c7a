//! The client checks what it relies on against the marketplace's
//! transparency log: `show --verify`, `policy check` and `download` prove
//! each entry's inclusion, remember the largest checkpoint per log, and stop
//! at a rollback or a fork, naming both checkpoints; `log monitor` lists the
//! entries made under an endorser's name since its last run.

use crate::harness::*;
use std::path::Path;

/// Describes, signs (as alice) and uploads an image to `server`; returns its
/// identifier.
fn upload(server: &Server, work: &Path, name: &str, seed: u32) -> String {
    upload_as(server, work, name, seed, &alice(pki().unwrap()))
}

/// The same, signed with `credential`.
fn upload_as(server: &Server, work: &Path, name: &str, seed: u32, credential: &[String]) -> String {
    let doc = describe_and_sign(
        work,
        name,
        &image_bytes(seed, 4_000),
        &[],
        &strs(credential),
    );
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);
    identifier_of(&doc)
}

#[test]
fn the_log_proves_entries_and_a_rollback_or_a_fork_is_caught() {
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    // Two servers with one log identity (origin and key) and different
    // trees: what an operator showing two histories would run.
    let origin = ("MARKETPLACE_LOG_ORIGIN", "marketplace.test/log");
    let first = Server::start_with(&[origin]);
    let x = upload(&first, work.path(), "x.img", 1);
    let o = first.run(&["show", "--verify", &x]);
    expect(&o, 0);
    assert!(
        text(&o).contains("in the transparency log at index 0 (checkpoint of 1 entries)"),
        "{}",
        text(&o)
    );
    let y = upload(&first, work.path(), "y.img", 2);
    // The log grew: consistent with what was seen, remembered as the new
    // largest checkpoint.
    let o = first.run(&["show", "--verify", "--json", &x]);
    expect(&o, 0);
    assert_eq!(json(&o)[0]["checkpoint_size"], 2, "{}", text(&o));
    let o = first.run(&["show", "--verify", &y]);
    expect(&o, 0);

    // The same log identity, another tree, smaller: a rollback.
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("log.key");
    std::fs::copy(first_key(&first), &key_file).unwrap();
    let key = ("MARKETPLACE_LOG_KEY_FILE", key_file.to_str().unwrap());
    let second = Server::start_with(&[origin, key]);
    let z = upload(&second, work.path(), "z.img", 3);
    let o = second.run(&["show", "--verify", &z]);
    expect(&o, 1);
    let said = text(&o);
    assert!(
        said.contains("rollback") && said.contains("from 2 to 1"),
        "{said}"
    );
    assert!(
        said.contains("seen before:") && said.contains("marketplace.test/log\n2\n"),
        "{said}"
    );
    // It grows past what was seen, but does not extend it: a fork.
    upload(&second, work.path(), "v.img", 4);
    upload(&second, work.path(), "w.img", 5);
    let o = second.run(&["show", "--verify", &z]);
    expect(&o, 1);
    let said = text(&o);
    assert!(
        said.contains("forked") && said.contains("marketplace.test/log\n3\n"),
        "{said}"
    );
    // policy check rests on the log too.
    let policy = policy_file(work.path(), "site.toml", "required_endorsements = 1\n");
    let o = second.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &z]);
    expect(&o, 1);
    assert!(text(&o).contains("forked"), "{}", text(&o));
    let o = first.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &x]);
    expect(&o, 0);

    // A key given on the command line is the only one accepted.
    let o = first.run(&[
        "show",
        "--verify",
        &x,
        "--log-key",
        "marketplace.test/log+00000000+AQ==",
    ]);
    expect(&o, 1);
    assert!(text(&o).contains("is now signed with"), "{}", text(&o));
    let _ = pki;
}

/// The log key file of a harness server.
fn first_key(server: &Server) -> std::path::PathBuf {
    let o = marketplace()
        .args(["admin", "log-key", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    expect(&o, 0);
    server.data_dir().join("log.key")
}

#[test]
fn log_monitor_lists_the_entries_made_under_a_name() {
    let Some(pki) = pki() else { return };
    let work = tempfile::tempdir().unwrap();
    let server = Server::start();
    upload(&server, work.path(), "a.img", 11);
    upload_as(&server, work.path(), "b.img", 12, &bob(pki));
    upload(&server, work.path(), "c.img", 13);

    // The first run reads the whole log: alice's two entries.
    let monitor = |who: &str| server.run(&["log", "monitor", "--endorser", who]);
    let o = monitor("Alice@Example.org");
    expect(&o, 1);
    let said = text(&o);
    assert!(
        said.contains("leaf 0:") && said.contains("leaf 2:"),
        "{said}"
    );
    assert!(!said.contains("bob@example.org"), "{said}");
    assert!(said.contains("leaves 0..3 read, 2 new entries"), "{said}");
    // Nothing new since: exit 0.
    let o = monitor("Alice@Example.org");
    expect(&o, 0);
    assert!(
        text(&o).contains("leaves 3..3 read, 0 new entries"),
        "{}",
        text(&o)
    );
    // A new entry in her name, found from where the last run stopped.
    upload(&server, work.path(), "d.img", 14);
    let o = server.run(&[
        "log",
        "monitor",
        "--json",
        "--endorser",
        "Alice@Example.org",
    ]);
    expect(&o, 1);
    let report = json(&o);
    assert_eq!(
        (report["from"].as_u64(), report["to"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(report["entries"][0]["index"], 3);
    // By certificate subject, in the other notation: the same entries.
    let subject = report["entries"][0]["subject"]
        .as_str()
        .unwrap()
        .to_string();
    let oneline: String = subject
        .split(',')
        .rev()
        .map(|rdn| format!("/{rdn}"))
        .collect();
    let o = monitor(&oneline);
    expect(&o, 1);
    assert!(
        text(&o).contains("3 new entries"),
        "{oneline}: {}",
        text(&o)
    );
}

#[test]
fn log_monitor_refuses_leaves_that_do_not_make_the_signed_tree() {
    if pki().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let server = Server::start();
    upload(&server, work.path(), "a.img", 21);
    upload(&server, work.path(), "b.img", 22);
    let fetch = |path: &str| {
        reqwest::blocking::get(format!("{}{path}", server.url))
            .unwrap()
            .text()
            .unwrap()
    };
    // A server that passes on the real signed checkpoint but shows the
    // leaves in another order (what hiding or changing an entry looks like).
    let info = fetch("/api/v1/log");
    let mut leaves: serde_json::Value =
        serde_json::from_str(&fetch("/api/v1/log/leaves?start=0&end=2")).unwrap();
    leaves["leaves"].as_array_mut().unwrap().swap(0, 1);
    let leaves = leaves.to_string();
    let json = |body: String| move || async move { ([("content-type", "application/json")], body) };
    let mock = serve(
        axum::Router::new()
            .route("/api/v1/log", axum::routing::get(json(info)))
            .route("/api/v1/log/leaves", axum::routing::get(json(leaves))),
    );
    let o = run(&[
        "log",
        "monitor",
        "--endorser",
        "alice@example.org",
        "-m",
        &mock,
    ]);
    expect(&o, 1);
    assert!(
        text(&o).contains("hides or changes entries"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_policy_can_require_a_trusted_log_and_witness_cosignatures() {
    if pki().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let server = Server::start();
    let x = upload(&server, work.path(), "p.img", 31);
    let vkey = reqwest::blocking::get(format!("{}/log/vkey", server.url))
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .to_string();
    let (witness, _) =
        marketplace_log::cosignature::WitnessKey::generate("witness.example/w1").unwrap();
    let (stranger, _) = marketplace_log::key::LogKey::generate("stranger.example/log").unwrap();
    let check = |name: &str, log: &str| {
        let policy = policy_file(
            work.path(),
            name,
            &format!("required_endorsements = 1\n[log]\n{log}"),
        );
        server.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &x])
    };
    // The marketplace's own log, no witness required: allowed.
    let o = check("trusted.toml", &format!("keys = [\"{vkey}\"]\n"));
    expect(&o, 0);
    // A witness quorum nobody met: refused, saying why.
    let o = check(
        "witnessed.toml",
        &format!(
            "keys = [\"{vkey}\"]\nwitnesses = [\"{}\"]\n",
            witness.verifier_key()
        ),
    );
    expect(&o, 1);
    assert!(
        text(&o).contains("0 of the 1 witness cosignatures"),
        "{}",
        text(&o)
    );
    // Another log than the one trusted: refused.
    let o = check(
        "other.toml",
        &format!("keys = [\"{}\"]\n", stranger.verifier_key()),
    );
    expect(&o, 1);
    assert!(
        text(&o).contains("is not one the policy trusts"),
        "{}",
        text(&o)
    );
    // A policy that asks for more witnesses than it lists: a usage error.
    let o = check("bad.toml", &format!("keys = [\"{vkey}\"]\nquorum = 2\n"));
    expect(&o, 2);
}

/// The text at `url`, trimmed.
fn get_text(url: &str) -> String {
    reqwest::blocking::get(url)
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .to_string()
}

/// `signing_time = "log"`: an endorsement signed with a proxy that has
/// expired since counts, because a witness's cosignature dates the entry's
/// integration while the proxy was valid; with the default (`now`) it does
/// not. The marketplace and its witness run in mid-2020, when the test
/// PKI's `alice-proxy-expired` (2020-01-01 .. 2021-01-01) was valid; the
/// check runs today.
#[test]
fn signing_time_log_dates_an_endorsement_by_its_witnessed_integration() {
    let Some(pki) = pki() else {
        return;
    };
    let then = "2020-06-01T00:00:00Z";
    let work = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The marketplace's first start makes its log key; its witness cosigns
    // that log; the marketplace restarts submitting to the witness.
    let vkey = {
        let first = Server::start_on(
            &data,
            &[("MARKETPLACE_NOW", then)],
            tempfile::tempdir().unwrap(),
        );
        get_text(&format!("{}/log/vkey", first.url))
    };
    let witness = Server::start_with(&[
        ("MARKETPLACE_NOW", then),
        ("MARKETPLACE_WITNESS_LOGS", &vkey),
    ]);
    let wkey = get_text(&format!("{}/witness/vkey", witness.url));
    let server = Server::start_on(
        &data,
        &[
            ("MARKETPLACE_NOW", then),
            (
                "MARKETPLACE_WITNESSES",
                &format!("{}/witness {wkey}", witness.url),
            ),
        ],
        dir,
    );
    let proxy = pki.file("alice-proxy-expired.pem");
    let doc = describe_and_sign(
        work.path(),
        "dated.img",
        &image_bytes(41, 4_000),
        &[
            "--created",
            "2020-05-31T00:00:00Z",
            "--valid",
            "2090-01-01T00:00:00Z",
        ],
        &["--proxy", &proxy],
    );
    expect(&server.run(&["upload", doc.to_str().unwrap()]), 0);
    let x = identifier_of(&doc);
    // The cosigner submits the checkpoint within moments.
    let cosigned = (0..100).any(|_| {
        let note = get_text(&format!("{}/log/checkpoint", server.url));
        // The log's signature line, then the witness's.
        let witnessed = note.lines().filter(|l| l.starts_with('\u{2014}')).count() > 1;
        if !witnessed {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        witnessed
    });
    assert!(cosigned, "the witness never cosigned");
    let check = |name: &str, signing_time: &str| {
        let policy = policy_file(
            work.path(),
            name,
            &format!(
                "signing_time = \"{signing_time}\"\n[log]\nkeys = [\"{vkey}\"]\n\
                 witnesses = [\"{wkey}\"]\nquorum = 1\n"
            ),
        );
        server.run(&[
            "policy",
            "check",
            "--explain",
            "--policy",
            policy.to_str().unwrap(),
            &x,
        ])
    };
    // Judged now, the proxy has expired: refused.
    let o = check("now.toml", "now");
    expect(&o, 1);
    assert!(text(&o).contains("expired"), "{}", text(&o));
    // Judged when the witness saw the entry: it counts.
    let o = check("log.toml", "log");
    expect(&o, 0);
    assert!(
        text(&o).contains("certificates judged at 2020-06-01T00:00:00Z"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("has expired since"), "{}", text(&o));
    // Without witnesses the log cannot date anything: a usage error.
    let policy = policy_file(
        work.path(),
        "alone.toml",
        &format!("signing_time = \"log\"\n[log]\nkeys = [\"{vkey}\"]\n"),
    );
    let o = server.run(&["policy", "check", "--policy", policy.to_str().unwrap(), &x]);
    expect(&o, 2);
    assert!(
        text(&o).contains("needs [log] with witnesses"),
        "{}",
        text(&o)
    );
}
