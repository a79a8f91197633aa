//! In-process rate limits (governor), per chat account: one budget for commands
//! and a separate, generous one for autocomplete, which Discord sends on every
//! keystroke; and per source address, one budget for sign-in attempts on the
//! platform API. A limited request is answered with when to try again, never
//! dropped. Durable quotas (self-service resets per day) and the per-account
//! lock after failed sign-ins live in the database: see `Store::take_quota`
//! and `Store::record_failed_signin`.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::directory::DiscordUserId;

pub struct Limits {
    commands: DefaultKeyedRateLimiter<u64>,
    autocomplete: DefaultKeyedRateLimiter<u64>,
    signins: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// Sign-in attempts per minute per source address, by default. Generous on
/// purpose: a whole school signs in from one NAT address at the start of a
/// lesson. Guessing one account's password is stopped by the per-account lock.
pub const DEFAULT_SIGNINS_PER_MINUTE: u32 = 300;

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
            signins: RateLimiter::keyed(quota(DEFAULT_SIGNINS_PER_MINUTE)),
            clock: DefaultClock::default(),
        }
    }

    /// The same limits with a budget of `n` sign-in attempts per minute per
    /// source address (the whole budget may be used in one burst).
    pub fn with_signins_per_minute(mut self, n: u32) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        self.signins = RateLimiter::keyed(Quota::per_minute(n));
        self
    }

    /// One sign-in attempt from `address`. IPv6 addresses count per /64, the
    /// block one subscriber is usually given, so rotating through it gains nothing.
    pub fn check_signin(&self, address: IpAddr) -> Result<(), RetryAfter> {
        let key = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        self.signins
            .check_key(&key)
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now())))
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
    fn sign_ins_beyond_the_budget_of_an_address_are_told_when_to_retry() {
        let limits = Limits::default().with_signins_per_minute(2);
        let school: IpAddr = "198.51.100.7"
            .parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        assert!(limits.check_signin(school).is_ok());
        assert!(limits.check_signin(school).is_ok());
        let Err(retry) = limits.check_signin(school) else {
            unreachable!("the third attempt in a burst of a 2/min budget is limited")
        };
        assert!(
            retry.0 > Duration::ZERO && retry.0 <= Duration::from_secs(30),
            "{retry:?}"
        );
        assert!(
            limits
                .check_signin("198.51.100.8".parse().unwrap_or(school))
                .is_ok()
        );
    }

    #[test]
    fn one_ipv6_block_of_64_shares_one_sign_in_budget() {
        let limits = Limits::default().with_signins_per_minute(1);
        let one: IpAddr = "2001:db8:1:2::1"
            .parse()
            .unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
        let same_block: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap_or(one);
        let other_block: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(one);
        assert!(limits.check_signin(one).is_ok());
        assert!(limits.check_signin(same_block).is_err());
        assert!(limits.check_signin(other_block).is_ok());
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
