//! Request handlers of the original routes, one module per resource.

pub(crate) mod action;
pub(crate) mod endorsers;
pub(crate) mod entry;
pub(crate) mod home;
pub(crate) mod metadata;
pub(crate) mod tags;
pub(crate) mod upload;
