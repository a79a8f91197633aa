use super::*;

#[tokio::test]
async fn the_oauth_token_is_fetched_once_with_client_credentials_and_reused_across_calls() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);

    let created = client.create_ticket(&promotion(1), "k1").await.unwrap();
    client
        .find_by_external_id("hallpass-promotion-1")
        .await
        .unwrap();
    client.add_internal_note(created.id, "noted").await.unwrap();

    assert_eq!(zendesk.token_issues().len(), 1);
    let token_requests = zendesk.requests_to("POST", "/oauth/tokens");
    assert_eq!(token_requests.len(), 1);
    assert_eq!(
        token_requests[0].json().unwrap(),
        json!({
            "grant_type": "client_credentials",
            "client_id": "hallpass_standin",
            "client_secret": "standin-oauth-client-secret",
            "scope": OAUTH_SCOPE
        })
    );
    let bearer = bearer_of(&zendesk, 0);
    let api_calls: Vec<_> = zendesk
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/"))
        .collect();
    assert_eq!(api_calls.len(), 3);
    assert!(
        api_calls
            .iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str()))
    );
}

#[tokio::test]
async fn concurrent_calls_on_a_cold_client_fetch_one_token() {
    let zendesk = standin().await;

    five_concurrent_lookups(oauth_client(&zendesk)).await;

    assert_eq!(zendesk.token_issues().len(), 1);
}

#[tokio::test]
async fn the_token_is_replaced_shortly_before_it_expires_and_not_earlier() {
    let zendesk = standin_with(StandInOptions {
        token_expires_in: Some(3600),
        ..StandInOptions::default()
    })
    .await;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let client = ZendeskClient::with_clock(zendesk.client_config(TIMEOUT), clock.clone()).unwrap();

    client.find_by_external_id("x").await.unwrap();
    let just_before_refresh =
        Duration::from_secs(3600) - TOKEN_REFRESH_MARGIN - Duration::from_secs(1);
    clock.advance(chrono::Duration::from_std(just_before_refresh).unwrap());
    client.find_by_external_id("x").await.unwrap();
    assert_eq!(zendesk.token_issues().len(), 1, "refreshed too early");

    clock.advance(chrono::Duration::seconds(2));
    client.find_by_external_id("x").await.unwrap();
    assert_eq!(zendesk.token_issues().len(), 2, "not refreshed near expiry");
    let last = zendesk.requests().pop().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some(bearer_of(&zendesk, 1).as_str())
    );
}

#[tokio::test]
async fn a_token_zendesk_refuses_is_replaced_once_and_the_call_retried() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    client.find_by_external_id("warm-up").await.unwrap();
    zendesk.revoke_issued_tokens();

    let created = client.create_ticket(&promotion(2), "k2").await.unwrap();

    assert_eq!(zendesk.token_issues().len(), 2);
    let posts = zendesk.requests_to("POST", "/api/v2/tickets");
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0].header("authorization"),
        Some(bearer_of(&zendesk, 0).as_str())
    );
    assert_eq!(
        posts[1].header("authorization"),
        Some(bearer_of(&zendesk, 1).as_str())
    );
    assert_eq!(zendesk.tickets().len(), 1);
    assert_eq!(zendesk.tickets()[0].id, created.id);
}

#[tokio::test]
async fn many_calls_refused_at_once_share_one_new_token() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    client.find_by_external_id("warm-up").await.unwrap();
    zendesk.revoke_issued_tokens();

    five_concurrent_lookups(client).await;

    assert_eq!(zendesk.token_issues().len(), 2);
}

#[tokio::test]
async fn a_fresh_token_that_is_refused_too_is_an_auth_error_after_one_retry() {
    let zendesk = standin().await;
    zendesk.refuse_all_tokens(true);

    let error = oauth_client(&zendesk)
        .create_ticket(&promotion(3), "k3")
        .await
        .unwrap_err();

    assert!(matches!(error, ZendeskError::Auth(_)), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(zendesk.token_issues().len(), 2);
    assert_eq!(zendesk.requests_to("POST", "/api/v2/tickets").len(), 2);
    assert!(zendesk.tickets().is_empty());
}

#[tokio::test]
async fn a_token_without_the_write_scope_is_an_auth_error() {
    let zendesk = standin_with(StandInOptions {
        granted_scope: Some("read".into()),
        ..StandInOptions::default()
    })
    .await;

    let error = oauth_client(&zendesk)
        .create_ticket(&promotion(4), "k4")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ZendeskError::Auth(message) if message.contains("403")),
        "{error:?}"
    );
    assert!(zendesk.tickets().is_empty());
}

#[tokio::test]
async fn a_token_endpoint_that_refuses_the_client_is_an_auth_error() {
    let zendesk = standin().await;
    let wrong = ZendeskAuth::OAuthClientCredentials {
        client_id: "hallpass_standin".into(),
        client_secret: SecretString::from("not-the-secret"),
    };

    let error = client_with(&zendesk, wrong, TIMEOUT)
        .create_ticket(&promotion(5), "k5")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ZendeskError::Auth(message) if message.contains("invalid_client")),
        "{error:?}"
    );
    assert!(zendesk.requests_to("POST", "/api/v2/tickets").is_empty());
}

#[tokio::test]
async fn legacy_api_token_auth_sends_basic_email_slash_token_and_asks_for_no_oauth_token() {
    let zendesk = standin().await;
    let client = client_with(&zendesk, zendesk.api_token_auth(), TIMEOUT);

    client.create_ticket(&promotion(6), "k6").await.unwrap();

    let expected = format!(
        "Basic {}",
        STANDARD.encode("hallpass@standin.invalid/token:standin-legacy-api-token")
    );
    let post = &zendesk.requests_to("POST", "/api/v2/tickets")[0];
    assert_eq!(post.header("authorization"), Some(expected.as_str()));
    assert!(zendesk.token_issues().is_empty());
    assert!(zendesk.requests_to("POST", "/oauth/tokens").is_empty());
    assert_eq!(zendesk.tickets().len(), 1);
}
