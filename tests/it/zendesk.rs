//! The Zendesk client against the local stand-in, over real HTTP: what it
//! sends, how it signs in, and how each kind of failure reaches the caller.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallpass::app::ManualClock;
use hallpass::standins::zendesk::{CreationFault, StandInOptions, StoredComment, ZendeskStandIn};
use hallpass::support::zendesk::{OAUTH_SCOPE, TOKEN_REFRESH_MARGIN};
use hallpass::support::{NewTicket, ZendeskAuth, ZendeskClient, ZendeskConfig, ZendeskError};
use secrecy::SecretString;
use serde_json::json;

/// Long enough for any honest local call.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Short, against a stand-in told to stall for [`STALL`].
const SHORT_TIMEOUT: Duration = Duration::from_millis(300);
const STALL: Duration = Duration::from_secs(1);

async fn standin_with(options: StandInOptions) -> ZendeskStandIn {
    ZendeskStandIn::start(options).await.unwrap()
}

async fn standin() -> ZendeskStandIn {
    standin_with(StandInOptions::default()).await
}

fn oauth_client(zendesk: &ZendeskStandIn) -> ZendeskClient {
    ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap()
}

fn client_with(zendesk: &ZendeskStandIn, auth: ZendeskAuth, timeout: Duration) -> ZendeskClient {
    ZendeskClient::new(ZendeskConfig {
        base_url: zendesk.url(),
        auth,
        timeout,
    })
    .unwrap()
}

fn promotion(n: u32) -> NewTicket {
    NewTicket {
        subject: format!("Promotion request #{n}: Ana Lopez to school admin at Lincoln MS"),
        body: "Maria Chen asks that Ana Lopez become a school admin. Reason: runs the timetable."
            .into(),
        requester_name: "Maria Chen".into(),
        requester_email: "m.chen@lincoln.example.org".into(),
        external_id: format!("hallpass-promotion-{n}"),
        tags: vec!["hallpass".into(), "promotion_request".into()],
    }
}

fn bearer_of(zendesk: &ZendeskStandIn, index: usize) -> String {
    format!("Bearer {}", zendesk.token_issues()[index].access_token)
}

#[tokio::test]
async fn a_ticket_is_created_with_exactly_the_body_and_headers_zendesk_documents() {
    let zendesk = standin().await;
    let ticket = promotion(7);

    let created = oauth_client(&zendesk)
        .create_ticket(&ticket, "promotion-7")
        .await
        .unwrap();

    let posts = zendesk.requests_to("POST", "/api/v2/tickets");
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(
        post.json().unwrap(),
        json!({"ticket": {
            "subject": "Promotion request #7: Ana Lopez to school admin at Lincoln MS",
            "comment": {
                "body": "Maria Chen asks that Ana Lopez become a school admin. Reason: runs the timetable.",
                "public": false
            },
            "requester": {"name": "Maria Chen", "email": "m.chen@lincoln.example.org"},
            "external_id": "hallpass-promotion-7",
            "tags": ["hallpass", "promotion_request"]
        }})
    );
    assert_eq!(post.header("Idempotency-Key"), Some("promotion-7"));
    assert_eq!(post.header("Content-Type"), Some("application/json"));
    assert_eq!(
        post.header("Authorization"),
        Some(bearer_of(&zendesk, 0).as_str())
    );

    let stored = zendesk.tickets();
    assert_eq!(stored.len(), 1);
    assert_eq!(created.id, stored[0].id);
    assert_eq!(
        stored[0].comments,
        vec![StoredComment {
            body: ticket.body.clone(),
            public: false
        }]
    );
}

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

/// A port nothing listens on, held (bound, never listening) for as long as
/// the returned socket lives, so no one else can take it meanwhile.
fn closed_port_url() -> (tokio::net::TcpSocket, url::Url) {
    let (socket, address) = crate::desk::refusing_socket();
    (
        socket,
        url::Url::parse(&format!("http://{address}")).unwrap(),
    )
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

#[tokio::test]
async fn the_same_idempotency_key_twice_creates_one_ticket() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);

    let first = client
        .create_ticket(&promotion(13), "same-key")
        .await
        .unwrap();
    let second = client
        .create_ticket(&promotion(13), "same-key")
        .await
        .unwrap();
    let other = client
        .create_ticket(&promotion(13), "other-key")
        .await
        .unwrap();

    assert_eq!(first, second);
    assert_ne!(first, other, "a new key is a new ticket");
    assert_eq!(zendesk.requests_to("POST", "/api/v2/tickets").len(), 3);
    assert_eq!(zendesk.tickets().len(), 2);
}

#[tokio::test]
async fn reusing_a_key_for_a_different_ticket_is_rejected() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    client
        .create_ticket(&promotion(14), "reused")
        .await
        .unwrap();

    let error = client
        .create_ticket(&promotion(15), "reused")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ZendeskError::Rejected { status: 400, message } if message.contains("IdempotentRequestError")),
        "{error:?}"
    );
    assert_eq!(zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn find_by_external_id_finds_the_ticket_and_nothing_for_an_unknown_id() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    let sixteen = client.create_ticket(&promotion(16), "k16").await.unwrap();
    let seventeen = client.create_ticket(&promotion(17), "k17").await.unwrap();

    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-16")
            .await
            .unwrap(),
        Some(sixteen)
    );
    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-17")
            .await
            .unwrap(),
        Some(seventeen)
    );
    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-99")
            .await
            .unwrap(),
        None
    );
    let lookup = &zendesk.requests_to("GET", "/api/v2/tickets")[0];
    assert_eq!(
        lookup.query.as_deref(),
        Some("external_id=hallpass-promotion-16")
    );
}

#[tokio::test]
async fn add_internal_note_appends_a_private_comment() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    let ticket = promotion(18);
    let created = client.create_ticket(&ticket, "k18").await.unwrap();

    client
        .add_internal_note(created.id, "The teacher's principal confirmed by phone.")
        .await
        .unwrap();

    let path = format!("/api/v2/tickets/{}", created.id);
    let put = &zendesk.requests_to("PUT", &path)[0];
    assert_eq!(
        put.json().unwrap(),
        json!({"ticket": {"comment": {"body": "The teacher's principal confirmed by phone.", "public": false}}})
    );
    assert_eq!(
        zendesk.ticket(created.id).unwrap().comments,
        vec![
            StoredComment {
                body: ticket.body,
                public: false
            },
            StoredComment {
                body: "The teacher's principal confirmed by phone.".into(),
                public: false
            },
        ]
    );
}

#[tokio::test]
async fn a_note_on_a_ticket_zendesk_does_not_have_is_rejected_with_404() {
    let zendesk = standin().await;

    let error = oauth_client(&zendesk)
        .add_internal_note(4242, "hello?")
        .await
        .unwrap_err();

    assert!(
        matches!(error, ZendeskError::Rejected { status: 404, .. }),
        "{error:?}"
    );
}

const CLIENT_SECRET: &str = "standin-oauth-client-secret";
const API_TOKEN: &str = "standin-legacy-api-token";

fn assert_no_secret(shown: &str, zendesk: &ZendeskStandIn) {
    assert!(!shown.contains(CLIENT_SECRET), "client secret in: {shown}");
    assert!(!shown.contains(API_TOKEN), "API token in: {shown}");
    for issue in zendesk.token_issues() {
        assert!(
            !shown.contains(&issue.access_token),
            "access token in: {shown}"
        );
    }
}

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

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

/// Five lookups at once, from five tasks sharing the client.
async fn five_concurrent_lookups(client: ZendeskClient) {
    let client = Arc::new(client);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let client = client.clone();
        tasks.spawn(async move { client.find_by_external_id("nothing").await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap(), None);
    }
}
