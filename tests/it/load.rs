//! Load through the real listener: 2,000 signed interactions from 64
//! concurrent clients, a mix of `/edit-user` modal round trips, moves, resets
//! and autocomplete. Nothing fails, and every acknowledged edit and move is
//! found in the database and in the audit log, one by one, by the interaction
//! that made it. The per-account command limits are raised for the test (the
//! limits themselves are tested in bursts.rs); the count is fixed, so the test
//! takes as long as the machine needs, and never fails on time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use hallpass::audit::AuditQuery;
use hallpass::directory::{Role, SchoolId, User, UserId};
use hallpass::discord::DiscordRest;
use hallpass::discord::InteractionVerifier;
use hallpass::limits::Limits;
use hallpass::standins::discord as standin;
use hallpass::standins::simulate::SimulatedDiscord;
use hallpass::web::WebState;
use secrecy::SecretString;
use url::Url;

use crate::bot::Bot;
use crate::helpers::{TestDb, World, on_both_backends};
use crate::interactions::{APPLICATION_ID, Server};

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    two_thousand_interactions_from_64_clients_lose_nothing_and_every_acknowledged_edit_is_stored_and_audited,
);

const CLIENTS: usize = 64;
const INTERACTIONS: usize = 2_000;

/// The listener of interactions.rs, on `db`, with per-account limits that a
/// test driving thousands of requests from a few accounts does not reach.
pub async fn server_with_limits(db: TestDb, limits: Limits) -> Server {
    let mut bot = Bot::on(db).await;
    bot.app.limits = Arc::new(limits);
    let standin = standin::start().await.unwrap();
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let rest = DiscordRest::new(
        &standin.url(),
        Some(&SecretString::from("test-bot-token")),
        Some(APPLICATION_ID),
    )
    .unwrap();
    let state = WebState {
        verifier: Some(Arc::new(
            InteractionVerifier::from_hex(&discord.public_key_hex()).unwrap(),
        )),
        discord: Some(Arc::new(rest)),
        ..WebState::new(bot.app.clone())
    };
    let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
    let endpoint = Url::parse(&listening.url("/interactions")).unwrap();
    Server {
        bot,
        discord,
        standin,
        endpoint,
        client: reqwest::Client::new(),
    }
}

pub fn unlimited() -> Limits {
    Limits::per_minute(1_000_000, 1_000_000)
}

/// "Aa", "Ab", … : names made of letters only, as a person's name may be.
pub fn letters(mut n: usize, width: usize) -> String {
    let mut out = Vec::new();
    for _ in 0..width {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    let mut s = String::from_utf8(out).unwrap();
    s[..1].make_ascii_uppercase();
    s
}

/// Waits for the deferred answer of `token`, woken by each request the REST
/// stand-in records; the 120 s bound only turns a hang into a failure.
async fn deferred_answer(server: &Server, token: &str) -> String {
    let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
    server
        .standin
        .wait_for(Duration::from_secs(120), |requests| {
            let edit = requests
                .iter()
                .find(|r| r.method == "PATCH" && r.path == path)?;
            Some(
                edit.body
                    .as_ref()
                    .and_then(|b| b["content"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .await
        .unwrap_or_else(|| panic!("the deferred answer for {token} was never edited in"))
}

#[derive(Default)]
struct Tally {
    interactions: usize,
    /// (interaction id, student, last name it set)
    edits: Vec<(String, UserId, String)>,
    /// (interaction id, student, school it moved to)
    moves: Vec<(String, UserId, SchoolId)>,
    resets: usize,
    autocompletes: usize,
    modals: usize,
}

async fn client(server: Arc<Server>, n: usize, student: User, actor: User, quota: usize) -> Tally {
    let mut tally = Tally::default();
    let member = Server::member(&actor);
    let schools = [server.bot.world.a2.id, server.bot.world.a1.id];
    let mut step = 0usize;
    while tally.interactions < quota {
        match step % 4 {
            0 => {
                let payload = server.discord.command(
                    member,
                    "edit-user",
                    &[("user", &student.id.to_string())],
                );
                let (status, modal) = server.send(&payload).await;
                tally.interactions += 1;
                assert_eq!(status, 200, "{modal}");
                assert_eq!(modal["type"], 9, "the modal opens: {modal}");
                tally.modals += 1;
                if tally.interactions == quota {
                    break;
                }
                let last_name = format!("Load{}", letters(n * 64 + step, 3));
                let mut fields: Vec<(String, String)> = modal["data"]["components"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| {
                        let input = &row["components"][0];
                        (
                            input["custom_id"].as_str().unwrap().to_owned(),
                            input["value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                for (name, value) in &mut fields {
                    if name == "last_name" {
                        *value = last_name.clone();
                    }
                }
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let submit = server.discord.modal_submit(
                    member,
                    modal["data"]["custom_id"].as_str().unwrap(),
                    &fields,
                );
                let (status, answer) = server.send(&submit).await;
                tally.interactions += 1;
                assert_eq!(status, 200, "{answer}");
                let content = answer["data"]["content"].as_str().unwrap_or_default();
                assert!(
                    content.starts_with("Updated ") && content.contains(&last_name),
                    "the edit is acknowledged: {answer}"
                );
                tally.edits.push((
                    submit["id"].as_str().unwrap().to_owned(),
                    student.id,
                    last_name,
                ));
            }
            1 => {
                let to = schools[(step / 4) % 2];
                let payload = server.discord.command(
                    member,
                    "edit-user",
                    &[
                        ("user", &student.id.to_string()),
                        ("school", &to.to_string()),
                    ],
                );
                let (status, answer) = server.send(&payload).await;
                tally.interactions += 1;
                assert_eq!(status, 200, "{answer}");
                let content = answer["data"]["content"].as_str().unwrap_or_default();
                assert!(
                    content.starts_with("Moved "),
                    "the move is acknowledged: {answer}"
                );
                tally
                    .moves
                    .push((payload["id"].as_str().unwrap().to_owned(), student.id, to));
            }
            2 => {
                let payload = server.discord.command(
                    member,
                    "reset-password",
                    &[("user", &student.id.to_string())],
                );
                let (status, answer) = server.send(&payload).await;
                tally.interactions += 1;
                assert_eq!(status, 200, "{answer}");
                assert_eq!(answer["type"], 5, "the reset is deferred: {answer}");
                let content = deferred_answer(&server, &SimulatedDiscord::token_of(&payload)).await;
                assert!(content.starts_with("Done: "), "{content}");
                tally.resets += 1;
            }
            _ => {
                let payload =
                    server
                        .discord
                        .autocomplete(member, "edit-user", "user", &[("user", "load")]);
                let (status, answer) = server.send(&payload).await;
                tally.interactions += 1;
                assert_eq!(status, 200, "{answer}");
                assert_eq!(answer["type"], 8, "{answer}");
                assert!(
                    !answer["data"]["choices"].as_array().unwrap().is_empty(),
                    "{answer}"
                );
                tally.autocompletes += 1;
            }
        }
        step += 1;
    }
    tally
}

async fn two_thousand_interactions_from_64_clients_lose_nothing_and_every_acknowledged_edit_is_stored_and_audited(
    db: TestDb,
) {
    let server = server_with_limits(db, unlimited()).await;
    let bot = &server.bot;
    let mut students = Vec::new();
    for n in 0..CLIENTS {
        let login = format!("load.{}", letters(n, 2).to_lowercase());
        students.push(
            bot.world
                .user(
                    &bot.db.store,
                    &login,
                    Role::Student,
                    World::at(&bot.world.a1),
                )
                .await,
        );
    }
    let actors = [bot.dana.clone(), bot.dave.clone()];
    let server = Arc::new(server);
    let mut clients = Vec::new();
    for (n, student) in students.iter().enumerate() {
        let quota = INTERACTIONS / CLIENTS + usize::from(n < INTERACTIONS % CLIENTS);
        clients.push(tokio::spawn(client(
            server.clone(),
            n,
            student.clone(),
            actors[n % 2].clone(),
            quota,
        )));
    }
    let mut total = Tally::default();
    for handle in clients {
        let t = handle.await.unwrap();
        total.interactions += t.interactions;
        total.edits.extend(t.edits);
        total.moves.extend(t.moves);
        total.resets += t.resets;
        total.autocompletes += t.autocompletes;
        total.modals += t.modals;
    }
    assert_eq!(total.interactions, INTERACTIONS);
    assert_eq!(
        total.modals + total.edits.len() + total.moves.len() + total.resets + total.autocompletes,
        INTERACTIONS
    );
    let bot = &server.bot;
    let store = &bot.db.store;

    // Every acknowledged edit and move is in the audit log once, by its
    // interaction, applied, with the value it set.
    let events = store
        .audit_events(&AuditQuery {
            tenant_id: Some(bot.world.tenant.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let by_interaction: HashMap<&str, Vec<&hallpass::audit::AuditEvent>> =
        events.iter().fold(HashMap::new(), |mut map, e| {
            if let Some(id) = e.origin.interaction_id.as_deref() {
                map.entry(id).or_default().push(e);
            }
            map
        });
    let mut audited_edits = 0;
    for (interaction, student, last_name) in &total.edits {
        let found = &by_interaction[interaction.as_str()];
        assert_eq!(found.len(), 1, "{found:?}");
        let event = found[0];
        assert_eq!(
            (event.action.as_str(), event.outcome.as_str()),
            ("user.edit", "applied")
        );
        assert_eq!(event.target_user_id, Some(student.to_string()));
        assert!(
            event
                .after
                .as_ref()
                .unwrap()
                .to_string()
                .contains(last_name.as_str()),
            "{event:?}"
        );
        audited_edits += 1;
    }
    let mut audited_moves = 0;
    for (interaction, student, _) in &total.moves {
        let found = &by_interaction[interaction.as_str()];
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].outcome, "applied", "{:?}", found[0]);
        assert_eq!(found[0].target_user_id, Some(student.to_string()));
        audited_moves += 1;
    }
    let acknowledged: HashSet<&str> = total
        .edits
        .iter()
        .map(|e| e.0.as_str())
        .chain(total.moves.iter().map(|m| m.0.as_str()))
        .collect();
    let stray: Vec<_> = events
        .iter()
        .filter(|e| e.outcome == "applied" && (e.action == "user.edit" || e.action == "user.move"))
        .filter(|e| {
            e.origin
                .interaction_id
                .as_deref()
                .is_none_or(|id| !acknowledged.contains(id))
        })
        .collect();
    assert!(stray.is_empty(), "no change nobody was told of: {stray:?}");
    let refused_or_failed: Vec<_> = events
        .iter()
        .filter(|e| e.outcome != "applied" && e.action != "password.burst_alert")
        .collect();
    assert!(refused_or_failed.is_empty(), "{refused_or_failed:?}");

    // In the database, each student holds the last edit and the last move
    // acknowledged to their client, which ran its steps one after the other.
    let mut last_edit: BTreeMap<UserId, &str> = BTreeMap::new();
    for (_, student, last_name) in &total.edits {
        last_edit.insert(*student, last_name);
    }
    let mut last_move: BTreeMap<UserId, SchoolId> = BTreeMap::new();
    for (_, student, school) in &total.moves {
        last_move.insert(*student, *school);
    }
    let mut stored_edits = 0;
    for student in &students {
        let now = bot.reload(student).await;
        assert_eq!(now.last_name.as_str(), last_edit[&student.id]);
        assert_eq!(now.place.school(), Some(last_move[&student.id]));
        stored_edits += 1;
    }
    let dms = server.standin.dms().len();
    assert_eq!(dms, total.resets, "one DM per acknowledged reset");
    println!(
        "load: {} interactions from {CLIENTS} clients: {} edit modals, {} edits ({} audited one by one, \
         {} students' last edit stored), {} moves ({} audited), {} resets ({} DMs), {} autocompletes; \
         0 errors",
        total.interactions,
        total.modals,
        total.edits.len(),
        audited_edits,
        stored_edits,
        total.moves.len(),
        audited_moves,
        total.resets,
        dms,
        total.autocompletes
    );
}
