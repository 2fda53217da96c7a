//! The client commands driven as a user drives them: the real binary
//! against a real marketplace server, image mirrors and an OCCI service
//! started by the tests on loopback, with the test PKI's credentials.

mod harness;

mod config;
mod crash;
mod download;
mod endorsers;
mod entries;
mod occi;
mod original_tools;
mod policy;
mod tls;
mod workflow;
