//! The client commands driven as a user drives them: the real binary
//! against a real marketplace server, image mirrors and an OCCI service
//! started by the tests on loopback, with the test PKI's credentials.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod harness;

mod config;
mod crash;
mod download;
mod endorsers;
mod entries;
mod log;
mod occi;
mod original_tools;
mod policy;
mod tls;
mod workflow;
