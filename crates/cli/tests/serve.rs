//! `marketplace serve` and `marketplace admin` as processes: the start-up
//! line, a request over HTTP, graceful shutdown on SIGTERM, and the admin
//! tasks on the same data directory.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn marketplace() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_marketplace"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MARKETPLACE_") {
            c.env_remove(k);
        }
    }
    c
}

/// A raw HTTP/1.1 GET: (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (status, body)
}

#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = marketplace()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("MARKETPLACE_NOW", "2015-01-01T00:00:00Z")
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let prefix = "marketplace listening on http://";
    // Log lines come first: without a CA directory, a warning saying that
    // every identity is self-asserted.
    let mut before = String::new();
    let line = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{before}");
        if line.starts_with(prefix) {
            break line;
        }
        before.push_str(&line);
    };
    assert!(before.contains("WARN"), "{before}");
    assert!(before.contains("no ca_dir is set"), "{before}");
    assert!(before.contains("self-asserted"), "{before}");
    let addr = line[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(
        line.contains(&format!("(data in {})", data.display())),
        "{line}"
    );
    assert!(data.join("marketplace.db").exists());

    let (status, body) = get(&addr, "/metadata");
    assert_eq!(status, 404);
    assert!(
        body.contains("<error>no metadata matching query found</error>"),
        "{body}"
    );
    assert_eq!(get(&addr, "/upload").0, 200);
    // The log's key, created in the data directory for the server only.
    let (status, served_key) = get(&addr, "/log/vkey");
    assert_eq!(status, 200);
    assert!(served_key.starts_with("127.0.0.1:"), "{served_key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    // Admin tasks on the same (empty) data directory. The log key as the
    // server published it (its origin follows the public URL, the same
    // when the listening port is given as here or not).
    let out = marketplace()
        .args(["admin", "log-key", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let (served_name, served_rest) = served_key.trim().split_once('+').unwrap();
    let (printed_name, printed_rest) = printed.trim().split_once('+').unwrap();
    assert_eq!(served_rest, printed_rest, "the same key");
    assert!(served_name.ends_with("/log") && printed_name.ends_with("/log"));
    let out = marketplace()
        .args(["admin", "--data-dir"])
        .arg(&data)
        .args(["export"])
        .arg(dir.path().join("export"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 0 documents"));
    let out = marketplace()
        .args(["admin", "rebuild-index", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("bad.xml"), "<x/>").unwrap();
    let out = marketplace()
        .args(["admin", "import", "--data-dir"])
        .arg(&data)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused file fails the import"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("refused")
            && stdout.contains("1 files: 0 created, 0 already present, 1 refused"),
        "{stdout}"
    );
}

#[test]
fn bad_configuration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("m.toml");
    std::fs::write(&cfg, "lissen = \"127.0.0.1:1\"\n").unwrap();
    let out = marketplace()
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field") && err.contains("lissen"),
        "{err}"
    );
}

#[test]
fn an_unreadable_log_key_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("log.key"), "not a key\n").unwrap();
    let out = marketplace()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("log key file"), "{stderr}");
    assert!(stderr.contains("log.key"), "{stderr}");
}
