//! Two bugs found while trying sign-in (issue 7): admins could not find
//! themselves in autocomplete, and without a bot token a reset blamed the
//! educator's closed DMs.

use std::sync::Arc;
use std::time::Duration;

use hallpass::app::Clock;
use hallpass::commands::{Body, Request};
use hallpass::discord::{DiscordRest, InteractionVerifier};
use hallpass::standins::discord as standin;
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::web::WebState;
use url::Url;

use crate::bot::{Bot, GUILD};
use crate::signin::code_span;

fn offered(reply: &hallpass::commands::Reply) -> Vec<String> {
    match &reply.body {
        Body::Choices(choices) => choices.iter().map(|c| c.value.clone()).collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

#[tokio::test]
async fn school_admins_and_district_admins_find_themselves_in_autocomplete() {
    let bot = Bot::new().await;
    for (admin, typed) in [
        (&bot.sam, "sam"),
        (&bot.dana, "dana"),
        (&bot.dana, "district, d"),
    ] {
        let reply = bot
            .run(
                admin,
                Request::autocomplete("whois", "user", &[("user", typed)]),
            )
            .await;
        assert!(
            offered(&reply).contains(&admin.id.to_string()),
            "{} typing {typed:?} is offered themself: {reply:?}",
            admin.login
        );
    }
    // Typing nothing offers yourself too, as it always did for teachers.
    let everyone = bot
        .run(
            &bot.sam,
            Request::autocomplete("whois", "user", &[("user", "")]),
        )
        .await;
    assert!(offered(&everyone).contains(&bot.sam.id.to_string()));
    let teacher = bot
        .run(
            &bot.tess,
            Request::autocomplete("whois", "user", &[("user", "tess")]),
        )
        .await;
    assert_eq!(offered(&teacher), vec![bot.tess.id.to_string()]);
    // Only once, even where the search of the area would find them as well.
    let district = offered(
        &bot.run(
            &bot.dana,
            Request::autocomplete("whois", "user", &[("user", "d")]),
        )
        .await,
    );
    let dana = bot.dana.id.to_string();
    assert_eq!(district.iter().filter(|id| **id == dana).count(), 1);
}

#[tokio::test]
async fn without_a_bot_token_a_reset_says_so_and_the_password_comes_in_the_ephemeral_follow_up() {
    let bot = Bot::new().await;
    let standin = standin::start().await.unwrap();
    let discord = SimulatedDiscord::new([9; 32], 42);
    let rest = DiscordRest::new(&standin.url(), None, Some(42)).unwrap();
    let state = WebState {
        verifier: Some(Arc::new(
            InteractionVerifier::from_hex(&discord.public_key_hex()).unwrap(),
        )),
        discord: Some(Arc::new(rest)),
        ..WebState::new(bot.app.clone())
    };
    let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
    let endpoint = Url::parse(&listening.url("/interactions")).unwrap();
    let member = Member {
        guild: GUILD,
        user: bot.tess.discord_user_id.unwrap().get(),
        username: "tess",
    };
    let payload = discord.command(
        member,
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    );
    let token = SimulatedDiscord::token_of(&payload);
    let client = reqwest::Client::new();
    let (status, _) = discord
        .send(&client, &endpoint, &payload, bot.clock.now())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let edit_path = format!("/api/v10/webhooks/42/{token}/messages/@original");
    let edited = standin
        .wait_for(Duration::from_secs(30), |requests| {
            requests
                .iter()
                .find(|r| r.method == "PATCH" && r.path == edit_path)
                .cloned()
        })
        .await
        .expect("the deferred answer is edited in");
    let content = edited.body.unwrap()["content"].as_str().unwrap().to_owned();
    assert!(
        content.contains("no token configured (DISCORD_TOKEN), so it can't send DMs"),
        "{content}"
    );
    assert!(!content.contains("DMs are closed"), "{content}");
    assert!(standin.dms().is_empty(), "no DM was attempted at Discord");
    let followup = standin
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == format!("/api/v10/webhooks/42/{token}"))
        .expect("an ephemeral follow-up");
    let body = followup.body.unwrap();
    assert_eq!(body["flags"], 64, "only the teacher can see it");
    let password = code_span(body["content"].as_str().unwrap());
    assert!(bot.holds_password(&bot.ana, &password).await);
}
