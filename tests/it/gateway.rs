//! The gateway way in: an interaction as serenity hands it over from the
//! websocket is answered through the interaction callback over REST, by the
//! same handlers as the HTTP endpoint. (The websocket itself is serenity's.)

use hallpass::discord::gateway::answer_interaction;
use hallpass::discord::{DiscordRest, NoHooks};
use hallpass::standins::discord as standin;
use hallpass::standins::simulate::SimulatedDiscord;
use hallpass::web::Metrics;
use secrecy::SecretString;
use serenity::all::Interaction;

use crate::bot::Bot;
use crate::interactions::{APPLICATION_ID, Server};

/// The REST client the gateway answers through, sent to `standin`.
pub(crate) fn gateway_rest(standin: &standin::DiscordStandIn) -> DiscordRest {
    DiscordRest::new(
        &standin.url(),
        Some(&SecretString::from("test-bot-token")),
        Some(APPLICATION_ID),
    )
    .unwrap()
}

fn interaction(payload: &serde_json::Value) -> Interaction {
    serde_json::from_value(payload.clone()).unwrap()
}

#[tokio::test]
async fn a_gateway_interaction_is_answered_through_the_callback_with_the_same_reply() {
    let bot = Bot::new().await;
    let standin = standin::start().await.unwrap();
    let rest = gateway_rest(&standin);
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let payload = discord.command(
        Server::member(&bot.tess),
        "whois",
        &[("user", &bot.ana.id.to_string())],
    );
    let metrics = Metrics::default();
    answer_interaction(&bot.app, &rest, &interaction(&payload), &metrics).await;
    let counted = metrics.render();
    for line in [
        "hallpass_interactions_total{kind=\"command\",command=\"whois\"} 1",
        "hallpass_interaction_outcomes_total{command=\"whois\",outcome=\"allowed\"} 1",
    ] {
        assert!(
            counted.contains(line),
            "counted as the endpoint counts: {counted}"
        );
    }
    let id = payload["id"].as_str().unwrap();
    let token = SimulatedDiscord::token_of(&payload);
    let callback = standin
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/api/v10/interactions/{id}/{token}/callback"))
        .expect("the answer goes to the interaction callback");
    let body = callback.body.unwrap();
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64);
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("**Lopez, Ana**"),
        "{body}"
    );
}

#[tokio::test]
async fn a_slow_gateway_interaction_is_acknowledged_then_edited_and_the_password_goes_by_dm() {
    let bot = Bot::new().await;
    let standin = standin::start().await.unwrap();
    let rest = gateway_rest(&standin);
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let payload = discord.command(
        Server::member(&bot.tess),
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    );
    let metrics = Metrics::default();
    answer_interaction(&bot.app, &rest, &interaction(&payload), &metrics).await;
    let counted = metrics.render();
    assert!(
        counted.contains(
            "hallpass_interaction_outcomes_total{command=\"reset-password\",outcome=\"allowed\"} 1"
        ),
        "{counted}"
    );
    let token = SimulatedDiscord::token_of(&payload);
    let paths: Vec<(String, String)> = standin
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let callback = paths
        .iter()
        .position(|(_, p)| p.ends_with(&format!("{token}/callback")))
        .expect("acknowledged");
    let edit = paths
        .iter()
        .position(|(m, p)| m == "PATCH" && p.ends_with(&format!("{token}/messages/@original")))
        .expect("edited");
    assert!(callback < edit, "{paths:?}");
    let ack = standin
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/callback"))
        .unwrap()
        .body
        .unwrap();
    assert_eq!(ack["type"], 5, "deferred, privately");
    assert_eq!(standin.dms().len(), 1);
    assert_eq!(
        Some(standin.dms()[0].0),
        bot.tess.discord_user_id.map(|d| d.get())
    );
}

/// Every instance connected with the bot's token receives every interaction
/// (two `serve`s with DISCORD_TOKEN on one PostgreSQL database, as while a
/// rolling deploy overlaps): the reset runs once. One instance claims the
/// interaction and answers it; the other leaves it, so there is one
/// acknowledgement, one DM, and its password is the one stored.
#[tokio::test]
async fn a_reset_two_instances_receive_over_the_gateway_runs_once() {
    let bot = Bot::on(crate::helpers::TestDb::postgres().await).await;
    let other = bot.another_instance().await;
    let standin = standin::start().await.unwrap();
    let rest = gateway_rest(&standin);
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let payload = discord.command(
        Server::member(&bot.tess),
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    );
    let received = interaction(&payload);
    tokio::join!(
        answer_interaction(&bot.app, &rest, &received, &NoHooks),
        answer_interaction(&other, &rest, &received, &NoHooks),
    );
    let token = SimulatedDiscord::token_of(&payload);
    let callbacks = standin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("{token}/callback")))
        .count();
    assert_eq!(callbacks, 1, "acknowledged once: {:#?}", standin.requests());
    let dms = standin.dms();
    assert_eq!(dms.len(), 1, "one DM: {dms:?}");
    let password = dms[0].1.split('`').nth(1).unwrap();
    assert!(
        bot.holds_password(&bot.ana, password).await,
        "the DM's password is the one stored"
    );

    // An autocomplete, read-only, is answered by both: Discord keeps the
    // first answer and refuses the second (code 40060), which is no error
    // of the instance that came second.
    let captured = crate::capture::Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let typing = discord.autocomplete(
        Server::member(&bot.tess),
        "whois",
        "user",
        &[("user", "an")],
    );
    let received = interaction(&typing);
    tokio::join!(
        answer_interaction(&bot.app, &rest, &received, &NoHooks),
        answer_interaction(&other, &rest, &received, &NoHooks),
    );
    let token = SimulatedDiscord::token_of(&typing);
    let mut statuses: Vec<u16> = standin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("{token}/callback")))
        .map(|r| r.status)
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![204, 400], "both answered, the first kept");
    let log = captured.text();
    assert!(
        log.contains("another instance answered this interaction first"),
        "{log}"
    );
    assert!(!log.contains("ERROR"), "{log}");
}
