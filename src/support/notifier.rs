//! Telling people how their promotion request is going, privately.
//!
//! Promises: news goes only to the requester and to the teacher it concerns
//! (once, when they are the same person), and only to linked chat accounts; a
//! message that cannot be delivered is logged and never undoes or blocks the
//! change it reports. The messages carry names, numbers and states, never a
//! secret; every name, school and reason in them is markdown-escaped. [`Notifier`] is the way out: the Discord REST client in
//! production, the log when there is no chat transport.

use async_trait::async_trait;

use crate::app::App;
use crate::commands::{DeliveryError, markdown};
use crate::directory::{DiscordUserId, User};
use crate::store::PromotionRequest;

/// A private message to one chat account.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn notify(&self, to: DiscordUserId, text: &str) -> Result<(), DeliveryError>;
}

/// For a process with no chat transport: the news goes to the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, to: DiscordUserId, text: &str) -> Result<(), DeliveryError> {
        tracing::info!(%to, text, "No chat transport: this direct message was not sent");
        Ok(())
    }
}

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum News<'a> {
    /// Its ticket is open.
    TicketOpened,
    /// The teacher is a school admin now, at `school`.
    Approved {
        school: &'a str,
    },
    Rejected,
    /// Support approved but the teacher changed meanwhile.
    NotApplied {
        reason: &'a str,
    },
    /// Delivery to the support desk gave up.
    Undeliverable,
}

/// Tells the requester and the teacher (where linked) what happened.
#[tracing::instrument(skip_all, fields(request = request.number))]
pub async fn tell(app: &App, notifier: &dyn Notifier, request: &PromotionRequest, news: News<'_>) {
    let (requester, teacher) = match (
        app.store
            .user(request.tenant_id, request.requester_id)
            .await,
        app.store.user(request.tenant_id, request.teacher_id).await,
    ) {
        (Ok(requester), Ok(teacher)) => (requester, teacher),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "could not look up whom to tell about a promotion request");
            return;
        }
    };
    let Some(teacher) = teacher else {
        return;
    };
    let mut messages: Vec<(DiscordUserId, String)> = Vec::new();
    let same_person = request.requester_id == request.teacher_id;
    if let Some(to) = requester.as_ref().and_then(|r| r.discord_user_id)
        && !same_person
    {
        messages.push((to, to_requester(request, &teacher, news)));
    }
    if let Some(to) = teacher.discord_user_id {
        messages.push((to, to_teacher(request, &teacher, requester.as_ref(), news)));
    }
    for (to, text) in messages {
        if let Err(e) = notifier.notify(to, &text).await {
            tracing::warn!(%to, error = %e, "could not tell someone about their promotion request");
        }
    }
}

fn ticket_words(request: &PromotionRequest) -> String {
    request.ticket_id.map_or_else(
        || "support".to_owned(),
        |t| format!("support as ticket #{t}"),
    )
}

/// What the requester reads (when they are not the teacher).
fn to_requester(request: &PromotionRequest, teacher: &User, news: News<'_>) -> String {
    let (n, name) = (request.number, markdown::name(teacher));
    let school = |school: &str| markdown::escape(school);
    let reason = |reason: &str| markdown::escape(reason);
    match news {
        News::TicketOpened => format!(
            "Your promotion request #{n} for {name} is now with {}. I'll tell you here when they decide.",
            ticket_words(request)
        ),
        News::Approved { school: at } => format!(
            "Support approved promotion request #{n}: {name} is now a school admin at {}.",
            school(at)
        ),
        News::Rejected => {
            format!("Support declined promotion request #{n} for {name}. Nothing was changed.")
        }
        News::NotApplied { reason: why } => format!(
            "Support approved promotion request #{n} for {name}, but hallpass did not apply it: {}. \
             Nothing was changed; send a new /promote-request if it should still happen.",
            reason(why)
        ),
        News::Undeliverable => format!(
            "Promotion request #{n} for {name} could not be delivered to support, so nobody has seen it yet. \
             Nothing was changed; an operator can send it again."
        ),
    }
}

/// What the teacher reads (also when they asked for themself).
fn to_teacher(
    request: &PromotionRequest,
    teacher: &User,
    requester: Option<&User>,
    news: News<'_>,
) -> String {
    let n = request.number;
    let asked = match requester {
        Some(r) if r.id != teacher.id => format!("{} asked", markdown::name(r)),
        _ => "You asked".to_owned(),
    };
    match news {
        News::TicketOpened => format!(
            "{asked} support to make you a school admin (request #{n}); it is now with {}. \
             I'll tell you here when they decide.",
            ticket_words(request)
        ),
        News::Approved { school } => format!(
            "Support approved your promotion: you're now a school admin at {} (request #{n}).",
            markdown::escape(school)
        ),
        News::Rejected => format!(
            "Support declined the request to make you a school admin (request #{n}). Nothing was changed."
        ),
        News::NotApplied { reason } => format!(
            "Support approved the request to make you a school admin (request #{n}), but hallpass did not apply it: \
             {}. Nothing was changed.",
            markdown::escape(reason)
        ),
        News::Undeliverable => format!(
            "The request to make you a school admin (request #{n}) could not be delivered to support. \
             Nothing was changed; an operator can send it again."
        ),
    }
}
