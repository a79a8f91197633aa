//! The application core every way in shares (Discord gateway, HTTP
//! interactions, console, demo, platform API): the store, the password hasher,
//! the clock, randomness, limits and settings.

mod clock;
mod randomness;

use std::sync::Arc;

use chrono::Duration;

pub use clock::{Clock, ManualClock, SystemClock};
pub use randomness::Randomness;

use crate::credentials::{PasswordHasher, PasswordRules, TemporaryPasswordPolicy};
use crate::limits::Limits;
use crate::store::Store;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temporary_password: TemporaryPasswordPolicy::default(),
            link_code_lifetime: Duration::hours(24),
            self_resets_per_day: 3,
            password_rules: PasswordRules::default(),
            email_configured: false,
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
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
