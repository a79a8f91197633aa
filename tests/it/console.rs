//! The console runs the same handlers as the bot and answers alike.

use std::io::Write;
use std::process::{Command, Stdio};

use hallpass::commands::Request;
use hallpass::console::{Console, Outcome};

use crate::bot::Bot;

fn lines(outcome: Outcome) -> Vec<String> {
    match outcome {
        Outcome::Lines(lines) => lines,
        Outcome::Form(modal) => panic!("expected lines, got the form {modal:?}"),
    }
}

#[tokio::test]
async fn the_console_gives_the_same_answers_as_the_bot() {
    let bot = Bot::new().await;
    let console = Console::new(bot.app.clone(), "lincoln", "tess.teach")
        .await
        .unwrap();
    let from_bot = bot
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    let from_console = lines(console.run_line("/whois user:ana.lopez").await);
    assert_eq!(
        from_console[0],
        format!("(only you can see this) {}", from_bot.text())
    );
    let hidden = lines(console.run_line("/whois user:cara.diaz").await);
    assert_eq!(
        hidden[0],
        "(only you can see this) No user you can manage matches that."
    );
    let teacher = lines(console.run_line("/edit-user user:tom.teach").await);
    let from_bot = bot
        .run(
            &bot.tess,
            Request::command("edit-user", &[("user", &bot.tom.id.to_string())]),
        )
        .await;
    assert_eq!(
        teacher[0],
        format!("(only you can see this) {}", from_bot.text())
    );
}

#[tokio::test]
async fn a_reset_from_the_console_shows_the_password_privately_and_stores_only_its_hash() {
    let bot = Bot::new().await;
    let console = Console::new(bot.app.clone(), "lincoln", "tess.teach")
        .await
        .unwrap();
    let out = lines(console.run_line("/reset-password user:lopez").await);
    assert!(out[0].contains("Done: Lopez, Ana (ana.lopez)"), "{out:?}");
    let secret = out
        .iter()
        .find(|l| l.starts_with("[only you can see this] Temporary password"))
        .expect("the password, privately");
    let password = secret.split('`').nth(1).unwrap();
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    // The credentials row holds the argon2id PHC string and nothing that is,
    // or contains, the password itself.
    assert!(
        stored.phc.starts_with("$argon2id$"),
        "an argon2id PHC string"
    );
    let row = crate::unchanged::every_value_in(&bot.db.store, "credentials").await;
    assert!(row.contains(&stored.phc), "{} values", row.len());
    assert!(
        !row.iter().any(|v| v.contains(password)),
        "the plain password is stored"
    );
    let hash = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        bot.app
            .hasher
            .verify(&secrecy::SecretString::from(password.to_owned()), &hash)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_console_fills_in_the_edit_form_and_lists_ambiguous_names() {
    let bot = Bot::new().await;
    let console = Console::new(bot.app.clone(), "lincoln", "sam.admin")
        .await
        .unwrap();
    let Outcome::Form(modal) = console.run_line("/edit-user user:ana").await else {
        panic!("expected the form")
    };
    let mut values: std::collections::BTreeMap<String, String> = modal
        .inputs
        .iter()
        .map(|i| (i.custom_id.clone(), i.value.clone()))
        .collect();
    values.insert("grade".into(), "08".into());
    let done = lines(console.submit_form(&modal, values).await);
    assert_eq!(
        done[0],
        "(only you can see this) Updated Lopez, Ana:\n• grade: 07 → 08"
    );
    let ambiguous = lines(console.run_line("/whois user:t").await);
    assert!(
        ambiguous[0].starts_with("Several match \"t\""),
        "{ambiguous:?}"
    );
    assert!(ambiguous.len() >= 3);
}

#[tokio::test]
async fn the_console_binary_reads_commands_from_standard_input() {
    let bot = Bot::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["console", "--tenant", "lincoln", "--as", "tess.teach"])
        .env("DATABASE_URL", &bot.db.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/whois user:ana.lopez\n/quit\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("you are Teach, Tess (tess.teach, teacher)"),
        "{stdout}"
    );
    assert!(stdout.contains("**Lopez, Ana** (ana.lopez)"), "{stdout}");
}
