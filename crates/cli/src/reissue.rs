//! New entries made from existing ones — what `deprecate`, `endorse` and
//! `tag` share: fetch a signed document and check it locally, edit it
//! keeping every other byte, put the signer's endorsement in (with a
//! `dcterms:created` later than the entry it supersedes), sign, upload.

use crate::client::Marketplace;
use crate::credentials::EmailArgs;
use crate::failure::Failure;
use crate::settings::Settings;
use crate::upload_report::{self, Report};
use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use marketplace_api::{EntryItem, ImageView};
use marketplace_format::datetime::{format_utc, parse_utc};
use marketplace_trust::credential::Credential;
use marketplace_trust::document::{CheckOptions, SignatureStatus, check_document};
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;

/// The signer of new entries: a credential and the e-mail its endorsements carry.
#[derive(Debug)]
pub(crate) struct Signer {
    credential: Credential,
    email_option: Option<String>,
    /// The endorser e-mail of the entries it signs.
    pub email: String,
}

impl Signer {
    /// Loads the credential the settings name (the same one the HTTPS
    /// connection uses), with the e-mail option.
    pub(crate) fn load(email: &EmailArgs, settings: &Settings) -> Result<Signer, Failure> {
        let credential = settings.credentials.load(&settings.file)?;
        let email_option = email.email(&settings.file).value;
        let (endorsement, _) =
            endorsement_for(credential.identity(), email_option.as_deref(), Utc::now())
                .map_err(Failure::usage)?;
        Ok(Signer {
            credential,
            email_option,
            email: endorsement.endorser.email,
        })
    }

    /// Puts this signer's endorsement, created at `created`, into `unsigned`
    /// and signs it. Fails when the result has format problems.
    pub(crate) fn sign(&self, unsigned: &str, created: DateTime<Utc>) -> anyhow::Result<String> {
        let (endorsement, _) = endorsement_for(
            self.credential.identity(),
            self.email_option.as_deref(),
            created,
        )
        .map_err(Failure::usage)?;
        let edited = marketplace_format::edit::set_endorsement(unsigned, &endorsement)
            .map_err(|e| Failure::refused(format!("cannot put the endorsement in: {e}")))?;
        let problems = marketplace_format::parse(edited.text.as_bytes()).problems;
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            return Err(Failure::refused(format!(
                "the new document would have format problems:\n{}",
                list.join("\n")
            ))
            .into());
        }
        let signed = dsig::sign(
            &edited.text,
            self.credential.key(),
            &self.credential.key_info_certificates(),
            SignOptions::default(),
        )
        .context("cannot sign")?;
        let report = check_document(signed.as_bytes(), &CheckOptions::default());
        if let SignatureStatus::Invalid { reason } = &report.signature {
            anyhow::bail!("internal error: the new signature does not verify: {reason}");
        }
        Ok(signed)
    }
}

/// The creation instant of an entry that supersedes one created at `after`:
/// now (whole seconds), or — when the clock has not yet passed `after` —
/// the second after it, waiting for it when that is at most 3 s away.
pub(crate) fn creation_instant(after: Option<&str>) -> Result<DateTime<Utc>, Failure> {
    let now = || {
        Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap_or_else(|_| Utc::now())
    };
    let Some(after) = after.and_then(|a| parse_utc(a).ok()) else {
        return Ok(now());
    };
    let next = after + TimeDelta::seconds(1);
    let mut current = now();
    if current >= next {
        return Ok(current);
    }
    let wait = next - current;
    if wait > TimeDelta::seconds(3) {
        return Err(Failure::refused(format!(
            "the entry to supersede is dated {}, in the future of this machine's clock ({}); \
             check the clock",
            format_utc(after),
            format_utc(current)
        )));
    }
    while current < next {
        std::thread::sleep(
            (next - current)
                .to_std()
                .unwrap_or_default()
                .max(std::time::Duration::from_millis(20)),
        );
        current = now();
    }
    Ok(current)
}

/// Every endorser's latest entry of an image (current first).
pub(crate) fn latest_entries(image: &ImageView) -> impl Iterator<Item = &EntryItem> {
    image.current.iter().chain(image.inactive.iter())
}

/// The latest entry of `email` for the image, if any.
pub(crate) fn entry_of<'a>(image: &'a ImageView, email: &str) -> Option<&'a EntryItem> {
    latest_entries(image).find(|e| e.endorser.email.eq_ignore_ascii_case(email))
}

/// Fetches the signed document of `entry` and checks it here: the signature
/// must verify, and the document must be the one at those coordinates.
/// Returns the document without its signature.
pub(crate) fn fetch_unsigned(
    marketplace: &Marketplace,
    identifier: &str,
    email: &str,
    created: &str,
) -> Result<String, Failure> {
    let bytes = marketplace.document(identifier, email, created)?;
    let report = check_document(&bytes, &CheckOptions::default());
    let coordinates = format!("{identifier}/{email}/{created}");
    if let SignatureStatus::Invalid { reason } = &report.signature {
        return Err(Failure::refused(format!(
            "the marketplace served a document for {coordinates} whose signature does not \
             verify ({reason}); not building on it"
        )));
    }
    let m = &report.metadata;
    if m.identifier != identifier
        || !m.endorser_email().eq_ignore_ascii_case(email)
        || m.endorsement_created() != created
    {
        return Err(Failure::refused(format!(
            "the marketplace served the document {}/{}/{} when asked for {coordinates}; not \
             building on it",
            m.identifier,
            m.endorser_email(),
            m.endorsement_created()
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::refused(format!("the document {coordinates} is not UTF-8")))?;
    dsig::strip_signature(&text)
        .map_err(|e| Failure::refused(format!("cannot remove the old signature: {e}")))
}

/// Uploads `signed`, printing the outcome as `upload` does; returns the report.
pub(crate) fn publish(marketplace: &Marketplace, signed: String, json: bool) -> Report {
    let bytes = signed.into_bytes();
    let answer = marketplace.upload(bytes.clone());
    let report = upload_report::interpret(marketplace, &bytes, None, answer);
    if !json {
        report.print();
    }
    report
}

/// The end every new entry shares: signs `unsigned` as `signer` with a
/// `dcterms:created` later than `after`, uploads it ([`publish`]), prints
/// the JSON report with `--json` (`identifier`, `endorser`, `upload`, and
/// the command's own `fields`), and returns the exit status.
pub(crate) fn sign_and_publish(
    marketplace: &Marketplace,
    signer: &Signer,
    unsigned: &str,
    after: Option<&str>,
    json: bool,
    identifier: &str,
    fields: serde_json::Value,
) -> anyhow::Result<std::process::ExitCode> {
    let created = creation_instant(after)?;
    let signed = signer.sign(unsigned, created)?;
    let report = publish(marketplace, signed, json);
    if json {
        let mut out = serde_json::json!({
            "identifier": identifier,
            "endorser": signer.email,
            "upload": report,
        });
        if let (Some(out), serde_json::Value::Object(fields)) = (out.as_object_mut(), fields) {
            out.extend(fields);
        }
        crate::output::json(&out);
    }
    Ok(report.code().map_or(std::process::ExitCode::SUCCESS, |c| {
        std::process::ExitCode::from(c as u8)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_entries_are_later_than_the_superseded_one() {
        let past = creation_instant(Some("2015-01-01T00:00:00Z")).unwrap();
        assert!(past > parse_utc("2015-01-01T00:00:00Z").unwrap());
        let now = format_utc(Utc::now());
        let next = creation_instant(Some(&now)).unwrap();
        assert!(next > parse_utc(&now).unwrap());
        let future = format_utc(Utc::now() + TimeDelta::hours(1));
        assert!(creation_instant(Some(&future)).is_err());
        assert!(creation_instant(None).is_ok());
    }
}
