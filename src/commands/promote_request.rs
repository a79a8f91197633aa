//! `/promote-request teacher reason`: asks support to make a teacher a school
//! admin. A teacher may ask for themself, an admin for a teacher they can see
//! (`policy::can_request_promotion`); a reason is required; a teacher has at
//! most one open request, and asking again points to it. The request, the
//! ticket it will become and the audit entry are stored together; the outbox
//! worker opens the ticket, and the webhook brings support's decision back.

use crate::app::App;
use crate::audit::Action;
use crate::directory::{PromotionId, User};
use crate::policy::{Subject, can_request_promotion};
use crate::store::{NewPromotion, PromotionError, PromotionRequest, StoreError};
use crate::support::ticket::{TicketFacts, encode, promotion_ticket};

use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::definition::{Command, OptionDef, RawOptions, never_slow};
use super::markdown;
use super::reply::{Invocation, Reply};

const TEACHER: OptionDef = OptionDef::autocomplete("teacher", true);
const REASON: OptionDef = OptionDef::text("reason", true);

pub const PROMOTE_REQUEST: Command = Command {
    name: "promote-request",
    json: include_str!("../../commands/promote-request.json"),
    options: &[TEACHER, REASON],
    slow: never_slow,
    run: |app, actor, inv, raw| Box::pin(promote_request(app, actor, inv, Options::parse(raw))),
    unlinked: None,
};

/// The options of `/promote-request`.
struct Options<'a> {
    teacher: &'a str,
    /// Checked at once, but told only to someone allowed to ask.
    reason: Result<PromotionReason, String>,
}

impl<'a> Options<'a> {
    fn parse(raw: &'a RawOptions) -> Self {
        Self {
            teacher: TEACHER.text_in(raw),
            reason: PromotionReason::parse(REASON.text_in(raw)),
        }
    }
}

/// The longest reason (Discord's `max_length` for the option).
pub const MAX_REASON_CHARS: usize = 1000;

/// Why the teacher should be promoted, as the reviewers will read it:
/// trimmed, 1 to 1,000 characters, text and line breaks only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionReason(String);

impl PromotionReason {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.replace("\r\n", "\n");
        let text = text.trim();
        if text.is_empty() {
            return Err(
                "A reason is required: tell support why this teacher should become a school admin."
                    .into(),
            );
        }
        let length = text.chars().count();
        if length > MAX_REASON_CHARS {
            return Err(format!(
                "The reason can be at most {MAX_REASON_CHARS} characters; this one has {length}."
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(
                "The reason can hold text and line breaks only (no tabs or control characters)."
                    .into(),
            );
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

async fn promote_request(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    options: Options<'_>,
) -> Reply {
    let raw = options.teacher;
    let teacher = match target_or_refuse(app, actor, inv, Action::PromotionRequest, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let decision = can_request_promotion(&actor.subject(), &Subject::from(&teacher));
    if let Err(denial) = decision.into_result() {
        return refuse(
            app,
            actor,
            inv,
            Action::PromotionRequest,
            Some(&teacher),
            raw,
            denial,
        )
        .await;
    }
    let reason = match options.reason {
        Ok(reason) => reason,
        Err(problem) => return Reply::private(problem),
    };
    match create(app, actor, inv, &teacher, &reason).await {
        Ok(request) => Reply::private(acknowledgement(app, &request, &teacher)),
        Err(PromotionError::AlreadyOpen(open)) => Reply::private(format!(
            "{} already has an open promotion request: #{}, {}. Only one can be open at a time.",
            markdown::name(&teacher),
            open.number,
            open.status_words()
        )),
        Err(e) => trouble(e),
    }
}

/// Stores the request with its ticket, rendered from the directory as it is now.
async fn create(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    teacher: &User,
    reason: &PromotionReason,
) -> Result<PromotionRequest, PromotionError> {
    let tenant = actor.tenant.id;
    let school_id = teacher.place.school().ok_or(StoreError::NotFound)?;
    let school = app.store.school(tenant, school_id).await?;
    let district = app.store.district(tenant, teacher.place.district()).await?;
    let (Some(school), Some(district)) = (school, district) else {
        return Err(StoreError::NotFound.into());
    };
    let id = PromotionId::new();
    let new = NewPromotion {
        id,
        tenant_id: tenant,
        teacher_id: teacher.id,
        school_id,
        requester_id: actor.user.id,
        reason: reason.as_str().to_owned(),
    };
    let render = |number| {
        encode(&promotion_ticket(&TicketFacts {
            request: id,
            number,
            tenant: &actor.tenant.name,
            teacher,
            school: &school.name,
            district: &district.name,
            requester: &actor.user,
            reason: reason.as_str(),
        }))
    };
    let audit = actor
        .audit(app, inv, Action::PromotionRequest)
        .target(teacher.id, teacher.display_name());
    app.store.create_promotion(&new, audit, render).await
}

fn acknowledgement(app: &App, request: &PromotionRequest, teacher: &User) -> String {
    let name = markdown::name(teacher);
    let n = request.number;
    if app.settings.zendesk_configured {
        format!(
            "Request #{n} for {name} is queued for support; you'll get a DM when the ticket is open and when support decides."
        )
    } else {
        format!(
            "Request #{n} for {name} is queued. The support desk isn't connected to hallpass yet, so it waits \
             in the queue and goes out as soon as it is; you'll get a DM when the ticket is open and when support decides."
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_keeps_its_line_breaks() {
        let reason =
            PromotionReason::parse("  Runs the timetable.\r\nMentors new staff.\n ").unwrap();
        assert_eq!(reason.as_str(), "Runs the timetable.\nMentors new staff.");
    }

    #[test]
    fn an_empty_or_blank_reason_is_refused() {
        for blank in ["", "   ", "\n\n"] {
            let problem = PromotionReason::parse(blank).unwrap_err();
            assert!(problem.starts_with("A reason is required"), "{problem}");
        }
    }

    #[test]
    fn a_reason_of_up_to_a_thousand_characters_is_accepted_and_longer_refused() {
        assert!(PromotionReason::parse(&"é".repeat(1000)).is_ok());
        let problem = PromotionReason::parse(&"é".repeat(1001)).unwrap_err();
        assert!(problem.contains("1001"), "{problem}");
    }

    #[test]
    fn control_characters_other_than_line_breaks_are_refused() {
        for raw in ["tab\there", "bell\u{7}", "nul\u{0}", "escape\u{1b}[31m"] {
            assert!(PromotionReason::parse(raw).is_err(), "{raw:?}");
        }
    }
}
