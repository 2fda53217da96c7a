//! Store-level timings of the queries the server's hot paths make, on N
//! synthetic entries (no signatures: the documents are unsigned XML padded
//! to the size of a signed one). For tuning indexes and query shapes; the
//! HTTP benchmark is `bench/server.sh`.
//!
//! ```text
//! cargo run --release -p marketplace-store --example store_bench -- \
//!     --count 100000 [--postgres postgres://postgres@127.0.0.1:5432/test] [--dir DIR]
//! ```
//!
//! With `--dir DIR` the SQLite database is kept in `DIR/store.db` and
//! reused when it already holds `--count` entries. With `--postgres URL`
//! the entries go into a fresh schema `store_bench_<pid>` of that
//! database, dropped at the end (kept with `STORE_BENCH_KEEP=1`). Prints the load rate, then per query the
//! mean, median and 99th percentile over `--repeat` runs (default 200).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use chrono::{DateTime, Utc};
use marketplace_format::{Endorsement, Endorser, Metadata};
use marketplace_store::{
    Audience, EntryKey, HistoryOrder, HistoryQuery, NewEntry, PgConnectOptions, PgStore,
    SearchOptions, SearchQuery, Signer, SqliteStore, StatusFilter, Store,
};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Command-line options.
struct Args {
    count: usize,
    repeat: usize,
    postgres: Option<String>,
    dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        count: 100_000,
        repeat: 200,
        postgres: None,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().expect("option value");
        match arg.as_str() {
            "--count" => a.count = value().parse().expect("--count N"),
            "--repeat" => a.repeat = value().parse().expect("--repeat N"),
            "--postgres" => a.postgres = Some(value()),
            "--dir" => a.dir = Some(value().into()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const OSES: &[&str] = &[
    "Ubuntu",
    "Ubuntu",
    "Ubuntu",
    "CentOS",
    "Debian",
    "Debian",
    "RockyLinux",
    "Fedora",
    "AlmaLinux",
    "Alpine",
    "Windows",
    "openSUSE",
];
const ARCHES: &[&str] = &["x86_64", "x86_64", "x86_64", "x86_64", "i686", "aarch64"];
const WORDS: &[&str] = &[
    "image",
    "cloud",
    "grid",
    "compute",
    "storage",
    "secure",
    "updated",
    "kernel",
    "python",
    "java",
    "physics",
    "biology",
    "simulation",
    "workflow",
    "batch",
    "monitoring",
    "docker",
    "jupyter",
    "gpu",
    "cuda",
    "minimal",
    "server",
    "desktop",
    "hpc",
    "worker",
    "node",
];

/// The `i`th synthetic entry.
fn entry(i: usize, rng: &mut Rng) -> NewEntry {
    // A well-formed identifier per entry (27 base64url digits from a SHA-1).
    let mut sha1 = [0u8; 20];
    sha1[12..].copy_from_slice(&(i as u64).to_be_bytes());
    let identifier = marketplace_format::Identifier::from_sha1(&sha1).to_string();
    let email = format!("endorser{}@example.org", i % 40);
    let created = format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        13 + rng.next() % 13,
        1 + rng.next() % 12,
        1 + rng.next() % 28,
        rng.next() % 24,
        rng.next() % 60,
        rng.next() % 60
    );
    let os = rng.pick(OSES);
    let arch = rng.pick(ARCHES);
    let mut description = format!("{os} image for {arch}.");
    for _ in 0..20 {
        description.push(' ');
        description.push_str(rng.pick(WORDS));
    }
    let expired = rng.next() % 100 < 12;
    let metadata = Metadata {
        identifier: identifier.clone(),
        valid: Some(
            if expired {
                "2020-01-01T00:00:00Z"
            } else {
                "2030-01-01T00:00:00Z"
            }
            .into(),
        ),
        title: Some(format!(
            "{os} {} {arch} {}",
            rng.next() % 30,
            rng.pick(WORDS)
        )),
        description: Some(description),
        kind_type: Some("base".into()),
        kind: Some("machine".into()),
        format: Some("qcow2".into()),
        os: Some(os.into()),
        os_version: Some(format!("{}", rng.next() % 30)),
        os_arch: Some(arch.into()),
        hypervisor: Some("kvm".into()),
        bytes: Some(1024),
        locations: vec![format!("https://images.example.org/{identifier}.img")],
        endorsement: Some(Endorsement {
            created: created.clone(),
            endorser: Endorser {
                email: email.clone(),
                subject: format!("CN=Endorser {},O=Bench", i % 40),
                issuers: vec!["CN=Bench CA".into()],
                email_unverified: false,
            },
        }),
        ..Metadata::default()
    };
    let mut document = marketplace_format::write::to_xml(&metadata).into_bytes();
    // About the size of the signature and certificate of a signed one.
    document.extend(std::iter::repeat_n(b' ', 2000));
    NewEntry {
        key: EntryKey::parse(&identifier, &email, &created).unwrap(),
        document,
        signer: Signer {
            subject: format!("CN=Endorser {},O=Bench", i % 40),
            issuer: "CN=Bench CA".into(),
            email_certified: true,
            chained: true,
            key_sha256: format!("bench key {}", i % 40),
            vo: None,
            fqans: Vec::new(),
        },
        metadata,
    }
}

/// Runs `f` `repeat` times and prints mean, median, p99.
async fn time<F, Fut, T>(name: &str, repeat: usize, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times: Vec<Duration> = Vec::with_capacity(repeat);
    for i in 0..repeat {
        let t = Instant::now();
        std::hint::black_box(f(i).await);
        times.push(t.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / repeat as u32;
    println!(
        "{name:<44} mean {:>9.1?}  p50 {:>9.1?}  p99 {:>9.1?}",
        mean,
        times[repeat / 2],
        times[(repeat * 99 / 100).min(repeat - 1)]
    );
}

/// Prints the time of a 5,000-entry batch (its entries, index rows and log
/// leaves) near 10k, 100k and 1M entries — the mean of the five batches
/// before each — with the ratio to the first batch (same process, same
/// machine).
fn report_growth(batch_times: &[(usize, Duration)]) {
    let Some((_, first)) = batch_times.first() else {
        return;
    };
    for at in [10_000, 100_000, 1_000_000] {
        let before: Vec<&(usize, Duration)> = batch_times
            .iter()
            .filter(|(start, _)| start + 5_000 <= at && start + 30_000 > at)
            .collect();
        let Some((last, _)) = before.last() else {
            continue;
        };
        let mean = before.iter().map(|(_, t)| *t).sum::<Duration>() / before.len() as u32;
        println!(
            "put_many of 5000 up to {} entries (mean of {}): {:.1} ms ({:.2}x the first batch)",
            last + 5_000,
            before.len(),
            mean.as_secs_f64() * 1e3,
            mean.as_secs_f64() / first.as_secs_f64()
        );
    }
}

/// Loads (unless already there) and times the queries. `analyze`: the
/// PostgreSQL pool, to refresh the planner's statistics after a load as
/// autovacuum would soon do (SQLite is left without statistics, as the
/// server leaves it).
async fn run(store: &dyn Store, args: &Args, analyze: Option<&sqlx::PgPool>) {
    let have = store.count().await.expect("count") as usize;
    if have < args.count {
        let mut rng = Rng(7 + have as u64);
        let t = Instant::now();
        let mut created = 0;
        // The cost of a batch (its entries, index rows and log leaves) as
        // the store grows: the append must grow like log n, not n.
        let mut batch_times: Vec<(usize, Duration)> = Vec::new();
        for start in (have..args.count).step_by(5_000) {
            let batch: Vec<NewEntry> = (start..(start + 5_000).min(args.count))
                .map(|i| entry(i, &mut rng))
                .collect();
            let began = Instant::now();
            for outcome in store.put_many(batch).await {
                if outcome.is_ok() {
                    created += 1;
                }
            }
            batch_times.push((start, began.elapsed()));
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "loaded {created} entries with put_many in {secs:.1} s ({:.0}/s)",
            created as f64 / secs
        );
        report_growth(&batch_times);
        let log = store.log_size().await.expect("log size");
        println!("transparency log: {log} leaves");
    }
    if let Some(pool) = analyze {
        sqlx::query("ANALYZE").execute(pool).await.expect("ANALYZE");
    }
    let now: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().expect("instant");
    let n = args.count.max(1);
    let id = |i: usize| format!("{:0>27}", format!("B{}", (i * 7919) % n));
    let r = args.repeat;
    time("get(key) via search identifier", r, |i| {
        let q = SearchQuery {
            identifier: Some(id(i)),
            status: StatusFilter::All,
            limit: 100,
            ..SearchQuery::default()
        };
        async move { store.search(&q, now).await.expect("search").entries.len() }
    })
    .await;
    time("lookup: identifier, valid, docs only, no total", r, |i| {
        let q = SearchQuery {
            identifier: Some(id(i)),
            limit: 100,
            ..SearchQuery::default()
        };
        let o = SearchOptions {
            total: false,
            documents: true,
            summaries: false,
            document_budget: None,
        };
        async move {
            store
                .search_with(&q, now, o)
                .await
                .expect("search")
                .documents
                .len()
        }
    })
    .await;
    let text_query = |text: &str, arch: Option<&str>, limit: u32| SearchQuery {
        text: Some(text.into()),
        os_arch: arch.map(str::to_string),
        limit,
        ..SearchQuery::default()
    };
    for (text, arch) in [
        ("ubuntu", Some("x86_64")),
        ("ubuntu gpu", None),
        ("cuda", Some("aarch64")),
    ] {
        for limit in [50, 20] {
            let q = text_query(text, arch, limit);
            time(
                &format!("search q={text:?} arch={arch:?} limit={limit}"),
                r / 4,
                |_| {
                    let q = q.clone();
                    async move { store.search(&q, now).await.expect("search").matching }
                },
            )
            .await;
        }
    }
    let q = text_query("ubuntu", Some("x86_64"), 20);
    time("search ubuntu x86_64 limit=20 no total", r / 4, |_| {
        let q = q.clone();
        async move {
            store
                .search_with(
                    &q,
                    now,
                    SearchOptions {
                        total: false,
                        ..SearchOptions::default()
                    },
                )
                .await
                .expect("search")
                .matching
        }
    })
    .await;
    time("default listing (valid, newest, 50)", r / 4, |_| async {
        store
            .search(&SearchQuery::default(), now)
            .await
            .expect("search")
            .total
    })
    .await;
    time("default listing page 100 (offset 5000)", r / 4, |_| async {
        let q = SearchQuery {
            offset: 5000,
            ..SearchQuery::default()
        };
        store.search(&q, now).await.expect("search").total
    })
    .await;
    // Every match is sorted (no index orders titles NULLs last): a new
    // page each time shows that cost, the same page again the kept one.
    time(
        "listing sorted by title (50), a new page each",
        r / 10,
        |i| async move {
            let q = SearchQuery {
                sort: marketplace_store::SortKey::Title,
                offset: i as u64 * 50,
                ..SearchQuery::default()
            };
            store.search(&q, now).await.expect("search").matching
        },
    )
    .await;
    time("listing sorted by title (50), kept", r / 4, |_| async {
        let q = SearchQuery {
            sort: marketplace_store::SortKey::Title,
            ..SearchQuery::default()
        };
        store.search(&q, now).await.expect("search").matching
    })
    .await;
    time("feed: history by acceptance (100)", r, |_| async {
        let q = HistoryQuery {
            order: HistoryOrder::Accepted,
            now: Some(now),
            limit: 100,
            ..HistoryQuery::default()
        };
        store.history(&q).await.expect("history").len()
    })
    .await;
    time("feed: endorser by acceptance (100)", r, |i| {
        let q = HistoryQuery {
            email: Some(format!("endorser{}@example.org", i % 40)),
            order: HistoryOrder::Accepted,
            now: Some(now),
            limit: 100,
            ..HistoryQuery::default()
        };
        async move { store.history(&q).await.expect("history").len() }
    })
    .await;
    time("history by created, all (100)", r / 4, |_| async {
        let q = HistoryQuery {
            now: Some(now),
            limit: 100,
            ..HistoryQuery::default()
        };
        store.history(&q).await.expect("history").len()
    })
    .await;
    time("endorser(email)", r / 4, |i| async move {
        store
            .endorser(
                &format!("endorser{}@example.org", i % 40),
                &Audience::Public,
            )
            .await
            .expect("endorser")
            .len()
    })
    .await;
    // Every call for a new audience scans every entry; the list is then
    // kept (per process and audience) until an entry is accepted.
    time(
        "endorsers(), scan (a new audience each)",
        r / 10,
        |i| async move {
            store
                .endorsers(&Audience::members(&[format!("bench-vo-{i}")]))
                .await
                .expect("endorsers")
                .len()
        },
    )
    .await;
    time("endorsers(), kept", r / 4, |_| async {
        store
            .endorsers(&Audience::Public)
            .await
            .expect("endorsers")
            .len()
    })
    .await;
    time("count()", r / 4, |_| async {
        store.count().await.expect("count")
    })
    .await;
}

#[tokio::main]
async fn main() {
    let args = args();
    match &args.postgres {
        Some(url) => {
            let schema = format!("store_bench_{}", std::process::id());
            let base = PgConnectOptions::from_str(url).expect("URL");
            let admin = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_with(base.clone())
                .await
                .expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .expect("schema");
            let store = PgStore::connect_with(base.options([("search_path", schema.as_str())]))
                .await
                .expect("PgStore");
            run(&store, &args, Some(store.pool())).await;
            store.close().await;
            if std::env::var_os("STORE_BENCH_KEEP").is_some() {
                println!("kept schema {schema}");
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .expect("drop schema");
            }
        }
        None => {
            let tmp = tempfile::tempdir().expect("tempdir");
            let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
            std::fs::create_dir_all(&dir).expect("dir");
            let store = SqliteStore::open(dir.join("store.db")).await.expect("open");
            run(&store, &args, None).await;
            store.close().await;
        }
    }
}
