//! Import throughput (ignored by default; run with `--ignored --nocapture`,
//! `IMPORT_N=5000` to change the number of documents). Prints where the
//! time goes: verifying alone (the trust core on every core), then the
//! whole import (coordinates, verification, batched puts). No timing is
//! asserted: the figures are recorded in `docs/performance.md`, and the
//! 100,000-document measurement is `bench/server.sh`.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use common::*;
use marketplace_format::identifier;
use marketplace_server::runtime::admin;
use marketplace_server::runtime::clock::Clock;
use marketplace_server::runtime::state::TrustSettings;
use marketplace_server::upload::ingest::{Ingestor, Policy};
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn import_throughput() {
    let n: usize = std::env::var("IMPORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    let dir = tempfile::tempdir().unwrap();

    // Documents of n images, signed on every core by two endorsers.
    let t = Instant::now();
    let credentials = [jane(), alice()];
    std::thread::scope(|s| {
        for k in 0..cores {
            let dir = dir.path();
            s.spawn(move || {
                for i in (k..n).step_by(cores) {
                    let mut sha = [0u8; 20];
                    sha[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                    let id = identifier::from_sha1_bytes(&sha);
                    let doc =
                        Doc::with_id(&id).signed_by(credentials[i % 2], "2014-03-08T14:10:40Z");
                    std::fs::write(dir.join(format!("{i}.xml")), doc).unwrap();
                }
            });
        }
    });
    eprintln!("signed {n} on {cores} threads in {:.1?}", t.elapsed());

    let files = admin::find_documents(dir.path()).unwrap();
    let docs: Arc<Vec<Vec<u8>>> =
        Arc::new(files.iter().map(|f| std::fs::read(f).unwrap()).collect());
    for what in ["parse", "check"] {
        let t = Instant::now();
        std::thread::scope(|s| {
            for k in 0..cores {
                let docs = docs.clone();
                s.spawn(move || {
                    for d in docs.iter().skip(k).step_by(cores) {
                        if what == "parse" {
                            marketplace_format::parse(d);
                        } else {
                            marketplace_trust::document::check_document(d, &Default::default());
                        }
                    }
                });
            }
        });
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "{what} on {cores} threads: {secs:.2} s ({:.0}/s)",
            n as f64 / secs
        );
    }

    let s = TestServer::start().await;
    let ingestor = Ingestor {
        store: s.store.clone(),
        trust: Arc::new(TrustSettings::default()),
        clock: Clock::frozen(NOW.parse().unwrap()),
        policy: Policy::from_config(&s.config),
    };
    let t = Instant::now();
    let summary = admin::import_dir(dir.path(), ingestor, &s.state.log, cores, |_, r| {
        assert!(r.is_ok(), "{r:?}")
    })
    .await
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(summary.created, n as u64);
    assert_eq!(s.store.count().await.unwrap(), n as u64);
    eprintln!(
        "imported {} in {secs:.2} s: {:.0}/s",
        summary.created,
        summary.created as f64 / secs
    );
}
