//! The marketplace HTTP server.
//!
//! It serves the original StratusLab/EGI Marketplace routes (see
//! `shared/design/server-spec.md`) without the original's defects: uploads
//! go through the trust core ([`ingest`]), lists are typed queries over the
//! [`marketplace_store::Store`] ([`listing`]), every output is escaped, no
//! GET changes anything, links are built from the configured public URL.
//!
//! Modules: [`config`] (settings), [`clock`], [`state`], [`app`] (router
//! and middleware), [`negotiate`] (media choice), [`error`] (error bodies),
//! [`ingest`] (upload pipeline), [`listing`] (list queries), [`routes`]
//! (handlers), [`html`] (pages), [`results`] (SPARQL-results-shaped
//! tables), [`rdfjson`], [`escape`], [`serve`] (running) and [`admin`]
//! (rebuild, import, export); [`confirm`], [`mail`] and [`whitelist`]: the
//! e-mail confirmation of uploads; [`ui`] (the web interface) and
//! [`security`] (security headers, CSRF protection of forms); [`identity`]
//! (who is calling: the client certificate or trusted-proxy identity),
//! [`authn`] (verifying client chains, the trusted proxy header), [`tls`]
//! (HTTPS with client certificates and RFC 3820 proxies; the accept loop)
//! and [`authz`] (who may upload).

pub mod admin;
pub mod api;
pub mod app;
pub mod authn;
pub mod authz;
pub mod clock;
pub mod conditional;
pub mod config;
pub mod confirm;
pub mod connections;
pub mod continuity;
pub mod error;
pub mod escape;
pub mod feeds;
pub mod heavy_reads;
pub mod html;
pub mod identity;
pub mod ingest;
pub mod links;
pub mod listing;
pub mod mail;
pub mod mail_limits;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod ops;
pub mod rdfjson;
pub mod receive;
pub mod request_log;
pub mod response;
pub mod results;
pub mod routes;
pub mod security;
pub mod serve;
pub mod smtp;
pub mod state;
pub mod text_params;
pub mod tls;
pub mod ui;
pub mod whitelist;

pub use app::{App, app, router};
pub use clock::Clock;
pub use config::{ConfigLayer, ServerConfig};
pub use state::{AppState, TrustSettings};
