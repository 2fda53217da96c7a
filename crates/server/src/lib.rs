//! The marketplace HTTP server.
//!
//! It serves the original StratusLab/EGI Marketplace routes (see
//! `docs/compatibility.md`) without the original's defects: uploads go
//! through the trust core ([`upload::ingest`]), lists are typed queries over the
//! [`marketplace_store::Store`], every output is escaped, no GET changes
//! anything, links are built from the configured public URL.
//! `ARCHITECTURE.md` follows an upload to a search result through these
//! modules.
//!
//! The crate is laid out by concern, in the order `ARCHITECTURE.md` follows
//! a request:
//!
//! - [`http`]: the router ([`http::app`]) and its middleware, conditional
//!   GET, content negotiation, error bodies, security headers, bounds;
//! - [`auth`]: who is calling (TLS, client certificates, proxies' headers)
//!   and who may upload;
//! - [`upload`]: the upload pipeline ([`upload::ingest`]), endorser
//!   continuity and the e-mail confirmation of uploads;
//! - [`log`]: the transparency log every accepted entry is appended to (its
//!   checkpoints, signed once they cover an upload, and the C2SP tiles);
//! - the handlers, one folder per representation of the same resources:
//!   `routes` (the original XML routes), [`api`] (the JSON API and its wire
//!   types) and `ui` (the HTML pages), all reading through `queries`;
//! - `render`: escaping, templates, result tables, RDF/JSON and feeds;
//! - [`runtime`]: configuration, shared state, the clock, serving, the
//!   operations routes and the administrative tasks.
//!
//! Modules are `pub` only where another crate (the CLI, the tests) uses them.

pub mod api;
pub mod auth;
pub mod http;
pub mod log;
mod queries;
pub mod render;
mod routes;
pub mod runtime;
mod ui;
pub mod upload;

pub use http::app::{App, app, router};
pub use runtime::clock::Clock;
pub use runtime::config::{ConfigLayer, ServerConfig};
pub use runtime::state::{AppState, TrustSettings};
