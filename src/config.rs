//! Configuration from the environment (names fixed in `docs/interfaces.md`),
//! optionally mirrored by a TOML file of the same keys; the environment wins.
//!
//! Promise: secrets (tokens, keys, passwords inside URLs) are held as
//! `SecretString` or redacted in `Debug`, so a config dump never leaks them.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use secrecy::SecretString;

use crate::credentials::SecretKey;
use thiserror::Error;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://hallpass.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DISCORD_API_URL: &str = "https://discord.com";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_BURST_ALERT_RESETS: u32 = 10;

/// Every key the program reads.
pub const KEYS: &[&str] = &[
    "DATABASE_URL",
    "HALLPASS_LISTEN",
    "DISCORD_TOKEN",
    "DISCORD_APPLICATION_ID",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_API_URL",
    "ZENDESK_URL",
    "ZENDESK_OAUTH_CLIENT_ID",
    "ZENDESK_OAUTH_CLIENT_SECRET",
    "ZENDESK_EMAIL",
    "ZENDESK_API_TOKEN",
    "ZENDESK_WEBHOOK_SECRET",
    "SMTP_URL",
    "HALLPASS_PUBLIC_URL",
    "HALLPASS_SIGNIN_URL",
    "HALLPASS_SECRET_KEY",
    "HALLPASS_BURST_ALERT_RESETS",
    "HALLPASS_METRICS_TOKEN",
    "HALLPASS_METRICS_LISTEN",
    "HALLPASS_API_TOKEN",
    "HALLPASS_LOCKOUT_THRESHOLD",
    "HALLPASS_SIGNIN_PER_MINUTE",
    "HALLPASS_IMPORT_MAX_ROWS",
    "RUST_LOG",
];

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("Failed to read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("The config file {path} is not valid TOML: {message}")]
    Toml { path: String, message: String },
    #[error(
        "The config file {path} has an unknown key {key} (known keys: DATABASE_URL, HALLPASS_LISTEN, DISCORD_TOKEN, …)"
    )]
    UnknownKey { path: String, key: String },
    #[error("{key} is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub discord_token: Option<SecretString>,
    pub discord_application_id: Option<u64>,
    pub discord_public_key: Option<String>,
    pub discord_api_url: Url,
    pub zendesk_url: Option<Url>,
    pub zendesk_oauth_client_id: Option<String>,
    pub zendesk_oauth_client_secret: Option<SecretString>,
    pub zendesk_email: Option<String>,
    pub zendesk_api_token: Option<SecretString>,
    pub zendesk_webhook_secret: Option<SecretString>,
    pub smtp_url: Option<SecretString>,
    pub public_url: Url,
    /// HALLPASS_SIGNIN_URL: where a sign-in link (a login card's QR code)
    /// points; by default the sign-in page, `public_url` + `/signin`.
    pub signin_url: Url,
    /// HALLPASS_SECRET_KEY: the key of the keyed hashes of one-time secrets.
    pub secret_key: Option<SecretKey>,
    /// HALLPASS_BURST_ALERT_RESETS: more resets than this by one educator in
    /// ten minutes raise an alert (default 10).
    pub burst_alert_resets: u32,
    /// The bearer token `GET /metrics` requires; unset: `/metrics` is open.
    pub metrics_token: Option<SecretString>,
    /// A separate address for `GET /metrics` (then not on `listen`); unset: on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token every `/api/v1` request must carry; unset leaves the API open.
    pub api_token: Option<SecretString>,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: u32,
    /// Sign-in attempts per minute per source address.
    pub signins_per_minute: u32,
    /// The most data rows one CSV file of an import may have.
    pub import_max_rows: u32,
}

impl Config {
    /// Reads the environment, over the TOML file when one is given.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut values = match file {
            Some(path) => read_file(path)?,
            None => HashMap::new(),
        };
        for key in KEYS {
            if let Ok(value) = std::env::var(key) {
                values.insert((*key).to_owned(), value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds a configuration from key/value pairs (empty values count as unset).
    pub fn from_values(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let v = Values(values);
        let public_url = v.required_url("HALLPASS_PUBLIC_URL", DEFAULT_PUBLIC_URL)?;
        let signin_url = v.signin_url(&public_url)?;
        Ok(Self {
            api_token: v.secret("HALLPASS_API_TOKEN"),
            lockout_threshold: v.count(
                "HALLPASS_LOCKOUT_THRESHOLD",
                crate::app::DEFAULT_LOCKOUT_THRESHOLD,
            )?,
            signins_per_minute: v.count(
                "HALLPASS_SIGNIN_PER_MINUTE",
                crate::limits::DEFAULT_SIGNINS_PER_MINUTE,
            )?,
            import_max_rows: v.count(
                "HALLPASS_IMPORT_MAX_ROWS",
                crate::roster::DEFAULT_MAX_ROWS as u32,
            )?,
            database_url: v
                .get("DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            listen: v.address("HALLPASS_LISTEN", Some(DEFAULT_LISTEN))?.ok_or(
                ConfigError::Invalid {
                    key: "HALLPASS_LISTEN",
                    reason: "missing".into(),
                },
            )?,
            discord_token: v.secret("DISCORD_TOKEN"),
            discord_application_id: v.application_id()?,
            discord_public_key: v.public_key()?,
            discord_api_url: v.required_url("DISCORD_API_URL", DEFAULT_DISCORD_API_URL)?,
            zendesk_url: v.url("ZENDESK_URL", None)?,
            zendesk_oauth_client_id: v.get("ZENDESK_OAUTH_CLIENT_ID"),
            zendesk_oauth_client_secret: v.secret("ZENDESK_OAUTH_CLIENT_SECRET"),
            zendesk_email: v.get("ZENDESK_EMAIL"),
            zendesk_api_token: v.secret("ZENDESK_API_TOKEN"),
            zendesk_webhook_secret: v.secret("ZENDESK_WEBHOOK_SECRET"),
            smtp_url: v.secret("SMTP_URL"),
            public_url,
            signin_url,
            secret_key: v.secret_key()?,
            burst_alert_resets: v.burst_alert_resets()?,
            metrics_token: v.secret("HALLPASS_METRICS_TOKEN"),
            metrics_listen: v.address("HALLPASS_METRICS_LISTEN", None)?,
        })
    }
}

/// The raw settings, each read and checked by the method for its kind.
struct Values<'a>(&'a HashMap<String, String>);

impl Values<'_> {
    /// A value, trimmed; empty counts as unset.
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn secret(&self, key: &str) -> Option<SecretString> {
        self.get(key).map(SecretString::from)
    }

    fn url(&self, key: &'static str, default: Option<&str>) -> Result<Option<Url>, ConfigError> {
        self.get(key)
            .or(default.map(str::to_owned))
            .map(|v| {
                Url::parse(&v).map_err(|e| ConfigError::Invalid {
                    key,
                    reason: format!("{e} (got {v:?})"),
                })
            })
            .transpose()
    }

    fn required_url(&self, key: &'static str, default: &str) -> Result<Url, ConfigError> {
        self.url(key, Some(default))?.ok_or(ConfigError::Invalid {
            key,
            reason: "missing".into(),
        })
    }

    /// HALLPASS_SIGNIN_URL, or the sign-in page under `public_url`.
    fn signin_url(&self, public_url: &Url) -> Result<Url, ConfigError> {
        let page = format!("{}/signin", public_url.as_str().trim_end_matches('/'));
        self.required_url("HALLPASS_SIGNIN_URL", &page)
    }

    fn address(
        &self,
        key: &'static str,
        default: Option<&str>,
    ) -> Result<Option<SocketAddr>, ConfigError> {
        self.get(key)
            .or(default.map(str::to_owned))
            .map(|raw| {
                raw.parse().map_err(|_| ConfigError::Invalid {
                    key,
                    reason: format!("{raw:?} is not an address such as 127.0.0.1:8080"),
                })
            })
            .transpose()
    }

    /// A whole number of at least 1, or `default` when unset.
    fn count(&self, key: &'static str, default: u32) -> Result<u32, ConfigError> {
        self.get(key)
            .map_or(Ok(default), |v| match v.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    key,
                    reason: format!("{v:?} is not a whole number of at least 1"),
                }),
            })
    }

    fn application_id(&self) -> Result<Option<u64>, ConfigError> {
        self.get("DISCORD_APPLICATION_ID")
            .map(|v| {
                v.parse::<u64>().map_err(|_| ConfigError::Invalid {
                    key: "DISCORD_APPLICATION_ID",
                    reason: format!("{v:?} is not a Discord id (a number)"),
                })
            })
            .transpose()
    }

    fn public_key(&self) -> Result<Option<String>, ConfigError> {
        let key = self.get("DISCORD_PUBLIC_KEY");
        if let Some(key) = &key {
            let ok = key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                return Err(ConfigError::Invalid {
                    key: "DISCORD_PUBLIC_KEY",
                    reason: "expected 64 hex digits (the Public Key on the application's General Information page)".into(),
                });
            }
        }
        Ok(key)
    }

    fn secret_key(&self) -> Result<Option<SecretKey>, ConfigError> {
        self.get("HALLPASS_SECRET_KEY")
            .map(|v| {
                // The value is never echoed: it is a secret even when malformed.
                SecretKey::parse(&v).map_err(|e| ConfigError::Invalid {
                    key: "HALLPASS_SECRET_KEY",
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    fn burst_alert_resets(&self) -> Result<u32, ConfigError> {
        Ok(self
            .get("HALLPASS_BURST_ALERT_RESETS")
            .map(|v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Invalid {
                        key: "HALLPASS_BURST_ALERT_RESETS",
                        reason: format!("{v:?} is not a positive whole number"),
                    })
            })
            .transpose()?
            .unwrap_or(DEFAULT_BURST_ALERT_RESETS))
    }
}

fn read_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Toml {
            path: shown.clone(),
            message: e.message().to_owned(),
        })?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let key = key.to_ascii_uppercase();
        if !KEYS.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey { path: shown, key });
        }
        let value = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        values.insert(key, value);
    }
    Ok(values)
}

/// `postgres://user:secret@host/db` printed as `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn set<T>(value: &Option<T>) -> &'static str {
    if value.is_some() { "set" } else { "unset" }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("discord_token", &set(&self.discord_token))
            .field("discord_application_id", &self.discord_application_id)
            .field("discord_public_key", &self.discord_public_key)
            .field("discord_api_url", &self.discord_api_url.as_str())
            .field("zendesk_url", &self.zendesk_url.as_ref().map(Url::as_str))
            .field("zendesk_oauth_client_id", &self.zendesk_oauth_client_id)
            .field(
                "zendesk_oauth_client_secret",
                &set(&self.zendesk_oauth_client_secret),
            )
            .field("zendesk_email", &self.zendesk_email)
            .field("zendesk_api_token", &set(&self.zendesk_api_token))
            .field("zendesk_webhook_secret", &set(&self.zendesk_webhook_secret))
            .field("smtp_url", &set(&self.smtp_url))
            .field("public_url", &self.public_url.as_str())
            .field("signin_url", &self.signin_url.as_str())
            .field("secret_key", &set(&self.secret_key))
            .field("burst_alert_resets", &self.burst_alert_resets)
            .field("metrics_token", &set(&self.metrics_token))
            .field("metrics_listen", &self.metrics_listen)
            .field("api_token", &set(&self.api_token))
            .field("lockout_threshold", &self.lockout_threshold)
            .field("signins_per_minute", &self.signins_per_minute)
            .field("import_max_rows", &self.import_max_rows)
            .finish()
    }
}

#[cfg(test)]
mod tests;
