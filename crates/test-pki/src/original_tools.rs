//! The original StratusLab tools' behaviour, rebuilt for compatibility
//! tests: `original-tools/OriginalTools.java` signs and validates as the
//! original Java metadata library did (on the JDK's own XML-DSig), and
//! `original-tools/original_client.py` writes what the original Python
//! client wrote (`stratus-build-metadata`'s template, the ElementTree
//! rewrite of `stratus-deprecate-metadata`). Both are compiled or run from
//! the repository; nothing is downloaded.

use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The compiled Java tool and the Python script, ready to run.
pub struct OriginalTools {
    classes: TempDir,
}

fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("original-tools")
}

fn run(command: &mut Command) -> std::process::Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn write_temp(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a temporary file");
    path
}

impl OriginalTools {
    /// Compiles the Java tool, or `None` (the caller skips its test, after
    /// `skipped: …` is printed) when `javac`, `java` or `python3` is not
    /// installed; in CI (`CI=true`) a missing tool is a failure.
    ///
    /// # Panics
    ///
    /// If compiling fails, or a tool is missing in CI.
    pub fn compile() -> Option<OriginalTools> {
        for tool in ["javac", "java", "python3"] {
            if !crate::tool_available(tool) {
                assert!(!crate::in_ci(), "{tool} is required in CI");
                eprintln!(
                    "skipped: {tool} is not installed (Debian packages openjdk-17-jdk-headless, python3)"
                );
                return None;
            }
        }
        let classes = tempfile::tempdir().expect("a temporary directory");
        let out = run(Command::new("javac")
            .arg("-d")
            .arg(classes.path())
            .arg(sources().join("OriginalTools.java")));
        assert!(
            out.status.success(),
            "javac failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(OriginalTools { classes })
    }

    /// What the original `stratus-sign-metadata` writes for `xml`: the
    /// endorsement filled from the PKCS#12 credential (dated `now`,
    /// `YYYY-MM-DDTHH:MM:SSZ`), signed with RSA-SHA1 and C14N with comments,
    /// written by the JDK's serializer (base64 lines ending in `&#13;`).
    ///
    /// # Panics
    ///
    /// If the Java tool fails.
    pub fn sign(&self, xml: &str, p12: &str, password: &str, now: &str) -> String {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = write_temp(dir.path(), "in.xml", xml);
        let output = dir.path().join("out.xml");
        let out = run(Command::new("java")
            .arg("-cp")
            .arg(self.classes.path())
            .arg("OriginalTools")
            .arg("sign")
            .arg(&input)
            .arg(&output)
            .arg(p12)
            .arg(password)
            .env("MARKETPLACE_NOW", now));
        assert!(
            out.status.success(),
            "the original signer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(output).expect("the signer writes its output")
    }

    /// The original library's signature check of `xml` (as
    /// `stratus-validate-metadata` and `stratus-download-image` ran it):
    /// `Ok` when valid, else its message (e.g. `cannot find validation key`).
    pub fn validate(&self, xml: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = write_temp(dir.path(), "doc.xml", xml);
        let out = run(Command::new("java")
            .arg("-cp")
            .arg(self.classes.path())
            .arg("OriginalTools")
            .arg("validate")
            .arg(&input));
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{said}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// What the original `stratus-deprecate-metadata` prepares from the
    /// entry `xml` before signing it: ElementTree's rewrite (prefixes `ns1`,
    /// …), an empty endorsement whose `parseType` has no namespace, no
    /// signature, and `slterms:deprecated` with `reason`.
    ///
    /// # Panics
    ///
    /// If the script fails.
    pub fn deprecate(&self, xml: &str, reason: &str) -> String {
        self.rewrite("deprecate", xml, &[reason])
    }

    /// What the original client's `addElementToManifestFile` writes: `xml`
    /// with an `slterms:NAME` element of `value` appended, all of it
    /// rewritten by ElementTree (prefixes `ns0`, `ns1`, …).
    ///
    /// # Panics
    ///
    /// If the script fails.
    pub fn add_element(&self, xml: &str, name: &str, value: &str) -> String {
        self.rewrite("add-element", xml, &[name, value])
    }

    /// The output of the script's `mode IN OUT ARGS...` for `xml` as IN.
    fn rewrite(&self, mode: &str, xml: &str, args: &[&str]) -> String {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = write_temp(dir.path(), "in.xml", xml);
        let output = dir.path().join("out.xml");
        let mut all: Vec<&std::ffi::OsStr> =
            vec![mode.as_ref(), input.as_os_str(), output.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        self.python(&all);
        std::fs::read_to_string(output).expect("the script writes its output")
    }

    /// What the original `stratus-build-metadata` writes with these
    /// `fields` (`("os", "ubuntu")`, `("location", URL)` repeatable, …; see
    /// the script): every element of its template, empty when not given,
    /// and `<slterms:location/>` without a location.
    ///
    /// # Panics
    ///
    /// If the script fails (an unknown field).
    pub fn build(&self, fields: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let output = dir.path().join("built.xml");
        let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args: Vec<&std::ffi::OsStr> = vec!["build".as_ref(), output.as_os_str()];
        args.extend(pairs.iter().map(|p| std::ffi::OsStr::new(p.as_str())));
        self.python(&args);
        std::fs::read_to_string(output).expect("the script writes its output")
    }

    fn python(&self, args: &[&std::ffi::OsStr]) {
        let out = run(Command::new("python3")
            .arg(sources().join("original_client.py"))
            .args(args));
        assert!(
            out.status.success(),
            "original_client.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
