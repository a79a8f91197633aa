//! The application core every way in shares (Discord gateway, HTTP
//! interactions, console, demo, platform API): the store, the password hasher,
//! the clock, randomness, limits, settings and the mailer.

mod clock;
mod randomness;

use std::sync::Arc;

use chrono::Duration;

pub use clock::{Clock, ManualClock, SystemClock};
pub use randomness::Randomness;

use crate::commands::ChannelPoster;
use crate::credentials::{PasswordHasher, PasswordRules, SecretKey, TemporaryPasswordPolicy};
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::store::Store;

/// Consecutive failed sign-ins that lock an account, by default.
pub const DEFAULT_LOCKOUT_THRESHOLD: u32 = 100;

/// Tunables with the defaults of `docs/policy.md`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub temporary_password: TemporaryPasswordPolicy,
    /// How long a link code works (24 h).
    pub link_code_lifetime: Duration,
    /// Self-service resets per chat account per day (3), temporary or by email.
    pub self_resets_per_day: u32,
    /// Wrong `/link` codes per chat account per hour (5).
    pub link_attempts_per_hour: u32,
    /// One educator resetting more than this many passwords in ten minutes
    /// raises a burst alert (10; HALLPASS_BURST_ALERT_RESETS).
    pub burst_alert_resets: u32,
    pub password_rules: PasswordRules,
    /// Whether email resets can be sent (SMTP_URL is set).
    pub email_configured: bool,
    /// How long an email reset link works (1 h).
    pub reset_link_lifetime: Duration,
    /// The base of reset links (HALLPASS_PUBLIC_URL), without a trailing slash.
    pub public_url: String,
    /// HALLPASS_SIGNIN_URL, when set; see [`Settings::sign_in_url`].
    pub signin_url: Option<String>,
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
            link_attempts_per_hour: 5,
            burst_alert_resets: 10,
            password_rules: PasswordRules::default(),
            email_configured: false,
            reset_link_lifetime: Duration::hours(1),
            public_url: crate::config::DEFAULT_PUBLIC_URL.to_owned(),
            signin_url: None,
            zendesk_configured: false,
            lockout_threshold: DEFAULT_LOCKOUT_THRESHOLD,
        }
    }
}

impl Settings {
    /// Where a sign-in link points (a temporary password's DM, a login card's
    /// QR code): HALLPASS_SIGNIN_URL, or the sign-in page under `public_url`.
    pub fn sign_in_url(&self) -> String {
        self.signin_url
            .clone()
            .unwrap_or_else(|| format!("{}/signin", self.public_url.trim_end_matches('/')))
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
    /// The key link codes and reset tokens are hashed under. [`App::new`]
    /// draws one for this process only; the binary's wiring replaces it with
    /// HALLPASS_SECRET_KEY or the key file (`credentials::resolve_secret_key`).
    pub secret_key: SecretKey,
    /// Where burst alerts go (the Discord REST client when DISCORD_TOKEN is
    /// set); `None`: they are only audited and logged.
    pub alerts: Option<Arc<dyn ChannelPoster>>,
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
            secret_key: SecretKey::generate(&mut rand::rngs::OsRng).0,
            alerts: None,
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
