//! A real SMTP server for the mail tests: Debian's `python3-aiosmtpd` on a
//! loopback port, delivering to a Maildir the tests read. The one SMTP
//! server of every crate's tests (the server's confirmation mails, the
//! client's report of an upload waiting for confirmation).
//!
//! Without Python's aiosmtpd, [`SmtpServer::start`] skips the test by name
//! ([`crate::skip`]), or fails it in CI.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An aiosmtpd process on a loopback port, stopped when dropped.
pub struct SmtpServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    /// Starts the server, or returns `None` (after [`crate::skip`]) when
    /// aiosmtpd is missing outside CI.
    pub fn start() -> Option<SmtpServer> {
        let Some(python) = python() else {
            crate::skip("python3 with aiosmtpd (Debian python3-aiosmtpd) is not installed");
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        for _ in 0..5 {
            let port = crate::free_port();
            let mut child = Command::new(&python)
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(dir.path().join("box"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python starts");
            if greets(port, &mut child) {
                return Some(SmtpServer { port, dir, child });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aiosmtpd did not start");
    }

    /// The loopback port it listens on (plain SMTP, no TLS).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message received so far, raw (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.dir.path().join("box").join(d)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a delivered message"))
            .collect()
    }

    /// Waits (blocking this thread, at most `timeout`) until `n` messages
    /// arrived, and returns what arrived by then. For a server in another
    /// process or on another runtime; an in-process server on the test's
    /// own runtime polls [`Self::messages`] with the runtime's sleep.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() > deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether aiosmtpd greets on `port` within 15 s. The SMTP greeting proves
/// the listener is this child, not another test's server that took the same
/// free port meanwhile; an exited child (its port taken) gives `false` at
/// once.
fn greets(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut banner = [0u8; 3];
            if std::io::Read::read_exact(&mut stream, &mut banner).is_ok() && &banner == b"220" {
                return true;
            }
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A Python that has aiosmtpd, if any (`MARKETPLACE_TEST_PYTHON`, then
/// Debian's, then the one on the `PATH`).
fn python() -> Option<String> {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("MARKETPLACE_TEST_PYTHON") {
        candidates.push(p);
    }
    candidates.push("/usr/bin/python3".into());
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}
