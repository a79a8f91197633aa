#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;
use serenity::http::{LightMethod, Request};

use super::*;

fn rest(base: &str, token: Option<&str>, app: Option<u64>) -> DiscordRest {
    let token = token.map(|t| SecretString::from(t.to_owned()));
    DiscordRest::new(&Url::parse(base).unwrap(), token.as_ref(), app).unwrap()
}

/// Our URL is the one serenity itself would build for the same `Http`.
#[test]
fn urls_are_built_exactly_as_serenity_builds_them() {
    for base in [
        "http://127.0.0.1:4567",
        "http://127.0.0.1:4567/",
        "https://discord.com",
    ] {
        let client = rest(base, Some("t"), Some(42));
        let routes = [
            Route::UserMeDmChannels,
            Route::ChannelMessages {
                channel_id: ChannelId::new(7),
            },
            Route::WebhookFollowupMessages {
                application_id: ApplicationId::new(42),
                token: "interaction-token",
            },
            Route::GuildCommands {
                application_id: ApplicationId::new(42),
                guild_id: GuildId::new(123),
            },
        ];
        for route in routes {
            let ours = client.url("test", route).unwrap();
            let serenity = Request::new(route, LightMethod::Post)
                .build(
                    &client.client,
                    client.http.token(),
                    client.http.proxy.as_deref(),
                )
                .unwrap()
                .build()
                .unwrap();
            assert_eq!(ours.as_str(), serenity.url().as_str());
            assert!(ours.path().starts_with("/api/v10/"), "{ours}");
        }
    }
    let local = rest("http://127.0.0.1:4567/", None, Some(42));
    assert_eq!(
        local.url("test", Route::UserMeDmChannels).unwrap().as_str(),
        "http://127.0.0.1:4567/api/v10/users/@me/channels"
    );
}

#[test]
fn the_body_retry_after_wins_then_the_header_then_one_second() {
    let mut headers = HeaderMap::new();
    let body = ErrorBody {
        retry_after: Some(0.25),
        ..ErrorBody::default()
    };
    assert_eq!(retry_after(&body, &headers), Duration::from_millis(250));
    headers.insert("retry-after", HeaderValue::from_static("2"));
    assert_eq!(retry_after(&body, &headers), Duration::from_millis(250));
    assert_eq!(
        retry_after(&ErrorBody::default(), &headers),
        Duration::from_secs(2)
    );
    let nonsense = ErrorBody {
        retry_after: Some(-1.0),
        ..ErrorBody::default()
    };
    assert_eq!(retry_after(&nonsense, &HeaderMap::new()), DEFAULT_WAIT);
}

#[test]
fn closed_inbox_codes_become_dm_closed_and_others_do_not() {
    let refusal = |code| RestError::Discord {
        route: "test",
        status: 403,
        code: Some(code),
        message: "Cannot send messages to this user".into(),
    };
    assert!(matches!(
        DmError::from(refusal(50007)),
        DmError::Closed { code: 50007 }
    ));
    assert!(matches!(
        DmError::from(refusal(50278)),
        DmError::Closed { code: 50278 }
    ));
    assert!(matches!(DmError::from(refusal(50001)), DmError::Other(_)));
}

#[test]
fn retry_waits_double_up_to_the_longest_wait() {
    let policy = RetryPolicy {
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(350),
        ..RetryPolicy::default()
    };
    let waits: Vec<_> = (1..=4).map(|n| policy.backoff(n).as_millis()).collect();
    assert_eq!(waits, [100, 200, 350, 350]);
    let default = RetryPolicy::default();
    let worst: Duration = (1..default.attempts)
        .map(|n| default.backoff(n) + default.request_timeout)
        .sum::<Duration>()
        + default.request_timeout;
    assert!(
        worst.min(default.budget + default.request_timeout) < Duration::from_secs(15 * 60),
        "every try ends inside the interaction token's 15 minutes"
    );
}

#[test]
fn debug_never_shows_the_token() {
    let client = rest(
        "http://127.0.0.1:1",
        Some("MTIz.secret-bot-token"),
        Some(42),
    );
    let shown = format!("{client:?}");
    assert!(!shown.contains("secret-bot-token"), "{shown}");
    assert!(shown.contains("set"));
}

#[test]
fn ephemeral_messages_carry_flag_64_and_never_ping() {
    assert_eq!(message("hi", Some(EPHEMERAL))["flags"], 64);
    assert!(message("hi", None).get("flags").is_none());
    assert_eq!(message("hi", None)["allowed_mentions"]["parse"], json!([]));
}
