//! `marketplace config`: the effective client settings and where each
//! comes from.

use crate::config_file::Setting;
use crate::credentials::EmailArgs;
use crate::output::{self, Table};
use crate::settings::{ClientOptions, Settings, TrustOptions};
use serde::Serialize;
use std::process::ExitCode;

/// Options of `marketplace config`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each setting comes from the command line, else the environment, else the configuration file,
else a default. The configuration file is $XDG_CONFIG_HOME/marketplace/config.toml (or
~/.config/marketplace/config.toml); keys: endpoint, timeout_secs, p12_cert, cert, key, proxy,
email, ca_dir, system_roots, vomsdir. Environment: MARKETPLACE_ENDPOINT (or
STRATUSLAB_MARKETPLACE_ENDPOINT), MARKETPLACE_TIMEOUT, X509_USER_PROXY, X509_CERT_DIR,
MARKETPLACE_SYSTEM_ROOTS, X509_VOMS_DIR, MARKETPLACE_P12_PASSWORD, MARKETPLACE_KEY_PASSWORD.

The credential is the client certificate of HTTPS connections to the marketplace (never sent over
plain http) and signs the entries deprecate, endorse and tag make: --p12-cert, --cert/--key or
--proxy, else $X509_USER_PROXY, else p12_cert, cert/key or proxy in the file, else the grid
defaults /tmp/x509up_u<uid>, ~/.globus/usercred.p12, ~/.globus/usercert.pem + userkey.pem.
server_trust is what an HTTPS marketplace's certificate must chain to: ca_dir, else
/etc/grid-security/certificates, plus the system's CAs with system_roots.

Example configuration file:
  endpoint = \"https://marketplace.example.org\"
  p12_cert = \"~/.globus/usercred.p12\"
  ca_dir = \"/etc/grid-security/certificates\"

Examples:
  marketplace config
  marketplace config --json
  marketplace config -m https://mp.example.org --proxy /tmp/x509up_u1000")]
pub(crate) struct ConfigArgs {
    /// Endpoint and output.
    #[command(flatten)]
    pub client: ClientOptions,
    /// Trust anchors.
    #[command(flatten)]
    pub trust: TrustOptions,
    /// Endorser e-mail.
    #[command(flatten)]
    pub endorser: EmailArgs,
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
    system_roots: Setting<bool>,
    server_trust: Setting<String>,
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

/// What an HTTPS marketplace's certificate must chain to.
fn server_trust(settings: &Settings) -> Setting<String> {
    let dir = settings.server_ca_dir();
    let mut value = format!("CA directory {}", dir.value.unwrap_or_default().display());
    if settings.system_roots() {
        value.push_str(" and the system's CAs");
    }
    Setting {
        value: Some(value),
        source: dir.source,
    }
}

/// Runs the command.
pub(crate) fn run(args: ConfigArgs) -> anyhow::Result<ExitCode> {
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
        credential: text(settings.credentials.choice(&settings.file)),
        email: args.endorser.email(&settings.file),
        ca_dir: path(&settings.ca_dir),
        system_roots: settings.system_roots.clone(),
        server_trust: server_trust(&settings),
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
    row("system_roots", &text(shown.system_roots.clone()));
    row("server_trust", &shown.server_trust);
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
