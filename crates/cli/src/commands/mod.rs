//! One module per subcommand.

pub mod admin;
pub mod build;
pub mod serve;
pub mod sign;
pub mod validate;
