//! `marketplace upload FILE...`: posts signed documents to the marketplace
//! (the successor of `stratus-upload-metadata`).

use crate::client::Marketplace;
use crate::failure::Code;
use crate::output;
use crate::settings::{ClientOptions, Settings};
use crate::upload_report::{Outcome, Report, interpret};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `marketplace upload`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each file is posted in turn; one line per file says where the entry is (its URL), that it was
already there, that it waits for e-mail confirmation, or the server's reason for refusing it.
Exit status: 0 when every file is stored (or waits for confirmation), 1 when the server refused
one, 3 when the server could not be reached or failed.

Examples:
  marketplace upload -m https://mp.example.org ubuntu.img.xml
  MARKETPLACE_ENDPOINT=https://mp.example.org marketplace upload *.xml --json")]
pub(crate) struct UploadArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Signed metadata documents (`marketplace sign` makes them).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let mut reports = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let report = match std::fs::read(path) {
            Err(e) => Report {
                file: Some(name),
                outcome: Outcome::Failed,
                status: None,
                url: None,
                message: format!("cannot read the file: {e}"),
                notes: Vec::new(),
            },
            Ok(bytes) if !marketplace_trust::dsig::is_signed(&String::from_utf8_lossy(&bytes)) => {
                Report {
                    file: Some(name),
                    outcome: Outcome::Refused,
                    status: None,
                    url: None,
                    message: "the document is not signed; sign it first with `marketplace sign`"
                        .into(),
                    notes: Vec::new(),
                }
            }
            Ok(bytes) => {
                let answer = marketplace.upload(bytes.clone());
                interpret(&marketplace, &bytes, Some(name), answer)
            }
        };
        if !settings.json {
            report.print();
        }
        reports.push(report);
    }
    if settings.json {
        output::json(&reports);
    }
    // Unreadable files are usage errors; otherwise the worst outcome decides.
    let worst = reports
        .iter()
        .filter_map(|r| {
            if r.outcome == Outcome::Failed
                && r.status.is_none()
                && r.message.starts_with("cannot read")
            {
                Some(Code::Usage)
            } else {
                r.code()
            }
        })
        .max_by_key(|c| match c {
            Code::Network => 4,
            Code::Auth => 3,
            Code::Usage => 2,
            _ => 1,
        });
    Ok(match worst {
        None => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(code as u8),
    })
}
