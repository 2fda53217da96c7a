//! Generates signed metadata documents for `bench/server.sh`: N entries of
//! varied images (OS, version, architecture, titles, descriptions, tags,
//! formats, expiry, some deprecated, some history), endorsed by a few dozen
//! generated endorsers (self-signed RSA-2048 certificates carrying their
//! e-mail, so the e-mail is certified) and signed in parallel on every core.
//!
//! ```text
//! cargo run --release -p marketplace-server --example bench_data -- \
//!     --count 100000 --out bench/.cache/server-100000
//! ```
//!
//! Writes, under `--out` (built in `<out>.tmp` and renamed when complete, so
//! an interrupted run leaves nothing that looks finished):
//!
//! - `docs/<xx>/<identifier>-<n>.xml`: the signed documents (an entry's
//!   older history entries carry a smaller `<n>`, but the import must not
//!   rely on names: it orders by the documents' own coordinates);
//! - `ids.txt`: the identifiers whose latest entry of some endorser is
//!   valid (what the lookup benchmark asks for, one a line);
//! - `summary.txt`: counts.
//!
//! Options: `--count N` (default 100000), `--out DIR` (required),
//! `--endorsers K` (default 40), `--threads T` (default: the number of
//! CPUs), `--seed S` (default 1). The same options give the same documents
//! except for the signatures' keys (generated afresh).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use marketplace_format::{Algorithm, Checksum, Metadata, identifier};
use marketplace_test_pki::certs::CertificateBuilder;
use marketplace_trust::credential::Credential;
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Command-line options.
struct Args {
    count: usize,
    out: PathBuf,
    endorsers: usize,
    threads: usize,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        count: 100_000,
        out: PathBuf::new(),
        endorsers: 40,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, name: &str| -> u64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| fail(&format!("{name} takes a number")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--count" => a.count = number(it.next(), "--count") as usize,
            "--endorsers" => a.endorsers = (number(it.next(), "--endorsers") as usize).max(1),
            "--threads" => a.threads = (number(it.next(), "--threads") as usize).max(1),
            "--seed" => a.seed = number(it.next(), "--seed"),
            "--out" => a.out = it.next().map(PathBuf::from).unwrap_or_default(),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    if a.out.as_os_str().is_empty() {
        fail("--out DIR is required");
    }
    a
}

fn fail(message: &str) -> ! {
    eprintln!("bench_data: {message} (see the doc comment of bench_data.rs)");
    std::process::exit(2)
}

/// SplitMix64: small, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An item of `(item, weight)` pairs, by weight.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = (self.next() % u64::from(total)) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[0].0
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(digits);
        s
    }

    fn instant(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1) as u64;
        from + Duration::seconds((self.next() % span) as i64)
    }
}

/// An operating system: (name, title, versions).
type Os = (&'static str, &'static str, &'static [&'static str]);

/// Operating systems with their weights.
const OSES: &[(Os, u32)] = &[
    (
        (
            "Ubuntu",
            "Ubuntu",
            &["14.04", "16.04", "18.04", "20.04", "22.04", "24.04"],
        ),
        25,
    ),
    (("CentOS", "CentOS", &["6.5", "6.10", "7.9", "8.5"]), 12),
    (("Debian", "Debian", &["8", "9", "10", "11", "12"]), 12),
    (("RockyLinux", "Rocky Linux", &["8.9", "9.3", "9.4"]), 8),
    (("AlmaLinux", "AlmaLinux", &["8.10", "9.4"]), 6),
    (("Fedora", "Fedora", &["38", "39", "40"]), 6),
    (("openSUSE", "openSUSE Leap", &["15.4", "15.5"]), 4),
    (("ScientificLinux", "Scientific Linux", &["6.4", "7.9"]), 5),
    (("ttylinux", "ttylinux", &["9.3", "16.1"]), 3),
    (("Windows", "Windows Server", &["2016", "2019", "2022"]), 4),
    (("Alpine", "Alpine Linux", &["3.18", "3.19", "3.20"]), 5),
    (("CoreOS", "Fedora CoreOS", &["39", "40"]), 3),
    (("CirrOS", "CirrOS", &["0.5.2", "0.6.2"]), 2),
    (("Arch", "Arch Linux", &["2024.05"]), 2),
];

const ARCHES: &[(&str, u32)] = &[
    ("x86_64", 70),
    ("i686", 12),
    ("aarch64", 15),
    ("ppc64le", 3),
];
const FORMATS: &[(&str, u32)] = &[("qcow2", 60), ("raw", 25), ("vmdk", 10), ("vdi", 5)];
const HYPERVISORS: &[(&str, u32)] = &[("kvm", 70), ("xen", 20), ("vmware", 10)];
const TYPES: &[(&str, u32)] = &[("base", 60), ("appliance", 30), ("contextualized", 10)];
const KINDS: &[(&str, u32)] = &[("machine", 85), ("disk", 15)];

const FLAVOURS: &[&str] = &[
    "base image",
    "server",
    "minimal",
    "with Docker",
    "HPC worker node",
    "Jupyter notebook server",
    "GPU CUDA toolkit",
    "web server (nginx)",
    "database server (PostgreSQL)",
    "grid user interface",
    "CVMFS client",
    "Kubernetes node",
    "desktop with XFCE",
    "cloud-init enabled",
    "batch worker (HTCondor)",
    "data analysis (ROOT)",
    "bioinformatics pipeline",
    "storage element (dCache)",
];

const WORDS: &[&str] = &[
    "image",
    "virtual",
    "machine",
    "cloud",
    "grid",
    "cluster",
    "compute",
    "storage",
    "network",
    "secure",
    "updated",
    "patched",
    "kernel",
    "packages",
    "security",
    "release",
    "stable",
    "long",
    "term",
    "support",
    "minimal",
    "install",
    "tools",
    "development",
    "python",
    "java",
    "golang",
    "rust",
    "compiler",
    "libraries",
    "scientific",
    "analysis",
    "physics",
    "biology",
    "chemistry",
    "astronomy",
    "climate",
    "simulation",
    "workflow",
    "pipeline",
    "batch",
    "scheduler",
    "monitoring",
    "logging",
    "metrics",
    "prometheus",
    "grafana",
    "ssh",
    "access",
    "keys",
    "users",
    "contextualization",
    "cloudinit",
    "one",
    "context",
    "disk",
    "volume",
    "partition",
    "filesystem",
    "ext4",
    "xfs",
    "lvm",
    "swap",
    "boot",
    "grub",
    "uefi",
    "bios",
    "driver",
    "virtio",
    "network",
    "interface",
    "dhcp",
    "ipv6",
    "firewall",
    "selinux",
    "apparmor",
    "hardened",
    "benchmark",
    "tested",
    "certified",
    "maintained",
    "community",
    "official",
    "vendor",
    "upstream",
    "mirror",
    "repository",
    "snapshot",
    "nightly",
    "build",
    "automated",
    "packer",
    "ansible",
    "puppet",
    "chef",
    "salt",
    "terraform",
    "openstack",
    "opennebula",
    "stratuslab",
    "egi",
    "fedcloud",
    "site",
    "federated",
    "catalogue",
    "endorsed",
    "trusted",
    "verified",
    "signed",
    "checksum",
    "small",
    "large",
    "fast",
    "lightweight",
    "preinstalled",
    "configured",
    "default",
    "settings",
    "locale",
    "timezone",
    "english",
    "european",
    "infrastructure",
    "research",
    "university",
    "laboratory",
    "experiment",
    "detector",
    "data",
    "processing",
    "reconstruction",
    "training",
    "inference",
    "gpu",
    "cuda",
    "tensorflow",
    "pytorch",
    "notebook",
    "jupyter",
    "rstudio",
    "matlab",
    "octave",
    "openmpi",
    "slurm",
    "torque",
    "condor",
    "xrootd",
    "webdav",
    "gridftp",
    "voms",
    "proxy",
    "certificate",
    "authentication",
    "token",
    "oidc",
];

const SITES: &[&str] = &[
    "cern.example.org",
    "in2p3.example.fr",
    "grnet.example.gr",
    "cesnet.example.cz",
    "lip.example.pt",
    "ifca.example.es",
    "infn.example.it",
    "scilab.example.eu",
];

/// What one document says (before the endorsement and signature).
struct Plan {
    identifier: String,
    sha1: String,
    endorser: usize,
    created: DateTime<Utc>,
    metadata: Metadata,
    /// Whether its (identifier, endorser) latest entry is valid at the
    /// benchmark's instant.
    valid_latest: bool,
}

/// The documents to sign, deterministic from the seed.
fn plans(count: usize, endorsers: usize, seed: u64) -> Vec<Plan> {
    let mut rng = Rng(seed);
    let start = Utc.with_ymd_and_hms(2013, 1, 1, 0, 0, 0).unwrap();
    let last_created = Utc.with_ymd_and_hms(2026, 10, 31, 0, 0, 0).unwrap();
    let future_from = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap();
    let future_to = Utc.with_ymd_and_hms(2032, 1, 1, 0, 0, 0).unwrap();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut sha = [0u8; 20];
        for chunk in sha.chunks_mut(8) {
            let bytes = rng.next().to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let identifier = identifier::from_sha1_bytes(&sha);
        let sha1: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        let (os, os_title, versions) = *rng.weighted(OSES);
        let version = rng.pick(versions).to_string();
        let arch = rng.weighted(ARCHES).to_string();
        let flavour = rng.pick(FLAVOURS);
        let bytes = 200_000_000 + (rng.next() % 20_000_000_000);
        // How many entries of this image, by whom.
        let first = rng.below(endorsers);
        let mut pairs = vec![(first, 1usize)];
        if rng.chance(10) {
            pairs[0].1 += 1 + rng.below(2);
        }
        if rng.chance(10) {
            let other = (first + 1 + rng.below(endorsers.max(2) - 1)) % endorsers;
            if other != first {
                pairs.push((other, 1));
            }
        }
        for (endorser, entries) in pairs {
            let mut created = rng.instant(start, last_created - Duration::days(400));
            let last = entries - 1;
            for n in 0..entries {
                if out.len() == count {
                    break;
                }
                let expired = rng.chance(12);
                let deprecated = n == last && rng.chance(3);
                let valid = if expired {
                    let until = created + Duration::days(30 + rng.below(700) as i64);
                    until.min(last_created + Duration::days(1))
                } else {
                    rng.instant(future_from, future_to)
                };
                let mut description = format!("{os_title} {version} ({arch}) {flavour}.");
                for _ in 0..(12 + rng.below(30)) {
                    description.push(' ');
                    description.push_str(rng.pick::<&str>(WORDS));
                }
                description.push('.');
                let tag = rng.chance(30).then(|| {
                    format!(
                        "{}-{version}-{}",
                        os.to_lowercase(),
                        rng.pick(&["latest", "prod", "testing", "lts"])
                    )
                });
                let host = rng.pick(SITES);
                let metadata = Metadata {
                    identifier: identifier.clone(),
                    valid: Some(marketplace_format::datetime::format_utc(valid)),
                    title: Some(format!("{os_title} {version} {arch} {flavour}")),
                    description: Some(description),
                    kind_type: Some(rng.weighted(TYPES).to_string()),
                    kind: Some(rng.weighted(KINDS).to_string()),
                    format: Some(rng.weighted(FORMATS).to_string()),
                    hypervisor: Some(rng.weighted(HYPERVISORS).to_string()),
                    alternative: tag,
                    bytes: Some(bytes),
                    checksums: vec![
                        Checksum {
                            algorithm: Algorithm::Sha1,
                            value: sha1.clone(),
                        },
                        Checksum {
                            algorithm: Algorithm::Sha256,
                            value: rng.hex(64),
                        },
                    ],
                    locations: vec![format!("https://images.{host}/{identifier}.{}", "img")],
                    version: Some(format!("{}.{}", 1 + n, rng.below(10))),
                    os: Some(os.to_string()),
                    os_version: Some(version.clone()),
                    os_arch: Some(arch.clone()),
                    deprecated: deprecated.then(|| "superseded by a newer image".to_string()),
                    ..Metadata::default()
                };
                out.push(Plan {
                    identifier: identifier.clone(),
                    sha1: sha1.clone(),
                    endorser,
                    created,
                    metadata,
                    valid_latest: n == last && !expired && !deprecated,
                });
                // At most three entries, 400 days before the last instant:
                // the history stays before it.
                created += Duration::seconds(1 + (rng.next() % 10_000_000) as i64);
            }
        }
    }
    out
}

/// A self-signed RSA-2048 credential carrying `email`.
fn credential(k: usize) -> Credential {
    let email = format!("endorser{k}@{}", SITES[k % SITES.len()]);
    let issued = CertificateBuilder::new(&[
        ("C", "EU"),
        ("O", "Marketplace Benchmark"),
        ("CN", &format!("Endorser {k}")),
    ])
    .valid_unix(1_300_000_000, 2_100_000_000)
    .email(&email)
    .self_signed();
    Credential::new(issued.key, vec![issued.cert]).expect("credential")
}

/// The signed document of `plan`.
fn sign(plan: &Plan, credentials: &[Credential]) -> String {
    let credential = &credentials[plan.endorser];
    let (endorsement, _) =
        endorsement_for(credential.identity(), None, plan.created).expect("endorsement");
    let mut metadata = plan.metadata.clone();
    metadata.endorsement = Some(endorsement);
    let text = marketplace_format::write::to_xml(&metadata);
    dsig::sign(
        &text,
        credential.key(),
        &credential.key_info_certificates(),
        SignOptions::default(),
    )
    .expect("sign")
}

fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", parent.display())));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

fn main() {
    let args = args();
    let t = Instant::now();
    let plans = Arc::new(plans(args.count, args.endorsers, args.seed));
    let credentials: Arc<Vec<Credential>> = Arc::new(std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.endorsers)
            .map(|k| s.spawn(move || credential(k)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("keygen"))
            .collect()
    }));
    eprintln!(
        "bench_data: {} documents planned, {} endorsers' keys in {:.1?}",
        plans.len(),
        credentials.len(),
        t.elapsed()
    );

    // Check one document through the same trust core the server uses.
    let sample = sign(&plans[0], &credentials);
    let report =
        marketplace_trust::document::check_document(sample.as_bytes(), &Default::default());
    if !report.problems.is_empty()
        || !matches!(
            report.signature,
            marketplace_trust::document::SignatureStatus::Valid { .. }
        )
    {
        fail(&format!(
            "the generated document does not verify: {:?} {:?}",
            report.problems, report.signature
        ));
    }

    let tmp = args.out.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            let (plans, credentials, next, tmp) = (&plans, &credentials, &next, &tmp);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(i) else { break };
                    let doc = sign(plan, credentials);
                    let path = tmp
                        .join("docs")
                        .join(&plan.sha1[..2])
                        .join(format!("{}-{i}.xml", plan.identifier));
                    write_file(&path, doc.as_bytes());
                    if i > 0 && i % 10_000 == 0 {
                        eprintln!("bench_data: {i} signed ({:.0?})", t.elapsed());
                    }
                }
            });
        }
    });
    let mut ids: Vec<&str> = plans
        .iter()
        .filter(|p| p.valid_latest)
        .map(|p| p.identifier.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut list = ids.join("\n");
    list.push('\n');
    write_file(&tmp.join("ids.txt"), list.as_bytes());
    let images = {
        let mut all: Vec<&str> = plans.iter().map(|p| p.identifier.as_str()).collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    };
    let summary = format!(
        "documents {}\nimages {images}\nendorsers {}\nlookup_ids {}\nseed {}\n",
        plans.len(),
        credentials.len(),
        ids.len(),
        args.seed
    );
    write_file(&tmp.join("summary.txt"), summary.as_bytes());
    let _ = std::fs::remove_dir_all(&args.out);
    std::fs::rename(&tmp, &args.out)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", args.out.display())));
    eprintln!(
        "bench_data: {} documents signed with {} threads in {:.1?} into {}",
        plans.len(),
        args.threads,
        t.elapsed(),
        args.out.display()
    );
    print!("{summary}");
}
