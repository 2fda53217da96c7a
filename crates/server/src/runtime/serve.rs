//! Running the server: opening the store the configuration names, binding,
//! and serving until SIGINT or SIGTERM (in-flight requests finish).

use crate::auth::tls::Tls;
use crate::http::app::app;
use crate::runtime::config::ServerConfig;
use crate::runtime::state::{AppState, TrustSettings};
use marketplace_store::{PgStore, SqliteStore, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Opens the store: PostgreSQL when `database_url` is set, otherwise the
/// embedded SQLite database in the data directory (created if needed).
pub async fn open_store(config: &ServerConfig) -> Result<Arc<dyn Store>, String> {
    match &config.database_url {
        Some(url) => PgStore::connect(url)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>)
            .map_err(|e| format!("cannot open the PostgreSQL store {}: {e}", redact_url(url))),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                format!(
                    "cannot create the data directory {}: {e}",
                    config.data_dir.display()
                )
            })?;
            let path = config.sqlite_path();
            SqliteStore::open(&path)
                .await
                .map(|s| Arc::new(s) as Arc<dyn Store>)
                .map_err(|e| format!("cannot open the store {}: {e}", path.display()))
        }
    }
}

/// The application state for a configuration (store, trust anchors,
/// clock), with the e-mails of entries stored before endorser bindings
/// existed bound to their newest signers
/// ([`crate::upload::continuity::bind_stored_endorsers`]).
pub async fn state_for(config: ServerConfig) -> Result<AppState, String> {
    let trust = TrustSettings::from_config(&config)?;
    let store = open_store(&config).await?;
    let state = AppState::new(store, config, trust)?;
    state
        .log
        .start()
        .await
        .map_err(|e| format!("cannot start the transparency log: {e}"))?;
    // A store that cannot write now (damaged, disk full) still serves
    // reads and the admin tasks that save what it holds; the binding is
    // tried again at the next start.
    if let Err(e) = crate::upload::continuity::bind_stored_endorsers(
        state.store.as_ref(),
        &state.trust,
        state.clock.now(),
    )
    .await
    {
        tracing::warn!(error = %e, "cannot bind the endorsers of stored entries now");
    }
    Ok(state)
}

/// Where the data lives, for messages (passwords removed).
pub fn data_location(config: &ServerConfig) -> String {
    match &config.database_url {
        Some(url) => redact_url(url),
        None => config.data_dir.display().to_string(),
    }
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Serves `state` on `listener` until `shutdown` completes: HTTPS when the
/// configuration has `tls_cert` and `tls_key` ([`crate::auth::tls`]), else plain
/// HTTP. A TLS setup that cannot be used is an `InvalidInput` error.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = Tls::from_state(&state)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // Expired pending uploads: purged now, then periodically.
    let purger = crate::upload::confirm::start_purger(state.clone()).await;
    // Entries other servers (or `admin import`) appended: covered by a
    // checkpoint within a second.
    let checkpointer = crate::log::signer::start_refresher(state.log.clone());
    // The witnesses' cosignatures of the newest checkpoint.
    let cosigner = crate::log::cosigner::start_cosigner(state.clone());
    let config = &state.config;
    let mut gate = crate::http::connections::ConnectionGate::new(
        config.max_connections,
        config.max_connections_per_client,
        config.trusted_proxies.clone(),
    );
    gate.header_timeout = config.header_timeout;
    gate.idle_timeout = config.idle_timeout;
    let gate = Arc::new(gate);
    let served =
        crate::auth::tls::serve_connections(listener, app(state), tls, gate, shutdown).await;
    purger.abort();
    checkpointer.abort();
    if let Some(cosigner) = cosigner {
        cosigner.abort();
    }
    served
}

/// Completes at SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Opens everything, binds `config.listen`, prints
/// `marketplace listening on http[s]://ADDR (data in DIR)` to stderr and
/// serves until a signal. `on_ready` gets the bound address.
pub async fn run(config: ServerConfig, on_ready: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let listen = config.listen;
    let location = data_location(&config);
    let state = state_for(config).await?;
    // Refuse an unusable certificate before binding.
    Tls::from_state(&state)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let url = crate::auth::tls::display_url(&state.config, addr);
    if state.config.ca_dir.is_none() {
        tracing::warn!(
            "no ca_dir is set: no certificate chain is checked, every endorser identity is \
             self-asserted (bound to its first key), and no e-mail address is shown as certified; \
             set ca_dir (e.g. /etc/grid-security/certificates) to check them against your CAs"
        );
    }
    eprintln!("marketplace listening on {url} (data in {location})");
    on_ready(addr);
    serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
