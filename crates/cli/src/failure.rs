//! Failures with an exit status: what the client commands return so that
//! scripts can tell a refusal from a usage error from a network problem.
//!
//! A command returns `anyhow::Error`; when it wraps a [`Failure`], `main`
//! exits with the failure's [`Code`], otherwise with 2 (usage or
//! configuration error), as the offline commands always did.

use std::fmt;

/// The exit statuses of the `marketplace` command (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 1: refused or not allowed (the server refused an upload, the policy
    /// denies an image, a checksum or size does not match, ambiguous match).
    Refused = 1,
    /// 2: usage or configuration error (bad option, unreadable file, no endpoint).
    Usage = 2,
    /// 3: network or server error (cannot connect, timeout, 5xx, unexpected answer).
    Network = 3,
    /// 4: not found (no such image or entry, no OCCI resource with that title).
    NotFound = 4,
    /// 5: authentication needed or refused (401, 403).
    Auth = 5,
}

/// An error with the exit status it should produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The exit status.
    pub code: Code,
    /// What went wrong and what to do next.
    pub message: String,
}

impl Failure {
    /// A failure with `code`.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Exit status 1.
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::new(Code::Refused, message)
    }

    /// Exit status 2.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }

    /// Exit status 3.
    pub(crate) fn network(message: impl Into<String>) -> Self {
        Self::new(Code::Network, message)
    }

    /// Exit status 4.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    /// Exit status 5.
    pub(crate) fn auth(message: impl Into<String>) -> Self {
        Self::new(Code::Auth, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit status for an error: the code of a [`Failure`] anywhere in its
/// chain, else 2.
pub(crate) fn exit_status(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map_or(Code::Usage as u8, |f| f.code as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn status_of_wrapped_failures() {
        let e: anyhow::Error = Failure::network("down").into();
        assert_eq!(exit_status(&e), 3);
        let wrapped = Err::<(), _>(e).context("while uploading").unwrap_err();
        assert_eq!(exit_status(&wrapped), 3);
        assert_eq!(exit_status(&anyhow::anyhow!("plain")), 2);
    }
}
