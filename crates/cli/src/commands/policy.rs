//! `marketplace policy check ID --policy FILE`: what a cloud site runs
//! before it starts an image (see [`marketplace_policy`] for the policy file
//! and the decision; this module is the command-line side: options, output).

use crate::client::Marketplace;
use crate::failure::Failure;
use crate::output;
use crate::settings::{ClientOptions, Settings};
use chrono::{DateTime, Utc};
use marketplace_format::Identifier;
use marketplace_policy::{Fetched, Policy, SigningTime};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `marketplace policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: PolicyAction,
}

/// The policy subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum PolicyAction {
    /// Decide whether the site's policy allows an image (exit status 0 only then).
    Check(CheckArgs),
}

/// Options of `marketplace policy check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Every endorser's latest entry of the image is fetched as its signed document and verified here:
signature, endorser binding, chain and CRLs against the policy's ca_dirs, VOMS attributes against
its vomsdir; the marketplace's own view of the entries is not trusted. Then the rules apply, in
this order: a deprecation by a trusted endorser refuses (refuse_deprecated); otherwise the image is
allowed when at least required_endorsements distinct trusted endorsers (listed in endorsers, by
certified e-mail or DN, from the listed VOs / FQANs) vouch for it, expired endorsements not
counting (refuse_expired).

Policy file (TOML, paths relative to it):
  ca_dirs = [\"/etc/grid-security/certificates\"]
  vomsdir = \"/etc/grid-security/vomsdir\"
  endorsers = [\"jane@example.org\", \"/C=EU/O=Example Grid/CN=John Roe\"]   # empty: anyone trusted
  vos = [\"biomed\"]
  fqans = [\"/biomed/Role=endorser\"]
  required_endorsements = 2
  refuse_deprecated = true
  refuse_expired = true

Every entry the decision rests on must be in the marketplace's transparency log, as the
receipt the marketplace gives proves (the leaf records that very document, the checkpoint is
signed by the log's key: --log-key, else the key first seen), and the log must extend what this
client saw before ($XDG_STATE_HOME/marketplace/logs): a rollback or a fork is an error naming
both checkpoints. With a [log] section, the policy names the logs it trusts and the witnesses
whose cosignatures the checkpoint proving each entry must carry:
  [log]
  keys = [\"marketplace.example.org/log+3ff8a1c2+AZ7g…\"]
  witnesses = [\"witness.site-a.example/w1+1c2d3e4f+BP5c…\"]
  quorum = 1

Grid proxies live hours and user certificates a year. With signing_time = \"log\" (it needs [log]
witnesses and a quorum), an endorsement whose certificates have expired since still counts when
they were valid at the instant the log dates it: the first checkpoint covering the entry that the
quorum of those witnesses cosigned, at the quorum-th earliest cosignature (witnesses carry their
own time). Revocation is still judged now; an entry the log cannot date is judged now.

Exit status: 0 when the image is allowed, 1 when it is not (or the log does not prove an entry,
or went back or forked), 2 for a bad policy file, 3 for network errors, 4 when the marketplace has
no such image.

Examples:
  marketplace policy check --policy /etc/marketplace/site-policy.toml BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace policy check --policy site.toml --explain BEE8-MMAw-Lk_IgsEExAy3d9R8h
  marketplace policy check --policy site.toml --json BEE8-MMAw-Lk_IgsEExAy3d9R8h | jq .allowed")]
pub(crate) struct CheckArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Say which rule decided, and what each entry counted for.
    #[arg(long)]
    pub explain: bool,
    /// Evaluate certificates, CRLs and expiry at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339-TIME")]
    pub at: Option<DateTime<Utc>>,
    /// The marketplace's transparency log: every entry the decision rests on must be in it.
    #[command(flatten)]
    pub log: crate::transparency::LogOptions,
    /// The image identifier (checked before anything is fetched).
    #[arg(value_name = "ID")]
    pub identifier: Identifier,
}

/// Runs the command.
pub(crate) fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let PolicyAction::Check(args) = args.action;
    let policy = Policy::load_with(&args.policy, crate::config_file::resolve_path)
        .map_err(Failure::usage)?;
    let anchors = policy.anchors().map_err(|e| {
        Failure::usage(format!(
            "the policy {} names unusable trust anchors: {e}",
            args.policy.display()
        ))
    })?;
    let settings = Settings::load(&args.client, None)?;
    let marketplace = Marketplace::new(&settings)?;
    let id = &args.identifier;
    let image = marketplace.image(id)?;
    let mut entries: Vec<Fetched> = crate::reissue::latest_entries(&image)
        .map(|e| Fetched {
            email: e.endorser.email.clone(),
            created: e.created.clone(),
            document: marketplace
                .document(id, &e.endorser.email, &e.created)
                .map_err(|f| f.message),
            integrated: None,
        })
        .collect();
    if entries.iter().any(|e| e.document.is_err()) && entries.iter().all(|e| e.document.is_err()) {
        let first = entries
            .iter()
            .find_map(|e| e.document.as_ref().err())
            .cloned()
            .unwrap_or_default();
        return Err(Failure::network(format!(
            "no signed document of image {id} could be fetched: {first}"
        ))
        .into());
    }
    // The decision rests only on what the log proves: each document is the
    // one its leaf records, and the log has not gone back or forked since
    // this client last saw it (otherwise no decision: an error).
    let trusted_key = match &policy.log {
        Some(requirement) => Some(trusted_log_key(&marketplace, requirement)?),
        None => args.log.log_key.clone(),
    };
    prove_entries(
        &marketplace,
        &policy,
        trusted_key.as_deref(),
        id,
        &mut entries,
    )?;
    let at = args.at.unwrap_or_else(Utc::now);
    let decision = policy.evaluate(id, &entries, &anchors, at);
    if settings.json {
        output::json(&decision);
    } else {
        for v in &decision.entries {
            for note in &v.notes {
                eprintln!("note: {}'s entry of {}: {note}", v.email, v.created);
            }
        }
        println!("{}: {}", id, decision.reason);
        if args.explain {
            print_explanation(&decision);
        }
    }
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Checks that the log proves each fetched entry (its receipt, and the
/// consistency with what this client saw), as the policy's `[log]` requires,
/// and with `signing_time = "log"` dates each entry's integration.
fn prove_entries(
    marketplace: &Marketplace,
    policy: &Policy,
    trusted_key: Option<&str>,
    id: &Identifier,
    entries: &mut [Fetched],
) -> Result<(), Failure> {
    let memory = crate::transparency::LogMemory::default_location();
    for e in entries.iter_mut() {
        let Ok(document) = &e.document else { continue };
        let coordinates = (id.as_str(), e.email.as_str(), e.created.as_str());
        let logged = crate::transparency::check_entry(
            marketplace,
            &memory,
            trusted_key,
            coordinates,
            document,
        )?;
        let Some(requirement) = &policy.log else {
            continue;
        };
        requirement.check(&logged.checkpoint.note).map_err(|why| {
            Failure::refused(format!(
                "{}'s entry of {} is not proved as the policy requires: {why}",
                e.email, e.created
            ))
        })?;
        if policy.signing_time == SigningTime::Log {
            e.integrated = integrated(
                marketplace,
                &memory,
                trusted_key,
                coordinates,
                document,
                requirement,
            )?;
            if e.integrated.is_none() {
                eprintln!(
                    "note: {}'s entry of {}: no checkpoint that covers it is cosigned by the \
                     witness quorum yet, so the log cannot date it: its certificates are judged \
                     now",
                    e.email, e.created
                );
            }
        }
    }
    Ok(())
}

/// `--explain`: the rule that decided and what each entry counted for.
fn print_explanation(decision: &marketplace_policy::Decision) {
    let rule = serde_json::to_value(decision.rule)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    println!("decided by rule {rule}");
    for v in &decision.entries {
        let mut line = format!("  {} {}: ", v.email, v.created);
        line.push_str(if v.counts { "counts" } else { "does not count" });
        if v.reason != "counts" {
            line.push_str(&format!(" ({})", v.reason));
        }
        if let Some(s) = &v.signer {
            line.push_str(&format!("; signer {s}"));
        }
        if !v.fqans.is_empty() {
            line.push_str(&format!("; FQANs {}", v.fqans.join(" ")));
        }
        if let Some(t) = v.certificates_at {
            line.push_str(&format!(
                "; certificates judged at {}, when the log proves it integrated",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        println!("{line}");
    }
}

/// When the log proves the entry was integrated: the first checkpoint that
/// covers it with cosignatures from the policy's witnesses, at the instant
/// the quorum had cosigned it (the quorum-th earliest cosignature: a quorum
/// of honest witnesses had seen the entry by then). `None` when no such
/// checkpoint exists yet.
fn integrated(
    marketplace: &Marketplace,
    memory: &crate::transparency::LogMemory,
    trusted_key: Option<&str>,
    coordinates: (&str, &str, &str),
    document: &[u8],
    requirement: &marketplace_policy::log::LogRequirement,
) -> Result<Option<DateTime<Utc>>, Failure> {
    let Some(first) = crate::transparency::check_first_cosigned(
        marketplace,
        memory,
        trusted_key,
        coordinates,
        document,
    )?
    else {
        return Ok(None);
    };
    let Ok((_, cosigned)) = requirement.check(&first.checkpoint.note) else {
        return Ok(None);
    };
    let mut times: Vec<u64> = cosigned.iter().map(|(_, time)| *time).collect();
    times.sort_unstable();
    Ok(requirement
        .quorum()
        .checked_sub(1)
        .and_then(|q| times.get(q))
        .and_then(|t| i64::try_from(*t).ok())
        .and_then(|t| DateTime::from_timestamp(t, 0)))
}

/// The key the policy trusts for the marketplace's log.
fn trusted_log_key(
    marketplace: &Marketplace,
    requirement: &marketplace_policy::log::LogRequirement,
) -> Result<String, Failure> {
    let info = marketplace.log_info()?;
    requirement
        .key_of(&info.origin)
        .map(str::to_string)
        .ok_or_else(|| {
            Failure::refused(format!(
                "the marketplace's log {} is not one the policy trusts ([log] keys)",
                info.origin
            ))
        })
}
