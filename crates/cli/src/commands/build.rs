//! `marketplace build`: describe an image file in a new, unsigned metadata
//! document (the successor of `stratus-build-metadata`).
//!
//! The image is read once to compute its size and checksums (see
//! [`crate::digest`]); the identifier is derived from the SHA-1. The
//! endorsement is left empty, as the original template did: `marketplace sign`
//! fills it in from the signer's certificate.

use crate::digest;
use anyhow::{Context, bail};
use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use marketplace_format::datetime::{format_utc, parse_utc};
use marketplace_format::{Algorithm, Checksum, Metadata, identifier, write::to_xml};
use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Output: the document goes to IMAGE's file name plus \".xml\" in the current directory (for
`disks/ubuntu.img`: `./ubuntu.img.xml`, replaced if it exists), to F with --output F, or to standard
output with --output -. It is unsigned, with an empty slreq:endorsement: sign it with `marketplace
sign` before uploading. A progress bar is shown on standard error when it is a terminal.

Examples:
  Describe an image; writes ./ubuntu-24.04-x86_64.img.xml:
    marketplace build --author 'Jane Doe' --os ubuntu --os-version 24.04 --os-arch x86_64 \\
        --image-version 1.0 --title 'Ubuntu 24.04 server' --comment 'Minimal server image' \\
        --format raw --compression gz --hypervisor kvm --disks-bus virtio \\
        --location https://images.example.org/ubuntu-24.04-x86_64.img.gz \\
        ubuntu-24.04-x86_64.img

  Reuse checksums computed elsewhere (the file is not read when every needed one is given):
    marketplace build --no-md5 --no-sha512 --sha1 HEX --sha256 HEX --bytes 2147483648 \\
        --valid 2027-06-30T00:00:00Z -o - big.img";

/// Options of `marketplace build`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct BuildArgs {
    /// The image file to describe.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,

    /// What the image is: the descriptive terms.
    #[command(flatten)]
    pub terms: Box<Terms>,

    /// Known MD5 of the image (hex), used instead of computing it.
    #[arg(long, value_name = "HEX", value_parser = md5_hex, conflicts_with = "no_md5")]
    pub md5: Option<String>,
    /// Known SHA-1 of the image (hex), used instead of computing it.
    #[arg(long, value_name = "HEX", value_parser = sha1_hex)]
    pub sha1: Option<String>,
    /// Known SHA-256 of the image (hex), used instead of computing it.
    #[arg(long, value_name = "HEX", value_parser = sha256_hex, conflicts_with = "no_sha256")]
    pub sha256: Option<String>,
    /// Known SHA-512 of the image (hex), used instead of computing it.
    #[arg(long, value_name = "HEX", value_parser = sha512_hex, conflicts_with = "no_sha512")]
    pub sha512: Option<String>,
    /// Size of the image in bytes; needed when every checksum is given and IMAGE is not a
    /// regular file here. Checked against the file when it is read.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub bytes: Option<u64>,
    /// Leave out the MD5 checksum.
    #[arg(long)]
    pub no_md5: bool,
    /// Leave out the SHA-256 checksum.
    #[arg(long)]
    pub no_sha256: bool,
    /// Leave out the SHA-512 checksum.
    #[arg(long)]
    pub no_sha512: bool,

    /// Expiry of the entry (dcterms:valid): a date and time (2027-01-31T12:00:00Z, any RFC 3339
    /// offset, or a date 2027-01-31 meaning midnight UTC), or a duration after the creation time:
    /// N followed by y (years), m (months), w (weeks), d (days) or h (hours). The default, six
    /// months, is the one of stratus-build-metadata.
    #[arg(long, value_name = "WHEN", default_value = "6m", value_parser = parse_expiry)]
    pub valid: Expiry,
    /// Creation time of the record (dcterms:created), same forms as a --valid date; default: now.
    #[arg(long, value_name = "DATETIME", value_parser = parse_instant)]
    pub created: Option<DateTime<Utc>>,
    /// Where to write the document; `-` for standard output (default: IMAGE's file name plus
    /// ".xml", in the current directory).
    #[arg(short, long, value_name = "F")]
    pub output: Option<PathBuf>,
}

/// The options that map one to one to descriptive terms of the document
/// (boxed in [`BuildArgs`] to keep the command enum small).
#[derive(Debug, clap::Args)]
pub(crate) struct Terms {
    /// Author of the image (dcterms:creator).
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    /// Operating system (slterms:os).
    #[arg(long, value_name = "OS")]
    pub os: Option<String>,
    /// Operating system version (slterms:os-version).
    #[arg(long, value_name = "VERSION")]
    pub os_version: Option<String>,
    /// Operating system architecture, e.g. x86_64 (slterms:os-arch).
    #[arg(long, value_name = "ARCH")]
    pub os_arch: Option<String>,
    /// Version of the image (slterms:version).
    #[arg(long, value_name = "VERSION")]
    pub image_version: Option<String>,
    /// Description of the image (dcterms:description).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Compression of the file at the locations, e.g. gz, bz2 (dcterms:compression).
    #[arg(long, value_name = "NAME")]
    pub compression: Option<String>,
    /// Where the image can be downloaded (slterms:location); repeatable.
    #[arg(long, value_name = "URL")]
    pub location: Vec<String>,
    /// Image format, e.g. raw, qcow2 (dcterms:format).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Hypervisor, e.g. kvm, xen (slterms:hypervisor).
    #[arg(long, value_name = "NAME")]
    pub hypervisor: Option<String>,
    /// Short title (dcterms:title).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Tag naming a series of images (dcterms:alternative).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Type of the image (dcterms:type).
    #[arg(long = "type", value_name = "TYPE", default_value = "machine")]
    pub image_type: String,
    /// Kind of the image, e.g. machine, datablock (slterms:kind).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Disk bus driver, e.g. virtio (slterms:disks-bus); repeatable.
    #[arg(long, value_name = "BUS")]
    pub disks_bus: Vec<String>,
    /// Restrict the entry to members of this VO (mp:visible-to, inside the
    /// signed bytes); repeatable. Without it the entry is public.
    #[arg(long, value_name = "VO", value_parser = vo_name)]
    pub visible_to: Vec<String>,
}

/// A VO name for `--visible-to`: trimmed, not blank.
fn vo_name(s: &str) -> Result<String, String> {
    let name = s.trim();
    if name.is_empty() {
        return Err("a VO name cannot be blank".into());
    }
    Ok(name.to_string())
}

/// When an entry expires, as given to `--valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// At this instant.
    At(DateTime<Utc>),
    /// This long after the creation time.
    After(Span),
}

/// A duration in calendar units (months are not a fixed number of days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// Calendar months (a year is 12).
    Months(u32),
    /// Days (a week is 7).
    Days(i64),
    /// Hours.
    Hours(i64),
}

impl Expiry {
    /// The expiry instant for a record created at `created`.
    pub(crate) fn resolve(self, created: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expiry::At(t) => Some(t),
            Expiry::After(Span::Months(n)) => created.checked_add_months(Months::new(n)),
            Expiry::After(Span::Days(n)) => created.checked_add_signed(TimeDelta::try_days(n)?),
            Expiry::After(Span::Hours(n)) => created.checked_add_signed(TimeDelta::try_hours(n)?),
        }
    }
}

/// Parses a `--valid` value: a duration (`6m`, `1y`, `90d`, `2w`, `12h`) or an instant.
pub(crate) fn parse_expiry(text: &str) -> Result<Expiry, String> {
    let units = ['y', 'm', 'w', 'd', 'h'];
    if let Some(unit) = text.chars().last().filter(|c| units.contains(c))
        && text.len() > 1
        && text[..text.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        let count: u32 = text[..text.len() - 1]
            .parse()
            .map_err(|_| format!("'{text}': the number is too large"))?;
        if count == 0 {
            return Err(format!("'{text}': the duration must be positive"));
        }
        let span = match unit {
            'y' => Span::Months(
                count
                    .checked_mul(12)
                    .ok_or_else(|| format!("'{text}': the number is too large"))?,
            ),
            'm' => Span::Months(count),
            'w' => Span::Days(i64::from(count) * 7),
            'd' => Span::Days(i64::from(count)),
            _ => Span::Hours(i64::from(count)),
        };
        return Ok(Expiry::After(span));
    }
    parse_instant(text).map(Expiry::At).map_err(|_| {
        format!(
            "'{text}' is neither a date and time (like 2027-01-31T12:00:00Z or 2027-01-31) \
             nor a duration (a number followed by y, m, w, d or h, like 6m or 90d)"
        )
    })
}

/// Parses an instant: XML Schema / RFC 3339 date and time (converted to UTC),
/// or a date alone (midnight UTC).
pub(crate) fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = parse_utc(text) {
        return Ok(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "'{text}' is not a date and time like 2027-01-31T12:00:00Z (RFC 3339) or a date like 2027-01-31"
    ))
}

/// Checks and normalises (to lowercase) a hexadecimal digest for `algorithm`.
fn digest_hex(algorithm: Algorithm, text: &str) -> Result<String, String> {
    let value = text.trim().to_ascii_lowercase();
    if value.len() != algorithm.hex_len() || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "'{text}' is not a {algorithm} digest: expected {} hexadecimal digits",
            algorithm.hex_len()
        ));
    }
    Ok(value)
}

fn md5_hex(text: &str) -> Result<String, String> {
    digest_hex(Algorithm::Md5, text)
}

fn sha1_hex(text: &str) -> Result<String, String> {
    digest_hex(Algorithm::Sha1, text)
}

fn sha256_hex(text: &str) -> Result<String, String> {
    digest_hex(Algorithm::Sha256, text)
}

fn sha512_hex(text: &str) -> Result<String, String> {
    digest_hex(Algorithm::Sha512, text)
}

/// The creation time (`--created`, else now) and the expiry it gives
/// `--valid`, which must come after it.
fn creation_and_expiry(args: &BuildArgs) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    let created = args.created.unwrap_or_else(Utc::now);
    let valid = args
        .valid
        .resolve(created)
        .context("--valid: the expiry date is out of range")?;
    if valid <= created {
        bail!(
            "--valid: the expiry {} is not after the creation time {}",
            format_utc(valid),
            format_utc(created)
        );
    }
    Ok((created, valid))
}

/// Where the document goes: None for standard output (`--output -`), else
/// `--output` or the default next to the current directory.
fn output_target(args: &BuildArgs) -> anyhow::Result<Option<PathBuf>> {
    Ok(match &args.output {
        Some(path) if path.as_os_str() == "-" => None,
        Some(path) => Some(path.clone()),
        None => Some(default_output(&args.image)?),
    })
}

/// The image's size and checksums: the digests given on the command line,
/// the others computed by reading the file once (not read at all when every
/// wanted one is given). The size must be positive and agree with `--bytes`.
fn size_and_checksums(args: &BuildArgs) -> anyhow::Result<(u64, Vec<Checksum>)> {
    // Which checksums go in the document, and which are already known.
    let supplied = [
        (Algorithm::Md5, &args.md5, !args.no_md5),
        (Algorithm::Sha1, &args.sha1, true),
        (Algorithm::Sha256, &args.sha256, !args.no_sha256),
        (Algorithm::Sha512, &args.sha512, !args.no_sha512),
    ];
    let to_compute: Vec<Algorithm> = supplied
        .iter()
        .filter(|(_, known, wanted)| *wanted && known.is_none())
        .map(|(a, _, _)| *a)
        .collect();
    let (bytes, computed) = measure(args, &to_compute)?;
    let mut checksums = Vec::new();
    for (algorithm, known, wanted) in supplied {
        if !wanted {
            continue;
        }
        let value = match known {
            Some(v) => v.clone(),
            None => computed
                .as_ref()
                .and_then(|d| d.hex(algorithm))
                .ok_or_else(|| anyhow::anyhow!("no {algorithm} digest was computed"))?,
        };
        checksums.push(Checksum { algorithm, value });
    }
    Ok((bytes, checksums))
}

/// The image's size and the digests of `to_compute` (None when there are
/// none, without reading the file). Fails when the size disagrees with
/// `--bytes` or is zero.
fn measure(
    args: &BuildArgs,
    to_compute: &[Algorithm],
) -> anyhow::Result<(u64, Option<digest::Digests>)> {
    let (bytes, computed) = if to_compute.is_empty() {
        (size_without_reading(&args.image, args.bytes)?, None)
    } else {
        let digests = compute(&args.image, to_compute)?;
        if let Some(expected) = args.bytes
            && expected != digests.bytes
        {
            bail!(
                "--bytes {expected} does not match '{}', which has {} bytes",
                args.image.display(),
                digests.bytes
            );
        }
        (digests.bytes, Some(digests))
    };
    if bytes == 0 {
        bail!(
            "'{}' is empty: an image must have at least one byte (slreq:bytes is a positive integer)",
            args.image.display()
        );
    }
    Ok((bytes, computed))
}

/// The metadata of the image: the identifier derived from the SHA-1, the
/// dates, size and checksums, and the descriptive terms; no endorsement.
fn describe(
    terms: Terms,
    created: DateTime<Utc>,
    valid: DateTime<Utc>,
    bytes: u64,
    checksums: Vec<Checksum>,
) -> anyhow::Result<Metadata> {
    let sha1 = &checksums
        .iter()
        .find(|c| c.algorithm == Algorithm::Sha1)
        .ok_or_else(|| anyhow::anyhow!("no SHA-1 checksum: the identifier derives from it"))?
        .value;
    let sha1_bytes = identifier::sha1_hex_to_bytes(sha1).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Metadata {
        identifier: identifier::from_sha1_bytes(&sha1_bytes),
        valid: Some(format_utc(valid)),
        title: terms.title,
        description: terms.comment,
        kind_type: Some(terms.image_type),
        kind: terms.kind,
        creator: terms.author,
        created: Some(format_utc(created)),
        format: terms.format,
        alternative: terms.tag,
        compression: terms.compression,
        bytes: Some(bytes),
        checksums,
        endorsement: None,
        locations: terms.location,
        version: terms.image_version,
        hypervisor: terms.hypervisor,
        os: terms.os,
        os_version: terms.os_version,
        os_arch: terms.os_arch,
        disks_bus: terms.disks_bus,
        visible_to: terms.visible_to,
        ..Metadata::default()
    })
}

/// Writes the document to standard output (None) or to the file, saying
/// on standard error which file it wrote.
fn write_document(output: Option<PathBuf>, xml: &str, identifier: &str) -> anyhow::Result<()> {
    match output {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(xml.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
        Some(path) => {
            fs::write(&path, xml).with_context(|| format!("cannot write '{}'", path.display()))?;
            eprintln!(
                "marketplace: wrote {} (image {identifier}); sign it with `marketplace sign`",
                path.display(),
            );
        }
    }
    Ok(())
}

/// Runs the command: dates, output, size and checksums, the metadata
/// (checked as a document), written out.
pub(crate) fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let (created, valid) = creation_and_expiry(&args)?;
    let output = output_target(&args)?;
    let (bytes, checksums) = size_and_checksums(&args)?;
    let metadata = describe(*args.terms, created, valid, bytes, checksums)?;
    let xml = to_xml(&metadata);
    check_document(&xml)?;
    write_document(output, &xml, &metadata.identifier)?;
    Ok(ExitCode::SUCCESS)
}

/// `IMAGE`'s file name plus `.xml`, in the current directory.
fn default_output(image: &Path) -> anyhow::Result<PathBuf> {
    let Some(name) = image.file_name() else {
        bail!(
            "cannot name the output after '{}'; give --output",
            image.display()
        );
    };
    let mut name = name.to_os_string();
    name.push(".xml");
    Ok(PathBuf::from(name))
}

/// The image size when every checksum was supplied: `--bytes`, or the size
/// of the file (which must then agree with `--bytes`).
fn size_without_reading(image: &Path, given: Option<u64>) -> anyhow::Result<u64> {
    let meta = fs::metadata(image);
    match (given, meta) {
        (Some(n), Ok(m)) if m.is_file() && m.len() != n => bail!(
            "--bytes {n} does not match '{}', which has {} bytes",
            image.display(),
            m.len()
        ),
        (Some(n), _) => Ok(n),
        (None, Ok(m)) if m.is_file() => Ok(m.len()),
        (None, Ok(_)) => bail!(
            "'{}' is not a regular file, so its size is unknown without reading it; give --bytes",
            image.display()
        ),
        (None, Err(e)) => bail!(
            "cannot read the size of '{}': {e}; give --bytes to describe an image that is not here",
            image.display()
        ),
    }
}

/// Reads the image once and computes `algorithms`, with a progress bar on a terminal.
fn compute(image: &Path, algorithms: &[Algorithm]) -> anyhow::Result<digest::Digests> {
    let meta = fs::metadata(image)
        .with_context(|| format!("cannot read the image '{}'", image.display()))?;
    if meta.is_dir() {
        bail!("'{}' is a directory, not an image file", image.display());
    }
    let bar = if std::io::stderr().is_terminal() {
        let length = meta.is_file().then_some(meta.len());
        let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message("checksums");
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = digest::digest_file(image, algorithms, |n| bar.set_position(n));
    bar.finish_and_clear();
    Ok(result?)
}

/// Refuses to write a document the format rejects, apart from the empty
/// endorsement that `marketplace sign` fills in, or one it only reads
/// leniently (a note: e.g. a location that is not an absolute URI, which a
/// reader would ignore): a new document is written in the canonical form.
fn check_document(xml: &str) -> anyhow::Result<()> {
    let parsed = marketplace_format::parse(xml.as_bytes());
    let problems: Vec<String> = parsed
        .problems
        .iter()
        .filter(|p| !is_about_empty_endorsement(p))
        .map(|p| format!("  {}: {} [{}]", p.element, p.message, p.rule))
        .chain(
            parsed
                .notes
                .iter()
                .map(|n| format!("  {}: {}", n.element, n.message)),
        )
        .collect();
    if !problems.is_empty() {
        bail!(
            "the options give an invalid document:\n{}",
            problems.join("\n")
        );
    }
    Ok(())
}

/// Whether `problem` is one the still-empty endorsement causes: its
/// `dcterms:created` and `slreq:endorser` are missing.
pub(crate) fn is_about_empty_endorsement(problem: &marketplace_format::Problem) -> bool {
    problem.rule == marketplace_format::Rule::Cardinality
        && (problem.element.starts_with("slreq:endorse")
            || problem.message.ends_with("in slreq:endorsement"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_utc(text).unwrap()
    }

    #[test]
    fn durations() {
        let created = at("2024-01-31T10:00:00Z");
        let resolve = |s: &str| parse_expiry(s).unwrap().resolve(created).unwrap();
        assert_eq!(resolve("6m"), at("2024-07-31T10:00:00Z"));
        assert_eq!(resolve("1m"), at("2024-02-29T10:00:00Z"));
        assert_eq!(resolve("1y"), at("2025-01-31T10:00:00Z"));
        assert_eq!(resolve("90d"), at("2024-04-30T10:00:00Z"));
        assert_eq!(resolve("2w"), at("2024-02-14T10:00:00Z"));
        assert_eq!(resolve("12h"), at("2024-01-31T22:00:00Z"));
    }

    #[test]
    fn instants() {
        let e = |s: &str| parse_expiry(s).unwrap();
        assert_eq!(
            e("2027-01-31T12:00:00Z"),
            Expiry::At(at("2027-01-31T12:00:00Z"))
        );
        assert_eq!(
            e("2027-01-31T13:30:00+01:30"),
            Expiry::At(at("2027-01-31T12:00:00Z"))
        );
        assert_eq!(e("2027-01-31"), Expiry::At(at("2027-01-31T00:00:00Z")));
    }

    #[test]
    fn rejects_bad_expiries() {
        for bad in [
            "",
            "m",
            "0d",
            "6x",
            "-3d",
            "6 m",
            "tomorrow",
            "2027-13-01",
            "99999999999y",
        ] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_are_checked_and_lowercased() {
        assert_eq!(
            md5_hex("D41D8CD98F00B204E9800998ECF8427E").unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(md5_hex("d41d8cd98f00b204e9800998ecf8427").is_err());
        assert!(sha1_hex("zz39a3ee5e6b4b0d3255bfef95601890afd80709").is_err());
    }

    #[test]
    fn default_output_is_the_file_name_plus_xml() {
        assert_eq!(
            default_output(Path::new("/images/disk.img")).unwrap(),
            PathBuf::from("disk.img.xml")
        );
        assert!(default_output(Path::new("/")).is_err());
    }
}
