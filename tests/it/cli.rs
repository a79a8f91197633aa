//! The `hallpass` binary as an operator runs it: real process, real database file.

use std::process::{Command, Output};

use hallpass::directory::Role;

use crate::helpers::{TestDb, World};

fn hallpass(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
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
async fn user_show_json_prints_the_interface_fields_and_never_a_hash() {
    let db = TestDb::sqlite().await;
    let world = World::build(&db.store).await;
    let ana = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    db.store
        .set_password(
            &ana,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            true,
            None,
            crate::helpers::cli_audit(hallpass::audit::Action::PasswordReset, crate::helpers::t0()),
        )
        .await
        .unwrap();
    let out = hallpass(
        &db,
        &["user", "show", "ANA.LOPEZ", "--tenant", "lincoln", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(json["id"], ana.id.to_string());
    assert_eq!(json["tenant"], "lincoln");
    assert_eq!(json["login"], "ana.lopez");
    assert_eq!(json["role"], "student");
    assert_eq!(json["school"], "Lincoln Middle School");
    assert_eq!(json["district"], "Lincoln Unified");
    assert_eq!(json["grade"], "07");
    assert_eq!(json["must_change_password"], true);
    assert_eq!(json["discord_user_id"], serde_json::Value::Null);
    assert!(
        !stdout(&out).contains("argon2"),
        "a hash leaked: {}",
        stdout(&out)
    );
    // The stable id works as well as the login.
    let by_id = hallpass(
        &db,
        &["user", "show", &ana.id.to_string(), "--tenant", "lincoln"],
    );
    assert!(
        stdout(&by_id).contains("Lopez, Ana  (ana.lopez)"),
        "{}",
        stdout(&by_id)
    );
    assert!(stdout(&by_id).contains("must change at next sign-in"));
}

#[tokio::test]
async fn guild_bind_and_link_are_applied_and_audited() {
    let db = TestDb::sqlite().await;
    let world = World::build(&db.store).await;
    world
        .user(&db.store, "tess.teach", Role::Teacher, World::at(&world.a1))
        .await;
    let bind = hallpass(&db, &["guild", "bind", "998877", "--tenant", "lincoln"]);
    assert!(bind.status.success(), "{}", stderr(&bind));
    let link = hallpass(
        &db,
        &[
            "link",
            "--user",
            "tess.teach",
            "--discord",
            "80351110224678912",
            "--tenant",
            "lincoln",
        ],
    );
    assert!(link.status.success(), "{}", stderr(&link));
    let shown = hallpass(
        &db,
        &[
            "user",
            "show",
            "tess.teach",
            "--tenant",
            "lincoln",
            "--json",
        ],
    );
    assert!(
        stdout(&shown).contains("\"discord_user_id\":\"80351110224678912\""),
        "{}",
        stdout(&shown)
    );
    let audit = hallpass(&db, &["audit", "--tenant", "lincoln", "--json"]);
    let actions: Vec<String> = stdout(&audit)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        actions.last().map(String::as_str),
        Some("chat.link"),
        "newest last: {actions:?}"
    );
    assert!(actions.contains(&"guild.bind".to_owned()));
    // Linking the same chat account again is refused with a reason, exit 1.
    let again = hallpass(
        &db,
        &[
            "link",
            "--user",
            "tess.teach",
            "--discord",
            "80351110224678912",
            "--tenant",
            "lincoln",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already linked"),
        "{}",
        stderr(&again)
    );
}

#[tokio::test]
async fn failures_exit_1_with_one_line_and_usage_errors_exit_2() {
    let db = TestDb::sqlite().await;
    World::build(&db.store).await;
    let missing = hallpass(&db, &["user", "show", "nobody", "--tenant", "lincoln"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing).trim().lines().count(),
        1,
        "{}",
        stderr(&missing)
    );
    assert!(
        stderr(&missing).starts_with("hallpass: No user nobody"),
        "{}",
        stderr(&missing)
    );
    let no_tenant = hallpass(&db, &["guild", "bind", "1", "--tenant", "nope"]);
    assert_eq!(no_tenant.status.code(), Some(1));
    assert!(
        stderr(&no_tenant).contains("hallpass import oneroster"),
        "{}",
        stderr(&no_tenant)
    );
    let bad_since = hallpass(&db, &["audit", "--since", "yesterday"]);
    assert_eq!(bad_since.status.code(), Some(1));
    assert!(stderr(&bad_since).contains("RFC 3339"));
    let usage = hallpass(&db, &["user", "show"]);
    assert_eq!(usage.status.code(), Some(2));
    let bad_guild = hallpass(
        &db,
        &["guild", "bind", "not-a-number", "--tenant", "lincoln"],
    );
    assert_eq!(bad_guild.status.code(), Some(1));
    assert!(
        stderr(&bad_guild).contains("Discord server id"),
        "{}",
        stderr(&bad_guild)
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_to_a_new_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Migrations applied"));
    let store = hallpass::store::Store::connect(&url).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_events'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn import_then_user_show_json_shows_the_imported_record_and_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let bundle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/oneroster/sample"
    );
    let first = run(&["import", "oneroster", bundle, "--tenant", "lincoln-usd"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("Users: 28 created"),
        "{}",
        stdout(&first)
    );
    let shown = run(&[
        "user",
        "show",
        "ana.lopez",
        "--tenant",
        "lincoln-usd",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(stdout(&shown).trim()).unwrap();
    assert_eq!(json["first_name"], "Ana");
    assert_eq!(json["role"], "student");
    assert_eq!(json["school"], "Lincoln Middle School");
    assert_eq!(json["district"], "Lincoln Unified School District");
    assert_eq!(json["grade"], "07");
    assert_eq!(json["tenant"], "lincoln-usd");
    assert!(json.get("password_hash").is_none() && !stdout(&shown).contains("argon2"));
    let again = run(&["import", "oneroster", bundle, "--tenant", "lincoln-usd"]);
    assert!(
        stdout(&again).contains("Users: 0 created, 0 updated, 28 unchanged"),
        "{}",
        stdout(&again)
    );
    let missing = run(&[
        "import",
        "oneroster",
        "/nonexistent/bundle",
        "--tenant",
        "lincoln-usd",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing).trim().lines().count(),
        1,
        "{}",
        stderr(&missing)
    );
}

/// `hallpass serve` with neither DISCORD_TOKEN nor HALLPASS_API_TOKEN, on port
/// 0 and a fresh SQLite file: its stderr, read line by line until it has said
/// everything it says at start-up, up to the moment it serves.
#[tokio::test]
async fn serve_warns_at_start_up_that_dms_need_a_bot_token_and_that_the_api_is_open() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("serve")
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("HALLPASS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env_remove("DISCORD_TOKEN")
        .env_remove("HALLPASS_API_TOKEN")
        .env_remove("HALLPASS_SECRET_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let wanted = [
        "listening",
        "DISCORD_TOKEN is not set",
        "HALLPASS_API_TOKEN is not set",
    ];
    let mut seen = Vec::new();
    // The DISCORD_TOKEN warning is the last thing said before serving; the
    // timeout only turns a hang into a failure.
    let read = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line);
            if wanted.iter().all(|w| seen.iter().any(|l| l.contains(w))) {
                return;
            }
        }
    })
    .await;
    let running = child.try_wait().unwrap().is_none();
    child.kill().await.unwrap();
    let log = seen.join("\n");
    assert!(read.is_ok(), "serve stopped saying things:\n{log}");
    assert!(running, "serve exited at start-up:\n{log}");
    let line = |w: &str| seen.iter().find(|l| l.contains(w)).cloned().unwrap();
    let discord = line("DISCORD_TOKEN is not set");
    assert!(discord.contains("WARN"), "{discord}");
    assert!(discord.contains("no DM can be sent"), "{discord}");
    let api = line("HALLPASS_API_TOKEN is not set");
    assert!(api.contains("WARN"), "{api}");
    assert!(api.contains("/api/v1 is open"), "{api}");
}

/// `events` audit entries, each about 400 bytes as a JSON line, their
/// reasons `event 0 …`, `event 1 …` in order.
async fn write_long_log(db: &TestDb, events: usize) {
    for n in 0..events {
        let mut entry =
            crate::helpers::cli_audit(hallpass::audit::Action::PasswordReset, crate::helpers::t0());
        entry.reason = Some(format!("event {n} {}", "x".repeat(300)));
        db.store.append_audit(&entry).await.unwrap();
    }
}

/// `hallpass audit --json` with its output and errors piped to the test.
fn audit_json_piped(db: &TestDb) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["audit", "--json"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// `hallpass audit` prints the log as it reads it, oldest first, and when
/// its reader stops early (`hallpass audit | head`) it ends quietly, exit 0,
/// rather than panicking on the closed pipe.
#[tokio::test]
async fn audit_prints_a_long_log_oldest_first_and_ends_quietly_when_its_reader_goes() {
    use std::io::{BufRead, BufReader, Read};

    let db = TestDb::sqlite().await;
    // About 600 KB of JSON lines: far more than a pipe holds.
    const EVENTS: usize = 1_500;
    write_long_log(&db, EVENTS).await;
    let all = hallpass(&db, &["audit", "--json"]);
    assert!(all.status.success(), "{}", stderr(&all));
    let reasons: Vec<String> = stdout(&all)
        .lines()
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).unwrap();
            event["reason"].as_str().unwrap_or_default().to_owned()
        })
        .filter(|r| r.starts_with("event "))
        .collect();
    assert_eq!(reasons.len(), EVENTS);
    for (n, reason) in reasons.iter().enumerate() {
        assert!(reason.starts_with(&format!("event {n} ")), "{n}: {reason}");
    }

    let mut child = audit_json_piped(&db);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, closing the pipe mid-dump.
    assert!(first.contains("\"reason\":\"event 0 "), "{first}");
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A dump whose reader is slow (`hallpass audit | less`, left open) holds no
/// read transaction while it waits on the reader: SQLite can still reset its
/// write-ahead log behind it (a transaction held open would keep the log from
/// being reset for as long as the reader stayed), and an event written after
/// the dump began is not in it.
#[tokio::test]
async fn audit_waiting_on_a_slow_reader_holds_no_transaction_and_prints_the_log_as_it_began() {
    use std::io::{BufRead, BufReader, Read};

    let db = TestDb::sqlite().await;
    // About 1.2 MB of JSON lines, three pages: the pipe holds 64 KiB.
    const EVENTS: usize = 3_000;
    write_long_log(&db, EVENTS).await;
    let mut child = audit_json_piped(&db);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("\"reason\":\"event 0 "), "{first}");
    // Mid-dump now, and it cannot go on until the pipe is read.
    let mut later =
        crate::helpers::cli_audit(hallpass::audit::Action::PasswordReset, crate::helpers::t0());
    later.reason = Some("written after the dump began".into());
    db.store.append_audit(&later).await.unwrap();
    let (busy, log, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(busy, 0, "no reader held the write-ahead log");
    assert_eq!(
        log, 0,
        "the write-ahead log was reset while the dump waited"
    );
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    let reasons: Vec<String> = std::iter::once(first.as_str())
        .chain(rest.lines())
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).unwrap();
            event["reason"].as_str().unwrap_or_default().to_owned()
        })
        .filter(|r| r.starts_with("event ") || r.starts_with("written after"))
        .collect();
    assert_eq!(
        reasons.len(),
        EVENTS,
        "the log as it was when the dump began"
    );
    for (n, reason) in reasons.iter().enumerate() {
        assert!(reason.starts_with(&format!("event {n} ")), "{n}: {reason}");
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
}
