//! Burst alerts: one educator resetting more than the threshold (10) of
//! passwords within ten minutes is posted, once, to the tenant's audit channel
//! through Discord's REST API (the local stand-in), and audited.

use std::process::Command;
use std::sync::Arc;

use chrono::Duration;
use hallpass::audit::{Action, AuditEvent, AuditQuery};
use hallpass::directory::DiscordChannelId;
use hallpass::discord::DiscordRest;
use hallpass::standins::discord::{self as standin, DiscordStandIn};
use secrecy::SecretString;
use serde_json::json;

use crate::bot::Bot;
use crate::helpers::{cli_audit, t0};
use crate::secrets::secret_in;

const CHANNEL: u64 = 1_310_000_000_000_000_077;

/// The bot world with its REST client pointed at the stand-in, which knows
/// the audit channel; `set_channel` also stores it for the tenant.
async fn setup(set_channel: bool) -> (Bot, DiscordStandIn) {
    let mut bot = Bot::new().await;
    let discord = standin::start().await.unwrap();
    discord.add_text_channel(CHANNEL);
    let rest = DiscordRest::new(
        &discord.url(),
        Some(&SecretString::from("test-bot-token")),
        Some(42),
    )
    .unwrap();
    bot.app.alerts = Some(Arc::new(rest));
    if set_channel {
        bot.db
            .store
            .set_audit_channel(
                &bot.world.tenant,
                DiscordChannelId::new(CHANNEL),
                cli_audit(Action::TenantAuditChannel, t0()),
            )
            .await
            .unwrap();
    }
    (bot, discord)
}

/// Tess resets Ana's and Ben's passwords, alternately, `n` times, a few
/// seconds apart; answers every temporary password handed out.
async fn resets(bot: &Bot, n: usize) -> Vec<String> {
    let mut passwords = Vec::new();
    for i in 0..n {
        let target = if i % 2 == 0 { &bot.ana } else { &bot.ben };
        let reply = bot
            .command(
                &bot.tess,
                "reset-password",
                &[("user", &target.id.to_string())],
            )
            .await;
        assert!(reply.text().starts_with("Done:"), "{}", reply.text());
        passwords.push(secret_in(&reply));
        bot.clock.advance(Duration::seconds(20));
    }
    passwords
}

async fn alerts(bot: &Bot) -> Vec<AuditEvent> {
    bot.db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::BurstAlert.as_str())
        .collect()
}

#[tokio::test]
async fn a_burst_alert_reaches_the_audit_channel_once_past_the_threshold_and_never_at_it() {
    let (bot, discord) = setup(true).await;
    let mut passwords = resets(&bot, 10).await;
    assert!(
        discord.channel_messages(CHANNEL).is_empty(),
        "no alert at exactly 10 resets"
    );
    assert!(alerts(&bot).await.is_empty());

    passwords.extend(resets(&bot, 1).await);
    let posted = discord.channel_messages(CHANNEL);
    assert_eq!(posted.len(), 1, "{posted:?}");
    let message = &posted[0];
    assert!(
        message.starts_with(
            "Burst alert: Teach, Tess (tess.teach) has reset 11 passwords in the last 10 minutes"
        ),
        "{message}"
    );
    for password in &passwords {
        assert!(
            !message.contains(password.as_str()),
            "a password leaked: {message}"
        );
    }
    let request = discord
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/api/v10/channels/{CHANNEL}/messages"))
        .unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.status, 200);
    let body = request.body.unwrap();
    assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));

    let audited = alerts(&bot).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].outcome, "applied");
    assert_eq!(audited[0].target_user_id, Some(bot.tess.id.to_string()));
    let after = audited[0].after.clone().unwrap();
    assert_eq!(after["resets"], 11);
    assert_eq!(after["channel_id"], CHANNEL.to_string());

    // The burst goes on: no message on every later reset.
    resets(&bot, 2).await;
    assert_eq!(discord.channel_messages(CHANNEL).len(), 1);
    assert_eq!(alerts(&bot).await.len(), 1);
}

#[tokio::test]
async fn resets_spread_over_more_than_ten_minutes_raise_no_alert() {
    let (bot, discord) = setup(true).await;
    for _ in 0..12 {
        resets(&bot, 1).await;
        bot.clock.advance(Duration::minutes(1));
    }
    assert!(discord.channel_messages(CHANNEL).is_empty());
    assert!(alerts(&bot).await.is_empty());
}

#[tokio::test]
async fn a_burst_without_an_audit_channel_is_still_audited_saying_why_it_was_not_posted() {
    let (bot, discord) = setup(false).await;
    resets(&bot, 11).await;
    assert!(discord.channel_messages(CHANNEL).is_empty());
    let audited = alerts(&bot).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].outcome, "failed");
    let reason = audited[0].reason.clone().unwrap();
    assert!(
        reason.contains("hallpass tenant set-audit-channel"),
        "{reason}"
    );
}

#[tokio::test]
async fn tenant_set_audit_channel_stores_the_channel_and_audits_it() {
    let bot = Bot::new().await;
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args([
            "tenant",
            "set-audit-channel",
            &CHANNEL.to_string(),
            "--tenant",
            "lincoln",
        ])
        .env("DATABASE_URL", &bot.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!("Burst alerts for tenant lincoln go to Discord channel {CHANNEL}.")
    );
    assert_eq!(
        bot.db
            .store
            .audit_channel(bot.world.tenant.id)
            .await
            .unwrap(),
        Some(DiscordChannelId::new(CHANNEL))
    );
    let events = bot
        .db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "tenant.audit_channel" && e.actor == "cli")
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args([
            "tenant",
            "set-audit-channel",
            "general",
            "--tenant",
            "lincoln",
        ])
        .env("DATABASE_URL", &bot.db.url)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("A Discord channel id is a positive number")
    );
}
