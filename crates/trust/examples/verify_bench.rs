//! Signature verification throughput, in documents per second.
//!
//! Measures, each for a fixed time on one thread:
//!
//! - `dsig::verify` of a realistic document (the conformance corpus's
//!   `valid-full.xml`, endorsed and signed in-process with a fresh RSA-2048
//!   key, RSA-SHA256 / SHA-256, inclusive C14N — what `marketplace sign` makes);
//! - the same with 512 documents signed by as many certificates, in turn, so
//!   that dsig's certificate cache never helps (each one decodes its
//!   certificate: the cost of a document from a new endorser);
//! - `dsig::verify` of the corpus's legacy `valid-full-signature.xml`
//!   (RSA-2048, RSA-SHA1 / SHA-1, signed by the original Java tools);
//! - `document::check_document` of the first document (format + signature +
//!   endorser binding, no CA directory);
//! - the raw RSA-2048 / SHA-256 verification of its SignedInfo through the
//!   `openssl` crate, the floor under `dsig::verify`;
//! - with `--phases`, each step `dsig::verify` takes, redone here with the same
//!   libraries and options: XML parse, C14N of the reference, digest, C14N of
//!   SignedInfo, base64, certificate decoding (only on a cache miss), RSA
//!   verification; and both C14N steps with bergshamra-c14n, which `verify`
//!   used before `marketplace_trust::c14n` (the same bytes, checked here).
//!
//! Each figure is given per second of wall-clock time (whole run, and the
//! fastest tenth of it) and per second of the thread's CPU time, which is
//! what `openssl speed` divides by unless given `-elapsed`, and which moves
//! least when other processes share the machine. Prints a human summary,
//! then `RESULT <name> <wall> <best slice> <cpu>` lines (per second) for
//! `bench/verify.sh`. Build and run in release:
//!
//! ```text
//! cargo run --release -p marketplace-trust --example verify_bench -- --seconds 3 --phases
//! ```
//!
//! Options: `--seconds S` (per measurement, default 3), `--phases`,
//! `--only NAME` (run only the measurement printed as `RESULT NAME`, for a
//! profiler), `--iterations N` (run each figure exactly N times, without
//! warm-up, instead of for a time: for `valgrind --tool=callgrind`, whose
//! instruction counts repeat from run to run on a busy machine), `--corpus DIR` (default `../shared/conformance/stratuslab-metadata`
//! beside the repository).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::NodeSet;
use chrono::Utc;
use marketplace_format::ns::DS;
use marketplace_test_pki::certs::CertificateBuilder;
use marketplace_trust::c14n;
use marketplace_trust::document::{CheckOptions, check_document};
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uppsala::{Document, NodeId};

/// One step of `dsig::verify`: RESULT name, description, the step.
type Phase<'a> = (&'static str, &'static str, Box<dyn FnMut() + 'a>);

/// Distinct certificates for the "cold" measurement (dsig keeps 256).
const COLD_CERTIFICATES: u32 = 512;

struct Args {
    seconds: f64,
    iterations: Option<u64>,
    phases: bool,
    only: Option<String>,
    corpus: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 3.0,
        iterations: None,
        phases: false,
        only: None,
        corpus: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/stratuslab-metadata"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                a.seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| *s > 0.0)
                    .expect("--seconds takes a positive number")
            }
            "--iterations" => {
                a.iterations = Some(
                    it.next()
                        .and_then(|s| s.parse().ok())
                        .filter(|n: &u64| *n > 0)
                        .expect("--iterations takes a positive whole number"),
                )
            }
            "--phases" => a.phases = true,
            "--only" => a.only = Some(it.next().expect("--only takes a RESULT name")),
            "--corpus" => a.corpus = it.next().expect("--corpus takes a directory").into(),
            other => {
                eprintln!("unknown argument {other}; see the doc comment of verify_bench.rs");
                std::process::exit(2);
            }
        }
    }
    a
}

/// What [`per_second`] measured.
struct Rate {
    /// Calls per second of wall-clock time over the whole run.
    mean: f64,
    /// Calls per second of wall-clock time in the fastest tenth of the run.
    best: f64,
    /// Calls per second of this thread's CPU time (the divisor `openssl
    /// speed` uses by default), or the wall-clock rate where Linux's
    /// `/proc/thread-self/schedstat` is not available.
    cpu: f64,
    calls: u64,
    elapsed: Duration,
}

/// CPU time of the calling thread so far (Linux; nanosecond resolution).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Runs `f` exactly `n` times, without warm-up (for `valgrind --tool=callgrind`,
/// whose instruction counts are the same from run to run).
fn exactly(n: u64, f: &mut dyn FnMut()) -> Rate {
    let cpu_start = thread_cpu();
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let elapsed = start.elapsed();
    let mean = n as f64 / elapsed.as_secs_f64();
    let cpu = match (cpu_start, thread_cpu()) {
        (Some(a), Some(b)) if b > a => n as f64 / (b - a).as_secs_f64(),
        _ => mean,
    };
    Rate {
        mean,
        best: mean,
        cpu,
        calls: n,
        elapsed,
    }
}

/// Runs `f` repeatedly for `seconds` (after a short warm-up), in ten slices.
fn per_second(seconds: f64, f: &mut dyn FnMut()) -> Rate {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        f();
    }
    let slice = Duration::from_secs_f64(seconds / 10.0);
    let (mut calls, mut elapsed, mut best) = (0u64, Duration::ZERO, 0f64);
    let cpu_start = thread_cpu();
    for _ in 0..10 {
        let start = Instant::now();
        let mut n = 0u64;
        let t = loop {
            f();
            n += 1;
            let t = start.elapsed();
            if t >= slice {
                break t;
            }
        };
        best = best.max(n as f64 / t.as_secs_f64());
        calls += n;
        elapsed += t;
    }
    let mean = calls as f64 / elapsed.as_secs_f64();
    let cpu = match (cpu_start, thread_cpu()) {
        (Some(a), Some(b)) if b > a => calls as f64 / (b - a).as_secs_f64(),
        _ => mean,
    };
    Rate {
        mean,
        best,
        cpu,
        calls,
        elapsed,
    }
}

/// A self-signed certificate for `key`, with an e-mail, numbered `serial`.
fn certificate(key: &PKey<Private>, serial: u32) -> X509 {
    CertificateBuilder::new(&[
        ("C", "EU"),
        ("O", "Marketplace Bench"),
        ("CN", "Bench Signer"),
    ])
    .key(key.clone())
    .serial(serial)
    .valid_from_yesterday_for(365)
    .email("bench.signer@example.org")
    .self_signed()
    .cert
}

/// `valid-full.xml`, endorsed by `cert` and signed with `key` (RSA-SHA256).
fn signed_document(template: &str, key: &PKey<Private>, cert: &X509) -> String {
    let (endorsement, _) = endorsement_for(cert, None, Utc::now()).unwrap();
    let edited = marketplace_format::edit::set_endorsement(template, &endorsement).unwrap();
    dsig::sign(
        &edited.text,
        key,
        std::slice::from_ref(cert),
        SignOptions::default(),
    )
    .unwrap()
}

// --- the steps of dsig::verify, with the same libraries and options ---------------------------

fn parse(xml: &str) -> Document<'_> {
    uppsala::Parser::new()
        .with_forbid_dtd(true)
        .parse(xml)
        .unwrap()
}

fn first(doc: &Document<'_>, local: &str) -> NodeId {
    let mut stack = vec![doc.root()];
    while let Some(id) = stack.pop() {
        if doc.element(id).is_some_and(|e| {
            e.name.namespace_uri.as_deref() == Some(DS) && e.name.local_name == local
        }) {
            return id;
        }
        stack.extend(doc.children(id));
    }
    panic!("no ds:{local}")
}

/// C14N of the reference as `dsig::verify` does it (`c14n`, into a buffer
/// here; `verify` streams the same bytes into the digest).
fn reference_c14n(doc: &Document<'_>, signature: NodeId) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.input_text().len());
    c14n::document_without(doc, signature, &mut out).unwrap();
    out
}

/// The same bytes from bergshamra-c14n (what `dsig::verify` used before).
fn reference_c14n_bergshamra(doc: &Document<'_>, signature: NodeId) -> Vec<u8> {
    let mut set = NodeSet::all_without_comments(doc);
    let mut stack = vec![signature];
    while let Some(id) = stack.pop() {
        set.remove_id(id);
        stack.extend(doc.children(id));
    }
    bergshamra_c14n::canonicalize_doc(doc, C14nMode::Inclusive, Some(&set), &[] as &[&str]).unwrap()
}

fn signed_info_c14n(doc: &Document<'_>, signed_info: NodeId) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    c14n::subtree(doc, signed_info, &mut out).unwrap();
    out
}

fn signed_info_c14n_bergshamra(doc: &Document<'_>, signed_info: NodeId) -> Vec<u8> {
    let set = NodeSet::tree_without_comments(signed_info, doc);
    bergshamra_c14n::canonicalize_doc(doc, C14nMode::Inclusive, Some(&set), &[] as &[&str]).unwrap()
}

fn text(doc: &Document<'_>, id: NodeId) -> Vec<u8> {
    let t: String = doc
        .text_content_deep(id)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(t).unwrap()
}

fn rsa_verify(cert: &X509, md: MessageDigest, data: &[u8], value: &[u8]) -> bool {
    let key = cert.public_key().unwrap();
    let mut v = Verifier::new(md, &key).unwrap();
    v.update(data).unwrap();
    v.verify(value).unwrap()
}

fn main() {
    let a = args();
    let template = std::fs::read_to_string(a.corpus.join("valid-full.xml"))
        .expect("valid-full.xml in the corpus (see --corpus)");
    let legacy = std::fs::read_to_string(a.corpus.join("valid-full-signature.xml"))
        .expect("valid-full-signature.xml in the corpus (see --corpus)");
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let cert = certificate(&key, 1);
    let modern = signed_document(&template, &key, &cert);
    // The same document signed with COLD_CERTIFICATES different certificates
    // (same key, other serial numbers): more than dsig's certificate cache
    // holds, so that every verification decodes its certificate.
    // (Only when that figure runs: signing them takes a while under valgrind.)
    let wanted = |name: &str| a.only.as_deref().is_none_or(|o| o == name);
    let cold: Vec<String> = (2..2 + COLD_CERTIFICATES)
        .filter(|_| wanted("verify_rsa2048_sha256_cold"))
        .map(|serial| signed_document(&template, &key, &certificate(&key, serial)))
        .collect();

    // Sanity: both verify, and the modern one is a valid signed document.
    let v = dsig::verify(&modern).expect("the fresh document verifies");
    assert_eq!(v.signature_method, dsig::uri::RSA_SHA256);
    let v = dsig::verify(&legacy).expect("the legacy document verifies");
    assert!(v.is_legacy_sha1());
    let options = CheckOptions::default();
    assert!(check_document(modern.as_bytes(), &options).is_signed_and_valid());

    let s = a.seconds;
    println!(
        "documents: {} bytes (RSA-2048, RSA-SHA256, signed in-process), {} bytes (legacy RSA-2048, RSA-SHA1)",
        modern.len(),
        legacy.len()
    );
    println!("each figure: one thread, {s} s in ten slices after a 0.2 s warm-up\n");
    let mut results: Vec<(&str, f64, f64, f64)> = Vec::new();
    let only = a.only.clone();
    let iterations = a.iterations;
    let mut report = |name: &'static str, what: &str, seconds: f64, f: &mut dyn FnMut()| {
        if only.as_deref().is_some_and(|o| o != name) {
            return;
        }
        let r = match iterations {
            Some(n) => exactly(n, f),
            None => per_second(seconds, f),
        };
        println!(
            "{what:<60} {:>8.0} /s  (best slice {:>7.0}, per CPU second {:>7.0}; {} in {:.2} s)",
            r.mean,
            r.best,
            r.cpu,
            r.calls,
            r.elapsed.as_secs_f64(),
        );
        results.push((name, r.mean, r.best, r.cpu));
    };

    report(
        "verify_rsa2048_sha256",
        "dsig::verify, RSA-2048 / RSA-SHA256",
        s,
        &mut || {
            black_box(dsig::verify(black_box(&modern)).unwrap());
        },
    );
    let mut next = cold.iter().cycle();
    report(
        "verify_rsa2048_sha256_cold",
        "dsig::verify, RSA-SHA256, a different certificate each time",
        s,
        &mut || {
            black_box(dsig::verify(black_box(next.next().unwrap())).unwrap());
        },
    );
    report(
        "verify_legacy_rsa_sha1",
        "dsig::verify, legacy valid-full-signature.xml (RSA-SHA1)",
        s,
        &mut || {
            black_box(dsig::verify(black_box(&legacy)).unwrap());
        },
    );
    report(
        "check_document_rsa2048_sha256",
        "check_document (format + signature + binding), RSA-SHA256",
        s,
        &mut || {
            black_box(check_document(black_box(modern.as_bytes()), &options));
        },
    );

    // The raw public-key operation on the document's own SignedInfo.
    let doc = parse(&modern);
    let signed_info = signed_info_c14n(&doc, first(&doc, "SignedInfo"));
    let value = text(&doc, first(&doc, "SignatureValue"));
    let public = cert.public_key().unwrap();
    report(
        "raw_rsa2048_sha256_verify",
        "openssl crate: RSA-2048 SHA-256 verify of SignedInfo",
        s,
        &mut || {
            let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
            v.update(&signed_info).unwrap();
            assert!(v.verify(&value).unwrap());
        },
    );
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(&signed_info).unwrap();
    assert_eq!(
        signer.sign_to_vec().unwrap(),
        value,
        "PKCS#1 v1.5 is deterministic"
    );

    if a.phases {
        println!(
            "\nphases of dsig::verify on the RSA-SHA256 document (same libraries, same options):"
        );
        let ps = (s / 3.0).max(0.5);
        let signature = first(&doc, "Signature");
        let reference = reference_c14n(&doc, signature);
        assert_eq!(reference, reference_c14n_bergshamra(&doc, signature));
        assert_eq!(
            signed_info,
            signed_info_c14n_bergshamra(&doc, first(&doc, "SignedInfo"))
        );
        let phases: Vec<Phase<'_>> = vec![
            (
                "phase_parse",
                "uppsala parse (DTD forbidden)",
                Box::new(|| {
                    black_box(parse(black_box(&modern)));
                }),
            ),
            (
                "phase_find",
                "locate Signature / SignedInfo / values (tree walks)",
                Box::new(|| {
                    for local in [
                        "Signature",
                        "SignedInfo",
                        "SignatureValue",
                        "X509Certificate",
                    ] {
                        black_box(first(&doc, local));
                    }
                }),
            ),
            (
                "phase_reference_c14n",
                "C14N of the reference (document minus Signature)",
                Box::new(|| {
                    black_box(reference_c14n(&doc, signature));
                }),
            ),
            (
                "phase_reference_c14n_bergshamra",
                "  the same with bergshamra-c14n (before)",
                Box::new(|| {
                    black_box(reference_c14n_bergshamra(&doc, signature));
                }),
            ),
            (
                "phase_digest",
                "SHA-256 of the canonical reference",
                Box::new(|| {
                    black_box(hash(MessageDigest::sha256(), &reference).unwrap());
                }),
            ),
            (
                "phase_signed_info_c14n",
                "C14N of SignedInfo",
                Box::new(|| {
                    black_box(signed_info_c14n(&doc, first(&doc, "SignedInfo")));
                }),
            ),
            (
                "phase_signed_info_c14n_bergshamra",
                "  the same with bergshamra-c14n (before)",
                Box::new(|| {
                    black_box(signed_info_c14n_bergshamra(&doc, first(&doc, "SignedInfo")));
                }),
            ),
            (
                "phase_base64",
                "base64 of SignatureValue and DigestValue",
                Box::new(|| {
                    black_box(text(&doc, first(&doc, "SignatureValue")));
                    black_box(text(&doc, first(&doc, "DigestValue")));
                }),
            ),
            (
                "phase_x509_decode",
                "base64 + X509::from_der of the certificate (cache miss)",
                Box::new(|| {
                    let der = text(&doc, first(&doc, "X509Certificate"));
                    black_box(X509::from_der(&der).unwrap());
                }),
            ),
            (
                "phase_rsa_verify",
                "public key from certificate + RSA-2048 verify",
                Box::new(|| {
                    assert!(rsa_verify(
                        &cert,
                        MessageDigest::sha256(),
                        &signed_info,
                        &value
                    ));
                }),
            ),
        ];
        for (name, what, mut f) in phases {
            report(name, what, ps, &mut f);
        }
    }

    println!();
    for (name, mean, best, cpu) in results {
        println!("RESULT {name} {mean:.1} {best:.1} {cpu:.1}");
    }
}
