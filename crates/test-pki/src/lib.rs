//! The throwaway grid PKI the integration tests run against, shared by the
//! test suites of `marketplace-server` and `marketplace` (a dev-dependency
//! only; never published).
//!
//! The fixtures are generated, never downloaded or committed: [`generate`]
//! runs `scripts/make-test-pki.sh` into a fresh temporary directory (a CA,
//! users, server certificates, CRLs, RFC 3820 proxies and, with
//! `voms-proxy-fake`, VOMS proxies; see the script's header for the files)
//! and reads the `fixtures.env` it writes. Test binaries call it once, from
//! a `static PKI: OnceLock<Option<TestPki>>`.
//!
//! A missing tool skips the tests (`generate` prints `skipped: …` and
//! returns `None`), except in CI (`CI=true`), where it is a failure.
//!
//! [`corpus`] finds the original library's conformance corpus beside the
//! repository, and skips (or, in CI, fails) the tests that need it when it
//! is not there.
//!
//! [`original_tools`] runs the original StratusLab tools' behaviour (a Java
//! signer and validator on the JDK's XML-DSig, the Python client's writers)
//! for the compatibility tests.
//!
//! [`certs`] generates certificates in the process (a second endorser, a
//! key of some size, a CA of a test's own), when the files of [`generate`]
//! are more than a test needs. [`pg`] gives each PostgreSQL test a schema of
//! its own, and [`smtp`] a real SMTP server (aiosmtpd) to mail through.
//!
//! Two ways to run a marketplace in a test, on purpose: the server crate's
//! tests build the application in their own process (`tests/common`'s
//! `TestServer`: a router over a fresh store, a frozen clock, handlers
//! reachable in a debugger), and the `marketplace` command's tests start
//! the binary itself (`tests/client/harness.rs`'s `Server`: what an operator
//! runs, configured through the environment, killed with `-9` by the crash
//! tests). This crate cannot hold either: it would depend on the server
//! crate that its own tests use.

// Test support: a failure to set up a fixture is the test failing, with the
// message of the `expect`.
#![allow(clippy::expect_used)]

pub mod certs;
pub mod corpus;
pub mod original_tools;
pub mod pg;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// Skips the running test because `why` (a missing tool, service or
/// corpus): in CI (`CI=true`) a panic, elsewhere a line `skipped: <test>:
/// <why>` on the real standard error — written past the test harness's
/// output capture, so that a skipped test shows even when it passes. The
/// test is named by its thread, which the harness names after it. The
/// caller then returns.
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    assert!(!in_ci(), "{test}: {why} (required in CI)");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

/// A loopback port nobody listens on (bound and released; another process
/// may take it before the caller does, so callers that start a server on it
/// check that their server answers).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// Whether `tool` is on the `PATH` (`command -v`).
pub fn tool_available(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether this is a CI run (`CI=true`), where nothing may be skipped.
fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A generated test PKI: its files live in a temporary directory, removed
/// when this is dropped.
pub struct TestPki {
    dir: TempDir,
    generated_at: String,
    voms: bool,
}

impl TestPki {
    /// The directory holding the PKI's files.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of the PKI file `name` (e.g. `"alice.pem"`, `"certificates"`),
    /// as a string for command lines.
    ///
    /// # Panics
    ///
    /// If the temporary directory's path is not UTF-8.
    pub fn file(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("the temporary directory's path is UTF-8")
            .to_string()
    }

    /// When the PKI was made (RFC 3339, UTC, e.g. `2026-01-02T03:04:05Z`):
    /// the VOMS proxies and attribute certificates are valid around it, so
    /// tests freeze their clocks near it.
    pub fn generated_at(&self) -> &str {
        &self.generated_at
    }

    /// Whether VOMS proxies were made (`voms-proxy-fake` was installed).
    pub fn has_voms(&self) -> bool {
        self.voms
    }
}

/// Generates the test PKI, or `None` (the caller skips its test) when one of
/// `tools` is not installed.
///
/// `tools` are the commands the caller's tests need (e.g. `["openssl"]`,
/// or `["openssl", "voms-proxy-fake", "curl"]`); a missing one prints
/// `skipped: TOOL is not installed` and returns `None`, except in CI
/// (`CI=true`), where it panics.
///
/// With `require_voms` the PKI must have VOMS proxies (list
/// `voms-proxy-fake` in `tools`). Without it, VOMS proxies are still
/// required in CI; elsewhere a PKI without them is returned
/// ([`TestPki::has_voms`] is false) and a note printed.
///
/// # Panics
///
/// If the script fails, `fixtures.env` cannot be read, or a rule above is
/// broken.
pub fn generate(tools: &[&str], require_voms: bool) -> Option<TestPki> {
    for tool in tools {
        if !tool_available(tool) {
            skip(&format!("{tool} is not installed"));
            return None;
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-test-pki.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let env = std::fs::read_to_string(dir.path().join("fixtures.env"))
        .expect("the script writes fixtures.env");
    let value = |key: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_default()
            .to_string()
    };
    let voms = value("VOMS") == "yes";
    if require_voms {
        assert!(voms, "the test PKI has no VOMS proxies (VOMS=yes expected)");
    } else if !voms {
        assert!(!in_ci(), "voms-proxy-fake (voms-clients) is required in CI");
        eprintln!("note: voms-proxy-fake missing: VOMS tests are skipped");
    }
    Some(TestPki {
        generated_at: value("GENERATED_AT"),
        voms,
        dir,
    })
}
