#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use super::*;

#[test]
fn endpoints_append_to_the_base_path_whatever_its_trailing_slash() {
    for base in ["https://acme.zendesk.com", "https://acme.zendesk.com/"] {
        let url = endpoint(&Url::parse(base).unwrap(), &["api", "v2", "tickets"]).unwrap();
        assert_eq!(url.as_str(), "https://acme.zendesk.com/api/v2/tickets");
    }
    let proxied = Url::parse("http://127.0.0.1:9000/zendesk").unwrap();
    assert_eq!(
        endpoint(&proxied, &["oauth", "tokens"]).unwrap().as_str(),
        "http://127.0.0.1:9000/zendesk/oauth/tokens"
    );
}

#[test]
fn a_url_that_is_not_http_is_a_setup_error() {
    let config = ZendeskConfig {
        base_url: Url::parse("mailto:help@acme.org").unwrap(),
        auth: ZendeskAuth::ApiToken {
            email: "a@b.c".into(),
            token: SecretString::from("t"),
        },
        timeout: DEFAULT_TIMEOUT,
    };
    assert!(matches!(
        ZendeskClient::new(config),
        Err(ZendeskError::Setup(_))
    ));
}

fn app_config(pairs: &[(&str, &str)]) -> Config {
    let values: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_values(&values).unwrap()
}

#[test]
fn the_app_config_prefers_oauth_and_needs_a_whole_credential_pair() {
    let none = app_config(&[]);
    assert!(
        ZendeskConfig::from_app_config(&none, DEFAULT_TIMEOUT)
            .unwrap()
            .is_none()
    );

    let both = app_config(&[
        ("ZENDESK_URL", "https://acme.zendesk.com"),
        ("ZENDESK_OAUTH_CLIENT_ID", "hallpass"),
        ("ZENDESK_OAUTH_CLIENT_SECRET", "s3cret"),
        ("ZENDESK_EMAIL", "ops@acme.org"),
        ("ZENDESK_API_TOKEN", "legacy"),
    ]);
    let config = ZendeskConfig::from_app_config(&both, DEFAULT_TIMEOUT)
        .unwrap()
        .unwrap();
    assert!(matches!(
        config.auth,
        ZendeskAuth::OAuthClientCredentials { ref client_id, .. } if client_id == "hallpass"
    ));

    let legacy = app_config(&[
        ("ZENDESK_URL", "https://acme.zendesk.com"),
        ("ZENDESK_EMAIL", "ops@acme.org"),
        ("ZENDESK_API_TOKEN", "legacy"),
    ]);
    let config = ZendeskConfig::from_app_config(&legacy, DEFAULT_TIMEOUT)
        .unwrap()
        .unwrap();
    assert!(matches!(
        config.auth,
        ZendeskAuth::ApiToken { ref email, .. } if email == "ops@acme.org"
    ));

    let half = app_config(&[
        ("ZENDESK_URL", "https://acme.zendesk.com"),
        ("ZENDESK_OAUTH_CLIENT_ID", "hallpass"),
    ]);
    assert!(matches!(
        ZendeskConfig::from_app_config(&half, DEFAULT_TIMEOUT),
        Err(ZendeskError::Setup(_))
    ));
}
