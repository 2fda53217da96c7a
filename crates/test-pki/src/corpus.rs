//! Where the tests find the conformance corpus of the original metadata
//! library (its test documents, certificates and expected outcomes): in
//! `../shared/conformance/stratuslab-metadata` beside the repository, or
//! where `MARKETPLACE_CORPUS` says. It is not part of the repository, so a
//! clone without it runs every other test and reports the corpus tests as
//! skipped, by name — except in CI (`CI=true`), where a missing corpus is a
//! failure.

use std::path::PathBuf;

/// The corpus directory (which may not exist): `MARKETPLACE_CORPUS`, else
/// `../shared/conformance/stratuslab-metadata` beside the repository.
pub fn dir() -> PathBuf {
    match std::env::var_os("MARKETPLACE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/stratuslab-metadata"),
    }
}

/// Whether the corpus is there (its `expected.tsv` is).
pub fn available() -> bool {
    dir().join("expected.tsv").is_file()
}

/// For the running test, which needs the corpus: its directory, or `None`
/// after [`crate::skip`] (the test then returns; in CI a missing corpus
/// panics instead).
pub fn require() -> Option<PathBuf> {
    if available() {
        return Some(dir());
    }
    // Said once per test (a property test asks on every case).
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let test = std::thread::current()
        .name()
        .unwrap_or_default()
        .to_string();
    let mut said = SAID.lock().unwrap_or_else(|p| p.into_inner());
    if said.contains(&test) && !test.is_empty() {
        return None;
    }
    said.push(test);
    crate::skip(&format!(
        "the conformance corpus is not at {} (put ../shared beside the repository, or set \
         MARKETPLACE_CORPUS)",
        dir().display()
    ));
    None
}

/// The file `name` of the corpus, for a test that already called
/// [`require`] (or for support code whose tests all require the corpus).
pub fn file(name: &str) -> PathBuf {
    dir().join(name)
}
