//! The server's clock: the wall clock, or an instant frozen by configuration
//! (`MARKETPLACE_NOW`) for tests and for reproducing a past decision.

use chrono::{DateTime, Utc};

/// Where "now" comes from. Every time-dependent decision asks this clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    frozen: Option<DateTime<Utc>>,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Clock { frozen: None }
    }

    /// A clock stopped at `at`.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Clock { frozen: Some(at) }
    }

    /// A frozen clock when `at` is given, else the wall clock.
    pub fn from_option(at: Option<DateTime<Utc>>) -> Self {
        Clock { frozen: at }
    }

    /// The current instant, truncated to whole seconds (the precision of
    /// the documents' dates).
    pub fn now(&self) -> DateTime<Utc> {
        match self.frozen {
            Some(at) => at,
            None => {
                let now = Utc::now();
                DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
            }
        }
    }

    /// Whether the clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_does_not_move() {
        let at = "2015-01-01T00:00:00Z".parse().unwrap();
        let c = Clock::frozen(at);
        assert_eq!(c.now(), at);
        assert!(c.is_frozen());
        assert!(!Clock::system().is_frozen());
    }
}
