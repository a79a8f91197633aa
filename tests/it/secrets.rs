//! One-time secrets under the server key, the `/link` throttle, one code per
//! person, the self-service quota on PostgreSQL, and `serve` refusing to start
//! on PostgreSQL without HALLPASS_SECRET_KEY.

use std::process::Command;

use chrono::Duration;
use hallpass::app::App;
use hallpass::commands::{Invocation, Reply, Request, handle};
use hallpass::credentials::SecretKey;
use hallpass::directory::{DiscordGuildId, DiscordUserId};
use hallpass::limits::Limits;
use hallpass::store::Store;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::bot::{Bot, GUILD};
use crate::helpers::{TestDb, postgres_admin_url};

const WRONG_CODE: &str =
    "That code doesn't work. Codes work once and expire after a day; ask an admin for a new one.";

/// The value between the first pair of backticks of the secret a reply carries.
pub fn secret_in(reply: &Reply) -> String {
    let secret = reply.secret.as_ref().expect("the reply carries a secret");
    let text = secret.text.expose_secret();
    text.split('`')
        .nth(1)
        .expect("a `value` in the secret")
        .to_owned()
}

/// Dana (a district admin) issues a link code for Cara, who is not linked.
async fn code_for_cara(bot: &Bot) -> String {
    let reply = bot
        .command(
            &bot.dana,
            "link-code",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    assert!(
        reply.text().contains("link code for Diaz, Cara"),
        "{}",
        reply.text()
    );
    secret_in(&reply)
}

/// A chat account nobody linked yet, typing `code` into `/link` through `app`.
async fn link_as(app: &App, account: u64, code: &str) -> Reply {
    let inv = Invocation {
        guild: Some(DiscordGuildId::new(GUILD)),
        channel: Some("555".into()),
        interaction_id: Some("777".into()),
        user: Some(DiscordUserId::new(account)),
        api_caller: None,
    };
    handle(app, &inv, Request::command("link", &[("code", code)])).await
}

/// A well-formed code that was never issued.
fn never_issued(n: usize) -> String {
    let symbols = ["ABC", "DEF", "GHJ", "KMN", "PQR", "STU", "VWX", "YZ2"];
    format!("{}-{}-{}", symbols[n % 8], symbols[(n + 1) % 8], "789")
}

#[tokio::test]
async fn a_link_code_stored_under_one_key_does_not_redeem_under_another() {
    let bot = Bot::new().await;
    let code = code_for_cara(&bot).await;
    let other_key = App {
        secret_key: SecretKey::parse(&"9f".repeat(32)).unwrap(),
        ..bot.app.clone()
    };
    let refused = link_as(&other_key, 9001, &code).await;
    assert_eq!(refused.text(), WRONG_CODE);
    let linked = link_as(&bot.app, 9001, &code).await;
    assert!(
        linked.text().starts_with("You're linked"),
        "{}",
        linked.text()
    );
}

#[tokio::test]
async fn the_database_holds_neither_the_link_code_nor_its_plain_sha256() {
    let bot = Bot::new().await;
    let code = code_for_cara(&bot).await;
    let stored: Vec<String> = sqlx::query("SELECT code_hash FROM link_codes")
        .fetch_all(bot.db.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("code_hash").unwrap())
        .collect();
    assert_eq!(stored.len(), 1);
    let symbols = code.replace('-', "");
    for plain in [&code, &symbols] {
        assert!(!stored[0].contains(plain.as_str()));
        let sha = hex::encode(Sha256::digest(plain.as_bytes()));
        assert_ne!(stored[0], sha, "the plain SHA-256 of {plain:?}");
    }
    assert_eq!(stored[0].len(), 64);
}

#[tokio::test]
async fn wrong_link_codes_are_throttled_per_chat_account_after_five_an_hour() {
    let bot = Bot::new().await;
    let code = code_for_cara(&bot).await;
    for n in 0..5 {
        let reply = link_as(&bot.app, 9001, &never_issued(n)).await;
        assert_eq!(reply.text(), WRONG_CODE, "attempt {n}");
    }
    // The sixth try is refused before the code is looked at, even the right one.
    let throttled = link_as(&bot.app, 9001, &code).await;
    assert_eq!(
        throttled.text(),
        "Too many wrong link codes from this Discord account. Try again at 10:00 UTC, or ask an admin to link you."
    );
    // Another chat account has its own budget.
    let other = link_as(&bot.app, 9002, &never_issued(7)).await;
    assert_eq!(other.text(), WRONG_CODE);
    // A second instance on the same database sees the same budget.
    let restarted = App {
        limits: std::sync::Arc::new(Limits::default()),
        ..bot.app.clone()
    };
    let again = link_as(&restarted, 9001, &code).await;
    assert!(again.text().starts_with("Too many wrong link codes"));
    bot.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let linked = link_as(&bot.app, 9001, &code).await;
    assert!(
        linked.text().starts_with("You're linked"),
        "{}",
        linked.text()
    );
}

#[tokio::test]
async fn a_right_link_code_does_not_use_up_the_hourly_budget() {
    let bot = Bot::new().await;
    for n in 0..4 {
        link_as(&bot.app, 9001, &never_issued(n)).await;
    }
    let code = code_for_cara(&bot).await;
    assert!(
        link_as(&bot.app, 9001, &code)
            .await
            .text()
            .starts_with("You're linked")
    );
    let tries: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM quota_usage WHERE kind = 'link_attempt'")
            .fetch_one(bot.db.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
    assert_eq!(tries, 4, "only the wrong codes count");
}

#[tokio::test]
async fn a_new_link_code_ends_the_previous_one() {
    let bot = Bot::new().await;
    let first = code_for_cara(&bot).await;
    let second = code_for_cara(&bot).await;
    assert_ne!(first, second);
    assert_eq!(link_as(&bot.app, 9001, &first).await.text(), WRONG_CODE);
    assert!(
        link_as(&bot.app, 9001, &second)
            .await
            .text()
            .starts_with("You're linked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_the_self_service_quota_succeeds_when_two_apps_share_one_postgresql_database() {
    let bot = Bot::on(TestDb::postgres().await).await;
    let second = App {
        store: Store::connect(&bot.db.url).await.unwrap(),
        limits: std::sync::Arc::new(Limits::default()),
        ..bot.app.clone()
    };
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8 {
        let app = if n % 2 == 0 {
            bot.app.clone()
        } else {
            second.clone()
        };
        let inv = Bot::inv(&bot.ana);
        tasks.spawn(async move {
            let reply = handle(&app, &inv, Request::command("reset-password", &[])).await;
            reply.text().to_owned()
        });
    }
    let answers = tasks.join_all().await;
    let done = answers
        .iter()
        .filter(|a| a.starts_with("Done: your temporary password"))
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.starts_with("You've used all 3 self-service password resets"))
        .count();
    assert_eq!((done, refused), (3, 5), "{answers:#?}");
    let used: i64 = sqlx::query("SELECT COUNT(*) AS n FROM quota_usage WHERE kind = 'self_reset'")
        .fetch_one(bot.db.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(used, 3);
}

#[test]
fn serve_on_postgresql_without_a_secret_key_refuses_to_start_saying_it_is_required() {
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("serve")
        .env("DATABASE_URL", postgres_admin_url())
        .env("HALLPASS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("HALLPASS_SECRET_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("hallpass: HALLPASS_SECRET_KEY is not set, and it is required with PostgreSQL: several instances share the database"),
        "{stderr}"
    );
}
