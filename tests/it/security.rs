//! The security review's findings, each as the attack it describes: replayed
//! interactions, enumeration through answers, names that carry markdown, work
//! done before authority, and the listener's limits and headers.

use std::sync::Arc;

use chrono::Duration;
use hallpass::audit::{Action, AuditQuery};
use hallpass::commands::{Body, Request};
use hallpass::credentials::{HashParams, PasswordHasher};
use hallpass::directory::{Grade, Login, PersonName, Role, User};
use hallpass::store::NewUser;
use hallpass::web::{ListenerLimits, WebState};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::bot::Bot;
use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};
use crate::interactions::Server;

on_both_backends!(the_same_signed_interaction_sent_twice_runs_once_and_burns_no_quota,);

async fn the_same_signed_interaction_sent_twice_runs_once_and_burns_no_quota(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let own_reset = server
        .discord
        .command(Server::member(&bot.ana), "reset-password", &[]);
    let (status, _) = server.send(&own_reset).await;
    assert_eq!(status, 200);
    let first = server
        .edited(&hallpass::standins::simulate::SimulatedDiscord::token_of(
            &own_reset,
        ))
        .await;
    assert!(first.contains("left today: 2."), "{first}");

    // The very same signed body, byte for byte, inside the signature's window.
    let (replayed, _) = server.send(&own_reset).await;
    assert_eq!(replayed, 409, "a replay is refused");

    // The next genuine reset finds the quota the first one left.
    let (_, token) = server.command(&bot.ana, "reset-password", &[]).await;
    let next = server.edited(&token).await;
    assert!(next.contains("left today: 1."), "{next}");
    let resets = bot
        .db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.ana.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "password.reset")
        .count();
    assert_eq!(resets, 2, "the replay reset nothing");
    let ana = bot.ana.discord_user_id.unwrap().get();
    let dms = server
        .standin
        .dms()
        .into_iter()
        .filter(|(to, _)| *to == ana)
        .count();
    assert_eq!(dms, 2, "and sent nothing");
}

// --- Enumeration: answers never reveal people the actor cannot see ---------

const LOGIN_UNAVAILABLE: &str =
    "That email/username can't be used for this record. Nothing was changed; choose another one.";

async fn submit_login(bot: &Bot, actor: &User, target: &User, login: &str) -> String {
    let Body::Modal(modal) = bot
        .command(actor, "edit-user", &[("user", &target.id.to_string())])
        .await
        .body
    else {
        panic!("expected the edit form")
    };
    bot.run(
        actor,
        Request::modal_submit(&modal.custom_id, &[("login", login)]),
    )
    .await
    .text()
    .to_owned()
}

#[tokio::test]
async fn a_login_held_by_someone_the_actor_cannot_see_gets_the_generic_answer() {
    let bot = Bot::new().await;
    // Tess (teacher at A1) sees her school's students, not Cara (A2), not
    // Tom (another teacher), not Dana (district admin).
    for hidden in [&bot.cara, &bot.tom, &bot.dana] {
        let answer = submit_login(&bot, &bot.tess, &bot.ana, hidden.login.as_str()).await;
        assert_eq!(answer, LOGIN_UNAVAILABLE, "for {}", hidden.login);
        assert!(!answer.contains(hidden.last_name.as_str()));
    }
    assert_eq!(bot.reload(&bot.ana).await, bot.ana, "nothing changed");
    let refusals = bot
        .db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.ana.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(
        refusals
            .iter()
            .filter(|e| e.outcome == "refused")
            .all(|e| !e.reason.as_deref().unwrap_or("").contains("Diaz")),
        "the audit log (which other admins read) does not name the holder either"
    );
}

#[tokio::test]
async fn a_login_held_by_someone_the_actor_can_see_names_them() {
    let bot = Bot::new().await;
    let answer = submit_login(&bot, &bot.sam, &bot.ana, "ben.ng").await;
    assert_eq!(
        answer,
        "The login \"ben.ng\" is already used by Ng, Ben. Nothing was changed."
    );
    assert_eq!(bot.reload(&bot.ana).await, bot.ana);
}

#[tokio::test]
async fn the_audit_log_shows_an_actor_the_viewer_cannot_see_by_role_only() {
    let bot = Bot::new().await;
    let ana = bot.ana.id.to_string();
    bot.command(&bot.dana, "reset-password", &[("user", &ana)])
        .await;
    bot.command(&bot.tess, "reset-password", &[("user", &ana)])
        .await;

    // Sam (school admin at A1) cannot see Dana (district admin).
    let by_sam = bot.command(&bot.sam, "audit", &[("user", &ana)]).await;
    let text = by_sam.text();
    assert!(
        text.contains("password.reset applied by a district admin"),
        "{text}"
    );
    assert!(
        !text.contains("Dana") && !text.contains("dana.district"),
        "{text}"
    );
    assert!(
        text.contains("password.reset applied by Teach, Tess (tess.teach)"),
        "someone Sam can see is still named: {text}"
    );

    // Dave, a district admin of the same district, sees Dana by name.
    let by_dave = bot.command(&bot.dave, "audit", &[("user", &ana)]).await;
    assert!(
        by_dave
            .text()
            .contains("password.reset applied by District, Dana (dana.district)"),
        "{}",
        by_dave.text()
    );
}

// --- Markdown: names cannot format messages or break the password's span ---

const HOSTILE_FIRST: &str = "`*_~|";
const HOSTILE_LAST: &str = "[x](y) @everyone";

/// The characters of `text` at `i` that are not escaped with a backslash.
fn unescaped(text: &str, wanted: char) -> Vec<usize> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .filter(|&i| {
            let backslashes = chars[..i].iter().rev().take_while(|c| **c == '\\').count();
            chars[i] == wanted && backslashes % 2 == 0
        })
        .collect()
}

fn assert_inert(text: &str) {
    for c in ['*', '~', '|', '[', ']', '<'] {
        assert!(unescaped(text, c).is_empty(), "unescaped {c:?} in {text:?}");
    }
    // An underscore inside a word ("mal_lory") formats nothing; any other must be escaped.
    let chars: Vec<char> = text.chars().collect();
    for i in unescaped(text, '_') {
        let inside = i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
        assert!(inside, "unescaped '_' at {i} in {text:?}");
    }
    assert!(
        !text.replace("\\@everyone", "").contains("@everyone"),
        "an unescaped @everyone in {text:?}"
    );
    assert!(!text.contains('\u{202E}'), "{text:?}");
}

async fn hostile_student(bot: &Bot) -> User {
    let new = NewUser {
        login: Login::parse("mal_lory").unwrap(),
        first_name: PersonName::parse(HOSTILE_FIRST).unwrap(),
        last_name: PersonName::parse(HOSTILE_LAST).unwrap(),
        role: Role::Student,
        place: World::at(&bot.world.a1),
        grade: Some(Grade::parse("07").unwrap()),
        title: None,
        source_id: None,
        disabled: false,
    };
    bot.db
        .store
        .insert_user(
            bot.world.tenant.id,
            &new,
            cli_audit(Action::UserCreate, t0()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn names_with_markdown_are_escaped_and_the_password_stays_in_one_code_span() {
    let bot = Bot::new().await;
    let mal = hostile_student(&bot).await;
    let reset = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &mal.id.to_string())],
        )
        .await;
    assert_inert(reset.text());
    let dm = reset
        .secret
        .as_ref()
        .unwrap()
        .text
        .expose_secret()
        .to_owned();
    let ticks = unescaped(&dm, '`');
    assert_eq!(ticks.len(), 2, "one code span in {dm:?}");
    let chars: Vec<char> = dm.chars().collect();
    let password: String = chars[ticks[0] + 1..ticks[1]].iter().collect();
    assert!(
        password.split('-').count() == 4 && password.ends_with(|c: char| c.is_ascii_digit()),
        "the span holds the password: {password:?}"
    );
    let outside: String = chars[..ticks[0]].iter().collect();
    assert_inert(&outside);
    assert!(
        dm.contains("\\@everyone") && dm.contains("(mal_lory)"),
        "{dm}"
    );

    for (command, options) in [
        ("whois", vec![("user", mal.id.to_string())]),
        ("link-code", vec![("user", mal.id.to_string())]),
        ("audit", vec![("user", mal.id.to_string())]),
    ] {
        let options: Vec<(&str, &str)> = options.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = bot.command(&bot.sam, command, &options).await;
        assert!(
            reply.text().contains("\\[x\\](y)"),
            "{command}: {}",
            reply.text()
        );
        // The card's own bold around the name is hallpass's; nothing else is.
        assert_inert(&reply.text().replacen("**", "", 2));
    }
    let renamed = submit_login(&bot, &bot.sam, &mal, "mal.lory").await;
    assert!(renamed.starts_with("Updated "), "{renamed}");
    assert_inert(&renamed);
}

#[tokio::test]
async fn the_dm_with_a_hostile_name_goes_out_with_mentions_suppressed() {
    let server = Server::start().await;
    let mal = hostile_student(&server.bot).await;
    let (_, token) = server
        .command(
            &server.bot.tess,
            "reset-password",
            &[("user", &mal.id.to_string())],
        )
        .await;
    let edited = server.edited(&token).await;
    assert_inert(&edited);
    let dm = server
        .standin
        .requests()
        .into_iter()
        .find(|r| {
            r.method == "POST" && r.path.ends_with("/messages") && r.path.contains("/channels/")
        })
        .expect("the DM");
    let body = dm.body.unwrap();
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
    assert_inert(body["content"].as_str().unwrap().split('`').next().unwrap());
}

#[tokio::test]
async fn a_name_with_a_bidi_override_is_refused() {
    for name in ["Ana\u{202E}gpj.exe", "\u{2066}Ben\u{2069}"] {
        assert!(PersonName::parse(name).is_err(), "{name:?}");
    }
}

// --- Work before authority, and the listener's bounds ----------------------

const GOOD: &str = "marble kettle orbit";

/// The listener on a port of its own; the server stops with the test.
async fn listen(state: WebState) -> String {
    let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
    listening.url("")
}

/// A reset link for `user`, straight in the store, as `/reset-password method:email` stores it.
async fn reset_link(bot: &Bot, user: &User) -> String {
    let token = bot.app.random.reset_token();
    let now = bot.app.now();
    bot.db
        .store
        .insert_reset_token(
            user,
            bot.tess.id,
            &token.token_hash(&bot.app.secret_key),
            now,
            now + Duration::hours(1),
        )
        .await
        .unwrap();
    token.expose_secret().to_owned()
}

#[tokio::test]
async fn parallel_submits_of_one_reset_link_cost_one_password_hash() {
    let mut bot = Bot::new().await;
    // Real argon2 cost, so every submit is in flight before any finishes.
    bot.app.hasher = PasswordHasher::new(HashParams::owasp()).unwrap();
    let base = listen(WebState::new(bot.app.clone())).await;
    let token = reset_link(&bot, &bot.ana).await;
    let before = bot.app.hasher.hashes_made();

    let client = reqwest::Client::new();
    let mut submits = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = client
            .post(format!("{base}/reset/{token}"))
            .form(&[("password", GOOD), ("repeat", GOOD)]);
        submits.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = submits.join_all().await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 404, 404, 404, 404, 404, 404, 404]);
    assert_eq!(
        bot.app.hasher.hashes_made() - before,
        1,
        "only the submit that claimed the link hashed"
    );
}

#[tokio::test]
async fn a_refused_password_leaves_the_link_unclaimed() {
    let bot = Bot::new().await;
    let base = listen(WebState::new(bot.app.clone())).await;
    let token = reset_link(&bot, &bot.ana).await;
    let client = reqwest::Client::new();
    let post = |password: &'static str, repeat: &'static str| {
        client
            .post(format!("{base}/reset/{token}"))
            .form(&[("password", password), ("repeat", repeat)])
            .send()
    };
    let before = bot.app.hasher.hashes_made();
    assert_eq!(post(GOOD, "something else").await.unwrap().status(), 400);
    assert_eq!(post("short", "short").await.unwrap().status(), 400);
    assert_eq!(
        bot.app.hasher.hashes_made(),
        before,
        "no hash for a refusal"
    );
    assert_eq!(post(GOOD, GOOD).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_reset_page_may_not_be_framed_or_sniffed() {
    let bot = Bot::new().await;
    let base = listen(WebState::new(bot.app.clone())).await;
    let token = reset_link(&bot, &bot.ana).await;
    for path in [format!("/reset/{token}"), "/reset/not-a-token".to_owned()] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
}

#[tokio::test]
async fn metrics_need_the_bearer_token_when_one_is_set() {
    let bot = Bot::new().await;
    let base = listen(WebState {
        metrics_token: Some(Arc::new(SecretString::from("metrics-token-1"))),
        ..WebState::new(bot.app.clone())
    })
    .await;
    let client = reqwest::Client::new();
    let get = |auth: Option<&str>| {
        let mut request = client.get(format!("{base}/metrics"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    for refused in [
        None,
        Some("Bearer wrong"),
        Some("metrics-token-1"),
        Some("Bearer "),
    ] {
        let response = get(refused).await.unwrap();
        assert_eq!(response.status(), 401, "{refused:?}");
        assert!(!response.text().await.unwrap().contains("hallpass_"));
    }
    let allowed = get(Some("Bearer metrics-token-1")).await.unwrap();
    assert_eq!(allowed.status(), 200);
    let text = allowed.text().await.unwrap();
    assert!(text.contains("hallpass_requests_rejected_total"), "{text}");
    assert!(
        text.contains("reason=\"metrics_unauthorized\"} 4"),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_that_sends_its_headers_and_stalls_is_cut_off_within_the_deadline() {
    let bot = Bot::new().await;
    let bound = std::time::Duration::from_millis(400);
    let base = listen(WebState {
        limits: ListenerLimits {
            request_timeout: bound,
            ..ListenerLimits::default()
        },
        ..WebState::new(bot.app.clone())
    })
    .await;
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let started = std::time::Instant::now();
    stream
        .write_all(
            b"POST /webhooks/zendesk HTTP/1.1\r\nHost: hallpass\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ticket",
        )
        .await
        .unwrap();
    // Then nothing more: the server must answer and close on its own.
    let mut answer = Vec::new();
    tokio::time::timeout(bound * 10, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .unwrap();
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took >= bound, "not before the deadline: {took:?}");
    assert!(took < bound * 5, "cut off within the bound: {took:?}");
}

#[tokio::test]
async fn a_body_larger_than_any_route_needs_is_refused_unread() {
    let bot = Bot::new().await;
    let base = listen(WebState::new(bot.app.clone())).await;
    let huge = vec![b'x'; 1024 * 1024];
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/zendesk"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn the_roster_import_refuses_a_row_whose_name_holds_a_bidi_override() {
    let db = TestDb::sqlite().await;
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oneroster/sample");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample.join("orgs.csv"), dir.path().join("orgs.csv")).unwrap();
    let users = std::fs::read_to_string(sample.join("users.csv")).unwrap();
    std::fs::write(
        dir.path().join("users.csv"),
        users.replace(",Ana,Lopez,", ",Ana\u{202E}gpj.exe,Lopez,"),
    )
    .unwrap();
    let report = hallpass::roster::import_oneroster(
        &db.store,
        &hallpass::directory::TenantName::parse("lincoln").unwrap(),
        dir.path(),
        &hallpass::roster::ImportOptions {
            show_progress: false,
            dry_run: false,
            ..Default::default()
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(report.refused.len(), 1, "{report}");
    assert_eq!(report.refused[0].source_id.as_deref(), Some("stu-1001"));
    assert!(
        report.refused[0].reason.contains("override"),
        "{}",
        report.refused[0].reason
    );
    assert_eq!(report.users_created, 27, "every other row is imported");
}

#[tokio::test]
async fn a_request_beyond_the_concurrency_limit_waits_for_a_free_slot() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let entered = Arc::new(AtomicUsize::new(0));
    let entry = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (counter, on_entry, gate) = (entered.clone(), entry.clone(), release.clone());
    let routes = axum::Router::new().route(
        "/slow",
        axum::routing::get(move || {
            let (counter, on_entry, gate) = (counter.clone(), on_entry.clone(), gate.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                on_entry.notify_one();
                gate.notified().await;
                "done"
            }
        }),
    );
    let limits = ListenerLimits {
        max_in_flight: 1,
        request_timeout: std::time::Duration::from_secs(30),
        ..ListenerLimits::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, limits.apply(routes)).await });

    let first = tokio::spawn(reqwest::get(url.clone()));
    entry.notified().await;
    let second = tokio::spawn(reqwest::get(url));
    // While the first holds the only slot, the second does not get in.
    let got_in =
        tokio::time::timeout(std::time::Duration::from_millis(300), entry.notified()).await;
    assert!(got_in.is_err(), "a second request ran beside the first");
    assert_eq!(entered.load(Ordering::SeqCst), 1);
    release.notify_one();
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    entry.notified().await;
    release.notify_one();
    assert_eq!(second.await.unwrap().unwrap().status(), 200);
    assert_eq!(entered.load(Ordering::SeqCst), 2);
}
