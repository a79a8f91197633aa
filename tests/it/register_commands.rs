//! `hallpass register-commands` as an operator runs it: the real binary,
//! pointed at the local stand-in for Discord's REST API.

use std::process::Output;

use hallpass::standins::discord as standin;

async fn hallpass(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    // tokio's Command, so the stand-in keeps answering while we wait.
    tokio::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("hallpass.db").display()),
        )
        .current_dir(dir)
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn register_commands_for_a_guild_uploads_all_eight_and_opens_no_database() {
    let standin = standin::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = standin.url();
    let out = hallpass(
        dir.path(),
        &[
            ("DISCORD_API_URL", url.as_str()),
            ("DISCORD_TOKEN", "cli-token"),
            ("DISCORD_APPLICATION_ID", "42"),
        ],
        &["register-commands", "--guild", "123"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "Registered 8 commands in Discord server 123 (application 42)."
    );
    let requests = standin.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "PUT");
    assert_eq!(
        requests[0].path,
        "/api/v10/applications/42/guilds/123/commands"
    );
    assert_eq!(requests[0].authorization.as_deref(), Some("Bot cli-token"));
    let names: Vec<String> = standin
        .registered_commands(Some(123))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, hallpass::discord::command_names());
    assert!(
        !dir.path().join("hallpass.db").exists(),
        "register-commands must not open the database"
    );
}

#[tokio::test]
async fn register_commands_without_guild_registers_globally() {
    let standin = standin::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = standin.url();
    let out = hallpass(
        dir.path(),
        &[
            ("DISCORD_API_URL", url.as_str()),
            ("DISCORD_TOKEN", "cli-token"),
            ("DISCORD_APPLICATION_ID", "42"),
        ],
        &["register-commands"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Registered 8 commands globally"));
    assert_eq!(
        standin.requests()[0].path,
        "/api/v10/applications/42/commands"
    );
    assert_eq!(standin.registered_commands(None).len(), 8);
}

#[tokio::test]
async fn register_commands_without_token_or_application_id_exits_1_naming_the_variable() {
    let standin = standin::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = standin.url();
    for (env, missing) in [
        (
            vec![
                ("DISCORD_API_URL", url.as_str()),
                ("DISCORD_APPLICATION_ID", "42"),
            ],
            "DISCORD_TOKEN",
        ),
        (
            vec![
                ("DISCORD_API_URL", url.as_str()),
                ("DISCORD_TOKEN", "cli-token"),
            ],
            "DISCORD_APPLICATION_ID",
        ),
    ] {
        let out = hallpass(dir.path(), &env, &["register-commands", "--guild", "123"]).await;
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("hallpass: {missing} is not set")),
            "{stderr}"
        );
    }
    assert!(standin.requests().is_empty());
}

#[tokio::test]
async fn a_bad_application_id_or_a_refusal_from_discord_exits_1_with_the_reason() {
    let standin = standin::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = standin.url();
    let out = hallpass(
        dir.path(),
        &[
            ("DISCORD_API_URL", url.as_str()),
            ("DISCORD_TOKEN", "cli-token"),
            ("DISCORD_APPLICATION_ID", "not-a-number"),
        ],
        &["register-commands"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("DISCORD_APPLICATION_ID is invalid"));

    standin.rate_limit_next(100);
    let out = hallpass(
        dir.path(),
        &[
            ("DISCORD_API_URL", url.as_str()),
            ("DISCORD_TOKEN", "cli-token"),
            ("DISCORD_APPLICATION_ID", "42"),
        ],
        &["register-commands"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Failed to register the slash commands: Discord is rate limiting"),
        "{stderr}"
    );
    assert!(!stderr.contains("cli-token"), "{stderr}");
}
