//! The outbox worker against the Zendesk stand-in over real HTTP, with the
//! production client: what a ticket carries, and that every kind of failure
//! still ends in exactly one ticket per request.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use hallpass::directory::Role;
use hallpass::standins::drain_benchmark;
use hallpass::standins::zendesk::CreationFault;
use hallpass::store::{PromotionState, Store};
use hallpass::support::{OutboxSettings, OutboxWorker, ZendeskClient};
use serde_json::json;

use crate::desk::{Desk, Gate, TIMEOUT, eventually};
use crate::helpers::{TestDb, World};

#[tokio::test]
async fn a_ticket_carries_the_subject_the_note_the_tags_the_request_id_and_the_requester() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let request = desk.queue(&bot.tess, &bot.sam).await;

    assert_eq!(desk.worker().run_once().await.unwrap(), 1);

    let posts = desk.posts();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    let id = request.id.to_string();
    assert_eq!(post.header("Idempotency-Key"), Some(id.as_str()));
    let body = post.json().unwrap();
    let ticket = &body["ticket"];
    assert_eq!(
        ticket["subject"],
        format!(
            "Promotion request #{}: Tess Teach to school admin at Lincoln Middle School",
            request.number
        )
    );
    assert_eq!(ticket["external_id"], id);
    assert_eq!(ticket["tags"], json!(["hallpass", "promotion_request"]));
    // Sam's login is not an email address: a placeholder that reaches nobody.
    assert_eq!(
        ticket["requester"],
        json!({"name": "Sam Admin", "email": "sam.admin+lincoln@hallpass.invalid"})
    );
    assert_eq!(ticket["comment"]["public"], false, "an internal note");
    let note = ticket["comment"]["body"].as_str().unwrap();
    for expected in [
        "Teacher: Tess Teach (tess.teach)",
        "School: Lincoln Middle School",
        "District: Lincoln Unified",
        "Requested by: Sam Admin (sam.admin), school admin",
        "Runs the timetable and mentors new staff.",
        "hallpass_approved",
        "hallpass_rejected",
    ] {
        assert!(note.contains(expected), "{expected:?} missing from {note}");
    }

    let stored = desk.zendesk.tickets();
    assert_eq!(stored.len(), 1);
    let opened = desk.reload(&request).await;
    assert_eq!(opened.state, PromotionState::TicketOpen);
    assert_eq!(opened.ticket_id, Some(stored[0].id));
}

#[tokio::test]
async fn an_email_login_is_the_requester_address() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let maria = bot
        .world
        .user(
            desk.store(),
            "m.chen@lincoln.example.org",
            Role::SchoolAdmin,
            World::at(&bot.world.a1),
        )
        .await;
    desk.queue(&bot.tess, &maria).await;
    desk.worker().run_once().await.unwrap();
    assert_eq!(
        desk.zendesk.tickets()[0].requester_email,
        "m.chen@lincoln.example.org"
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after_without_counting_as_a_failure_then_makes_one_ticket() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    desk.zendesk.rate_limit_next_creations(1, Some(7));
    let worker = desk.worker();

    assert_eq!(worker.run_once().await.unwrap(), 0);
    assert_eq!(desk.posts().len(), 1);
    desk.advance(6);
    assert_eq!(
        worker.run_once().await.unwrap(),
        0,
        "Retry-After is honoured"
    );
    assert_eq!(desk.posts().len(), 1);
    let waiting = desk.store().promotion_listing(None).await.unwrap();
    assert_eq!(waiting[0].attempts, 0, "a 429 is not a failure");

    desk.advance(1);
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    assert_eq!(desk.posts().len(), 2);
    assert!(
        desk.lookups().is_empty(),
        "a 429 is certain: nothing to look up"
    );
    assert_eq!(
        desk.reload(&request).await.state,
        PromotionState::TicketOpen
    );
}

#[tokio::test]
async fn a_500_backs_off_then_looks_the_ticket_up_and_makes_exactly_one() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    desk.zendesk.fail_next_creations(1);
    let worker = desk.worker();

    assert_eq!(worker.run_once().await.unwrap(), 0);
    assert_eq!(worker.run_once().await.unwrap(), 0, "backing off");
    let waiting = desk.store().promotion_listing(None).await.unwrap();
    assert_eq!(waiting[0].attempts, 1);
    assert!(waiting[0].last_error.as_deref().unwrap().contains("500"));

    desk.advance(60);
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    assert_eq!(
        desk.lookups().len(),
        1,
        "a 5xx may have created it: looked up first"
    );
    let keys: BTreeSet<_> = desk
        .posts()
        .iter()
        .map(|p| p.header("Idempotency-Key").unwrap().to_owned())
        .collect();
    assert_eq!(keys, BTreeSet::from([request.id.to_string()]));
}

#[tokio::test]
async fn a_timeout_after_zendesk_made_the_ticket_adopts_it_instead_of_making_another() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    desk.zendesk
        .inject(CreationFault::CreateThenStall(Duration::from_secs(2)), 1);
    let impatient = desk.worker_with(desk.client(Duration::from_millis(300)), Desk::settings());

    assert_eq!(impatient.run_once().await.unwrap(), 0);
    assert_eq!(desk.zendesk.tickets().len(), 1, "the ticket exists");
    assert_eq!(desk.reload(&request).await.state, PromotionState::Queued);

    desk.advance(60);
    assert_eq!(impatient.run_once().await.unwrap(), 1);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    assert_eq!(
        desk.posts().len(),
        1,
        "found by external_id, not created again"
    );
    assert_eq!(desk.lookups().len(), 1);
    assert_eq!(
        desk.reload(&request).await.ticket_id,
        Some(desk.zendesk.tickets()[0].id)
    );
}

#[tokio::test]
async fn a_refused_connection_backs_off_then_makes_exactly_one_ticket() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    let mut gate = Gate::closed_in_front_of(&desk.zendesk).await;
    let client = Arc::new(ZendeskClient::new(gate.config(&desk.zendesk)).unwrap());
    let worker = desk.worker_with(client, Desk::settings());

    assert_eq!(worker.run_once().await.unwrap(), 0);
    let waiting = desk.store().promotion_listing(None).await.unwrap();
    assert!(
        waiting[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("connect"),
        "{:?}",
        waiting[0].last_error
    );

    gate.open().await;
    desk.advance(60);
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    assert!(
        desk.lookups().is_empty(),
        "nothing reached Zendesk, so nothing is looked up"
    );
    assert_eq!(
        desk.reload(&request).await.state,
        PromotionState::TicketOpen
    );
}

#[tokio::test]
async fn a_worker_killed_mid_call_is_taken_over_after_its_lease_and_its_ticket_found() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    desk.zendesk
        .inject(CreationFault::CreateThenStall(Duration::from_secs(30)), 1);
    let doomed = desk.worker_with(desk.client(Duration::from_secs(20)), Desk::settings());
    let running = tokio::spawn(async move { doomed.run_once().await });
    eventually(&desk.zendesk, |z| z.tickets().len() == 1).await;
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());

    let restarted = desk.worker();
    assert_eq!(
        restarted.run_once().await.unwrap(),
        0,
        "the dead worker's lease still holds"
    );
    desk.advance(61);
    assert_eq!(restarted.run_once().await.unwrap(), 1);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    assert_eq!(desk.posts().len(), 1, "no second creation");
    assert_eq!(desk.lookups().len(), 1, "found by external_id");
    let opened = desk.reload(&request).await;
    assert_eq!(opened.state, PromotionState::TicketOpen);
    assert_eq!(opened.ticket_id, Some(desk.zendesk.tickets()[0].id));
}

#[tokio::test]
async fn a_ticket_zendesk_refuses_fails_at_once_with_zendesks_message() {
    let desk = Desk::new().await;
    let request = desk
        .queue_with(&desk.bot.tess, &desk.bot.tess, |t| {
            t.requester_email = "not-an-address".into();
        })
        .await;
    assert_eq!(desk.worker().run_once().await.unwrap(), 0);
    let failed = desk.reload(&request).await;
    assert_eq!(failed.state, PromotionState::Failed);
    let reason = failed.failure_reason.unwrap();
    assert!(reason.contains("422"), "{reason}");
    assert!(reason.contains("Requester: email is not valid"), "{reason}");
    assert!(
        reason.contains(&format!("hallpass promotions retry {}", request.number)),
        "{reason}"
    );
    assert!(desk.zendesk.tickets().is_empty());
    let (action, outcome, _) = desk.audit_actions().await.pop().unwrap();
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("promotion.fail", "failed")
    );
}

#[tokio::test]
async fn past_the_horizon_a_request_fails_with_what_to_do_and_the_requester_is_told() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let request = desk.queue(&bot.tess, &bot.sam).await;
    desk.zendesk.fail_next_creations(100);
    let worker = desk.worker();
    worker.run_once().await.unwrap();
    for _ in 0..70 {
        desk.advance(61);
        worker.run_once().await.unwrap();
        if desk.reload(&request).await.state == PromotionState::Failed {
            break;
        }
    }
    let failed = desk.reload(&request).await;
    assert_eq!(failed.state, PromotionState::Failed);
    let reason = failed.failure_reason.unwrap();
    assert!(
        reason.starts_with("No ticket after 1 h of trying"),
        "{reason}"
    );
    assert!(reason.contains("ZENDESK_URL"), "{reason}");
    assert!(reason.contains(&format!("hallpass promotions retry {}", request.number)));
    let to_sam = desk.dms_to(&bot.sam);
    assert_eq!(to_sam.len(), 1, "{to_sam:?}");
    assert!(
        to_sam[0].contains("could not be delivered to support"),
        "{to_sam:?}"
    );
    assert!(desk.zendesk.tickets().is_empty());
}

#[tokio::test]
async fn the_requester_and_the_teacher_are_told_by_dm_when_the_ticket_opens() {
    let desk = Desk::new().await;
    let bot = &desk.bot;
    let request = desk.queue(&bot.tess, &bot.sam).await;
    desk.worker().run_once().await.unwrap();
    let ticket = desk.zendesk.tickets()[0].id;
    assert_eq!(
        desk.dms_to(&bot.sam),
        vec![format!(
            "Your promotion request #{} for Teach, Tess is now with support as ticket #{ticket}. \
             I'll tell you here when they decide.",
            request.number
        )]
    );
    let to_tess = desk.dms_to(&bot.tess);
    assert_eq!(to_tess.len(), 1);
    assert!(to_tess[0].starts_with("Admin, Sam asked support to make you a school admin"));
}

async fn two_workers_on_one_database_deliver_every_entry_exactly_once(db: TestDb) {
    const REQUESTS: usize = 24;
    let url = db.url.clone();
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let mut queued = Vec::new();
    for n in 0..REQUESTS {
        let teacher = bot
            .world
            .user(
                desk.store(),
                &format!("teacher{n}.school"),
                Role::Teacher,
                World::at(&bot.world.a1),
            )
            .await;
        queued.push(desk.queue(&teacher, &teacher).await);
    }
    let settings = OutboxSettings {
        batch: 3,
        ..Desk::settings()
    };
    // Two instances: each its own pool and its own Zendesk client.
    let mut second_app = bot.app.clone();
    second_app.store = Store::connect(&url).await.unwrap();
    let first = desk.worker_with(desk.client(TIMEOUT), settings.clone());
    let second = OutboxWorker::new(
        second_app,
        desk.client(TIMEOUT),
        desk.rest.clone(),
        settings,
    );

    let (a, b) = tokio::join!(
        tokio::spawn(async move { first.run_once().await.unwrap() }),
        tokio::spawn(async move { second.run_once().await.unwrap() })
    );
    assert_eq!(a.unwrap() + b.unwrap(), REQUESTS);

    assert_eq!(desk.posts().len(), REQUESTS, "no entry was sent twice");
    let tickets = desk.zendesk.tickets();
    assert_eq!(tickets.len(), REQUESTS);
    let external: BTreeSet<_> = tickets
        .iter()
        .map(|t| t.external_id.clone().unwrap())
        .collect();
    let expected: BTreeSet<_> = queued.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(external, expected);
    for request in &queued {
        assert_eq!(desk.reload(request).await.state, PromotionState::TicketOpen);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgresql_database_deliver_every_entry_exactly_once() {
    two_workers_on_one_database_deliver_every_entry_exactly_once(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_sqlite_database_deliver_every_entry_exactly_once() {
    two_workers_on_one_database_deliver_every_entry_exactly_once(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_real_rate_the_worker_waits_out_every_retry_after_and_delivers_one_ticket_per_request()
 {
    // 5 a second with the allowance spent at the start: the first request,
    // and every one after a quick burst, is answered 429 + Retry-After.
    let report = drain_benchmark(30, 5).await.unwrap();
    assert_eq!(report.requests, 30);
    assert_eq!(report.allowed_per_second, 5);
    assert_eq!(report.tickets_created, 30);
    assert_eq!(report.distinct_external_ids, 30);
    assert!(report.rate_limited > 0, "{report:?}");
    assert_eq!(report.early_requests, 0, "{report:?}");
    // Every request the limit let through made exactly one ticket.
    assert_eq!(
        report.api_requests,
        report.tickets_created + report.rate_limited
    );
    // 30 at 5 a second cannot take less than 6 seconds (the first has to
    // wait for room), however fast the worker.
    assert!(report.seconds >= 5.0, "{report:?}");
}

#[tokio::test]
async fn the_running_worker_delivers_new_requests_and_stops_when_told() {
    let desk = Desk::new().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(desk.worker().run(stopped));
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    eventually(&desk.zendesk, |z| z.tickets().len() == 1).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the worker stops when told")
        .unwrap();
    assert_eq!(
        desk.reload(&request).await.state,
        PromotionState::TicketOpen
    );
}
