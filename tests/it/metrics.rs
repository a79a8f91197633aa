//! `/metrics` after real traffic: the kept families are there, and nothing in
//! it names a person.

use crate::helpers::TestDb;
use crate::interactions::Server;

#[tokio::test]
async fn after_real_traffic_metrics_show_latency_and_outcomes_and_no_seeded_user() {
    let server = Server::on(TestDb::sqlite().await).await;
    let bot = &server.bot;
    server
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    // A teacher may not look up another teacher: a refusal, audited.
    server
        .command(&bot.tess, "whois", &[("user", &bot.tom.id.to_string())])
        .await;
    let metrics = server
        .client
        .get(server.endpoint.join("/metrics").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "hallpass_interactions_total{kind=\"command\",command=\"whois\"} 2",
        "hallpass_interaction_seconds_count{kind=\"command\",command=\"whois\"} 2",
        "hallpass_interaction_seconds_bucket{",
        "hallpass_outbox_depth 0",
        "hallpass_roll_backs_total 0",
        "hallpass_dm_fallbacks_total 0",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing in {metrics}"
        );
    }
    assert!(
        metrics.contains(
            "hallpass_interaction_outcomes_total{command=\"whois\",outcome=\"allowed\"} 1"
        ) || metrics
            .contains("hallpass_interaction_outcomes_total{command=\"whois\",outcome=\"refused\"}"),
        "{metrics}"
    );
    for user in [
        &bot.tess, &bot.tom, &bot.ana, &bot.ben, &bot.cara, &bot.dev, &bot.sam, &bot.dana,
        &bot.dave,
    ] {
        for secret in [
            user.id.to_string(),
            user.login.to_string(),
            user.display_name(),
        ] {
            assert!(!metrics.contains(&secret), "{secret} in {metrics}");
        }
    }
}
