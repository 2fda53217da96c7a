//! How many confirmation mails go out: per recipient, per client address
//! and in all, each a burst of the configured number per hour that refills
//! evenly (GCRA, the `governor` crate). Without these, anyone could make
//! the server mail any address with a title of their choice, as fast as
//! they can upload (the store also keeps at most one waiting upload per
//! address: [`marketplace_store::StoreError::PendingExists`]).
//!
//! The limits are per server process: with several replicas each allows
//! its own quota. The client is the TCP peer (behind a reverse proxy, the
//! proxy's address: the per-recipient and total limits still hold).

use crate::runtime::config::MailQuotas;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The limiters of one server process.
#[derive(Debug)]
pub struct MailLimits {
    quotas: MailQuotas,
    per_recipient: DefaultKeyedRateLimiter<String>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    total: DefaultDirectRateLimiter,
}

/// A mail the limits do not allow now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLimited {
    /// Which limit: `"to this address"`, `"for your address"`, `"in all"`.
    pub scope: &'static str,
    /// Its quota per hour.
    pub per_hour: u32,
    /// When the next mail would be allowed.
    pub retry_after: Duration,
}

impl std::fmt::Display for MailLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "too many confirmation mails {} (at most {} an hour): nothing was stored; upload \
             again in {} s",
            self.scope,
            self.per_hour,
            self.retry_after.as_secs().max(1)
        )
    }
}

/// A quota of `n` (at least 1) mails per hour.
fn hourly(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl MailLimits {
    /// Limiters with `quotas`, nothing sent yet.
    pub fn new(quotas: MailQuotas) -> Self {
        MailLimits {
            quotas,
            per_recipient: RateLimiter::keyed(hourly(quotas.per_recipient)),
            per_client: RateLimiter::keyed(hourly(quotas.per_client)),
            total: RateLimiter::direct(hourly(quotas.total)),
        }
    }

    /// Takes one mail to `recipient` (compared in lower case) on behalf of
    /// `client` from every quota, or says which quota is spent. The client
    /// quota is asked first, so that one client spending its own quota
    /// cannot spend a recipient's or the total.
    pub fn admit(&self, recipient: &str, client: Option<IpAddr>) -> Result<(), MailLimited> {
        let now = DefaultClock::default().now();
        let limited = |scope, per_hour, until: governor::NotUntil<_>| MailLimited {
            scope,
            per_hour,
            retry_after: until.wait_time_from(now),
        };
        if let Some(client) = client {
            self.per_client
                .check_key(&client)
                .map_err(|u| limited("for your address", self.quotas.per_client, u))?;
        }
        self.per_recipient
            .check_key(&recipient.to_ascii_lowercase())
            .map_err(|u| limited("to this address", self.quotas.per_recipient, u))?;
        self.total
            .check()
            .map_err(|u| limited("from this marketplace", self.quotas.total, u))
    }

    /// Forgets addresses whose quotas are whole again (called by the
    /// purger, so that the maps do not grow with every address ever seen).
    pub fn forget_idle(&self) {
        self.per_recipient.retain_recent();
        self.per_client.retain_recent();
        self.per_recipient.shrink_to_fit();
        self.per_client.shrink_to_fit();
    }

    /// How many addresses the limiters remember.
    pub fn remembered(&self) -> usize {
        self.per_recipient.len() + self.per_client.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_recipient: u32, per_client: u32, total: u32) -> MailLimits {
        MailLimits::new(MailQuotas {
            per_recipient,
            per_client,
            total,
        })
    }

    #[test]
    fn each_quota_is_a_burst_per_hour() {
        let l = limits(2, 3, 4);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        l.admit("x@example.org", Some(a)).unwrap();
        l.admit("X@Example.org", Some(b)).unwrap();
        let refused = l.admit("x@example.org", Some(a)).unwrap_err();
        assert_eq!((refused.scope, refused.per_hour), ("to this address", 2));
        assert!(refused.retry_after > Duration::from_secs(60 * 29));
        assert!(refused.to_string().contains("at most 2 an hour"));
        l.admit("y@example.org", Some(a)).unwrap();
        // a: x, x (refused by recipient, but counted by client), y = 3.
        let refused = l.admit("z@example.org", Some(a)).unwrap_err();
        assert_eq!(refused.scope, "for your address");
        // b: 1 sent; total: x, x, y = 3 sent, one left.
        l.admit("z@example.org", Some(b)).unwrap();
        let refused = l.admit("w@example.org", Some(b)).unwrap_err();
        assert_eq!(refused.scope, "from this marketplace");
        assert_eq!(l.remembered(), 6);
    }
}
