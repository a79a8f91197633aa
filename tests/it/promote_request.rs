//! `/promote-request teacher reason`, called as every transport calls it, and
//! followed through the outbox and the webhook to the DMs people receive.

use std::collections::BTreeSet;

use hallpass::audit::AuditQuery;
use hallpass::commands::{Body, COMMANDS, Reply};
use hallpass::directory::User;
use hallpass::discord::command_names;
use hallpass::store::{PromotionRequest, PromotionState};
use hallpass::support::Decision;

use crate::bot::Bot;
use crate::desk::{AGENT, Desk, WEBHOOK_SECRET};

const NO_SUCH_USER: &str = "No user you can manage matches that.";
const REASON: &str = "Runs the timetable and mentors new staff.";

async fn ask(bot: &Bot, who: &User, teacher: &User, reason: Option<&str>) -> Reply {
    let id = teacher.id.to_string();
    let mut options = vec![("teacher", id.as_str())];
    if let Some(reason) = reason {
        options.push(("reason", reason));
    }
    bot.command(who, "promote-request", &options).await
}

async fn open_request(bot: &Bot, teacher: &User) -> Option<PromotionRequest> {
    bot.db.store.open_promotion_for(teacher.id).await.unwrap()
}

fn assert_ephemeral(reply: &Reply) {
    assert!(
        matches!(
            reply.body,
            Body::Text {
                ephemeral: true,
                ..
            }
        ),
        "{reply:?}"
    );
}

#[tokio::test]
async fn every_command_definition_has_exactly_one_handler_and_every_handler_a_definition() {
    let handled: BTreeSet<_> = COMMANDS.iter().map(|c| c.name).collect();
    let defined: BTreeSet<_> = command_names().into_iter().collect();
    assert_eq!(handled.len(), COMMANDS.len(), "a handler is listed twice");
    assert_eq!(handled, defined);
    // The dispatch itself: every defined command reaches a handler, and a name
    // that is not defined reaches none (the dispatch obeys COMMANDS).
    let bot = Bot::new().await;
    let unknown = |name: &str| format!("hallpass doesn't know the command /{name}.");
    for name in command_names() {
        let reply = bot.command(&bot.sam, name, &[]).await;
        assert_ne!(reply.text(), unknown(name), "/{name} has no handler");
    }
    for name in ["reset", "promote", "edit-users", "unlink"] {
        let reply = bot.command(&bot.sam, name, &[]).await;
        assert_eq!(reply.text(), unknown(name), "/{name} is not a command");
    }
}

#[tokio::test]
async fn a_teacher_asks_for_their_own_promotion_and_hears_its_number_and_state() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let reply = ask(bot, &bot.tess, &bot.tess, Some(REASON)).await;
    assert_ephemeral(&reply);
    let request = open_request(bot, &bot.tess).await.unwrap();
    assert_eq!(
        reply.text(),
        format!(
            "Request #{} for Teach, Tess is queued for support; you'll get a DM when the ticket is open and when support decides.",
            request.number
        )
    );
    assert_eq!(request.requester_id, bot.tess.id);
    assert_eq!(request.reason, REASON);
    let events = bot
        .db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(bot.tess.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let asked = events.last().unwrap();
    assert_eq!(
        (asked.action.as_str(), asked.outcome.as_str()),
        ("promotion.request", "applied")
    );
    assert_eq!(asked.target.as_deref(), Some("Teach, Tess"));
}

#[tokio::test]
async fn a_second_request_for_the_same_teacher_points_to_the_first() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    ask(bot, &bot.tess, &bot.tess, Some(REASON)).await;
    let first = open_request(bot, &bot.tess).await.unwrap();

    let again = ask(bot, &bot.sam, &bot.tess, Some("She is ready.")).await;
    assert_eq!(
        again.text(),
        format!(
            "Teach, Tess already has an open promotion request: #{}, queued for support. Only one can be open at a time.",
            first.number
        )
    );
    desk.worker().run_once().await.unwrap();
    let ticket = desk.zendesk.tickets()[0].id;
    let once_more = ask(bot, &bot.tess, &bot.tess, Some(REASON)).await;
    assert!(
        once_more.text().contains(&format!(
            "#{}, open with support as ticket #{ticket}.",
            first.number
        )),
        "{}",
        once_more.text()
    );
    assert_eq!(desk.zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn an_admin_asks_for_a_teacher_they_can_see() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let by_school_admin = ask(bot, &bot.sam, &bot.tom, Some(REASON)).await;
    assert!(
        by_school_admin.text().starts_with("Request #"),
        "{}",
        by_school_admin.text()
    );
    assert_eq!(
        open_request(bot, &bot.tom).await.unwrap().requester_id,
        bot.sam.id
    );
    let by_district_admin = ask(bot, &bot.dana, &bot.tess, Some(REASON)).await;
    assert!(
        by_district_admin.text().starts_with("Request #"),
        "{}",
        by_district_admin.text()
    );
    assert_eq!(
        open_request(bot, &bot.tess).await.unwrap().requester_id,
        bot.dana.id
    );
}

#[tokio::test]
async fn a_teacher_naming_another_teacher_finds_nobody_and_the_refusal_is_audited() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let reply = ask(bot, &bot.tess, &bot.tom, Some(REASON)).await;
    assert_ephemeral(&reply);
    assert_eq!(reply.text(), NO_SUCH_USER);
    assert_eq!(open_request(bot, &bot.tom).await, None);
    let refused = desk.audit_actions().await;
    assert_eq!(
        refused,
        vec![(
            "promotion.request".to_owned(),
            "refused".to_owned(),
            "Teach, Tess (tess.teach)".to_owned()
        )]
    );
    // An admin can see a student, but only a teacher is promoted.
    let student = ask(bot, &bot.sam, &bot.ana, Some(REASON)).await;
    assert_eq!(
        student.text(),
        "Only a teacher can be promoted to school admin."
    );
}

#[tokio::test]
async fn a_missing_or_blank_reason_is_refused_and_nothing_is_queued() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    for reason in [None, Some(""), Some("  \n ")] {
        let reply = ask(bot, &bot.sam, &bot.tess, reason).await;
        assert!(
            reply.text().starts_with("A reason is required"),
            "{reason:?}: {}",
            reply.text()
        );
    }
    let long = "x".repeat(1001);
    let reply = ask(bot, &bot.sam, &bot.tess, Some(&long)).await;
    assert!(
        reply.text().contains("at most 1000 characters"),
        "{}",
        reply.text()
    );
    assert_eq!(open_request(bot, &bot.tess).await, None);
    assert_eq!(bot.db.store.next_delivery_due().await.unwrap(), None);
}

#[tokio::test]
async fn without_a_support_desk_a_request_waits_in_the_queue_and_says_so() {
    let bot = Bot::new().await;
    let reply = ask(&bot, &bot.tess, &bot.tess, Some(REASON)).await;
    assert!(
        reply
            .text()
            .contains("The support desk isn't connected to hallpass yet"),
        "{}",
        reply.text()
    );
    assert_eq!(
        open_request(&bot, &bot.tess).await.unwrap().state,
        PromotionState::Queued
    );
}

#[tokio::test]
async fn the_requester_hears_by_dm_when_the_ticket_opens_and_when_support_decides() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    ask(bot, &bot.sam, &bot.tess, Some(REASON)).await;
    ask(bot, &bot.dana, &bot.tom, Some(REASON)).await;
    let tess_request = open_request(bot, &bot.tess).await.unwrap();
    let tom_request = open_request(bot, &bot.tom).await.unwrap();
    assert!(
        desk.discord.dms().is_empty(),
        "nothing is said before the ticket exists"
    );

    desk.worker().run_once().await.unwrap();
    let tess_ticket = desk.reload(&tess_request).await.ticket_id.unwrap();
    let tom_ticket = desk.reload(&tom_request).await.ticket_id.unwrap();
    assert_eq!(
        desk.dms_to(&bot.sam),
        vec![format!(
            "Your promotion request #{} for Teach, Tess is now with support as ticket #{tess_ticket}. \
             I'll tell you here when they decide.",
            tess_request.number
        )]
    );
    assert_eq!(desk.dms_to(&bot.dana).len(), 1);

    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let approve = desk
        .zendesk
        .agent_decides(tess_ticket, Decision::Approved, AGENT)
        .unwrap();
    let reject = desk
        .zendesk
        .agent_decides(tom_ticket, Decision::Rejected, AGENT)
        .unwrap();
    let now = bot.app.now();
    assert_eq!(
        webhook
            .deliver(&approve, WEBHOOK_SECRET, now, "a")
            .await
            .outcome(),
        "approved"
    );
    assert_eq!(
        webhook
            .deliver(&reject, WEBHOOK_SECRET, now, "b")
            .await
            .outcome(),
        "rejected"
    );

    assert_eq!(
        desk.dms_to(&bot.sam).last().unwrap(),
        &format!(
            "Support approved promotion request #{}: Teach, Tess is now a school admin at Lincoln Middle School.",
            tess_request.number
        )
    );
    assert_eq!(
        desk.dms_to(&bot.dana).last().unwrap(),
        &format!(
            "Support declined promotion request #{} for Teach, Tom. Nothing was changed.",
            tom_request.number
        )
    );
    assert_eq!(desk.dms_to(&bot.tess).len(), 2, "ticket open, approved");
    assert_eq!(desk.dms_to(&bot.tom).len(), 2, "ticket open, declined");
}
