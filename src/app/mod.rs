//! The application core every way in shares (Discord gateway, HTTP
//! interactions, console, demo, platform API): the store, the password hasher,
//! the clock, randomness, limits, settings and the mailer.

mod clock;
mod randomness;

use std::sync::Arc;

use chrono::Duration;

pub use clock::{Clock, ManualClock, SystemClock};
pub use randomness::Randomness;

use crate::credentials::{PasswordHasher, PasswordRules, TemporaryPasswordPolicy};
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::store::Store;

/// Consecutive failed sign-ins that lock an account, by default.
pub const DEFAULT_LOCKOUT_THRESHOLD: u32 = 100;

/// Tunables with the defaults of `shared/spec/policy.md`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub temporary_password: TemporaryPasswordPolicy,
    /// How long a link code works (24 h).
    pub link_code_lifetime: Duration,
    /// Self-service resets per chat account per day (3).
    pub self_resets_per_day: u32,
    pub password_rules: PasswordRules,
    /// Whether email resets can be sent (SMTP_URL is set).
    pub email_configured: bool,
    /// How long an email reset link works (1 h).
    pub reset_link_lifetime: Duration,
    /// The base of reset links (HALLPASS_PUBLIC_URL), without a trailing slash.
    pub public_url: String,
    /// Whether promotion requests reach a support desk (ZENDESK_URL is set);
    /// without one they queue and wait.
    pub zendesk_configured: bool,
    /// Consecutive failed sign-ins that lock an account (100, the most NIST
    /// SP 800-63B allows; HALLPASS_LOCKOUT_THRESHOLD).
    pub lockout_threshold: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temporary_password: TemporaryPasswordPolicy::default(),
            link_code_lifetime: Duration::hours(24),
            self_resets_per_day: 3,
            password_rules: PasswordRules::default(),
            email_configured: false,
            reset_link_lifetime: Duration::hours(1),
            public_url: crate::config::DEFAULT_PUBLIC_URL.to_owned(),
            zendesk_configured: false,
            lockout_threshold: DEFAULT_LOCKOUT_THRESHOLD,
        }
    }
}

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<Randomness>,
    pub limits: Arc<Limits>,
    pub settings: Arc<Settings>,
    /// The SMTP client for email reset links; `None` when SMTP_URL is unset,
    /// and email resets are refused with that reason.
    pub mailer: Option<Arc<Mailer>>,
}

impl App {
    pub fn new(store: Store, hasher: PasswordHasher, settings: Settings) -> Self {
        Self {
            store,
            hasher,
            clock: Arc::new(SystemClock),
            random: Arc::new(Randomness::Os),
            limits: Arc::new(Limits::default()),
            settings: Arc::new(settings),
            mailer: None,
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
