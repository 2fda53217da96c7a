//! Running the server: its configuration, the shared state, the clock,
//! binding and serving, the operations routes, and the administrative tasks
//! (rebuild, import, export, check, backup).

pub mod admin;
pub mod clock;
pub mod config;
pub(crate) mod ops;
pub mod serve;
pub mod state;
