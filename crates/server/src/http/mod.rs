//! HTTP plumbing: the router and its middleware, and what every response
//! shares — conditional GET, content negotiation, error bodies, security
//! headers, the bounds on connections, request bodies and large reads, the
//! request log and the metrics.

pub mod app;
pub mod conditional;
pub mod connections;
pub(crate) mod error;
pub mod heavy_reads;
pub mod links;
pub(crate) mod metrics;
pub mod middleware;
pub(crate) mod negotiate;
pub(crate) mod receive;
pub(crate) mod request_log;
pub(crate) mod response;
pub(crate) mod security;
pub(crate) mod text_params;
