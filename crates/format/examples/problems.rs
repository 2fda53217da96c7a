//! Prints the problems of each document given on the command line.
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
        let parsed = marketplace_format::parse(&std::fs::read(&path).expect("readable file"));
        println!("{path}: {} problem(s)", parsed.problems.len());
        for p in parsed.problems {
            println!("  {p}");
        }
    }
}
