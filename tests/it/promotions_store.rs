//! The promotion request state machine in the store, on SQLite and PostgreSQL
//! alike (each test runs on both, like `store_conformance`).

use chrono::Duration;
use hallpass::audit::{Action, AuditQuery};
use hallpass::directory::{PromotionId, Role};
use hallpass::store::{
    DecisionInput, DecisionOutcome, PromotionDecision, PromotionError, PromotionRequest,
    PromotionState, RetryPlan, UserChanges,
};

use crate::bot::Bot;
use crate::desk::{AGENT, Desk};
use crate::helpers::{TestDb, World, cli_audit, on_both_backends};

on_both_backends!(
    a_request_its_outbox_entry_and_its_audit_entry_are_written_together,
    a_second_open_request_for_a_teacher_is_refused_with_the_first,
    a_claim_hands_an_entry_to_one_worker_until_its_lease_runs_out,
    an_approval_makes_the_teacher_a_school_admin_of_the_same_school_audited_as_the_agent,
    an_approval_for_a_teacher_who_changed_fails_the_request_and_changes_nothing,
    a_rejection_closes_the_request_and_a_closed_request_is_never_decided_again,
    a_repeated_invocation_is_recognised_and_applied_once,
    only_a_request_that_failed_before_its_ticket_can_be_queued_again,
    the_listing_shows_requests_by_state_with_names,
    a_decision_counts_only_on_the_ticket_hallpass_opened,
);

/// Records the ticket hallpass opened for `request` (#77), as the worker does
/// once Zendesk answers; other entries that were due are handed back untouched.
async fn with_ticket(desk: &Desk, request: PromotionRequest) -> PromotionRequest {
    let store = desk.store();
    let now = desk.bot.app.now();
    let claims = store
        .claim_deliveries(now, Duration::seconds(60), 100)
        .await
        .unwrap();
    let back = RetryPlan {
        next_attempt_at: now,
        counts_as_failure: false,
        uncertain: false,
        error: String::new(),
    };
    for other in claims.iter().filter(|c| c.request_id != request.id) {
        assert!(store.record_delivery_retry(other, &back).await.unwrap());
    }
    let ours = claims.iter().find(|c| c.request_id == request.id).unwrap();
    store
        .record_ticket_opened(ours, 77, now)
        .await
        .unwrap()
        .unwrap()
}

fn decision(request: &PromotionRequest, decision: PromotionDecision, desk: &Desk) -> DecisionInput {
    DecisionInput {
        request: request.id,
        decision,
        ticket_id: Some(77),
        agent: AGENT.into(),
        invocation_id: Some(uuid::Uuid::new_v4().to_string()),
        at: desk.bot.app.now(),
    }
}

async fn a_request_its_outbox_entry_and_its_audit_entry_are_written_together(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let request = desk.queue(&bot.tess, &bot.sam).await;
    assert_eq!(request.state, PromotionState::Queued);
    assert!(request.number > 0);
    assert_eq!(desk.reload(&request).await, request);
    assert_eq!(request.school_id, bot.world.a1.id);

    let due = desk.store().next_delivery_due().await.unwrap();
    assert_eq!(due, Some(bot.app.now()), "the outbox entry is due at once");
    let events = desk
        .store()
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.tess.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let made = events.last().unwrap();
    assert_eq!(made.action, Action::PromotionRequest.as_str());
    assert_eq!(
        made.after.as_ref().unwrap()["promotion_request"],
        request.number
    );
}

async fn a_second_open_request_for_a_teacher_is_refused_with_the_first(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let first = desk.queue(&bot.tess, &bot.tess).await;
    let again = desk
        .store()
        .create_promotion(
            &hallpass::store::NewPromotion {
                id: PromotionId::new(),
                tenant_id: bot.world.tenant.id,
                teacher_id: bot.tess.id,
                school_id: bot.world.a1.id,
                requester_id: bot.sam.id,
                reason: "again".into(),
            },
            cli_audit(Action::PromotionRequest, bot.app.now()),
            |_| "{}".into(),
        )
        .await;
    match again {
        Err(PromotionError::AlreadyOpen(open)) => assert_eq!(*open, first),
        other => panic!("expected the first request back, got {other:?}"),
    }
    // Another teacher is not held up by Tess's request.
    desk.queue(&bot.tom, &bot.tom).await;
    let queued = desk
        .store()
        .promotion_listing(Some(PromotionState::Queued))
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);
}

async fn a_claim_hands_an_entry_to_one_worker_until_its_lease_runs_out(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let request = desk.queue(&bot.tess, &bot.tess).await;
    let lease = Duration::seconds(60);
    let store = desk.store();

    let first = store
        .claim_deliveries(bot.app.now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].request_id, request.id);
    assert!(!first[0].uncertain);
    assert!(
        store
            .claim_deliveries(bot.app.now(), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "a claimed entry is not handed out again while its lease holds"
    );

    desk.advance(61);
    let taken_over = store
        .claim_deliveries(bot.app.now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 1);
    assert!(
        taken_over[0].uncertain,
        "its first worker may have created the ticket before vanishing"
    );
    // The first worker's late answer changes nothing: its lease is gone.
    assert_eq!(
        store
            .record_ticket_opened(&first[0], 5, bot.app.now())
            .await
            .unwrap(),
        None
    );
    let opened = store
        .record_ticket_opened(&taken_over[0], 6, bot.app.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.state, PromotionState::TicketOpen);
    assert_eq!(opened.ticket_id, Some(6));
    assert_eq!(store.next_delivery_due().await.unwrap(), None);
}

async fn an_approval_makes_the_teacher_a_school_admin_of_the_same_school_audited_as_the_agent(
    db: TestDb,
) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let request = with_ticket(&desk, desk.queue(&bot.tess, &bot.sam).await).await;
    let outcome = desk
        .store()
        .decide_promotion(&decision(&request, PromotionDecision::Approve, &desk))
        .await
        .unwrap();
    let DecisionOutcome::Approved {
        request: approved,
        teacher,
    } = outcome
    else {
        panic!("expected an approval, got {outcome:?}");
    };
    assert_eq!(approved.state, PromotionState::Approved);
    assert_eq!(approved.decided_by.as_deref(), Some(AGENT));
    assert_eq!(approved.ticket_id, Some(77));
    let tess = bot.reload(&bot.tess).await;
    assert_eq!(tess.role, Role::SchoolAdmin);
    assert_eq!(tess.place, World::at(&bot.world.a1));
    assert_eq!(tess.version, bot.tess.version + 1);
    assert_eq!(*teacher, tess);

    let events = desk
        .store()
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.tess.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let approval = events.last().unwrap();
    assert_eq!(approval.action, "promotion.approve");
    assert_eq!(approval.outcome, "applied");
    assert_eq!(approval.actor, format!("zendesk:{AGENT}"));
    assert_eq!(approval.before.as_ref().unwrap()["role"], "teacher");
    assert_eq!(approval.after.as_ref().unwrap()["role"], "school_admin");
    assert_eq!(approval.after.as_ref().unwrap()["ticket_id"], 77);
    assert!(approval.reason.as_ref().unwrap().contains("#77"));
}

async fn an_approval_for_a_teacher_who_changed_fails_the_request_and_changes_nothing(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let store = desk.store();
    // Tess moves to another school; Tom is disabled; both after their requests.
    let tess_request = with_ticket(&desk, desk.queue(&bot.tess, &bot.tess).await).await;
    let tom_request = with_ticket(&desk, desk.queue(&bot.tom, &bot.tom).await).await;
    let moved = store
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
    let disabled = store
        .update_user(
            &bot.tom,
            &UserChanges {
                disabled: Some(true),
                ..UserChanges::default()
            },
            cli_audit(Action::UserDisable, bot.app.now()),
        )
        .await
        .unwrap();
    for (request, reason_says, unchanged) in [
        (&tess_request, "moved to another school", &moved),
        (&tom_request, "disabled", &disabled),
    ] {
        let outcome = store
            .decide_promotion(&decision(request, PromotionDecision::Approve, &desk))
            .await
            .unwrap();
        let DecisionOutcome::NotApplied {
            request: failed,
            reason,
        } = outcome
        else {
            panic!("expected a failure, got {outcome:?}");
        };
        assert!(reason.contains(reason_says), "{reason}");
        assert_eq!(failed.state, PromotionState::Failed);
        assert_eq!(failed.failure_reason.as_deref(), Some(reason.as_str()));
        assert_eq!(
            &bot.reload(unchanged).await,
            unchanged,
            "the record is untouched"
        );
    }
    // A teacher made an admin some other way meanwhile is not promoted twice.
    let tess_again = with_ticket(&desk, desk.queue(&moved, &moved).await).await;
    sqlx::query("UPDATE users SET role = 'school_admin' WHERE id = $1")
        .bind(moved.id.to_string())
        .execute(store.pool())
        .await
        .unwrap();
    let outcome = store
        .decide_promotion(&decision(&tess_again, PromotionDecision::Approve, &desk))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, DecisionOutcome::NotApplied { reason, .. } if reason.contains("already a school admin")),
        "{outcome:?}"
    );
    let failures: Vec<_> = desk
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, ..)| action == "promotion.fail")
        .collect();
    assert_eq!(failures.len(), 3);
    assert!(
        failures
            .iter()
            .all(|(_, outcome, actor)| outcome == "failed" && actor == &format!("zendesk:{AGENT}"))
    );
}

async fn a_rejection_closes_the_request_and_a_closed_request_is_never_decided_again(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let request = with_ticket(&desk, desk.queue(&bot.tess, &bot.sam).await).await;
    let outcome = desk
        .store()
        .decide_promotion(&decision(&request, PromotionDecision::Reject, &desk))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, DecisionOutcome::Rejected(r) if r.state == PromotionState::Rejected)
    );
    assert_eq!(
        desk.store().next_delivery_due().await.unwrap(),
        None,
        "a decided request is no longer delivered"
    );
    let late_approval = desk
        .store()
        .decide_promotion(&decision(&request, PromotionDecision::Approve, &desk))
        .await
        .unwrap();
    assert!(matches!(late_approval, DecisionOutcome::AlreadySettled(_)));
    assert_eq!(bot.reload(&bot.tess).await.role, Role::Teacher);
    // The teacher may ask again now that nothing is open.
    desk.queue(&bot.tess, &bot.tess).await;
}

async fn a_repeated_invocation_is_recognised_and_applied_once(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let request = with_ticket(&desk, desk.queue(&bot.tess, &bot.sam).await).await;
    let input = decision(&request, PromotionDecision::Approve, &desk);
    let first = desk.store().decide_promotion(&input).await.unwrap();
    assert!(matches!(first, DecisionOutcome::Approved { .. }));
    let again = desk.store().decide_promotion(&input).await.unwrap();
    assert_eq!(again, DecisionOutcome::Replayed);
    let approvals = desk
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, ..)| action == "promotion.approve")
        .count();
    assert_eq!(approvals, 1);
    let unknown = DecisionInput {
        request: PromotionId::new(),
        invocation_id: Some("another".into()),
        ..input
    };
    assert_eq!(
        desk.store().decide_promotion(&unknown).await.unwrap(),
        DecisionOutcome::UnknownRequest
    );
}

async fn only_a_request_that_failed_before_its_ticket_can_be_queued_again(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let store = desk.store();
    let request = desk.queue(&bot.tess, &bot.tess).await;
    let retry = || cli_audit(Action::PromotionRetry, bot.app.now());
    assert!(matches!(
        store.retry_promotion(request.id, retry()).await,
        Err(PromotionError::NotFailed(_))
    ));
    let claim = store
        .claim_deliveries(bot.app.now(), Duration::seconds(60), 1)
        .await
        .unwrap()
        .remove(0);
    let failed = store
        .record_delivery_given_up(
            &claim,
            "422",
            "Zendesk refused it",
            cli_audit(Action::PromotionFail, bot.app.now()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.state, PromotionState::Failed);
    assert_eq!(store.next_delivery_due().await.unwrap(), None);

    desk.advance(3600);
    let queued = store.retry_promotion(request.id, retry()).await.unwrap();
    assert_eq!(queued.state, PromotionState::Queued);
    assert_eq!(queued.failure_reason, None);
    assert_eq!(
        store.next_delivery_due().await.unwrap(),
        Some(bot.app.now())
    );
    let again = store
        .claim_deliveries(bot.app.now(), Duration::seconds(60), 1)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 0);
    assert_eq!(
        again[0].enqueued_at,
        bot.app.now(),
        "the horizon starts again"
    );

    // A request that failed on support's decision already has its ticket.
    let tom = with_ticket(&desk, desk.queue(&bot.tom, &bot.tom).await).await;
    let moved = UserChanges {
        place: Some(World::at(&bot.world.a2)),
        ..UserChanges::default()
    };
    store
        .update_user(&bot.tom, &moved, cli_audit(Action::UserMove, bot.app.now()))
        .await
        .unwrap();
    store
        .decide_promotion(&decision(&tom, PromotionDecision::Approve, &desk))
        .await
        .unwrap();
    assert!(matches!(
        store.retry_promotion(tom.id, retry()).await,
        Err(PromotionError::HasTicket(_))
    ));
}

async fn the_listing_shows_requests_by_state_with_names(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot: &Bot = &desk.bot;
    let tess = desk.queue(&bot.tess, &bot.sam).await;
    let tom = with_ticket(&desk, desk.queue(&bot.tom, &bot.tom).await).await;
    desk.store()
        .decide_promotion(&decision(&tom, PromotionDecision::Reject, &desk))
        .await
        .unwrap();
    let all = desk.store().promotion_listing(None).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![tess.number, tom.number]
    );
    let queued = desk
        .store()
        .promotion_listing(Some(PromotionState::Queued))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let row = &queued[0];
    assert_eq!(row.teacher, "Teach, Tess");
    assert_eq!(row.teacher_login, "tess.teach");
    assert_eq!(row.requester, "Admin, Sam");
    assert_eq!(row.school, "Lincoln Middle School");
    assert_eq!(row.tenant, "lincoln");
    assert_eq!(row.attempts, 0);
    let rejected = desk
        .store()
        .promotion_listing(Some(PromotionState::Rejected))
        .await
        .unwrap();
    assert_eq!(rejected[0].decided_by.as_deref(), Some(AGENT));
}

async fn a_decision_counts_only_on_the_ticket_hallpass_opened(db: TestDb) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let store = desk.store();
    let queued = desk.queue(&bot.tess, &bot.sam).await;
    let forged = store
        .decide_promotion(&decision(&queued, PromotionDecision::Approve, &desk))
        .await
        .unwrap();
    assert!(
        matches!(&forged, DecisionOutcome::Refused { reason, .. } if reason.contains("has not opened a ticket")),
        "{forged:?}"
    );
    assert_eq!(desk.reload(&queued).await, queued);
    let open = with_ticket(&desk, queued).await;
    for decided in [PromotionDecision::Approve, PromotionDecision::Reject] {
        let elsewhere = DecisionInput {
            ticket_id: Some(78),
            ..decision(&open, decided, &desk)
        };
        let outcome = store.decide_promotion(&elsewhere).await.unwrap();
        assert!(
            matches!(&outcome, DecisionOutcome::Refused { reason, .. } if reason.contains("#78") && reason.contains("#77")),
            "{outcome:?}"
        );
    }
    assert_eq!(desk.reload(&open).await, open);
    assert_eq!(bot.reload(&bot.tess).await, bot.tess);
    let refused: Vec<_> = desk
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, outcome, _)| outcome == "refused")
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
}
