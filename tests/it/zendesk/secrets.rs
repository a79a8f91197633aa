use super::*;

#[tokio::test]
async fn debug_output_of_the_client_its_config_and_its_errors_never_shows_a_secret() {
    let zendesk = standin().await;
    let oauth_config = zendesk.client_config(TIMEOUT);
    let legacy_config = ZendeskConfig {
        auth: zendesk.api_token_auth(),
        ..zendesk.client_config(TIMEOUT)
    };
    let client = ZendeskClient::new(oauth_config.clone()).unwrap();
    let legacy = ZendeskClient::new(legacy_config.clone()).unwrap();
    client.find_by_external_id("x").await.unwrap();
    legacy.find_by_external_id("x").await.unwrap();

    let mut errors = Vec::new();
    zendesk.refuse_all_tokens(true);
    errors.push(client.find_by_external_id("x").await.unwrap_err());
    zendesk.refuse_all_tokens(false);
    zendesk.rate_limit_next_creations(1, Some(1));
    errors.push(
        legacy
            .create_ticket(&promotion(19), "k19")
            .await
            .unwrap_err(),
    );
    let slow = client_with(&zendesk, zendesk.oauth_auth(), SHORT_TIMEOUT);
    zendesk.inject(CreationFault::StallWithoutCreating(STALL), 1);
    errors.push(slow.create_ticket(&promotion(20), "k20").await.unwrap_err());

    let mut shown = vec![
        format!("{client:?}"),
        format!("{legacy:?}"),
        format!("{oauth_config:?}"),
        format!("{legacy_config:?}"),
    ];
    for error in &errors {
        shown.push(format!("{error:?}"));
        shown.push(format!("{error}"));
    }
    assert_eq!(
        zendesk.token_issues().len(),
        3,
        "tokens were issued and used"
    );
    for text in shown {
        assert_no_secret(&text, &zendesk);
    }
    assert!(format!("{client:?}").contains("hallpass_standin"));
}

#[tokio::test]
async fn log_lines_never_show_a_secret_even_at_trace_level() {
    let zendesk = standin().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = oauth_client(&zendesk);
    let created = client.create_ticket(&promotion(21), "k21").await.unwrap();
    zendesk.revoke_issued_tokens();
    client.add_internal_note(created.id, "note").await.unwrap();
    zendesk.refuse_all_tokens(true);
    client.find_by_external_id("x").await.unwrap_err();
    let legacy = client_with(&zendesk, zendesk.api_token_auth(), TIMEOUT);
    legacy.find_by_external_id("x").await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("Fetched a Zendesk OAuth access token"),
        "the capture works: {logs}"
    );
    assert!(logs.contains("refused the access token"), "{logs}");
    assert_no_secret(&logs, &zendesk);
}
