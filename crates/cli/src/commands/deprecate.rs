//! `marketplace deprecate ID`: a newer entry of your own carrying
//! `slterms:deprecated` (the successor of `stratus-deprecate-metadata`).

use crate::client::Marketplace;
use crate::credentials::EmailArgs;
use crate::failure::Failure;
use crate::output;
use crate::reissue::{self, Signer};
use crate::settings::{ClientOptions, Settings};
use marketplace_format::Identifier;
use marketplace_format::ns::SLTERMS;
use std::process::ExitCode;

/// The reason the original tool gave when none was asked for.
pub(crate) const DEFAULT_REASON: &str = "This image has been deprecated";

/// Options of `marketplace deprecate` (those of `stratus-deprecate-metadata`).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Your latest entry for the image (the endorser is the e-mail of your certificate, or --email) is
fetched, checked, and copied byte for byte into a newer entry with a new endorsement date and
slterms:deprecated set to the reason; it is signed with your credential and uploaded. Other
endorsers' entries are not affected: each endorser deprecates their own. An image you already
deprecated is left as it is (exit status 0).

Examples:
  marketplace deprecate --reason 'security hole, use the 24.04.1 image' BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace deprecate -m https://mp.example.org --p12-cert ~/.globus/usercred.p12 \\
      --created 2024-05-01T10:00:00Z BEE8-MMAw-Lk_IgsEExAy3d9R8h")]
pub(crate) struct DeprecateArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Endorser e-mail.
    #[command(flatten)]
    pub endorser: EmailArgs,
    /// Why the image is deprecated (the value of slterms:deprecated).
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_REASON)]
    pub reason: String,
    /// Copy your entry created at this instant instead of your latest one.
    #[arg(long, value_name = "DATETIME")]
    pub created: Option<String>,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
}

/// Runs the command.
pub(crate) fn run(args: DeprecateArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let signer = Signer::load(&args.endorser, &settings)?;
    let id = &args.identifier;
    let image = marketplace.image(id)?;
    let Some(latest) = reissue::entry_of(&image, &signer.email) else {
        let endorsers: Vec<&str> = reissue::latest_entries(&image)
            .map(|e| e.endorser.email.as_str())
            .collect();
        return Err(Failure::not_found(format!(
            "{} has no entry for image {id}; only an endorser can deprecate their own entry \
             (its endorsers: {}). Sign with the credential of one of them",
            signer.email,
            endorsers.join(", ")
        ))
        .into());
    };
    if args.created.is_none()
        && let Some(reason) = &latest.deprecated
    {
        if settings.json {
            output::json(&serde_json::json!({
                "identifier": id,
                "endorser": signer.email,
                "outcome": "already-deprecated",
                "created": latest.created,
                "reason": reason,
            }));
        } else {
            println!(
                "image {id} is already deprecated by {} (entry of {}): {reason}",
                signer.email, latest.created
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let source_created = args.created.as_deref().unwrap_or(&latest.created);
    let unsigned =
        reissue::fetch_unsigned(&marketplace, id, &latest.endorser.email, source_created)?;
    let edited = marketplace_format::edit::set_term(&unsigned, SLTERMS, "deprecated", &args.reason)
        .map_err(|e| Failure::refused(format!("cannot mark the document deprecated: {e}")))?;
    reissue::sign_and_publish(
        &marketplace,
        &signer,
        &edited,
        Some(&latest.created),
        settings.json,
        id,
        serde_json::json!({ "reason": args.reason }),
    )
}
