mod common;
use common::*;

#[test]
fn scratch() {
    let d = alice_document();
    println!("{d}");
    let r = check(d);
    println!("{:?} {:?} {:?}", r.signature, r.problems, r.notes);
    let d = bob_document();
    let r = check(d);
    println!("{:?} {:?} {:?}", r.signature, r.problems, r.notes);
}
