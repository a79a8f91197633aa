//! `hallpass serve` (the binary) stopped with SIGTERM while a deferred reset
//! is delivering its password and the outbox worker is opening tickets: the
//! reset still delivers (its follow-up arrives, the password stands), the
//! worker hands back the entries it had claimed and not reached, and the
//! process exits (within 10 s, a failure guard only).

use std::time::Duration;

use hallpass::standins::discord::{FOLLOWUPS, Fault};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::standins::zendesk::CreationFault;
use sqlx::Row;
use url::Url;

use crate::bot::GUILD;
use crate::desk::{Desk, eventually};
use crate::outbox_kill::{PATIENCE, Serve, queue_requests};

const APPLICATION_ID: u64 = 42;

#[tokio::test]
async fn on_sigterm_a_reset_in_flight_is_delivered_the_outbox_claim_is_handed_back_and_serve_exits()
{
    const REQUESTS: usize = 20;
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
    let mut serve = Serve::start(
        &desk,
        &[
            ("DISCORD_PUBLIC_KEY", discord.public_key_hex()),
            ("DISCORD_APPLICATION_ID", APPLICATION_ID.to_string()),
            ("DISCORD_API_URL", desk.discord.url().to_string()),
        ],
    )
    .await;
    // Without a bot token the password comes in an ephemeral follow-up,
    // which the stand-in holds until the test lets it go.
    desk.discord.script(FOLLOWUPS, &[Fault::Hold]);
    let member = Member {
        guild: GUILD,
        user: bot.tess.discord_user_id.map(|d| d.get()).unwrap(),
        username: "tess",
    };
    let payload = discord.command(
        member,
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    );
    let endpoint = serve.base.join("interactions").unwrap();
    let (status, answer) = discord
        .send(
            &reqwest::Client::new(),
            &Url::parse(endpoint.as_str()).unwrap(),
            &payload,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, answer["type"].as_u64()),
        (200, Some(5)),
        "{answer}"
    );
    assert!(
        desk.discord.wait_held(1, PATIENCE).await,
        "the follow-up reached the stand-in"
    );

    // Now the worker starts on a batch it cannot finish quickly.
    desk.zendesk.inject(
        CreationFault::CreateThenStall(Duration::from_millis(500)),
        REQUESTS,
    );
    queue_requests(&desk, REQUESTS, "term").await;
    eventually(&desk.zendesk, |z| !z.tickets().is_empty()).await;

    let pid = serve.child.id().unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let signalled = std::time::Instant::now();
    serve
        .logged("stopping: finishing the interactions in flight")
        .await;
    desk.discord.release_held();
    let exited = tokio::time::timeout(Duration::from_secs(10), serve.child.wait())
        .await
        .expect("serve exits within 10 s of SIGTERM")
        .unwrap();
    assert!(exited.success(), "{exited:?}");
    assert!(signalled.elapsed() < Duration::from_secs(10));
    serve
        .logged("stopped: every delivery in flight finished")
        .await;

    // The reset was delivered, and stands.
    let token = SimulatedDiscord::token_of(&payload);
    let followup_path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}");
    let followup = desk
        .discord
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == followup_path)
        .expect("the follow-up was answered");
    assert_eq!(followup.status, 200);
    let body = followup.body.unwrap();
    assert_eq!(body["flags"], 64);
    let text = body["content"].as_str().unwrap();
    let password = text.split('`').nth(1).unwrap().to_owned();
    assert!(
        bot.holds_password(&bot.ana, &password).await,
        "the delivered password is the one stored: no roll-back"
    );
    assert!(
        desk.discord
            .requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.path.ends_with("/messages/@original")),
        "the deferred answer was edited in"
    );

    // The worker handed back what it had claimed and not reached.
    let pool = desk.store().pool();
    let count = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
    };
    let waiting =
        count("SELECT COUNT(*) AS n FROM support_outbox WHERE next_attempt_at IS NOT NULL").await;
    let held = count(
        "SELECT COUNT(*) AS n FROM support_outbox WHERE next_attempt_at IS NOT NULL AND (lease_token IS NOT NULL OR lease_until IS NOT NULL)",
    )
    .await;
    assert!(waiting > 0, "the stop came mid-drain");
    assert_eq!(held, 0, "no entry is left claimed ({waiting} waiting)");
    assert!(desk.zendesk.tickets().len() < REQUESTS);
}
