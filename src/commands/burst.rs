//! Burst alerts: one educator resetting more passwords in ten minutes than
//! the tenant's threshold (10 by default) is told to the tenant's audit
//! channel and written to the audit log.
//!
//! Promises:
//! * the count comes from the audit log (applied `password.reset` entries of
//!   that educator, temporary or by email), so every instance sees the same;
//! * one alert per educator per ten minutes, across instances: the alert takes
//!   a durable quota of one (`Store::take_quota`) before it is sent, so a burst
//!   that goes on does not post on every later reset;
//! * the message names the educator and the count, never a password or a
//!   link, and pings nobody (the REST client suppresses mentions);
//! * an alert that cannot be posted (no channel set, no bot token, Discord
//!   refusing) is still audited, as failed, with the reason;
//! * a class's login cards (`/class-cards`, `hallpass cards`) are one event,
//!   as a single reset is: its students' `password.reset` entries are counted
//!   once, through the batch's `class.cards` summary, so a teacher printing
//!   cards for a class of 28 is not a burst by itself; the check runs once,
//!   after the whole batch, and when the batch is what crosses the threshold
//!   the alert names the class and how many passwords it reset.

use async_trait::async_trait;
use chrono::Duration;
use serde_json::json;

use crate::app::App;
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::DiscordChannelId;

use super::context::Actor;

/// The span resets are counted over.
pub const BURST_WINDOW_MINUTES: i64 = 10;
const BURST_ALERT: &str = "burst_alert";

/// A way to post in a channel: the Discord REST client in production.
#[async_trait]
pub trait ChannelPoster: Send + Sync {
    /// Posts `text` in `channel`; the error says why not (no secret in it).
    async fn post(&self, channel: DiscordChannelId, text: &str) -> Result<(), String>;
}

/// Called after `actor` reset a password: raises the alert when this reset
/// took them past the threshold and no alert went out in the window.
pub async fn after_reset(app: &App, actor: &Actor) {
    check(app, actor, None).await;
}

/// Called once after `actor` printed login cards for a class (`reset`
/// passwords at once): the batch's one check, and its alert names the class.
pub async fn after_batch(app: &App, actor: &Actor, class: &str, reset: usize) {
    check(app, actor, Some((class, reset))).await;
}

/// The resets `actor` made since `since`, a class batch counting as one,
/// and how many of them were class batches.
async fn events(
    app: &App,
    actor: &Actor,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<(u32, u32), crate::store::StoreError> {
    let (tenant, user) = (actor.tenant.id, actor.user.id);
    let resets = app.store.count_resets_by(tenant, user, since).await?;
    let batches = app.store.class_batches_by(tenant, user, since).await?;
    let in_batches: u32 = batches.iter().sum();
    let batches = u32::try_from(batches.len()).unwrap_or(u32::MAX);
    Ok((
        resets.saturating_sub(in_batches).saturating_add(batches),
        batches,
    ))
}

async fn check(app: &App, actor: &Actor, batch: Option<(&str, usize)>) {
    let now = app.now();
    let window = Duration::minutes(BURST_WINDOW_MINUTES);
    let tenant = actor.tenant.id;
    let threshold = app.settings.burst_alert_resets;
    let (count, batches) = match events(app, actor, now - window).await {
        Ok(counted) => counted,
        Err(e) => {
            tracing::error!(error = %e, "could not count resets for burst alerts");
            return;
        }
    };
    if count <= threshold {
        return;
    }
    let subject = format!("user:{}", actor.user.id);
    match app
        .store
        .take_quota(tenant, &subject, BURST_ALERT, 1, window, now)
        .await
    {
        Ok(decision) if decision.taken.is_some() => {}
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "could not record a burst alert");
            return;
        }
    }
    let cards = match batch {
        Some((class, reset)) => format!(
            " printed login cards for {}, {reset} new passwords at once, and",
            super::markdown::escape(class)
        ),
        None => String::new(),
    };
    let resets = match batches {
        0 => format!("has reset {count} passwords"),
        _ => format!("has made {count} password resets (a class's login cards count as one)"),
    };
    let text = format!(
        "Burst alert: {} ({}){cards} {resets} in the last {BURST_WINDOW_MINUTES} minutes (the alert threshold is more than {threshold}). If that was not expected, check the audit log: /audit user:{} or `hallpass audit --tenant {}`.",
        super::markdown::name(&actor.user),
        super::markdown::escape(actor.user.login.as_str()),
        super::markdown::escape(actor.user.login.as_str()),
        actor.tenant.name,
    );
    let (channel, posted) = post(app, actor, &text).await;
    tracing::warn!(
        educator = %actor.user.id,
        resets = count,
        posted = posted.is_ok(),
        "burst alert"
    );
    let entry = AuditEntry::new(
        Some(tenant),
        now,
        AuditActor::system("hallpass"),
        Action::BurstAlert,
        Origin::default(),
    )
    .target(actor.user.id, actor.user.display_name())
    .change(
        json!({}),
        json!({
            "resets": count,
            "window_minutes": BURST_WINDOW_MINUTES,
            "threshold": threshold,
            "channel_id": channel.map(|c| c.to_string()),
            "class": batch.map(|(class, _)| class),
            "batch_resets": batch.map(|(_, reset)| reset),
        }),
    );
    let entry = match posted {
        Ok(()) => entry,
        Err(reason) => entry.failed(format!("the alert was not posted: {reason}")),
    };
    if let Err(e) = app.store.append_audit(&entry).await {
        tracing::error!(error = %e, "failed to audit a burst alert");
    }
}

/// Posts the alert in the tenant's audit channel, if there is a way to.
async fn post(
    app: &App,
    actor: &Actor,
    text: &str,
) -> (Option<DiscordChannelId>, Result<(), String>) {
    let channel = match app.store.audit_channel(actor.tenant.id).await {
        Ok(Some(channel)) => channel,
        Ok(None) => {
            return (
                None,
                Err(format!(
                    "no audit channel is set (hallpass tenant set-audit-channel CHANNEL_ID --tenant {})",
                    actor.tenant.name
                )),
            );
        }
        Err(e) => {
            return (
                None,
                Err(format!("the audit channel could not be read: {e}")),
            );
        }
    };
    let Some(poster) = &app.alerts else {
        return (
            Some(channel),
            Err("DISCORD_TOKEN is not set, so hallpass cannot post in Discord".into()),
        );
    };
    (Some(channel), poster.post(channel, text).await)
}
