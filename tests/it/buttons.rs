//! Buttons through both transports: a click (MESSAGE_COMPONENT, signed as
//! Discord signs it) reaches the form that owns its custom id, by the same
//! dispatch as a modal submit; a quick answer replaces the prompt (type 7,
//! its buttons removed), a slow one is acknowledged silently (type 6) and the
//! prompt edited afterwards with its buttons removed. No command answers with
//! a prompt yet, so the clicks here go to the forms hallpass has (their
//! answer to an id they cannot read is their own sentence); the rendering of
//! a prompt is held by the unit tests of `discord::response`.

use std::time::Duration;

use hallpass::discord::NoHooks;
use hallpass::discord::gateway::answer_interaction;
use hallpass::standins::discord as standin;
use hallpass::standins::simulate::SimulatedDiscord;
use serde_json::{Value, json};
use serenity::all::Interaction;

use crate::bot::Bot;
use crate::gateway::gateway_rest;
use crate::interactions::{APPLICATION_ID, Server};

/// What the edit form answers to an id it cannot read.
const EDIT_FORM_UNKNOWN: &str = "That form is not one hallpass recognises; run /edit-user again.";
/// What the (slow) email-reset form answers to an id it cannot read.
const EMAIL_FORM_UNKNOWN: &str =
    "That form is not one hallpass recognises; run /reset-password again.";

/// The edit of the prompt `token` answered, once it arrives.
async fn edit_of_prompt(standin: &standin::DiscordStandIn, token: &str) -> Value {
    let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
    standin
        .wait_for(Duration::from_secs(30), |requests| {
            requests
                .iter()
                .find(|r| r.method == "PATCH" && r.path == path)
                .and_then(|r| r.body.clone())
        })
        .await
        .unwrap_or_else(|| panic!("the prompt was never edited: {:?}", standin.requests()))
}

#[tokio::test]
async fn a_signed_button_click_reaches_the_form_that_owns_it_and_replaces_the_prompt() {
    let server = Server::start().await;
    let click = server
        .discord
        .button(Server::member(&server.bot.tess), "edit-user:not-a-form");
    let (status, answer) = server.send(&click).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], 7, "UPDATE_MESSAGE: {answer}");
    assert_eq!(answer["data"]["content"], EDIT_FORM_UNKNOWN);
    assert_eq!(answer["data"]["components"], json!([]), "the buttons go");
    assert_eq!(answer["data"]["allowed_mentions"]["parse"], json!([]));
}

#[tokio::test]
async fn a_click_on_a_button_no_form_owns_is_answered_without_running_anything() {
    let server = Server::start().await;
    let click = server
        .discord
        .button(Server::member(&server.bot.tess), "drop-table:1");
    let (status, answer) = server.send(&click).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], 7);
    assert_eq!(
        answer["data"]["content"],
        "That button is not one hallpass recognises."
    );
}

#[tokio::test]
async fn a_slow_click_is_acknowledged_with_type_6_then_the_prompt_is_edited_with_its_buttons_removed()
 {
    let server = Server::start().await;
    let click = server
        .discord
        .button(Server::member(&server.bot.tess), "reset-email:not-a-form");
    let (status, answer) = server.send(&click).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({ "type": 6 }), "DEFERRED_UPDATE_MESSAGE");
    let token = SimulatedDiscord::token_of(&click);
    let edit = edit_of_prompt(&server.standin, &token).await;
    assert_eq!(edit["content"], EMAIL_FORM_UNKNOWN);
    assert_eq!(edit["components"], json!([]), "the buttons go: {edit}");
}

#[tokio::test]
async fn a_click_is_counted_as_a_button_under_the_command_of_its_form() {
    let server = Server::start().await;
    let click = server
        .discord
        .button(Server::member(&server.bot.tess), "edit-user:not-a-form");
    server.send(&click).await;
    let metrics = server
        .client
        .get(server.endpoint.join("/metrics").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hallpass_interactions_total{kind=\"button\",command=\"edit-user\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn over_the_gateway_a_click_is_answered_through_the_callback_by_replacing_the_prompt() {
    let bot = Bot::new().await;
    let standin = standin::start().await.unwrap();
    let rest = gateway_rest(&standin);
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let click = discord.button(Server::member(&bot.tess), "edit-user:not-a-form");
    let interaction: Interaction = serde_json::from_value(click.clone()).unwrap();
    answer_interaction(&bot.app, &rest, &interaction, &NoHooks).await;
    let id = click["id"].as_str().unwrap();
    let token = SimulatedDiscord::token_of(&click);
    let callback = standin
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/api/v10/interactions/{id}/{token}/callback"))
        .expect("the answer goes to the interaction callback");
    assert_eq!(callback.status, 204);
    let body = callback.body.unwrap();
    assert_eq!(body["type"], 7, "{body}");
    assert_eq!(body["data"]["content"], EDIT_FORM_UNKNOWN);
    assert_eq!(body["data"]["components"], json!([]));
}

#[tokio::test]
async fn over_the_gateway_a_slow_click_is_acknowledged_with_type_6_then_the_prompt_edited() {
    let bot = Bot::new().await;
    let standin = standin::start().await.unwrap();
    let rest = gateway_rest(&standin);
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let click = discord.button(Server::member(&bot.tess), "reset-email:not-a-form");
    let interaction: Interaction = serde_json::from_value(click.clone()).unwrap();
    answer_interaction(&bot.app, &rest, &interaction, &NoHooks).await;
    let token = SimulatedDiscord::token_of(&click);
    let requests = standin.requests();
    let callback = requests
        .iter()
        .position(|r| r.path.ends_with(&format!("{token}/callback")))
        .expect("acknowledged through the callback");
    assert_eq!(
        requests[callback].body.as_ref().unwrap(),
        &json!({ "type": 6 })
    );
    let edit = requests
        .iter()
        .position(|r| {
            r.method == "PATCH" && r.path.ends_with(&format!("{token}/messages/@original"))
        })
        .expect("the prompt is edited");
    assert!(callback < edit, "acknowledged before the edit");
    let body = requests[edit].body.as_ref().unwrap();
    assert_eq!(body["content"], EMAIL_FORM_UNKNOWN);
    assert_eq!(body["components"], json!([]));
}
