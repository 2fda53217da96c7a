//! Taking an upload in: the pipeline every upload goes through (parse,
//! rules, signature, trust, endorser continuity, store), and the e-mail
//! confirmation of uploads with its mail transport and limits.

pub(crate) mod confirm;
pub mod continuity;
pub mod ingest;
pub(crate) mod logged;
pub(crate) mod mail;
pub(crate) mod mail_limits;
pub mod smtp;
