//! `hallpass promotions list` and `hallpass promotions retry` as an operator
//! runs them: the real binary on the test's database file.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use hallpass::store::PromotionState;
use hallpass::support::{OutboxSettings, ZendeskClient};

use crate::desk::{Desk, Gate};

fn hallpass(desk: &Desk, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .env("DATABASE_URL", &desk.bot.db.url)
        .env("RUST_LOG", "warn")
        .env_remove("ZENDESK_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn an_operator_retries_a_request_that_gave_up_and_the_worker_delivers_it() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.sam).await;
    // Zendesk is unreachable for longer than the horizon.
    let mut gate = Gate::closed_in_front_of(&desk.zendesk).await;
    let client = Arc::new(ZendeskClient::new(gate.config(&desk.zendesk)).unwrap());
    let settings = OutboxSettings {
        give_up_after: Duration::from_secs(90),
        ..Desk::settings()
    };
    let worker = desk.worker_with(client, settings);
    worker.run_once().await.unwrap();
    desk.advance(61);
    worker.run_once().await.unwrap();
    desk.advance(61);
    worker.run_once().await.unwrap();
    assert_eq!(desk.reload(&request).await.state, PromotionState::Failed);

    let failed = hallpass(&desk, &["promotions", "list", "--state", "failed"]);
    assert!(failed.status.success(), "{}", stderr(&failed));
    let shown = stdout(&failed);
    assert!(
        shown.starts_with(&format!("#{:<5} failed", request.number)),
        "{shown}"
    );
    assert!(
        shown.contains("Teach, Tess (tess.teach) at Lincoln Middle School"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("hallpass promotions retry {}", request.number)),
        "the failure says what to do: {shown}"
    );

    let retried = hallpass(&desk, &["promotions", "retry", &request.number.to_string()]);
    assert!(retried.status.success(), "{}", stderr(&retried));
    assert!(
        stdout(&retried).contains("is queued again"),
        "{}",
        stdout(&retried)
    );
    assert_eq!(desk.reload(&request).await.state, PromotionState::Queued);

    // The command ran on the wall clock; the worker's clock catches up to it.
    let due = desk.store().next_delivery_due().await.unwrap().unwrap();
    desk.advance((due - desk.bot.app.now()).num_seconds().max(0) + 1);
    gate.open().await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let delivered = desk.reload(&request).await;
    assert_eq!(delivered.state, PromotionState::TicketOpen);
    assert_eq!(desk.zendesk.tickets().len(), 1);
    let retries = desk
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, _, actor)| action == "promotion.retry" && actor == "cli")
        .count();
    assert_eq!(retries, 1);
}

#[tokio::test]
async fn list_json_prints_one_object_per_request_with_stable_fields() {
    let desk = Desk::new().await;
    let tess = desk.queue(&desk.bot.tess, &desk.bot.sam).await;
    let tom = desk.queue(&desk.bot.tom, &desk.bot.tom).await;
    let out = hallpass(&desk, &["promotions", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["number"], tess.number);
    assert_eq!(lines[0]["id"], tess.id.to_string());
    assert_eq!(lines[0]["state"], "queued");
    assert_eq!(lines[0]["tenant"], "lincoln");
    assert_eq!(lines[0]["teacher_login"], "tess.teach");
    assert_eq!(lines[0]["requester_login"], "sam.admin");
    assert_eq!(lines[0]["ticket_id"], serde_json::Value::Null);
    assert_eq!(lines[1]["number"], tom.number);

    let none = hallpass(&desk, &["promotions", "list", "--state", "approved"]);
    assert_eq!(stdout(&none).trim(), "No promotion requests are approved.");
}

#[tokio::test]
async fn retry_refuses_a_request_that_has_not_failed_or_does_not_exist_with_one_line() {
    let desk = Desk::new().await;
    let request = desk.queue(&desk.bot.tess, &desk.bot.tess).await;
    for (id, says) in [
        (request.id.to_string(), "is queued, not failed"),
        ("999".to_owned(), "No promotion request 999"),
        ("not-an-id".to_owned(), "neither a request number"),
    ] {
        let out = hallpass(&desk, &["promotions", "retry", &id]);
        assert_eq!(out.status.code(), Some(1), "{id}");
        let error = stderr(&out);
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(error.contains(says), "{id}: {error}");
    }
    assert_eq!(desk.reload(&request).await.state, PromotionState::Queued);
}

#[test]
fn promotions_help_explains_the_states_and_what_retry_does() {
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["promotions", "list", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(help.contains("ticket_open"), "{help}");
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["promotions", "retry", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(help.contains("failed before it had a ticket"), "{help}");
}
