//! One module per subcommand.

pub(crate) mod admin;
pub(crate) mod build;
pub(crate) mod config;
pub(crate) mod deprecate;
pub(crate) mod download;
pub(crate) mod endorse;
pub(crate) mod log;
pub(crate) mod occi;
pub(crate) mod policy;
pub(crate) mod search;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod sign;
pub(crate) mod tag;
pub(crate) mod upload;
pub(crate) mod validate;
