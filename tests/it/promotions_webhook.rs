//! `POST /webhooks/zendesk` over real HTTP: Zendesk's signed decision applied
//! once, anything unsigned or stale refused with nothing changed.

use chrono::Duration;
use hallpass::audit::Action;
use hallpass::directory::{PromotionId, Role};
use hallpass::store::{PromotionRequest, PromotionState, UserChanges};
use hallpass::support::{Decision, TriggerPayload};

use crate::desk::{AGENT, Answer, Desk, WEBHOOK_SECRET, signed_headers};
use crate::helpers::{World, cli_audit};

/// A desk with Tess's request (asked by Sam) open as a ticket.
async fn open_request() -> (Desk, PromotionRequest, u64) {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.sam).await;
    desk.worker().run_once().await.unwrap();
    let request = desk.reload(&request).await;
    let ticket = request.ticket_id.unwrap();
    (desk, request, ticket)
}

fn decided(desk: &Desk, ticket: u64, decision: Decision) -> TriggerPayload {
    desk.zendesk.agent_decides(ticket, decision, AGENT).unwrap()
}

/// Nothing about the request or the teacher changed.
async fn assert_untouched(desk: &Desk, request: &PromotionRequest) {
    assert_eq!(desk.reload(request).await, *request);
    assert_eq!(desk.bot.reload(&desk.bot.tess).await, desk.bot.tess);
    assert!(
        !desk
            .audit_actions()
            .await
            .iter()
            .any(|(action, ..)| action == "promotion.approve" || action == "promotion.fail"),
        "nothing decided"
    );
}

#[tokio::test]
async fn a_signed_approval_makes_the_teacher_a_school_admin_and_both_are_told() {
    let (desk, request, ticket) = open_request().await;
    let bot = &desk.bot;
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let payload = decided(&desk, ticket, Decision::Approved);

    let answer = webhook
        .deliver(&payload, WEBHOOK_SECRET, bot.app.now(), "inv-1")
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.outcome(), "approved");

    let tess = bot.reload(&bot.tess).await;
    assert_eq!(tess.role, Role::SchoolAdmin);
    assert_eq!(tess.place, World::at(&bot.world.a1), "in the same school");
    let approved = desk.reload(&request).await;
    assert_eq!(approved.state, PromotionState::Approved);
    assert_eq!(approved.decided_by.as_deref(), Some(AGENT));
    assert!(desk.audit_actions().await.contains(&(
        "promotion.approve".into(),
        "applied".into(),
        format!("zendesk:{AGENT}")
    )));
    let to_sam = desk.dms_to(&bot.sam);
    assert_eq!(
        to_sam.last().unwrap(),
        &format!(
            "Support approved promotion request #{}: Teach, Tess is now a school admin at Lincoln Middle School.",
            request.number
        )
    );
    assert!(
        desk.dms_to(&bot.tess)
            .last()
            .unwrap()
            .starts_with("Support approved your promotion: you're now a school admin")
    );
}

#[tokio::test]
async fn forged_tampered_unsigned_and_stale_requests_are_refused_with_nothing_changed() {
    let (desk, request, ticket) = open_request().await;
    let now = desk.bot.app.now();
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let payload = decided(&desk, ticket, Decision::Approved);
    let body = serde_json::to_string(&payload).unwrap();

    let forged = signed_headers(&body, "a guess at the secret", now, "inv-forged");
    let tampered_body = body.replace(AGENT, "mallory@example.org");
    let genuine = signed_headers(&body, WEBHOOK_SECRET, now, "inv-tampered");
    let stale = signed_headers(
        &body,
        WEBHOOK_SECRET,
        now - Duration::minutes(6),
        "inv-stale",
    );
    let unsigned = vec![("X-Zendesk-Webhook-Invocation-Id", "inv-none".to_owned())];
    let attempts = [
        ("forged", body.as_str(), forged),
        ("tampered", &tampered_body, genuine),
        ("unsigned", &body, unsigned),
        ("stale", &body, stale),
    ];
    for (what, body, headers) in attempts {
        let answer = webhook.post(body, &headers).await;
        assert_eq!(answer.status, 401, "{what}: {answer:?}");
    }
    assert_untouched(&desk, &request).await;
    assert_eq!(
        desk.dms_to(&desk.bot.sam).len(),
        1,
        "only the ticket-open DM"
    );
}

#[tokio::test]
async fn a_replayed_invocation_is_acknowledged_and_applied_once() {
    let (desk, _request, ticket) = open_request().await;
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let payload = decided(&desk, ticket, Decision::Approved);
    let now = desk.bot.app.now();

    let first = webhook
        .deliver(&payload, WEBHOOK_SECRET, now, "inv-7")
        .await;
    assert_eq!(first.outcome(), "approved");
    desk.bot.clock.advance(Duration::seconds(30));
    let again = webhook
        .deliver(&payload, WEBHOOK_SECRET, desk.bot.app.now(), "inv-7")
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.outcome(), "replayed");
    let approvals = desk
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, ..)| action == "promotion.approve")
        .count();
    assert_eq!(approvals, 1);
    assert_eq!(
        desk.dms_to(&desk.bot.sam).len(),
        2,
        "ticket opened, approved: once"
    );
}

#[tokio::test]
async fn a_signed_rejection_closes_the_request_and_both_are_told() {
    let (desk, request, ticket) = open_request().await;
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let payload = decided(&desk, ticket, Decision::Rejected);
    let answer = webhook
        .deliver(&payload, WEBHOOK_SECRET, desk.bot.app.now(), "inv-r")
        .await;
    assert_eq!(answer.outcome(), "rejected");
    assert_eq!(desk.reload(&request).await.state, PromotionState::Rejected);
    assert_eq!(desk.bot.reload(&desk.bot.tess).await.role, Role::Teacher);
    assert_eq!(
        desk.dms_to(&desk.bot.sam).last().unwrap(),
        &format!(
            "Support declined promotion request #{} for Teach, Tess. Nothing was changed.",
            request.number
        )
    );
    assert!(
        desk.dms_to(&desk.bot.tess)
            .last()
            .unwrap()
            .starts_with("Support declined the request to make you a school admin")
    );
}

#[tokio::test]
async fn an_approval_for_a_teacher_who_moved_fails_with_an_internal_note_on_the_ticket() {
    let (desk, request, ticket) = open_request().await;
    let bot = &desk.bot;
    let moved = desk
        .store()
        .update_user(
            &bot.tess,
            &UserChanges {
                place: Some(World::at(&bot.world.a2)),
                ..UserChanges::default()
            },
            cli_audit(Action::UserMove, bot.app.now()),
        )
        .await
        .unwrap();
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let payload = decided(&desk, ticket, Decision::Approved);
    let answer = webhook
        .deliver(&payload, WEBHOOK_SECRET, bot.app.now(), "inv-m")
        .await;
    assert_eq!(answer.outcome(), "not_applied");

    let failed = desk.reload(&request).await;
    assert_eq!(failed.state, PromotionState::Failed);
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("moved to another school")
    );
    assert_eq!(
        bot.reload(&bot.tess).await,
        moved,
        "still a teacher, where she moved"
    );
    let comments = desk.zendesk.ticket(ticket).unwrap().comments;
    assert_eq!(comments.len(), 2);
    assert!(!comments[1].public, "an internal note");
    assert!(
        comments[1]
            .body
            .starts_with("hallpass did not apply this approval: Teach, Tess has moved"),
        "{}",
        comments[1].body
    );
    assert!(
        desk.dms_to(&bot.sam)
            .last()
            .unwrap()
            .contains("but hallpass did not apply it: Teach, Tess has moved to another school")
    );
}

#[tokio::test]
async fn updates_without_a_decision_tag_and_tickets_not_ours_are_acknowledged_and_change_nothing() {
    let (desk, request, ticket) = open_request().await;
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let now = desk.bot.app.now();
    let undecided = TriggerPayload {
        ticket_id: ticket.to_string(),
        external_id: request.id.to_string(),
        status: "open".into(),
        tags: "hallpass promotion_request vip".into(),
        agent: AGENT.into(),
    };
    let answer = webhook
        .deliver(&undecided, WEBHOOK_SECRET, now, "inv-u")
        .await;
    assert_eq!((answer.status, answer.outcome().as_str()), (200, "ignored"));

    let not_ours = TriggerPayload {
        external_id: PromotionId::new().to_string(),
        tags: "hallpass_approved".into(),
        ..undecided.clone()
    };
    let answer = webhook
        .deliver(&not_ours, WEBHOOK_SECRET, now, "inv-n")
        .await;
    assert_eq!(
        (answer.status, answer.outcome().as_str()),
        (200, "unknown_request")
    );
    let no_id = TriggerPayload {
        external_id: String::new(),
        ..not_ours
    };
    let answer = webhook.deliver(&no_id, WEBHOOK_SECRET, now, "inv-e").await;
    assert_eq!(
        (answer.status, answer.outcome().as_str()),
        (200, "unknown_request")
    );
    assert_untouched(&desk, &request).await;
}

#[tokio::test]
async fn without_a_webhook_secret_the_route_answers_503_and_changes_nothing() {
    let (desk, request, ticket) = open_request().await;
    let webhook = desk.listener(None).await;
    let payload = decided(&desk, ticket, Decision::Approved);
    let answer = webhook
        .deliver(&payload, WEBHOOK_SECRET, desk.bot.app.now(), "inv-x")
        .await;
    assert_eq!(answer.status, 503);
    assert_untouched(&desk, &request).await;
}

/// A decision that did not land: acknowledged, nothing about the request or
/// the teacher changed, no DM, and the attempt is in the audit log as refused.
async fn assert_refused_and_untouched(desk: &Desk, request: &PromotionRequest, answer: &Answer) {
    assert_eq!(
        (answer.status, answer.outcome().as_str()),
        (200, "refused"),
        "{answer:?}"
    );
    assert_eq!(desk.reload(request).await, *request);
    assert_eq!(desk.bot.reload(&desk.bot.tess).await, desk.bot.tess);
    let actions = desk.audit_actions().await;
    assert!(
        !actions
            .iter()
            .any(|(action, outcome, _)| outcome == "applied" && action != "promotion.request"),
        "nothing decided: {actions:?}"
    );
    assert!(
        actions.contains(&(
            "promotion.approve".into(),
            "refused".into(),
            format!("zendesk:{AGENT}")
        )) || actions.contains(&(
            "promotion.reject".into(),
            "refused".into(),
            format!("zendesk:{AGENT}")
        )),
        "audited as refused: {actions:?}"
    );
}

fn approval_for(request: &PromotionRequest, ticket_id: &str) -> TriggerPayload {
    TriggerPayload {
        ticket_id: ticket_id.into(),
        external_id: request.id.to_string(),
        status: "solved".into(),
        tags: "hallpass promotion_request hallpass_approved".into(),
        agent: AGENT.into(),
    }
}

#[tokio::test]
async fn an_approval_for_a_queued_request_with_no_ticket_and_a_forged_ticket_id_is_not_approved() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.sam).await;
    assert_eq!(request.state, PromotionState::Queued);
    assert_eq!(request.ticket_id, None, "hallpass opened no ticket yet");
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;

    let forged = approval_for(&request, "4242");
    let answer = webhook
        .deliver(&forged, WEBHOOK_SECRET, desk.bot.app.now(), "inv-q")
        .await;
    assert_refused_and_untouched(&desk, &request, &answer).await;
    assert!(desk.dms_to(&desk.bot.sam).is_empty(), "nobody is told");
}

#[tokio::test]
async fn an_approval_or_rejection_on_a_ticket_other_than_the_one_hallpass_opened_changes_nothing() {
    let (desk, request, ticket) = open_request().await;
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let now = desk.bot.app.now();

    let other_ticket = (ticket + 1000).to_string();
    let approval = approval_for(&request, &other_ticket);
    let answer = webhook
        .deliver(&approval, WEBHOOK_SECRET, now, "inv-mm")
        .await;
    assert_refused_and_untouched(&desk, &request, &answer).await;

    let rejection = TriggerPayload {
        tags: "hallpass hallpass_rejected".into(),
        ..approval
    };
    let answer = webhook
        .deliver(&rejection, WEBHOOK_SECRET, now, "inv-mr")
        .await;
    assert_refused_and_untouched(&desk, &request, &answer).await;

    let no_ticket = approval_for(&request, "{{ticket.id}}");
    let answer = webhook
        .deliver(&no_ticket, WEBHOOK_SECRET, now, "inv-mn")
        .await;
    assert_refused_and_untouched(&desk, &request, &answer).await;
    assert_eq!(
        desk.dms_to(&desk.bot.sam).len(),
        1,
        "only the ticket-open DM"
    );

    // The ticket hallpass opened still decides.
    let genuine = approval_for(&request, &ticket.to_string());
    let answer = webhook
        .deliver(&genuine, WEBHOOK_SECRET, now, "inv-mg")
        .await;
    assert_eq!(answer.outcome(), "approved");
}
