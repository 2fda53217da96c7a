//! Verifies the signature of each document given on the command line.
fn main() {
    for path in std::env::args().skip(1) {
        let xml = std::fs::read_to_string(&path).expect("readable UTF-8 file");
        match marketplace_trust::dsig::verify(&xml) {
            Ok(v) => println!("{path}: valid, signer {:?}", v.signer.subject_name()),
            Err(e) => println!("{path}: {e}"),
        }
    }
}
