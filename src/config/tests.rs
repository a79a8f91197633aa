#![allow(clippy::unwrap_used)]
use super::*;

fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_follow_the_interface_table() {
    let config = Config::from_values(&HashMap::new()).unwrap();
    assert_eq!(config.database_url, "sqlite://hallpass.db");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.discord_api_url.as_str(), "https://discord.com/");
    assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
    assert!(config.discord_token.is_none() && config.zendesk_url.is_none());
    assert!(config.secret_key.is_none());
    assert_eq!(config.burst_alert_resets, 10);
    assert!(config.api_token.is_none(), "the API is open by default");
    assert_eq!(config.lockout_threshold, 100);
    assert_eq!(config.signins_per_minute, 300);
}

#[test]
fn a_malformed_secret_key_is_refused_without_echoing_it() {
    let err = Config::from_values(&values(&[("HALLPASS_SECRET_KEY", "hunter2-not-a-key")]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.starts_with("HALLPASS_SECRET_KEY is invalid"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_sign_in_settings_are_read() {
    let config = Config::from_values(&values(&[
        ("HALLPASS_API_TOKEN", "tok"),
        ("HALLPASS_LOCKOUT_THRESHOLD", "5"),
        ("HALLPASS_SIGNIN_PER_MINUTE", "60"),
    ]))
    .unwrap();
    assert!(config.api_token.is_some());
    assert_eq!(config.lockout_threshold, 5);
    assert_eq!(config.signins_per_minute, 60);
}

#[test]
fn debug_output_never_shows_a_secret() {
    let config = Config::from_values(&values(&[
        (
            "DATABASE_URL",
            "postgres://app:hunter22@db.example/hallpass",
        ),
        ("DISCORD_TOKEN", "MTIzNDU2Nzg5.token-value"),
        ("ZENDESK_OAUTH_CLIENT_SECRET", "zd-client-secret"),
        ("ZENDESK_API_TOKEN", "zd-api-token"),
        ("ZENDESK_WEBHOOK_SECRET", "zd-webhook-secret"),
        ("SMTP_URL", "smtp://mailer:mail-pass@smtp.example"),
        ("HALLPASS_SECRET_KEY", &"5ec7e7".repeat(11)),
        ("HALLPASS_METRICS_TOKEN", "metrics-bearer-token"),
        ("HALLPASS_API_TOKEN", "api-bearer-token"),
    ]))
    .unwrap();
    let dump = format!("{config:?}");
    for secret in [
        "hunter22",
        "token-value",
        "zd-client-secret",
        "zd-api-token",
        "zd-webhook-secret",
        "mail-pass",
        "5ec7e7",
        "metrics-bearer-token",
        "api-bearer-token",
    ] {
        assert!(!dump.contains(secret), "{secret} leaked in {dump}");
    }
    assert!(dump.contains("postgres://app:***@db.example/hallpass"));
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    for (key, value) in [
        ("HALLPASS_LISTEN", "localhost"),
        ("DISCORD_APPLICATION_ID", "my-app"),
        ("DISCORD_PUBLIC_KEY", "abc"),
        ("ZENDESK_URL", "not a url"),
        ("HALLPASS_SECRET_KEY", "too-short"),
        ("HALLPASS_BURST_ALERT_RESETS", "0"),
        ("HALLPASS_METRICS_LISTEN", "metrics"),
        ("HALLPASS_LOCKOUT_THRESHOLD", "0"),
        ("HALLPASS_SIGNIN_PER_MINUTE", "lots"),
    ] {
        let err = Config::from_values(&values(&[(key, value)])).err().unwrap();
        assert!(err.to_string().starts_with(key), "{err}");
    }
}

#[test]
fn a_toml_file_mirrors_the_environment_and_refuses_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallpass.toml");
    std::fs::write(
        &path,
        "DATABASE_URL = \"sqlite://x.db\"\nhallpass_listen = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let read = read_file(&path).unwrap();
    assert_eq!(
        read.get("DATABASE_URL").map(String::as_str),
        Some("sqlite://x.db")
    );
    assert_eq!(
        read.get("HALLPASS_LISTEN").map(String::as_str),
        Some("127.0.0.1:9999")
    );
    std::fs::write(&path, "DATABSE_URL = \"typo\"\n").unwrap();
    assert!(matches!(
        read_file(&path),
        Err(ConfigError::UnknownKey { .. })
    ));
}

#[test]
fn the_sign_in_url_defaults_to_the_page_under_the_public_url_and_can_be_replaced() {
    let config = Config::from_values(&HashMap::new()).unwrap();
    assert_eq!(config.signin_url.as_str(), "http://127.0.0.1:8080/signin");
    let config = Config::from_values(&values(&[(
        "HALLPASS_PUBLIC_URL",
        "https://hallpass.lincoln.example/base/",
    )]))
    .unwrap();
    assert_eq!(
        config.signin_url.as_str(),
        "https://hallpass.lincoln.example/base/signin"
    );
    let config = Config::from_values(&values(&[(
        "HALLPASS_SIGNIN_URL",
        "https://platform.lincoln.example/login",
    )]))
    .unwrap();
    assert_eq!(
        config.signin_url.as_str(),
        "https://platform.lincoln.example/login"
    );
}
