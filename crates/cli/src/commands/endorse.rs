//! `marketplace endorse ID`: the double endorsement — your own signed
//! entry describing an image another endorser already describes.

use crate::client::Marketplace;
use crate::credentials::EmailArgs;
use crate::failure::Failure;
use crate::reissue::{self, Signer};
use crate::settings::{ClientOptions, Settings};
use marketplace_format::Identifier;
use std::process::ExitCode;

/// Options of `marketplace endorse`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The description of the image is taken from a current endorser's entry (the most recent one of
another endorser, or --from EMAIL), checked, and copied byte for byte into a new document whose
endorsement is yours (e-mail, subject and issuer from your certificate, dated now); it is signed
with your credential and uploaded. A site policy that needs k distinct endorsements counts yours.

Examples:
  marketplace endorse BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace endorse -m https://mp.example.org --p12-cert ~/.globus/usercred.p12 \\
      --from jane@example.org BEE8-MMAw-Lk_IgsEExAy3d9R8h")]
pub(crate) struct EndorseArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Endorser e-mail.
    #[command(flatten)]
    pub endorser: EmailArgs,
    /// Take the description from this endorser's current entry.
    #[arg(long, value_name = "EMAIL")]
    pub from: Option<String>,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
}

/// Runs the command.
pub(crate) fn run(args: EndorseArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let signer = Signer::load(&args.endorser, &settings)?;
    let id = &args.identifier;
    let image = marketplace.image(id)?;
    if image.current.is_empty() {
        return Err(Failure::refused(format!(
            "image {id} has no current endorsement (every latest entry is expired or \
             deprecated); there is nothing to endorse"
        ))
        .into());
    }
    let newest = |a: &&marketplace_api::EntryItem, b: &&marketplace_api::EntryItem| {
        a.created.cmp(&b.created)
    };
    let source = match &args.from {
        Some(from) => image
            .current
            .iter()
            .find(|e| e.endorser.email.eq_ignore_ascii_case(from))
            .ok_or_else(|| {
                let current: Vec<&str> = image
                    .current
                    .iter()
                    .map(|e| e.endorser.email.as_str())
                    .collect();
                Failure::not_found(format!(
                    "{from} has no current entry for image {id}; current endorsers: {}",
                    current.join(", ")
                ))
            })?,
        None => image
            .current
            .iter()
            .filter(|e| !e.endorser.email.eq_ignore_ascii_case(&signer.email))
            .max_by(newest)
            .or_else(|| image.current.iter().max_by(newest))
            .ok_or_else(|| Failure::not_found(format!("image {id} has no current entry")))?,
    };
    let mine = reissue::entry_of(&image, &signer.email);
    if let Some(mine) = mine
        && mine.deprecated.is_none()
        && !settings.json
    {
        eprintln!(
            "note: {} already has an entry for image {id} (created {}); the new endorsement \
             supersedes it",
            signer.email, mine.created
        );
    }
    let unsigned =
        reissue::fetch_unsigned(&marketplace, id, &source.endorser.email, &source.created)?;
    reissue::sign_and_publish(
        &marketplace,
        &signer,
        &unsigned,
        mine.map(|m| m.created.as_str()),
        settings.json,
        id,
        serde_json::json!({
            "description_from": {"email": source.endorser.email, "created": source.created},
        }),
    )
}
