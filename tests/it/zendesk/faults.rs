use super::*;

#[tokio::test]
async fn a_429_is_rate_limited_with_the_retry_after_zendesk_sent() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    let cases = [
        (Some(7), Some(Duration::from_secs(7))),
        (Some(0), Some(Duration::ZERO)),
        (None, None),
    ];
    for (header, expected) in cases {
        zendesk.rate_limit_next_creations(1, header);
        let error = client.create_ticket(&promotion(8), "k8").await.unwrap_err();
        assert!(
            matches!(error, ZendeskError::RateLimited { retry_after } if retry_after == expected),
            "{header:?}: {error:?}"
        );
        assert!(!error.is_uncertain());
        assert!(error.is_retryable());
    }
    assert!(zendesk.tickets().is_empty());

    client.create_ticket(&promotion(8), "k8").await.unwrap();
    assert_eq!(zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn a_500_is_transient_and_uncertain() {
    let zendesk = standin().await;
    zendesk.fail_next_creations(1);

    let error = oauth_client(&zendesk)
        .create_ticket(&promotion(9), "k9")
        .await
        .unwrap_err();

    assert!(matches!(error, ZendeskError::Transient { .. }), "{error:?}");
    assert!(error.is_uncertain());
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_timeout_after_the_ticket_was_created_is_uncertain_and_the_retry_returns_that_ticket() {
    let zendesk = standin().await;
    let client = client_with(&zendesk, zendesk.oauth_auth(), SHORT_TIMEOUT);
    zendesk.inject(CreationFault::CreateThenStall(STALL), 1);

    let error = client
        .create_ticket(&promotion(10), "k10")
        .await
        .unwrap_err();

    assert!(matches!(error, ZendeskError::Transient { .. }), "{error:?}");
    assert!(error.is_uncertain());
    let stored = zendesk.tickets();
    assert_eq!(
        stored.len(),
        1,
        "the stand-in created the ticket before stalling"
    );

    // The retry is the outbox worker's, later, with a patient client.
    let client = oauth_client(&zendesk);
    let retried = client.create_ticket(&promotion(10), "k10").await.unwrap();
    assert_eq!(retried.id, stored[0].id);
    assert_eq!(zendesk.tickets().len(), 1);
    let found = client
        .find_by_external_id("hallpass-promotion-10")
        .await
        .unwrap();
    assert_eq!(found, Some(retried));
}

#[tokio::test]
async fn a_timeout_where_nothing_was_created_is_uncertain_too() {
    let zendesk = standin().await;
    let client = client_with(&zendesk, zendesk.oauth_auth(), SHORT_TIMEOUT);
    zendesk.inject(CreationFault::StallWithoutCreating(STALL), 1);

    let error = client
        .create_ticket(&promotion(11), "k11")
        .await
        .unwrap_err();

    assert!(matches!(error, ZendeskError::Transient { .. }), "{error:?}");
    assert!(error.is_uncertain());
    assert!(zendesk.tickets().is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_certainly_not_delivered() {
    let (_held, base_url) = closed_port_url();
    let auths = [
        ZendeskAuth::ApiToken {
            email: "ops@acme.org".into(),
            token: SecretString::from("t"),
        },
        ZendeskAuth::OAuthClientCredentials {
            client_id: "hallpass".into(),
            client_secret: SecretString::from("s"),
        },
    ];
    for auth in auths {
        let client = ZendeskClient::new(ZendeskConfig {
            base_url: base_url.clone(),
            auth,
            timeout: TIMEOUT,
        })
        .unwrap();

        let error = client
            .create_ticket(&promotion(12), "k12")
            .await
            .unwrap_err();

        assert!(matches!(error, ZendeskError::Transient { .. }), "{error:?}");
        assert!(!error.is_uncertain(), "{error:?}");
        assert!(error.is_retryable());
    }
}
