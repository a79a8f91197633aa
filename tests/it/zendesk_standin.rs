//! The Zendesk stand-in itself, over raw HTTP: it behaves like Zendesk where
//! the client cannot tell (idempotency headers, validation, sign-in), and its
//! switches do what they say.

use std::time::Duration;

use chrono::Utc;
use hallpass::standins::zendesk::{RateLimit, StandInOptions, ZendeskStandIn};
use hallpass::support::{Decision, NewTicket, ZendeskClient, ZendeskError, sign, verify_signature};
use secrecy::SecretString;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(5);

async fn standin_with(options: StandInOptions) -> ZendeskStandIn {
    ZendeskStandIn::start(options).await.unwrap()
}

async fn standin() -> ZendeskStandIn {
    standin_with(StandInOptions::default()).await
}

fn ticket(n: u32) -> NewTicket {
    NewTicket {
        subject: format!("Promotion request #{n}"),
        body: "Please promote.".into(),
        requester_name: "Maria Chen".into(),
        requester_email: "m.chen@lincoln.example.org".into(),
        external_id: format!("hallpass-promotion-{n}"),
        tags: vec!["hallpass".into(), "promotion_request".into()],
    }
}

/// A raw request signed in with the stand-in's legacy API token.
fn raw(zendesk: &ZendeskStandIn, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let url = zendesk.url().join(path).unwrap();
    reqwest::Client::new().request(method, url).basic_auth(
        "hallpass@standin.invalid/token",
        Some("standin-legacy-api-token"),
    )
}

fn ticket_body(subject: &str) -> Value {
    json!({"ticket": {
        "subject": subject,
        "comment": {"body": "Please promote.", "public": false},
        "requester": {"name": "Maria Chen", "email": "m.chen@lincoln.example.org"},
        "external_id": "hallpass-promotion-1",
        "tags": ["hallpass"]
    }})
}

#[tokio::test]
async fn an_idempotent_replay_answers_201_with_x_idempotency_lookup_hit_and_the_same_ticket() {
    let zendesk = standin().await;
    let post = || {
        raw(&zendesk, reqwest::Method::POST, "/api/v2/tickets")
            .header("Idempotency-Key", "replay-me")
            .json(&ticket_body("Promotion"))
            .send()
    };

    let first = post().await.unwrap();
    let second = post().await.unwrap();

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    assert_eq!(first.headers()["x-idempotency-lookup"], "miss");
    assert_eq!(second.headers()["x-idempotency-lookup"], "hit");
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["ticket"]["id"], second["ticket"]["id"]);
    assert_eq!(first["ticket"]["external_id"], "hallpass-promotion-1");
    assert_eq!(zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_past_its_window_creates_a_new_ticket() {
    let zendesk = standin_with(StandInOptions {
        idempotency_window: Duration::ZERO,
        ..StandInOptions::default()
    })
    .await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();

    let first = client.create_ticket(&ticket(1), "old-key").await.unwrap();
    let second = client.create_ticket(&ticket(1), "old-key").await.unwrap();

    assert_ne!(first, second);
    assert_eq!(zendesk.tickets().len(), 2);
}

#[tokio::test]
async fn a_ticket_without_a_comment_or_with_malformed_fields_is_refused_with_422() {
    let zendesk = standin().await;
    let malformed = [
        json!({"ticket": {"subject": "no comment"}}),
        json!({"ticket": {"comment": {"body": "  "}}}),
        json!({"ticket": {"comment": {"body": "x", "public": "no"}}}),
        json!({"ticket": {"comment": {"body": "x"}, "tags": "hallpass"}}),
        json!({"ticket": {"comment": {"body": "x"}, "requester": {"name": "No Email"}}}),
        json!({"subject": "no ticket root"}),
    ];
    for body in malformed {
        let response = raw(&zendesk, reqwest::Method::POST, "/api/v2/tickets")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "RecordInvalid");
    }
    let not_json = raw(&zendesk, reqwest::Method::POST, "/api/v2/tickets")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert!(zendesk.tickets().is_empty());
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused_with_401() {
    let zendesk = standin().await;
    let url = zendesk.url().join("/api/v2/tickets").unwrap();
    let http = reqwest::Client::new();
    let attempts = [
        http.get(url.clone()),
        http.get(url.clone()).bearer_auth("standin_made_up"),
        http.get(url.clone())
            .basic_auth("hallpass@standin.invalid/token", Some("wrong")),
        http.get(url.clone())
            .basic_auth("someone@else.org/token", Some("standin-legacy-api-token")),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "Couldn't authenticate you");
    }
}

#[tokio::test]
async fn the_token_endpoint_accepts_a_form_too_and_refuses_other_grants() {
    let zendesk = standin().await;
    let url = zendesk.url().join("/oauth/tokens").unwrap();
    let http = reqwest::Client::new();

    let form = http
        .post(url.clone())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "hallpass_standin"),
            ("client_secret", "standin-oauth-client-secret"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let answer: Value = form.json().await.unwrap();
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["scope"], "read");
    assert_eq!(answer["expires_in"], 3600);
    assert_eq!(
        answer["access_token"],
        zendesk.token_issues()[0].access_token
    );

    let password_grant = http
        .post(url)
        .json(&json!({"grant_type": "password", "client_id": "hallpass_standin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(password_grant.status(), 400);
    assert_eq!(zendesk.token_issues().len(), 1);
}

#[tokio::test]
async fn in_one_in_five_mode_exactly_every_fifth_api_request_is_rate_limited() {
    let zendesk = standin().await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();
    zendesk.rate_limit_one_in(5, Some(0));

    let mut limited = Vec::new();
    for n in 1..=10 {
        match client.create_ticket(&ticket(n), &format!("k{n}")).await {
            Ok(_) => {}
            Err(ZendeskError::RateLimited { retry_after }) => {
                assert_eq!(retry_after, Some(Duration::ZERO));
                limited.push(n);
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    assert_eq!(limited, vec![5, 10]);
    assert_eq!(zendesk.tickets().len(), 8);

    zendesk.rate_limit_one_in(0, None);
    for n in 11..=15 {
        client
            .create_ticket(&ticket(n), &format!("k{n}"))
            .await
            .unwrap();
    }
    assert_eq!(zendesk.tickets().len(), 13);
}

#[tokio::test]
async fn past_its_rate_the_stand_in_answers_429_with_retry_after_and_creates_nothing() {
    // Per minute, so the allowance cannot come back while the test runs.
    let zendesk = standin_with(StandInOptions {
        rate_limit: Some(RateLimit::per_minute(3)),
        ..StandInOptions::default()
    })
    .await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();

    for n in 1..=2 {
        client
            .create_ticket(&ticket(n), &format!("k{n}"))
            .await
            .unwrap();
    }
    // Lookups count against the account's rate too.
    client.find_by_external_id("nothing").await.unwrap();
    let refused = client.create_ticket(&ticket(3), "k3").await.unwrap_err();
    let ZendeskError::RateLimited { retry_after } = refused else {
        panic!("{refused:?}");
    };
    // One request's worth comes back every 20 seconds.
    let wait = retry_after.unwrap();
    assert!(
        wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
        "{wait:?}"
    );
    let raw_answer = raw(&zendesk, reqwest::Method::GET, "/api/v2/tickets")
        .send()
        .await
        .unwrap();
    assert_eq!(raw_answer.status(), 429);
    assert!(raw_answer.headers().contains_key("retry-after"));

    assert_eq!(zendesk.tickets().len(), 2);
    let answers = zendesk.rate_answers();
    let refused: Vec<bool> = answers
        .iter()
        .map(|a| a.retry_after_seconds.is_some())
        .collect();
    assert_eq!(refused, vec![false, false, false, true, true]);
    // The token request is not an API request and is never limited.
    assert_eq!(zendesk.token_issues().len(), 1);
}

#[tokio::test]
async fn without_a_rate_limit_nothing_is_refused_and_nothing_is_logged() {
    let zendesk = standin().await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();
    zendesk.spend_allowance();
    for n in 1..=5 {
        client
            .create_ticket(&ticket(n), &format!("k{n}"))
            .await
            .unwrap();
    }
    assert_eq!(zendesk.tickets().len(), 5);
    assert!(zendesk.rate_answers().is_empty());
}

#[tokio::test]
async fn injected_faults_apply_to_the_next_creations_only_and_in_order() {
    let zendesk = standin().await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();
    zendesk.fail_next_creations(1);
    zendesk.rate_limit_next_creations(1, Some(3));

    client
        .find_by_external_id("lookups are not creations")
        .await
        .unwrap();
    let first = client.create_ticket(&ticket(1), "k1").await.unwrap_err();
    let second = client.create_ticket(&ticket(1), "k1").await.unwrap_err();
    let third = client.create_ticket(&ticket(1), "k1").await;

    assert!(matches!(first, ZendeskError::Transient { .. }), "{first:?}");
    assert!(
        matches!(second, ZendeskError::RateLimited { .. }),
        "{second:?}"
    );
    assert!(third.is_ok());
    assert_eq!(zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn an_agent_decision_yields_the_trigger_body_which_signs_and_decides() {
    let zendesk = standin().await;
    let client = ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap();
    let created = client.create_ticket(&ticket(3), "k3").await.unwrap();

    let payload = zendesk
        .agent_decides(created.id, Decision::Approved, "agent@district.example.org")
        .unwrap();

    assert_eq!(payload.ticket_id_number(), Some(created.id));
    assert_eq!(payload.external_id, "hallpass-promotion-3");
    assert_eq!(payload.status, "solved");
    assert_eq!(payload.decision(), Some(Decision::Approved));
    let stored = zendesk.ticket(created.id).unwrap();
    assert!(stored.tags.contains(&"hallpass_approved".to_owned()));

    let secret = SecretString::from("webhook-secret");
    let body = serde_json::to_vec(&payload).unwrap();
    let now = Utc::now();
    let timestamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = sign(&secret, &timestamp, &body);
    assert_eq!(
        verify_signature(&secret, &signature, &timestamp, &body, now),
        Ok(())
    );

    assert!(
        zendesk
            .agent_decides(9999, Decision::Rejected, "a@b.c")
            .is_none()
    );
}

#[tokio::test]
async fn every_request_is_recorded_with_its_method_path_query_headers_and_body() {
    let zendesk = standin().await;
    let response = raw(
        &zendesk,
        reqwest::Method::GET,
        "/api/v2/tickets.json?external_id=abc",
    )
    .header("X-Custom", "kept")
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let unknown = raw(&zendesk, reqwest::Method::DELETE, "/api/v2/users/1")
        .body("bye")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let requests = zendesk.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/api/v2/tickets.json");
    assert_eq!(requests[0].query.as_deref(), Some("external_id=abc"));
    assert_eq!(requests[0].header("x-custom"), Some("kept"));
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(requests[1].body, "bye");
}
