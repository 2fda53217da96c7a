//! Prints the problems of each document given on the command line.
fn main() {
    for path in std::env::args().skip(1) {
        let parsed = marketplace_format::parse(&std::fs::read(&path).expect("readable file"));
        println!("{path}: {} problem(s)", parsed.problems.len());
        for p in parsed.problems {
            println!("  {p}");
        }
    }
}
