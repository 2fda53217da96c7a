//! `marketplace tag ID NAME`: a newer entry of your own whose
//! `dcterms:alternative` (the endorser's tag) is NAME.

use crate::client::Marketplace;
use crate::credentials::EmailArgs;
use crate::failure::Failure;
use crate::reissue::{self, Signer};
use crate::settings::{ClientOptions, Settings};
use marketplace_format::Identifier;
use marketplace_format::ns::DCTERMS;
use std::process::ExitCode;

/// Options of `marketplace tag`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Your latest entry for the image is fetched, checked, and copied byte for byte into a newer entry
with a new endorsement date and dcterms:alternative set to NAME (replacing any earlier tag); it is
signed with your credential and uploaded. `GET /tag/<email>/<NAME>` then resolves to it.

Examples:
  marketplace tag BEE8-MMAw-Lk_IgsEExAy3d9R8h ubuntu-lts
  marketplace tag -m https://mp.example.org --proxy /tmp/x509up_u1000 --json \\
      BEE8-MMAw-Lk_IgsEExAy3d9R8h ubuntu-lts")]
pub(crate) struct TagArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Endorser e-mail.
    #[command(flatten)]
    pub endorser: EmailArgs,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
    /// The tag.
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// Runs the command.
pub(crate) fn run(args: TagArgs) -> anyhow::Result<ExitCode> {
    if args.name.trim().is_empty() {
        return Err(Failure::usage("the tag NAME must not be empty").into());
    }
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let signer = Signer::load(&args.endorser, &settings)?;
    let id = &args.identifier;
    let image = marketplace.image(id)?;
    let Some(latest) = reissue::entry_of(&image, &signer.email) else {
        return Err(Failure::not_found(format!(
            "{} has no entry for image {id}: tag an image you endorse (`marketplace endorse {id}` \
             makes you an endorser), or sign with another credential",
            signer.email
        ))
        .into());
    };
    if let Some(reason) = &latest.deprecated {
        return Err(Failure::refused(format!(
            "your latest entry for image {id} is deprecated ({reason}); a tagged entry would be \
             deprecated too"
        ))
        .into());
    }
    let unsigned =
        reissue::fetch_unsigned(&marketplace, id, &latest.endorser.email, &latest.created)?;
    let edited = marketplace_format::edit::set_term(&unsigned, DCTERMS, "alternative", &args.name)
        .map_err(|e| Failure::refused(format!("cannot set the tag: {e}")))?;
    reissue::sign_and_publish(
        &marketplace,
        &signer,
        &edited,
        Some(&latest.created),
        settings.json,
        id,
        serde_json::json!({ "tag": args.name }),
    )
}
