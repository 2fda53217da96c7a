//! Request handlers of the original routes, one module per resource.

pub mod action;
pub mod endorsers;
pub mod entry;
pub mod home;
pub mod metadata;
pub mod tags;
pub mod upload;
