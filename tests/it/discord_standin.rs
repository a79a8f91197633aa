//! The REST client (`DiscordRest`) against the local stand-in for Discord's
//! REST API: exact paths, bodies and headers on the wire, Discord's failures
//! and rate limits, and no secret in errors or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hallpass::discord::{
    DiscordRest, DmError, MAX_RETRIES, RestError, command_definitions, command_names,
};
use hallpass::standins::discord::{self as standin, DiscordStandIn, RecordedRequest};
use secrecy::SecretString;
use serde_json::json;

const APP: u64 = 42;
const TOKEN: &str = "test-bot-token";
const INTERACTION: &str = "aW50ZXJhY3Rpb246c2VjcmV0";
const PASSWORD_DM: &str =
    "Your temporary password is `maple-river-stone-274`. Change it at first sign-in.";

async fn setup() -> (DiscordStandIn, DiscordRest) {
    let standin = standin::start().await.unwrap();
    let rest = client(&standin, Some(TOKEN), Some(APP));
    (standin, rest)
}

fn client(standin: &DiscordStandIn, token: Option<&str>, app: Option<u64>) -> DiscordRest {
    let token = token.map(|t| SecretString::from(t.to_owned()));
    DiscordRest::new(&standin.url(), token.as_ref(), app).unwrap()
}

fn calls(requests: &[RecordedRequest]) -> Vec<(String, String, u16)> {
    requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect()
}

#[tokio::test]
async fn a_dm_opens_the_channel_then_posts_the_exact_content() {
    let (standin, rest) = setup().await;
    rest.send_dm(4242, PASSWORD_DM).await.unwrap();

    let requests = standin.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/api/v10/users/@me/channels");
    assert_eq!(requests[0].body, Some(json!({ "recipient_id": "4242" })));
    let channel = requests[0].status;
    assert_eq!(channel, 200);
    assert_eq!(requests[1].method, "POST");
    assert!(
        requests[1].path.starts_with("/api/v10/channels/")
            && requests[1].path.ends_with("/messages"),
        "{}",
        requests[1].path
    );
    assert_eq!(requests[1].body.as_ref().unwrap()["content"], PASSWORD_DM);
    assert_eq!(
        requests[1].body.as_ref().unwrap()["allowed_mentions"],
        json!({ "parse": [] })
    );
    for request in &requests {
        assert_eq!(request.authorization.as_deref(), Some("Bot test-bot-token"));
    }
    assert_eq!(standin.dms(), vec![(4242, PASSWORD_DM.to_owned())]);
}

#[tokio::test]
async fn a_closed_inbox_is_reported_as_closed_with_discords_code() {
    for code in [50007, 50278] {
        let (standin, rest) = setup().await;
        standin.fail_dms_with(code);
        let result = rest.send_dm(4242, PASSWORD_DM).await;
        assert!(
            matches!(result, Err(DmError::Closed { code: c }) if c == code),
            "{code}: {result:?}"
        );
        assert!(standin.dms().is_empty());
        assert_eq!(standin.requests().last().unwrap().status, 403);
    }
}

#[tokio::test]
async fn other_dm_refusals_are_not_mistaken_for_a_closed_inbox() {
    let (standin, rest) = setup().await;
    standin.fail_dms_with(50001);
    let result = rest.send_dm(4242, PASSWORD_DM).await;
    match result {
        Err(DmError::Other(error)) => assert_eq!(error.discord_code(), Some(50001)),
        other => panic!("expected Other, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rate_limited_dm_waits_retry_after_and_is_delivered_exactly_once() {
    let (standin, rest) = setup().await;
    standin.rate_limit_next(2);
    let started = Instant::now();
    rest.send_dm(4242, PASSWORD_DM).await.unwrap();

    // The body's retry_after (0.05 s) is honoured twice: a lower bound, which
    // a loaded machine cannot break. No upper bound on wall time here (it
    // would flake); that the body's value wins over the 1 s header is pinned
    // by `the_body_retry_after_wins_then_the_header_then_one_second` in
    // src/discord/rest.rs.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    let statuses: Vec<u16> = standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 200]);
    assert_eq!(standin.dms(), vec![(4242, PASSWORD_DM.to_owned())]);
}

#[tokio::test]
async fn a_rate_limited_followup_is_sent_again_and_posted_once() {
    let (standin, rest) = setup().await;
    standin.rate_limit_next(1);
    rest.followup(INTERACTION, "after a 429", true)
        .await
        .unwrap();
    let path = format!("/api/v10/webhooks/42/{INTERACTION}");
    assert_eq!(
        calls(&standin.requests()),
        [
            ("POST".to_owned(), path.clone(), 429),
            ("POST".to_owned(), path, 200)
        ]
    );
}

#[tokio::test]
async fn endless_rate_limiting_gives_up_after_the_bounded_retries() {
    let (standin, rest) = setup().await;
    standin.rate_limit_next(100);
    let result = rest.send_dm(4242, PASSWORD_DM).await;
    assert!(
        matches!(result, Err(DmError::Other(RestError::RateLimited { .. }))),
        "{result:?}"
    );
    assert_eq!(standin.requests().len(), MAX_RETRIES as usize + 1);
    assert!(standin.dms().is_empty());
}

#[tokio::test]
async fn edit_original_patches_the_first_answer_of_the_interaction() {
    let (standin, rest) = setup().await;
    rest.edit_original(INTERACTION, "Done: the password was reset.")
        .await
        .unwrap();
    let requests = standin.requests();
    assert_eq!(
        calls(&requests),
        [(
            "PATCH".to_owned(),
            format!("/api/v10/webhooks/42/{INTERACTION}/messages/@original"),
            200
        )]
    );
    let body = requests[0].body.as_ref().unwrap();
    assert_eq!(body["content"], "Done: the password was reset.");
    assert!(body.get("flags").is_none(), "{body}");
}

#[tokio::test]
async fn followups_go_to_the_interaction_webhook_with_flag_64_only_when_ephemeral() {
    let (standin, rest) = setup().await;
    rest.followup(INTERACTION, "only you can see this", true)
        .await
        .unwrap();
    rest.followup(INTERACTION, "everyone can see this", false)
        .await
        .unwrap();
    let requests = standin.requests();
    let path = format!("/api/v10/webhooks/42/{INTERACTION}");
    assert_eq!(
        calls(&requests),
        [
            ("POST".to_owned(), path.clone(), 200),
            ("POST".to_owned(), path, 200)
        ]
    );
    let first = requests[0].body.as_ref().unwrap();
    assert_eq!(first["content"], "only you can see this");
    assert_eq!(first["flags"], 64);
    let second = requests[1].body.as_ref().unwrap();
    assert!(second.get("flags").is_none(), "{second}");
}

#[tokio::test]
async fn an_expired_interaction_fails_the_followup_without_showing_its_token() {
    let (standin, rest) = setup().await;
    standin.fail_followups();
    let error = rest.followup(INTERACTION, "late", true).await.unwrap_err();
    assert!(
        matches!(
            error,
            RestError::Discord {
                status: 404,
                code: Some(10015),
                ..
            }
        ),
        "{error:?}"
    );
    let error = rest.edit_original(INTERACTION, "late").await.unwrap_err();
    assert_eq!(error.discord_code(), Some(10015));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(INTERACTION), "{shown}");
}

#[tokio::test]
async fn an_unreachable_discord_is_reported_without_the_interaction_token() {
    // A port nobody listens on, held (bound, not listening) for the test.
    let (_held, address) = crate::desk::refusing_socket();
    let url = url::Url::parse(&format!("http://{address}")).unwrap();
    let token = SecretString::from(TOKEN.to_owned());
    let rest = DiscordRest::new(&url, Some(&token), Some(APP)).unwrap();
    let error = rest.followup(INTERACTION, "hello", true).await.unwrap_err();
    assert!(matches!(error, RestError::Transport { .. }), "{error:?}");
    let chain = format!("{:#}", anyhow::Error::from(error));
    assert!(!chain.contains(INTERACTION), "{chain}");
    assert!(!chain.contains(TOKEN), "{chain}");
}

#[tokio::test]
async fn register_commands_overwrites_the_global_set_with_all_eight() {
    let (standin, rest) = setup().await;
    let commands = command_definitions().unwrap();
    let registered = rest.register_commands(None, &commands).await.unwrap();
    assert_eq!(registered, 8);
    let requests = standin.requests();
    assert_eq!(
        calls(&requests),
        [(
            "PUT".to_owned(),
            "/api/v10/applications/42/commands".to_owned(),
            200
        )]
    );
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bot test-bot-token")
    );
    assert_eq!(requests[0].body, Some(serde_json::Value::Array(commands)));
    let names: Vec<String> = standin
        .registered_commands(None)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, command_names());
}

#[tokio::test]
async fn register_commands_for_one_server_uses_the_guild_route() {
    let (standin, rest) = setup().await;
    let commands = command_definitions().unwrap();
    let registered = rest.register_commands(Some(123), &commands).await.unwrap();
    assert_eq!(registered, 8);
    assert_eq!(
        calls(&standin.requests()),
        [(
            "PUT".to_owned(),
            "/api/v10/applications/42/guilds/123/commands".to_owned(),
            200
        )]
    );
    assert_eq!(standin.registered_commands(Some(123)).len(), 8);
    assert!(standin.registered_commands(None).is_empty());
}

#[tokio::test]
async fn a_token_already_prefixed_with_bot_is_sent_as_is() {
    let standin = standin::start().await.unwrap();
    let rest = client(&standin, Some("Bot already-prefixed"), Some(APP));
    rest.register_commands(None, &command_definitions().unwrap())
        .await
        .unwrap();
    assert_eq!(
        standin.requests()[0].authorization.as_deref(),
        Some("Bot already-prefixed")
    );
}

#[tokio::test]
async fn without_an_application_id_webhooks_and_registration_are_refused_before_any_request() {
    let standin = standin::start().await.unwrap();
    let rest = client(&standin, Some(TOKEN), None);
    let error = rest.followup(INTERACTION, "hi", true).await.unwrap_err();
    assert!(
        matches!(error, RestError::MissingApplicationId(_)),
        "{error:?}"
    );
    let error = rest.edit_original(INTERACTION, "hi").await.unwrap_err();
    assert!(
        matches!(error, RestError::MissingApplicationId(_)),
        "{error:?}"
    );
    let error = rest
        .register_commands(None, &command_definitions().unwrap())
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("DISCORD_APPLICATION_ID"),
        "{error}"
    );
    assert!(standin.requests().is_empty());
}

#[tokio::test]
async fn without_a_token_webhooks_still_work_and_dms_are_refused() {
    let standin = standin::start().await.unwrap();
    let rest = client(&standin, None, Some(APP));
    rest.followup(INTERACTION, "interaction tokens suffice", true)
        .await
        .unwrap();
    assert_eq!(standin.requests()[0].authorization, None);
    let result = rest.send_dm(4242, "hello").await;
    assert!(
        matches!(result, Err(DmError::Other(RestError::MissingToken(_)))),
        "{result:?}"
    );
    assert_eq!(standin.requests().len(), 1);
}

/// A `MakeWriter` that keeps everything written in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_at_trace_level_show_neither_the_message_nor_any_token() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (standin, rest) = setup().await;
    standin.rate_limit_next(1);
    rest.send_dm(4242, PASSWORD_DM).await.unwrap();
    standin.rate_limit_next(1);
    rest.followup(INTERACTION, PASSWORD_DM, true).await.unwrap();
    standin.fail_followups();
    let _ = rest.edit_original(INTERACTION, PASSWORD_DM).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("rate limited"),
        "nothing was captured: {logs}"
    );
    assert!(logs.contains("user=4242"), "{logs}");
    for secret in ["maple-river-stone-274", TOKEN, INTERACTION] {
        assert!(!logs.contains(secret), "{secret} leaked:\n{logs}");
    }
}

/// The stand-in itself: it refuses what Discord refuses, with Discord's bodies.
async fn raw(
    standin: &DiscordStandIn,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, standin.url().join(path).unwrap())
        .json(&body);
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_standin_refuses_bot_routes_without_a_bot_token() {
    let standin = standin::start().await.unwrap();
    let body = json!({ "recipient_id": "4242" });
    let path = "api/v10/users/@me/channels";
    let (status, answer) = raw(&standin, reqwest::Method::POST, path, None, body.clone()).await;
    assert_eq!(
        (status, answer),
        (401, json!({ "message": "401: Unauthorized", "code": 0 }))
    );
    let (status, _) = raw(
        &standin,
        reqwest::Method::POST,
        path,
        Some("test-bot-token"),
        body.clone(),
    )
    .await;
    assert_eq!(status, 401, "a token without the Bot prefix is refused");
    let (status, channel) = raw(&standin, reqwest::Method::POST, path, Some("Bot t"), body).await;
    assert_eq!(status, 200);
    assert_eq!(channel["type"], 1);
    assert_eq!(channel["recipients"][0]["id"], "4242");
}

#[tokio::test]
async fn the_standin_refuses_messages_to_unknown_channels_and_bad_content() {
    let standin = standin::start().await.unwrap();
    let post = reqwest::Method::POST;
    let (status, answer) = raw(
        &standin,
        post.clone(),
        "api/v10/channels/999/messages",
        Some("Bot t"),
        json!({ "content": "hi" }),
    )
    .await;
    assert_eq!((status, answer["code"].clone()), (404, json!(10003)));
    let (_, channel) = raw(
        &standin,
        post.clone(),
        "api/v10/users/@me/channels",
        Some("Bot t"),
        json!({ "recipient_id": 5 }),
    )
    .await;
    let messages = format!(
        "api/v10/channels/{}/messages",
        channel["id"].as_str().unwrap()
    );
    let (status, answer) = raw(
        &standin,
        post.clone(),
        &messages,
        Some("Bot t"),
        json!({ "content": "" }),
    )
    .await;
    assert_eq!((status, answer["code"].clone()), (400, json!(50006)));
    let long = "x".repeat(2001);
    let (status, answer) = raw(
        &standin,
        post.clone(),
        &messages,
        Some("Bot t"),
        json!({ "content": long }),
    )
    .await;
    assert_eq!((status, answer["code"].clone()), (400, json!(50035)));
    let (status, message) = raw(
        &standin,
        post,
        &messages,
        Some("Bot t"),
        json!({ "content": "hello" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(message["content"], "hello");
    assert_eq!(message["channel_id"], channel["id"]);
    assert_eq!(standin.dms(), vec![(5, "hello".to_owned())]);
}
