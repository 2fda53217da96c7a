//! Verifies the signature of each document given on the command line.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]
fn main() {
    for path in std::env::args().skip(1) {
        let xml = std::fs::read_to_string(&path).expect("readable UTF-8 file");
        match marketplace_trust::dsig::verify(&xml) {
            Ok(v) => println!("{path}: valid, signer {:?}", v.signer.subject_name()),
            Err(e) => println!("{path}: {e}"),
        }
    }
}
