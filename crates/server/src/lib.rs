//! The marketplace HTTP server.
//!
//! It serves the original StratusLab/EGI Marketplace routes (see
//! `docs/compatibility.md`) without the original's defects: uploads go
//! through the trust core ([`ingest`]), lists are typed queries over the
//! [`marketplace_store::Store`], every output is escaped, no GET changes
//! anything, links are built from the configured public URL.
//! `ARCHITECTURE.md` follows an upload to a search result through these
//! modules.
//!
//! What other crates use: [`config`] (settings), [`clock`], [`state`],
//! [`app`](mod@app) (router and middleware), [`serve`] (running), [`ingest`] (the
//! upload pipeline), [`admin`] (rebuild, import, export, check, backup) and
//! [`continuity`] (endorser bindings), [`api`] (the JSON API's wire types),
//! [`identity`], [`authn`] and [`authz`] (who is calling, who may upload),
//! [`tls`] (HTTPS with client certificates and RFC 3820 proxies; the accept
//! loop). Inside: the handlers (`routes`, `ui`, `feeds`), the
//! representations (`negotiate`, `html`, `results`, `rdfjson`, `error`,
//! `response`), the e-mail confirmation of uploads (`confirm`, `mail`,
//! `mail_limits`, `whitelist`) and the protections (`security`,
//! `connections`, `heavy_reads`, `receive`).

#![warn(unreachable_pub)]

pub mod admin;
pub mod api;
pub mod app;
pub mod authn;
pub mod authz;
pub mod clock;
pub mod conditional;
pub mod config;
mod confirm;
pub mod connections;
pub mod continuity;
mod error;
pub mod escape;
mod feeds;
pub mod heavy_reads;
mod html;
pub mod identity;
pub mod ingest;
pub mod links;
mod listing;
mod mail;
mod mail_limits;
mod metrics;
pub mod middleware;
mod negotiate;
mod ops;
mod queries;
mod rdfjson;
mod receive;
mod request_log;
mod response;
mod results;
mod routes;
mod security;
pub mod serve;
pub mod smtp;
pub mod state;
mod text_params;
pub mod tls;
mod ui;
mod whitelist;

pub use app::{App, app, router};
pub use clock::Clock;
pub use config::{ConfigLayer, ServerConfig};
pub use state::{AppState, TrustSettings};
