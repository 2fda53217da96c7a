//! `marketplace config`: the effective client settings and where each
//! comes from.

use crate::credentials::CredentialArgs;
use crate::output::{self, Table};
use crate::settings::{ClientOptions, Setting, Settings, TrustOptions};
use serde::Serialize;
use std::process::ExitCode;

/// Options of `marketplace config`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each setting comes from the command line, else the environment, else the configuration file,
else a default. The configuration file is $XDG_CONFIG_HOME/marketplace/config.toml (or
~/.config/marketplace/config.toml); keys: endpoint, timeout_secs, p12_cert, cert, key, proxy,
email, ca_dir, vomsdir. Environment: MARKETPLACE_ENDPOINT (or STRATUSLAB_MARKETPLACE_ENDPOINT),
MARKETPLACE_TIMEOUT, X509_USER_PROXY, X509_CERT_DIR, X509_VOMS_DIR, MARKETPLACE_P12_PASSWORD.

Example configuration file:
  endpoint = \"https://marketplace.example.org\"
  p12_cert = \"~/.globus/usercred.p12\"
  ca_dir = \"/etc/grid-security/certificates\"

Examples:
  marketplace config
  marketplace config --json
  marketplace config -m https://mp.example.org --proxy /tmp/x509up_u1000")]
pub struct ConfigArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Trust anchors.
    #[command(flatten)]
    pub trust: TrustOptions,
    /// Signing credential.
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

#[derive(Serialize)]
struct Shown {
    config_file: Option<String>,
    config_file_found: bool,
    endpoint: Setting<String>,
    timeout_secs: Setting<u64>,
    credential: Setting<String>,
    email: Setting<String>,
    ca_dir: Setting<String>,
    vomsdir: Setting<String>,
}

fn text<T: std::fmt::Display>(s: Setting<T>) -> Setting<String> {
    Setting {
        value: s.value.map(|v| v.to_string()),
        source: s.source,
    }
}

fn path(s: &Setting<std::path::PathBuf>) -> Setting<String> {
    Setting {
        value: s.value.as_ref().map(|v| v.display().to_string()),
        source: s.source.clone(),
    }
}

/// Runs the command.
pub fn run(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.client, Some(&args.trust))?;
    let mut endpoint = settings.endpoint.clone();
    if let Ok(url) = settings.endpoint_url() {
        endpoint.value = Some(url.to_string());
    }
    let shown = Shown {
        config_file: settings
            .config_path
            .as_ref()
            .map(|p| p.display().to_string()),
        config_file_found: settings.config_found,
        endpoint,
        timeout_secs: settings.timeout_secs.clone(),
        credential: text(args.credentials.choice(&settings)),
        email: args.credentials.email(&settings),
        ca_dir: path(&settings.ca_dir),
        vomsdir: path(&settings.vomsdir),
    };
    if settings.json {
        output::json(&shown);
        return Ok(ExitCode::SUCCESS);
    }
    let file = match (&shown.config_file, shown.config_file_found) {
        (Some(f), true) => f.clone(),
        (Some(f), false) => format!("{f} (absent)"),
        (None, _) => "(none: neither XDG_CONFIG_HOME nor HOME is set)".into(),
    };
    println!("config file: {file}");
    let mut t = Table::new(&["SETTING", "FROM", "VALUE"]);
    let mut row = |name: &str, s: &Setting<String>| {
        t.row(vec![
            name.into(),
            s.source.to_string(),
            s.value.clone().unwrap_or_else(|| "-".into()),
        ]);
    };
    row("endpoint", &shown.endpoint);
    row("timeout_secs", &text(shown.timeout_secs.clone()));
    row("credential", &shown.credential);
    row("email", &shown.email);
    row("ca_dir", &shown.ca_dir);
    row("vomsdir", &shown.vomsdir);
    t.print();
    if shown.endpoint.value.is_none() {
        println!(
            "no marketplace endpoint: give --marketplace-endpoint URL, set MARKETPLACE_ENDPOINT, \
             or put endpoint = \"https://…\" in the config file"
        );
    }
    Ok(ExitCode::SUCCESS)
}
