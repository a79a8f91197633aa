//! `/metrics` counts each interaction's audited outcome exactly once, under
//! its command: a lookup (no entry) as allowed, a refusal as refused, a
//! deferred reset (its entry written after the first answer) as allowed.
//! The outcomes come from the entries as the handling wrote them, not from a
//! read of the log afterwards.

use std::time::Duration;

use crate::helpers::TestDb;
use crate::interactions::Server;

async fn metrics(server: &Server) -> String {
    server
        .client
        .get(server.endpoint.join("/metrics").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn count(metrics: &str, command: &str, outcome: &str) -> Option<u64> {
    let name = format!(
        "hallpass_interaction_outcomes_total{{command=\"{command}\",outcome=\"{outcome}\"}}"
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&name))
        .map(|value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn each_interaction_is_counted_once_with_the_outcome_its_entries_were_written_with() {
    let server = Server::on(TestDb::sqlite().await).await;
    let bot = &server.bot;
    // A lookup the teacher may make: no entry, allowed.
    server
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    // A teacher may not look up another teacher: a refused entry, twice.
    for _ in 0..2 {
        server
            .command(&bot.tess, "whois", &[("user", &bot.tom.id.to_string())])
            .await;
    }
    // A reset is deferred: its applied entry is written after the first answer.
    let (_, token) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    server.edited(&token).await;
    // The deferred one is counted just after its answer is edited in; the
    // timeout only turns a missing count into a failure.
    let mut seen = metrics(&server).await;
    for _ in 0..300 {
        if count(&seen, "reset-password", "allowed").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = metrics(&server).await;
    }
    assert_eq!(count(&seen, "whois", "allowed"), Some(1), "{seen}");
    assert_eq!(count(&seen, "whois", "refused"), Some(2), "{seen}");
    assert_eq!(count(&seen, "reset-password", "allowed"), Some(1), "{seen}");
    for (command, outcome) in [
        ("whois", "failed"),
        ("reset-password", "refused"),
        ("reset-password", "failed"),
    ] {
        assert_eq!(count(&seen, command, outcome).unwrap_or(0), 0, "{seen}");
    }
}
