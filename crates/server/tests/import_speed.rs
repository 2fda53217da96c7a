//! Import throughput (ignored by default; run with `--ignored --nocapture`).

mod common;

use common::*;
use marketplace_format::identifier;
use marketplace_server::admin;
use marketplace_server::clock::Clock;
use marketplace_server::ingest::{Ingestor, Policy};
use marketplace_server::state::TrustSettings;
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn import_throughput() {
    let n: usize = std::env::var("IMPORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    for i in 0..n {
        let mut sha = [0u8; 20];
        sha[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        let id = identifier::from_sha1_bytes(&sha);
        let doc = Doc::with_id(&id).signed("2014-03-08T14:10:40Z");
        std::fs::write(dir.path().join(format!("{i}.xml")), doc).unwrap();
    }
    eprintln!("signed {n} in {:?}", t.elapsed());
    let files = admin::find_documents(dir.path()).unwrap();
    let t = Instant::now();
    let docs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let docs = Arc::new(docs);
    eprintln!("read in {:?}", t.elapsed());
    for what in ["parse", "check"] {
        let t = Instant::now();
        let mut hs = Vec::new();
        for k in 0..2 {
            let docs = docs.clone();
            hs.push(std::thread::spawn(move || {
                for d in docs.iter().skip(k).step_by(2) {
                    if what == "parse" {
                        marketplace_format::parse(d);
                    } else {
                        marketplace_trust::document::check_document(d, &Default::default());
                    }
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        eprintln!("{what} x2 threads: {:?}", t.elapsed());
    }
    let s = TestServer::start().await;
    let ingestor = Ingestor {
        store: s.store.clone(),
        trust: Arc::new(TrustSettings::default()),
        clock: Clock::frozen(NOW.parse().unwrap()),
        policy: Policy::from_config(&s.config),
    };
    let t = Instant::now();
    let summary = admin::import_dir(dir.path(), ingestor, 4, |_, r| assert!(r.is_ok(), "{r:?}"))
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "imported {} in {secs:.2}s: {:.0}/s",
        summary.created,
        summary.created as f64 / secs
    );
}
