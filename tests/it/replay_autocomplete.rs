//! The replay promise as it stands for autocomplete (`store::replay`): a
//! command is refused when replayed to any instance sharing the database; an
//! autocomplete, which changes nothing, is refused when replayed to the
//! instance that answered it and is not written to the database at all.

use std::sync::Arc;

use hallpass::app::{App, Clock};
use hallpass::discord::InteractionVerifier;
use hallpass::store::Store;
use hallpass::web::WebState;
use serde_json::Value;
use url::Url;

use crate::helpers::{TestDb, on_both_backends};
use crate::interactions::Server;

on_both_backends!(
    an_autocomplete_sent_twice_to_one_instance_is_answered_once_and_writes_nothing,
    a_replayed_command_is_refused_by_another_instance_while_a_replayed_autocomplete_is_answered_the_same,
);

async fn seen_interactions(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM seen_interactions")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

fn choice_values(answer: &Value) -> Vec<String> {
    answer["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_autocomplete_sent_twice_to_one_instance_is_answered_once_and_writes_nothing(
    db: TestDb,
) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let before = seen_interactions(&bot.db.store).await;
    let payload = server.discord.autocomplete(
        Server::member(&bot.tess),
        "whois",
        "user",
        &[("user", "an")],
    );
    let (status, answer) = server.send(&payload).await;
    assert_eq!(status, 200);
    assert_eq!(
        choice_values(&answer),
        vec![bot.ana.id.to_string()],
        "{answer}"
    );
    let (replayed, _) = server.send(&payload).await;
    assert_eq!(replayed, 409, "the instance that answered remembers it");
    assert_eq!(
        seen_interactions(&bot.db.store).await,
        before,
        "a keystroke writes nothing to the database"
    );
}

/// A second instance on the same database, trusting the same Discord key.
async fn second_instance(server: &Server) -> Url {
    let store = Store::connect(&server.bot.db.url).await.unwrap();
    let app = App {
        store,
        ..server.bot.app.clone()
    };
    let state = WebState {
        verifier: Some(Arc::new(
            InteractionVerifier::from_hex(&server.discord.public_key_hex()).unwrap(),
        )),
        ..WebState::new(app)
    };
    let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
    let url = Url::parse(&listening.url("/interactions")).unwrap();
    // The listener serves until the test's runtime ends.
    std::mem::forget(listening);
    url
}

async fn a_replayed_command_is_refused_by_another_instance_while_a_replayed_autocomplete_is_answered_the_same(
    db: TestDb,
) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let other = second_instance(&server).await;
    let send_to_other = async |payload: &Value| {
        server
            .discord
            .send(&server.client, &other, payload, bot.clock.now())
            .await
            .unwrap()
    };

    let command = server.discord.command(
        Server::member(&bot.tess),
        "whois",
        &[("user", &bot.ana.id.to_string())],
    );
    let (status, _) = server.send(&command).await;
    assert_eq!(status, 200);
    let (replayed, _) = send_to_other(&command).await;
    assert_eq!(replayed, 409, "the database remembers a command's id");

    let keystroke = server.discord.autocomplete(
        Server::member(&bot.tess),
        "whois",
        "user",
        &[("user", "an")],
    );
    let (status, first) = server.send(&keystroke).await;
    assert_eq!(status, 200);
    let (status, again) = send_to_other(&keystroke).await;
    assert_eq!(status, 200, "another instance answers the same keystroke");
    assert_eq!(choice_values(&again), choice_values(&first));
    assert_eq!(
        choice_values(&again),
        vec![bot.ana.id.to_string()],
        "and only with what the signed request was shown"
    );
}
