//! `marketplace validate`: format, signature and (with --ca-dir) chain.

use anyhow::Context;
use chrono::{DateTime, Utc};
use marketplace_trust::chain::CaDirectory;
use marketplace_trust::document::{
    ChainStatus, CheckOptions, DocumentReport, SignatureStatus, check_document,
};
use marketplace_trust::voms::VomsDir;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `marketplace validate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit status: 0 when every file is valid, 1 otherwise (2 for usage errors).

Examples:
  marketplace validate image.xml
  marketplace validate --ca-dir /etc/grid-security/certificates --json *.xml
  marketplace validate --ca-dir ca/ --at 2012-06-01T00:00:00Z old-entry.xml")]
pub(crate) struct ValidateArgs {
    /// Also verify the signer's chain against this CA directory (`<hash>.0`, `<hash>.r0`).
    #[arg(long = "ca-dir", value_name = "DIR", env = "X509_CERT_DIR")]
    ca_dir: Option<PathBuf>,
    /// Verify VOMS attributes against this vomsdir (needs --ca-dir).
    #[arg(long, value_name = "DIR", requires = "ca_dir")]
    vomsdir: Option<PathBuf>,
    /// Evaluate dates, CRLs and expiry at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339-TIME")]
    at: Option<DateTime<Utc>>,
    /// Print one JSON object per file instead of lines.
    #[arg(long)]
    json: bool,
    /// Documents to check.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let ca = args
        .ca_dir
        .as_ref()
        .map(CaDirectory::open)
        .transpose()
        .context("cannot use the CA directory")?;
    let vomsdir = args
        .vomsdir
        .as_ref()
        .map(VomsDir::open)
        .transpose()
        .context("cannot use the vomsdir")?;
    let options = CheckOptions {
        ca_dir: ca.as_ref(),
        vomsdir: vomsdir.as_ref(),
        at: args.at,
        certificates_at: None,
        // As an upload is checked: what the marketplace would refuse.
        layout: marketplace_trust::dsig::Layout::Signers,
    };
    let mut all_valid = true;
    for file in &args.files {
        let name = file.display().to_string();
        let report = match std::fs::read(file) {
            Ok(bytes) => check_document(&bytes, &options),
            Err(e) => {
                all_valid = false;
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": name, "valid": false, "error": e.to_string()})
                    );
                } else {
                    println!("{name}: cannot read: {e}");
                }
                continue;
            }
        };
        all_valid &= report.is_valid();
        if args.json {
            println!("{}", json_line(&name, &report));
        } else {
            print_lines(&name, &report);
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn json_line(name: &str, report: &DocumentReport) -> serde_json::Value {
    serde_json::json!({
        "file": name,
        "valid": report.is_valid(),
        "identifier": report.metadata.identifier,
        "endorser": report.metadata.endorser_email(),
        "created": report.metadata.endorsement_created(),
        "problems": report.problems,
        "signature": report.signature,
        "chain": report.chain,
        "expired": report.expired,
        "notes": report.notes,
    })
}

fn print_lines(name: &str, report: &DocumentReport) {
    for p in &report.problems {
        match p.line {
            Some(line) => println!("{name}:{line}: {}: {} [{}]", p.element, p.message, p.rule),
            None => println!("{name}: {}: {} [{}]", p.element, p.message, p.rule),
        }
    }
    if let SignatureStatus::Invalid { reason } = &report.signature {
        println!("{name}: signature: {reason}");
    }
    if let ChainStatus::Untrusted { reason } = &report.chain {
        println!("{name}: chain: {reason}");
    }
    for note in &report.notes {
        println!("{name}: note: {note}");
    }
    if report.is_valid() {
        let mut summary = format!("{name}: valid");
        if let SignatureStatus::Valid { identity, .. } = &report.signature {
            summary.push_str(&format!(", signed by {identity}"));
        }
        if let ChainStatus::Trusted {
            proxy_depth, voms, ..
        } = &report.chain
        {
            summary.push_str(", chain trusted");
            if *proxy_depth > 0 {
                summary.push_str(&format!(" (through {proxy_depth} proxy certificate(s))"));
            }
            for v in voms {
                summary.push_str(&format!(", VO {} [{}]", v.vo, v.fqans.join(" ")));
            }
        }
        println!("{summary}");
    }
}
