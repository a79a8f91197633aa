//! Audit records, as written and as read back.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::directory::{DiscordUserId, TenantId, UserId};

/// What happened. Stable strings: operators grep for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    TenantCreate,
    GuildBind,
    ChatLink,
    UserCreate,
    UserEdit,
    UserMove,
    UserDisable,
    UserEnable,
    PasswordReset,
    PasswordChange,
    RosterImport,
    /// Looking a user up (recorded when refused).
    UserView,
    /// Reading the audit log from chat (recorded when refused).
    AuditRead,
    /// A promotion request was made (or refused).
    PromotionRequest,
    /// Support approved a promotion and it was applied.
    PromotionApprove,
    /// Support rejected a promotion.
    PromotionReject,
    /// A promotion request failed: delivery gave up, or an approval could not apply.
    PromotionFail,
    /// An operator queued a failed promotion request again.
    PromotionRetry,
    /// An operator set the tenant's audit channel.
    TenantAuditChannel,
    /// One educator reset more passwords in ten minutes than the alert threshold.
    BurstAlert,
    /// An account was locked by too many consecutive failed sign-ins.
    SignInLock,
    /// Login cards for a class: the batch's summary (each student's reset is
    /// a `password.reset` of its own), or a refused attempt.
    ClassCards,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TenantCreate => "tenant.create",
            Self::GuildBind => "guild.bind",
            Self::ChatLink => "chat.link",
            Self::UserCreate => "user.create",
            Self::UserEdit => "user.edit",
            Self::UserMove => "user.move",
            Self::UserDisable => "user.disable",
            Self::UserEnable => "user.enable",
            Self::PasswordReset => "password.reset",
            Self::PasswordChange => "password.change",
            Self::RosterImport => "roster.import",
            Self::UserView => "user.view",
            Self::AuditRead => "audit.read",
            Self::PromotionRequest => "promotion.request",
            Self::PromotionApprove => "promotion.approve",
            Self::PromotionReject => "promotion.reject",
            Self::PromotionFail => "promotion.fail",
            Self::PromotionRetry => "promotion.retry",
            Self::TenantAuditChannel => "tenant.audit_channel",
            Self::BurstAlert => "password.burst_alert",
            Self::SignInLock => "signin.lock",
            Self::ClassCards => "class.cards",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Applied,
    Refused,
    Failed,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "applied" => Some(Self::Applied),
            "refused" => Some(Self::Refused),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Who acted: a directory user (and the chat account they used), or a system
/// actor such as the command line or a support agent coming through the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditActor {
    pub user_id: Option<UserId>,
    pub discord_user_id: Option<DiscordUserId>,
    /// Human-readable: "Lopez, Ana (alopez)", "cli", "roster import", "zendesk:agent@example.org".
    pub label: String,
}

impl AuditActor {
    pub fn system(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }
}

/// Where the request came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Origin {
    pub guild_id: Option<String>,
    pub channel_id: Option<String>,
    pub interaction_id: Option<String>,
    /// The API caller or the operator tool ("cli", "oneroster:/path", "api 127.0.0.1").
    pub api_caller: Option<String>,
}

impl Origin {
    pub fn api(caller: impl Into<String>) -> Self {
        Self {
            api_caller: Some(caller.into()),
            ..Self::default()
        }
    }
}

/// One event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub tenant_id: Option<TenantId>,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: Action,
    pub target_user_id: Option<UserId>,
    pub target_label: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// Changed fields before the change, as a JSON object. Never a secret.
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub origin: Origin,
}

impl AuditEntry {
    /// An applied action with no field changes yet; fill the rest with the builder methods.
    pub fn new(
        tenant_id: Option<TenantId>,
        at: DateTime<Utc>,
        actor: AuditActor,
        action: Action,
        origin: Origin,
    ) -> Self {
        Self {
            tenant_id,
            at,
            actor,
            action,
            target_user_id: None,
            target_label: None,
            outcome: Outcome::Applied,
            reason: None,
            before: None,
            after: None,
            origin,
        }
    }

    /// Files the entry under `tenant` unless the caller already did.
    pub fn in_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant_id.get_or_insert(tenant);
        self
    }

    pub fn target(mut self, id: UserId, label: impl Into<String>) -> Self {
        self.target_user_id = Some(id);
        self.target_label = Some(label.into());
        self
    }

    pub fn refused(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Refused;
        self.reason = Some(reason.into());
        self
    }

    pub fn failed(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Failed;
        self.reason = Some(reason.into());
        self
    }

    pub fn change(mut self, before: Value, after: Value) -> Self {
        self.before = Some(before);
        self.after = Some(after);
        self
    }
}

/// An event read back from the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub id: String,
    pub tenant: Option<String>,
    pub at: String,
    pub actor_user_id: Option<String>,
    pub actor_discord_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target_user_id: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub origin: Origin,
}

/// Which events to read: every filter is optional; results are oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub tenant_id: Option<TenantId>,
    pub target_user_id: Option<UserId>,
    pub actor_user_id: Option<UserId>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keep only the newest `limit` events (still printed oldest first).
    pub limit: Option<u32>,
}
