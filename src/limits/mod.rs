//! In-process rate limits (governor), per chat account: one budget for commands
//! and a separate, generous one for autocomplete, which Discord sends on every
//! keystroke. A limited request is answered with when to try again, never
//! dropped. Durable quotas (self-service resets per day) live in the database:
//! see `Store::take_quota`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::directory::DiscordUserId;

pub struct Limits {
    commands: DefaultKeyedRateLimiter<u64>,
    autocomplete: DefaultKeyedRateLimiter<u64>,
    clock: DefaultClock,
}

/// Refused for now: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// "in 12 seconds", for a chat reply.
    pub fn in_words(&self) -> String {
        let secs = self.0.as_secs().max(1);
        if secs < 90 {
            format!("in {secs} seconds")
        } else {
            format!("in {} minutes", secs.div_ceil(60))
        }
    }
}

impl Limits {
    /// `commands` and `autocomplete` requests per minute per account.
    pub fn per_minute(commands: u32, autocomplete: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            commands: RateLimiter::keyed(quota(commands)),
            autocomplete: RateLimiter::keyed(quota(autocomplete)),
            clock: DefaultClock::default(),
        }
    }

    pub fn check_command(&self, account: DiscordUserId) -> Result<(), RetryAfter> {
        self.commands
            .check_key(&account.get())
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now())))
    }

    pub fn check_autocomplete(&self, account: DiscordUserId) -> Result<(), RetryAfter> {
        self.autocomplete
            .check_key(&account.get())
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now())))
    }
}

impl Default for Limits {
    /// 20 commands and 600 autocomplete requests per minute per account.
    fn default() -> Self {
        Self::per_minute(20, 600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_command_budget_is_told_when_to_try_again() {
        let limits = Limits::per_minute(2, 100);
        let ana = DiscordUserId::new(1);
        assert!(limits.check_command(ana).is_ok());
        assert!(limits.check_command(ana).is_ok());
        let Err(retry) = limits.check_command(ana) else {
            unreachable!("the third command in a burst of a 2/min budget is limited")
        };
        assert!(
            retry.0 > Duration::ZERO && retry.0 <= Duration::from_secs(30),
            "{retry:?}"
        );
        assert!(retry.in_words().starts_with("in "));
        // Another account has its own budget.
        assert!(limits.check_command(DiscordUserId::new(2)).is_ok());
    }

    #[test]
    fn autocomplete_has_its_own_budget_and_does_not_use_up_commands() {
        let limits = Limits::per_minute(1, 50);
        let ana = DiscordUserId::new(1);
        for _ in 0..40 {
            assert!(limits.check_autocomplete(ana).is_ok());
        }
        assert!(
            limits.check_command(ana).is_ok(),
            "keystrokes must not count against commands"
        );
    }
}
