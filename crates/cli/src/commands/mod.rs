//! One module per subcommand.

pub mod admin;
pub mod build;
pub mod config;
pub mod deprecate;
pub mod download;
pub mod endorse;
pub mod occi;
pub mod policy;
pub mod search;
pub mod serve;
pub mod show;
pub mod sign;
pub mod tag;
pub mod upload;
pub mod validate;
