//! Who is calling and what they may do: TLS with client certificates and
//! RFC 3820 proxies, the caller's identity from the connection or a trusted
//! proxy's header, the upload authorization rules and the endorser
//! whitelist.

pub mod authn;
pub mod authz;
pub mod identity;
pub mod tls;
pub(crate) mod whitelist;
