//! `marketplace sign`: fill the endorsement from a certificate and sign.

use anyhow::{Context, bail};
use marketplace_trust::credential::{Credential, DefaultCredential, default_credential};
use marketplace_trust::document::{CheckOptions, check_document};
use marketplace_trust::dsig::{self, SignOptions};
use marketplace_trust::endorsement::endorsement_for;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `marketplace sign` (those of `stratus-sign-metadata`).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  marketplace sign --p12-cert ~/.globus/usercred.p12 image.xml
  marketplace sign --cert usercert.pem --key userkey.pem --output signed.xml image.xml
  X509_USER_PROXY=/tmp/x509up_u1000 marketplace sign image.xml

Without credential options, the grid defaults are used: $X509_USER_PROXY,
then ~/.globus/usercred.p12 (password from --p12-password or
$MARKETPLACE_P12_PASSWORD), then ~/.globus/usercert.pem and userkey.pem.
By default the signed document replaces the input, which is kept as FILE.orig.")]
pub(crate) struct SignArgs {
    /// PKCS#12 file holding the certificate and key.
    #[arg(long = "p12-cert", value_name = "FILE", conflicts_with_all = ["cert", "proxy"])]
    p12_cert: Option<PathBuf>,
    /// Password of the PKCS#12 file.
    #[arg(
        long = "p12-password",
        env = "MARKETPLACE_P12_PASSWORD",
        hide_env_values = true
    )]
    p12_password: Option<String>,
    /// PEM certificate (used with --key).
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "proxy")]
    cert: Option<PathBuf>,
    /// PEM private key (used with --cert).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Password of an encrypted PEM key.
    #[arg(
        long = "key-password",
        env = "MARKETPLACE_KEY_PASSWORD",
        hide_env_values = true
    )]
    key_password: Option<String>,
    /// RFC 3820 proxy file (certificate, key and chain); default $X509_USER_PROXY.
    #[arg(long, value_name = "FILE")]
    proxy: Option<PathBuf>,
    /// Endorser e-mail, only when the certificate carries none (it is then marked unverified).
    #[arg(long)]
    email: Option<String>,
    /// Where to write the signed document (default: replace the input, keeping FILE.orig).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Sign with RSA-SHA1 / SHA-1 as the original tools did. The default, RSA-SHA256, cannot be
    /// checked by the original Java tools (stratus-validate-metadata, stratus-download-image, the
    /// original marketplace server): they answer "cannot find validation key". Use this option
    /// when sites still run them; everything here verifies both.
    #[arg(long, verbatim_doc_comment)]
    legacy_sha1: bool,
    /// Sign even when the document has format problems.
    #[arg(long)]
    allow_invalid: bool,
    /// The unsigned metadata document.
    #[arg(value_name = "METADATA")]
    metadata: PathBuf,
}

fn load_credential(args: &SignArgs) -> anyhow::Result<Credential> {
    let password = || args.p12_password.clone().unwrap_or_default();
    let credential = if let Some(p12) = &args.p12_cert {
        Credential::from_pkcs12(p12, &password())?
    } else if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        Credential::from_pem_files(cert, key, args.key_password.as_deref())?
    } else if let Some(proxy) = &args.proxy {
        Credential::from_proxy_file(proxy)?
    } else {
        match default_credential() {
            Some(DefaultCredential::Proxy(p)) => Credential::from_proxy_file(&p)?,
            Some(DefaultCredential::Pkcs12(p)) => Credential::from_pkcs12(&p, &password())?,
            Some(DefaultCredential::Pem(c, k)) => {
                Credential::from_pem_files(&c, &k, args.key_password.as_deref())?
            }
            None => bail!(
                "no credential: give --p12-cert, --cert/--key or --proxy \
                 (or set X509_USER_PROXY, or put usercred.p12 in ~/.globus)"
            ),
        }
    };
    Ok(credential)
}

/// Signs `text` with `credential`; returns the signed document.
pub(crate) fn sign_text(
    text: &str,
    credential: &Credential,
    email: Option<&str>,
    options: SignOptions,
    allow_invalid: bool,
) -> anyhow::Result<String> {
    let unsigned = if dsig::is_signed(text) {
        eprintln!("note: the document was signed; the old signature is replaced");
        dsig::strip_signature(text)?
    } else {
        text.to_string()
    };
    let (endorsement, _) = endorsement_for(credential.identity(), email, chrono::Utc::now())
        .map_err(anyhow::Error::msg)?;
    let edited = marketplace_format::edit::set_endorsement(&unsigned, &endorsement)
        .map_err(anyhow::Error::msg)
        .context("cannot fill in the endorsement")?;
    if let Some(old) = &edited.replaced {
        eprintln!("warning: the previous endorsement ({old}) was replaced by yours");
    }
    let problems = marketplace_format::parse(edited.text.as_bytes()).problems;
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        if !allow_invalid {
            bail!(
                "the document has format problems; fix them or use --allow-invalid:\n{}",
                list.join("\n")
            );
        }
        eprintln!(
            "warning: signing a document with problems:\n{}",
            list.join("\n")
        );
    }
    let signed = dsig::sign(
        &edited.text,
        credential.key(),
        &credential.key_info_certificates(),
        options,
    )?;
    let report = check_document(signed.as_bytes(), &CheckOptions::default());
    if let marketplace_trust::document::SignatureStatus::Invalid { reason } = &report.signature {
        bail!("internal error: the new signature does not verify: {reason}");
    }
    Ok(signed)
}

fn write_output(input: &Path, output: Option<&Path>, signed: &str) -> anyhow::Result<PathBuf> {
    let target = match output {
        Some(o) => o.to_path_buf(),
        None => {
            let mut backup = input.as_os_str().to_owned();
            backup.push(".orig");
            std::fs::copy(input, &backup)
                .with_context(|| format!("cannot keep the original as {backup:?}"))?;
            input.to_path_buf()
        }
    };
    let tmp = target.with_extension("signing.tmp");
    std::fs::write(&tmp, signed).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(target)
}

/// Runs the command.
pub(crate) fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.metadata)
        .with_context(|| format!("cannot read {}", args.metadata.display()))?;
    let credential = load_credential(&args)?;
    let signed = sign_text(
        &text,
        &credential,
        args.email.as_deref(),
        SignOptions {
            legacy_sha1: args.legacy_sha1,
        },
        args.allow_invalid,
    )?;
    let target = write_output(&args.metadata, args.output.as_deref(), &signed)?;
    eprintln!("signed metadata written to {}", target.display());
    Ok(ExitCode::SUCCESS)
}
