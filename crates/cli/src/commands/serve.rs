//! `marketplace serve`: runs the registry.

use anyhow::Context;
use marketplace_server::runtime::config::{ConfigLayer, ServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Settings shared by `serve` and `admin` (each also settable in the
/// configuration file and as a `MARKETPLACE_*` environment variable;
/// the command line wins over the environment, which wins over the file).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ServerOptions {
    /// Configuration file (TOML; also MARKETPLACE_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory holding the embedded database [default: ./marketplace-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use this PostgreSQL database instead of the embedded store (postgres://…).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// CA directory (<hash>.0, <hash>.r0): signers' chains and CRLs are checked against it.
    #[arg(long, global = true, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// vomsdir for VOMS attributes (needs --ca-dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub vomsdir: Option<PathBuf>,
}

impl ServerOptions {
    /// The configuration: these options over the environment over the file.
    pub(crate) fn load(&self, extra: ConfigLayer) -> anyhow::Result<ServerConfig> {
        let cli = ConfigLayer {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ca_dir: self.ca_dir.clone(),
            vomsdir: self.vomsdir.clone(),
            ..extra
        };
        Ok(ServerConfig::load(self.config.as_deref(), cli)?)
    }
}

/// Options of `marketplace serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Environment: MARKETPLACE_LISTEN, MARKETPLACE_DATA_DIR, MARKETPLACE_DATABASE_URL,
MARKETPLACE_PUBLIC_URL, MARKETPLACE_CA_DIR, MARKETPLACE_VOMSDIR, MARKETPLACE_MAX_UPLOAD_BYTES,
MARKETPLACE_VALIDATE_EMAIL, MARKETPLACE_REQUIRE_CERTIFIED_EMAIL,
MARKETPLACE_REQUEST_TIMEOUT_SECS, MARKETPLACE_MIN_RSA_BITS, MARKETPLACE_MIN_EC_BITS,
MARKETPLACE_MAIL_PER_RECIPIENT, MARKETPLACE_MAIL_PER_CLIENT, MARKETPLACE_MAIL_PER_HOUR,
MARKETPLACE_MAX_CONNECTIONS, MARKETPLACE_MAX_CONNECTIONS_PER_CLIENT,
MARKETPLACE_HEADER_TIMEOUT_SECS, MARKETPLACE_IDLE_TIMEOUT_SECS,
MARKETPLACE_NOW (RFC 3339: freezes the clock), MARKETPLACE_CONFIG,
MARKETPLACE_TLS_CERT, MARKETPLACE_TLS_KEY, MARKETPLACE_TLS_CLIENT_AUTH,
MARKETPLACE_TRUSTED_PROXY_HEADER, MARKETPLACE_TRUSTED_PROXIES, MARKETPLACE_UPLOAD_ACCESS,
MARKETPLACE_UPLOAD_DNS, MARKETPLACE_UPLOAD_VOS, MARKETPLACE_UPLOAD_FQANS,
MARKETPLACE_UPLOAD_MATCH_ENDORSER (see the README: TLS and authentication);
RUST_LOG sets the log filter (logs go to stderr).

Examples:
  marketplace serve
  marketplace serve --listen 0.0.0.0:9204 --public-url https://mp.example.org/marketplace
  marketplace serve --database-url postgres://marketplace@db/marketplace
  marketplace serve --tls-cert host.pem --tls-key host.key --ca-dir /etc/grid-security/certificates")]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:9204].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Public base URL used in every absolute link [default: http(s)://ADDR].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (unencrypted).
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Client certificates (or RFC 3820 proxies) in the TLS handshake, verified against
    /// --ca-dir [default: optional with --ca-dir, else none].
    #[arg(long, value_name = "MODE", value_parser = ["none", "optional", "required"])]
    pub tls_client_auth: Option<String>,
    #[command(flatten)]
    pub options: ServerOptions,
}

/// Logs to stderr, filtered by RUST_LOG (default: info).
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let tls_client_auth = args
        .tls_client_auth
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let config = args.options.load(ConfigLayer {
        listen: args.listen,
        public_url: args.public_url.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        tls_client_auth,
        ..ConfigLayer::default()
    })?;
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime
        .block_on(marketplace_server::runtime::serve::run(config, |_| {}))
        .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
