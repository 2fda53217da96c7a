//! `marketplace download ID`: fetches an image from its locations, verifying
//! its size and every checksum of its signed metadata while downloading.
//!
//! What the size and checksums describe: the image itself. When the
//! metadata names a compression (`dcterms:compression`), the file at the
//! locations is the image compressed that way and the size and checksums
//! are those of the decompressed image — as the original `Downloader`
//! checked the SHA-1 after inflating, and as `marketplace build` describes
//! the image file while `--compression` names the locations' format. Without
//! a compression, they describe the file as served.

use crate::client::{self, Marketplace};
use crate::codec::Codec;
use crate::failure::Failure;
use crate::output;
use crate::settings::{ClientOptions, Settings, TrustOptions};
use crate::transfer::{self, Expected, Pipeline, TransferError, Verified, Verify};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use marketplace_api::EntryItem;
use marketplace_format::{Checksum, Identifier, Metadata};
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::document::{ChainStatus, CheckOptions, SignatureStatus, check_document};
use marketplace_trust::voms::VomsDir;
use reqwest::Url;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_RANGE, RANGE};
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `marketplace download`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The signed metadata of the image's current endorsements is fetched and its signature checked here
(and the signer's chain with --ca-dir). Each location is tried in turn; the file is streamed to
F.part while its size and every checksum (MD5, SHA-1, SHA-256, SHA-512: all those the metadata
has) are computed; on any mismatch the files are deleted and the next location is tried, and the
command fails loudly when none matches. An interrupted download leaves F.part: running the same
command again resumes it with an HTTP Range request when the server supports ranges (the whole
file is verified again); --no-resume starts over.

Compression: when the metadata names one (gz, bz2, xz, zst), the size and checksums describe the
decompressed image (as the original tools checked them): the file is decompressed while it
downloads and the image is saved (--keep-compressed saves the file as served, still verified).
Without one they describe the file as served; --decompress then also decompresses a file that
turns out to be compressed, after verifying it.

Examples:
  marketplace download BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace download --output /var/lib/images/ubuntu.img --ca-dir /etc/grid-security/certificates \\
      BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace download --endorser jane@example.org --decompress --json BEE8-MMAw-Lk_IgsEExAy3d9R8h")]
pub(crate) struct DownloadArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// The vomsdir for the signers' VOMS attributes (the CA directory is --ca-dir).
    #[command(flatten)]
    pub trust: TrustOptions,
    /// The marketplace's transparency log.
    #[command(flatten)]
    pub log: crate::transparency::LogOptions,
    /// Where to save the image [default: the location's file name (without the compression
    /// extension when decompressing), else ID.img, in the current directory].
    #[arg(short, long, value_name = "F")]
    pub output: Option<PathBuf>,
    /// Decompress the file even when the metadata names no compression.
    #[arg(long)]
    pub decompress: bool,
    /// Save the file as served even when the metadata says it is compressed (still verified).
    #[arg(long, conflicts_with = "decompress")]
    pub keep_compressed: bool,
    /// Use this endorser's latest entry only.
    #[arg(long, value_name = "EMAIL", alias = "email")]
    pub endorser: Option<String>,
    /// Also download an image whose entries are all expired or deprecated.
    #[arg(long)]
    pub any_status: bool,
    /// Replace F if it exists.
    #[arg(long)]
    pub force: bool,
    /// Start over instead of resuming F.part.
    #[arg(long)]
    pub no_resume: bool,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
}

/// The result printed by `--json`.
#[derive(Debug, Serialize)]
struct Done {
    identifier: String,
    file: String,
    location: String,
    bytes: u64,
    served_bytes: u64,
    image_bytes: u64,
    verified: Vec<String>,
    checksums: std::collections::BTreeMap<String, String>,
    decompressed: Option<Codec>,
    resumed: bool,
}

/// What one location attempt gave.
struct Attempt {
    verified: Verified,
    resumed: bool,
}

/// The signed metadata of the chosen entries, checked here.
fn metadata(
    marketplace: &Marketplace,
    settings: &Settings,
    args: &DownloadArgs,
) -> anyhow::Result<Vec<Metadata>> {
    let id = &args.identifier;
    let image = marketplace.image(id)?;
    let entries: Vec<&EntryItem> =
        match &args.endorser {
            Some(email) => vec![crate::reissue::entry_of(&image, email).ok_or_else(|| {
                Failure::not_found(format!("{email} has no entry for image {id}"))
            })?],
            None if !image.current.is_empty() => image.current.iter().collect(),
            None if args.any_status => image.inactive.iter().collect(),
            None => {
                let why: Vec<String> = image
                    .inactive
                    .iter()
                    .map(|e| match &e.deprecated {
                        Some(r) => format!("deprecated by {}: {r}", e.endorser.email),
                        None => format!(
                            "expired for {} at {}",
                            e.endorser.email,
                            e.valid.as_deref().unwrap_or("?")
                        ),
                    })
                    .collect();
                return Err(Failure::refused(format!(
                    "image {id} has no current endorsement ({}); give --any-status to download it \
                 anyway",
                    why.join("; ")
                ))
                .into());
            }
        };
    let ca = settings
        .ca_dir
        .value
        .as_ref()
        .map(CaDirectory::open)
        .transpose()
        .map_err(|e| Failure::usage(format!("cannot use the CA directory: {e}")))?;
    let vomsdir = match (&ca, &settings.vomsdir.value) {
        (Some(_), Some(d)) => Some(
            VomsDir::open(d).map_err(|e| Failure::usage(format!("cannot use the vomsdir: {e}")))?,
        ),
        _ => None,
    };
    let options = CheckOptions {
        ca_dir: ca.as_ref(),
        vomsdir: vomsdir.as_ref(),
        at: None,
        certificates_at: None,
        // Served by a marketplace that accepted them: only the signature
        // is asked, not the layout of what it leaves unsigned.
        layout: marketplace_trust::dsig::Layout::Stored,
    };
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for e in entries {
        let bytes = marketplace.document(id, &e.endorser.email, &e.created)?;
        let report = check_document(&bytes, &options);
        let who = format!("{}'s entry of {}", e.endorser.email, e.created);
        for note in &report.notes {
            eprintln!("note: {who}: {note}");
        }
        match problem_of(&report, id) {
            None => {
                // Relied on only when the log proves it (a fork or a
                // rollback stops the download).
                let logged =
                    args.log
                        .check(marketplace, (id, &e.endorser.email, &e.created), &bytes)?;
                if !settings.json {
                    eprintln!(
                        "{who}: in the transparency log at index {} (checkpoint of {} entries)",
                        logged.index, logged.checkpoint.size
                    );
                }
                out.push(report.metadata);
            }
            Some(p) => {
                eprintln!("warning: ignoring {who}: {p}");
                refused.push(format!("{who}: {p}"));
            }
        }
    }
    if out.is_empty() {
        return Err(Failure::refused(format!(
            "no trustworthy metadata for image {id}: {}",
            refused.join("; ")
        ))
        .into());
    }
    Ok(out)
}

/// Why a fetched entry cannot be relied on, if it cannot.
fn problem_of(report: &marketplace_trust::document::DocumentReport, id: &str) -> Option<String> {
    match (&report.signature, &report.chain) {
        (SignatureStatus::Valid { .. }, ChainStatus::Untrusted { reason }) => {
            Some(format!("its signer is not trusted: {reason}"))
        }
        (SignatureStatus::Valid { .. }, _) if report.metadata.identifier != id => {
            Some(format!("it describes image {}", report.metadata.identifier))
        }
        (SignatureStatus::Valid { .. }, _) => None,
        (SignatureStatus::Invalid { reason }, _) => {
            Some(format!("its signature does not verify: {reason}"))
        }
        (SignatureStatus::Unsigned, _) => Some("it is not signed".into()),
    }
}

/// Size, checksums, compression and locations agreed by every document.
fn agree(id: &str, docs: &[Metadata]) -> Result<(Expected, Option<String>, Vec<String>), Failure> {
    let first = &docs[0];
    let disagree = |what: &str| {
        Failure::refused(format!(
            "the endorsers of image {id} disagree about its {what}; choose one with --endorser"
        ))
    };
    let bytes = first.bytes.ok_or_else(|| {
        Failure::refused(format!(
            "the metadata of image {id} gives no size (slreq:bytes)"
        ))
    })?;
    let mut checksums: Vec<Checksum> = Vec::new();
    let mut locations: Vec<String> = Vec::new();
    let compression = first.compression.clone().filter(|c| !c.trim().is_empty());
    for d in docs {
        if d.bytes != Some(bytes) {
            return Err(disagree("size"));
        }
        if d.compression.clone().filter(|c| !c.trim().is_empty()) != compression {
            return Err(disagree("compression"));
        }
        for c in &d.checksums {
            match checksums.iter().find(|k| k.algorithm == c.algorithm) {
                Some(k) if !k.value.eq_ignore_ascii_case(&c.value) => {
                    return Err(disagree(&format!("{} checksum", c.algorithm)));
                }
                Some(_) => {}
                None => checksums.push(c.clone()),
            }
        }
        for l in &d.locations {
            let l = l.trim();
            if !l.is_empty() && !locations.iter().any(|k| k == l) {
                locations.push(l.to_string());
            }
        }
    }
    if locations.is_empty() {
        return Err(Failure::not_found(format!(
            "the metadata of image {id} gives no location to download it from"
        )));
    }
    Ok((Expected { bytes, checksums }, compression, locations))
}

/// The default file name: the first location's last path segment when it
/// is a plain file name (without the compression extension when
/// decompressing), else `ID.img`.
fn default_output(id: &str, locations: &[String], strip: Option<Codec>) -> PathBuf {
    let name = locations
        .iter()
        .filter_map(|l| Url::parse(l).ok())
        .filter_map(|u| u.path_segments()?.next_back().map(str::to_string))
        .find(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
        });
    let Some(mut name) = name else {
        return PathBuf::from(format!("{id}.img"));
    };
    if let Some(codec) = strip {
        let lower = name.to_ascii_lowercase();
        let suffixes: &[&str] = match codec {
            Codec::Gzip => &[".gz", ".gzip"],
            Codec::Bzip2 => &[".bz2", ".bzip2"],
            Codec::Xz => &[".xz"],
            Codec::Zstd => &[".zst", ".zstd"],
        };
        if let Some(s) = suffixes.iter().find(|s| lower.ends_with(**s)) {
            name.truncate(name.len() - s.len());
        }
    }
    if name.is_empty() {
        PathBuf::from(format!("{id}.img"))
    } else {
        PathBuf::from(name)
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The first position of a `Content-Range: bytes FIRST-LAST/TOTAL`.
fn range_start(response: &reqwest::blocking::Response) -> Option<u64> {
    let v = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

fn progress_bar(len: Option<u64>, show: bool, position: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message("download");
    bar.set_position(position);
    bar
}

/// Where one download writes.
struct Files {
    part: PathBuf,
    decoded: PathBuf,
}

impl Files {
    fn remove(&self) {
        let _ = fs::remove_file(&self.part);
        let _ = fs::remove_file(&self.decoded);
    }
}

/// One download: where it writes and how it verifies.
struct Job<'a> {
    http: Client,
    files: Files,
    verify: Verify,
    write_decoded: bool,
    expected: &'a Expected,
    show_progress: bool,
}

impl Job<'_> {
    /// Downloads `url` into the partial file (resuming it when `resume`), verifying it.
    fn attempt(&self, url: &str, resume: bool) -> Result<Attempt, TransferError> {
        let local = TransferError::Local;
        let files = &self.files;
        let offset = if resume {
            fs::metadata(&files.part).map(|m| m.len()).unwrap_or(0)
        } else {
            0
        };
        let mut request = self.http.get(url);
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let mut response = request
            .send()
            .map_err(|e| TransferError::Network(client::chain(&e)))?;
        let status = response.status().as_u16();
        let append = match status {
            206 if offset > 0 && range_start(&response) == Some(offset) => true,
            416 if offset > 0 => {
                drop(response);
                eprintln!("note: the partial file does not fit the location's file; starting over");
                return self.attempt(url, false);
            }
            200 => {
                if offset > 0 {
                    eprintln!(
                        "note: {url} does not resume downloads (it answered 200 to a Range \
                         request); starting over"
                    );
                }
                false
            }
            _ => {
                let message = client::error_message(&response.text().unwrap_or_default());
                let detail = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                return Err(TransferError::Network(format!("answered {status}{detail}")));
            }
        };
        let start = if append { offset } else { 0 };
        let total = response.content_length().map(|l| l + start);
        if self.verify == Verify::Raw
            && let Some(total) = total
            && total != self.expected.bytes
        {
            return Err(TransferError::Mismatch(format!(
                "size mismatch: the location serves {total} bytes, the metadata gives {}",
                self.expected.bytes
            )));
        }
        let mut part = if append {
            OpenOptions::new()
                .append(true)
                .open(&files.part)
                .map_err(local)?
        } else {
            File::create(&files.part).map_err(local)?
        };
        let decoded_out = if self.write_decoded {
            Some(File::create(&files.decoded).map_err(local)?)
        } else {
            None
        };
        let mut pipeline = Pipeline::start(self.verify, self.expected, decoded_out);
        let mut open = true;
        if append {
            open = transfer::replay(&files.part, start, &mut pipeline)?;
        }
        if open {
            let bar = progress_bar(total, self.show_progress, start);
            let streamed =
                transfer::stream(&mut response, &mut part, &mut pipeline, |n| bar.inc(n));
            bar.finish_and_clear();
            // On a broken transfer the partial file stays for a later resume.
            streamed?;
        }
        let verified = pipeline.finish()?;
        Ok(Attempt {
            verified,
            resumed: append,
        })
    }

    /// Downloads from `url`, resuming a partial file when `resume`; when a
    /// resumed file does not verify, once more from the start.
    fn location(&self, url: &str, resume: bool) -> Result<Attempt, TransferError> {
        let partial = resume
            && fs::metadata(&self.files.part)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
        match self.attempt(url, resume) {
            Err(TransferError::Mismatch(m)) if partial => {
                self.files.remove();
                eprintln!(
                    "MISMATCH after resuming a partial download: {url}: {m}\nthe downloaded \
                     files were deleted; downloading again from the start"
                );
                self.attempt(url, false)
            }
            other => other,
        }
    }
}

/// The codec the metadata's `dcterms:compression` names (None without
/// one); a name no codec knows refuses the download.
fn codec_of(id: &str, compression: Option<&str>) -> Result<Option<Codec>, Failure> {
    match compression {
        Some(name) => Codec::from_name(name).map_err(|e| {
            Failure::refused(format!(
                "the metadata of image {id} says its file is compressed: {e}; the image cannot \
                 be verified"
            ))
        }),
        None => Ok(None),
    }
}

/// The file to save the image as: `--output`, else a name from the first
/// location (without the compression extension when decompressing), else
/// `ID.img`. Fails when it is a directory, or exists without `--force`.
fn output_path(
    args: &DownloadArgs,
    locations: &[String],
    codec: Option<Codec>,
    write_decoded: bool,
) -> Result<PathBuf, Failure> {
    let output = match &args.output {
        Some(o) => o.clone(),
        None => {
            let guess = || {
                let name = locations.first()?.rsplit('/').next()?;
                Codec::from_name(name.rsplit('.').next()?).ok().flatten()
            };
            let strip = match codec {
                Some(c) if write_decoded => Some(c),
                None if args.decompress => guess(),
                _ => None,
            };
            default_output(&args.identifier, locations, strip)
        }
    };
    if output.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a directory; give a file name with --output",
            output.display()
        )));
    }
    if output.exists() && !args.force {
        return Err(Failure::usage(format!(
            "{} exists; give --force to replace it, or another --output",
            output.display()
        )));
    }
    Ok(output)
}

/// Tries each location in turn until one serves the image the metadata
/// describes; returns that location and its attempt. Mismatches delete the
/// downloaded files; a local write error ends the command at once.
fn download_from_locations(
    job: &Job<'_>,
    locations: &[String],
    id: &str,
    resume: bool,
    json: bool,
) -> anyhow::Result<(String, Attempt)> {
    let files = &job.files;
    let mut failures: Vec<String> = Vec::new();
    let mut mismatched = false;
    for location in locations {
        let scheme_ok = Url::parse(location)
            .map(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or(false);
        if !scheme_ok {
            failures.push(format!("{location}: not an http(s) URL, skipped"));
            continue;
        }
        if !json {
            eprintln!("downloading {location}");
        }
        match job.location(location, resume) {
            Ok(a) => return Ok((location.clone(), a)),
            Err(TransferError::Mismatch(m)) => {
                files.remove();
                mismatched = true;
                eprintln!("MISMATCH: {location}: {m}\nthe downloaded files were deleted");
                failures.push(format!("{location}: {m}"));
            }
            Err(TransferError::Local(e)) => {
                let _ = fs::remove_file(&files.decoded);
                return Err(
                    Failure::usage(format!("cannot write {}: {e}", files.part.display())).into(),
                );
            }
            Err(TransferError::Network(m)) => {
                let _ = fs::remove_file(&files.decoded);
                eprintln!("warning: {location}: {m}");
                failures.push(format!("{location}: {m}"));
            }
        }
    }
    Err(no_location_served(id, files, &failures, mismatched, locations.len()).into())
}

/// The failure when no location served the image: refused when one served
/// a file that did not match, else a network failure (saying that a
/// partial file is kept for a resume).
fn no_location_served(
    id: &str,
    files: &Files,
    failures: &[String],
    mismatched: bool,
    count: usize,
) -> Failure {
    let kept = if files.part.exists() {
        format!(
            "; the partial file {} is kept: run the same command again to resume",
            files.part.display()
        )
    } else {
        String::new()
    };
    let list = failures.join("\n  ");
    if mismatched {
        Failure::refused(format!(
            "no location of image {id} served the image its metadata describes:\n  {list}"
        ))
    } else {
        Failure::network(format!(
            "image {id} could not be downloaded from any of its {count} location(s):\n  {list}{kept}"
        ))
    }
}

/// Puts the verified file in place at `output`: the decompressed image when
/// it was decompressed while downloading, else the file as served —
/// decompressed first with `decompress` when it turns out to be compressed.
/// Returns the compression it was decompressed from, if any.
fn put_in_place(
    files: &Files,
    output: &Path,
    codec: Option<Codec>,
    write_decoded: bool,
    decompress: bool,
) -> anyhow::Result<Option<Codec>> {
    let mut decompressed = if write_decoded { codec } else { None };
    if write_decoded {
        fs::rename(&files.decoded, output)?;
        let _ = fs::remove_file(&files.part);
    } else if decompress {
        match transfer::decompress_file(&files.part, &files.decoded)? {
            Some(c) => {
                fs::rename(&files.decoded, output)?;
                let _ = fs::remove_file(&files.part);
                decompressed = Some(c);
            }
            None => {
                eprintln!("note: the file is not compressed; saved as served");
                fs::rename(&files.part, output)?;
            }
        }
    } else {
        fs::rename(&files.part, output)?;
    }
    Ok(decompressed)
}

/// What was downloaded and verified.
struct Downloaded {
    identifier: String,
    output: PathBuf,
    location: String,
    attempt: Attempt,
    decompressed: Option<Codec>,
}

/// Prints the result: the `--json` object, else one line for people.
fn report(done: Downloaded, expected: &Expected, json: bool) {
    let Downloaded {
        identifier: id,
        output,
        location,
        attempt,
        decompressed,
    } = done;
    let verified: Vec<String> = std::iter::once("size".to_string())
        .chain(expected.checksums.iter().map(|c| c.algorithm.to_string()))
        .collect();
    let bytes = fs::metadata(&output).map(|m| m.len()).unwrap_or_default();
    if json {
        output::json(&Done {
            identifier: id,
            file: output.display().to_string(),
            location,
            bytes,
            served_bytes: attempt.verified.raw_bytes,
            image_bytes: attempt.verified.image_bytes,
            checksums: expected
                .checksums
                .iter()
                .filter_map(|c| {
                    let hex = attempt.verified.digests.hex(c.algorithm)?;
                    Some((c.algorithm.to_string(), hex))
                })
                .collect(),
            verified,
            decompressed,
            resumed: attempt.resumed,
        });
    } else {
        let mut line = format!(
            "downloaded image {id} to {}, {}; verified: {}",
            output.display(),
            output::bytes(bytes),
            verified.join(", ")
        );
        if let Some(c) = decompressed {
            line.push_str(&format!("; decompressed from {c}"));
        }
        if attempt.resumed {
            line.push_str("; resumed a partial download");
        }
        println!("{line}");
    }
}

/// Runs the command: the checked metadata, the file to save, each location
/// in turn, the verified file put in place, the report.
pub(crate) fn run(args: DownloadArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, Some(&args.trust))?;
    let marketplace = Marketplace::new(&settings)?;
    let id = args.identifier.clone();
    let docs = metadata(&marketplace, &settings, &args)?;
    let (expected, compression, locations) = agree(&id, &docs)?;
    let codec = codec_of(&id, compression.as_deref())?;
    let (verify, write_decoded) = match codec {
        Some(c) => (Verify::Decoded(c), !args.keep_compressed),
        None => (Verify::Raw, false),
    };
    let output = output_path(&args, &locations, codec, write_decoded)?;
    let files = Files {
        part: with_suffix(&output, ".part"),
        decoded: with_suffix(&output, ".tmp"),
    };
    if args.no_resume {
        files.remove();
    }
    let job = Job {
        http: client::build(client::builder(None))?,
        files,
        verify,
        write_decoded,
        expected: &expected,
        show_progress: std::io::stderr().is_terminal() && !settings.json,
    };
    let (location, attempt) =
        download_from_locations(&job, &locations, &id, !args.no_resume, settings.json)?;
    let decompressed = put_in_place(&job.files, &output, codec, write_decoded, args.decompress)?;
    let done = Downloaded {
        identifier: id.to_string(),
        output,
        location,
        attempt,
        decompressed,
    };
    report(done, &expected, settings.json);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        let l = vec!["https://h/images/ubuntu-24.04.img.gz".to_string()];
        assert_eq!(
            default_output("ID", &l, Some(Codec::Gzip)),
            PathBuf::from("ubuntu-24.04.img")
        );
        assert_eq!(
            default_output("ID", &l, None),
            PathBuf::from("ubuntu-24.04.img.gz")
        );
        let odd = vec!["https://h/get?id=1".to_string(), "pdisk:x".to_string()];
        assert_eq!(default_output("ID", &odd, None), PathBuf::from("get"));
        let none = vec!["https://h/".to_string()];
        assert_eq!(default_output("ID", &none, None), PathBuf::from("ID.img"));
    }
}
