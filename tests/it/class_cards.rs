//! `/class-cards` through the command handlers, on SQLite and PostgreSQL:
//! what autocomplete offers each role, the prompt that changes nothing,
//! Cancel, Confirm (each student reset under the policy, the skipped
//! counted, the PDF read back), a stale or reused Confirm, the audit
//! entries and the burst alert.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use hallpass::audit::Action;
use hallpass::commands::class_cards::NO_SUCH_CLASS;
use hallpass::commands::{Body, Reply, Request, Undo};
use hallpass::directory::DiscordChannelId;
use hallpass::discord::DiscordRest;
use hallpass::standins::discord as standin;
use hallpass::store::UserChanges;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::class_world::{ClassWorld, button};
use crate::helpers::{TestDb, cli_audit, on_both_backends, t0};

on_both_backends!(
    autocomplete_offers_teachers_their_classes_school_admins_their_schools_and_district_admins_their_districts,
    the_prompt_names_the_class_and_the_count_and_neither_it_nor_cancel_changes_a_password,
    a_class_the_actor_may_not_act_on_gets_the_answer_for_no_class_at_all_and_is_audited,
    confirm_resets_every_student_the_actor_may_reset_skips_and_counts_the_others_and_audits_each,
    a_confirm_after_the_class_changed_is_refused_and_changes_nothing,
    one_prompt_prints_once,
);

/// The text of a PDF, by `pdftotext` (poppler-utils; the test fails without it).
pub fn pdf_text(pdf: &[u8]) -> String {
    let mut child = Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (apt-get install poppler-utils)");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Every temporary password (`word-word-word-123`) in a text.
pub fn passwords_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|token| {
            let parts: Vec<&str> = token.split('-').collect();
            parts.len() >= 3
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
                && parts[parts.len() - 1].len() >= 2
                && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

/// The PDF a Confirm answered with.
pub fn attached_pdf(reply: &Reply) -> Vec<u8> {
    let secret = reply.secret.as_ref().expect("a secret delivery");
    let attachment = secret.attachment.as_ref().expect("an attachment");
    assert_eq!(attachment.content_type, "application/pdf");
    assert!(
        attachment.filename.ends_with(".pdf"),
        "{}",
        attachment.filename
    );
    attachment.bytes.expose_secret().to_vec()
}

fn offered(reply: &Reply) -> Vec<String> {
    match &reply.body {
        Body::Choices(choices) => choices.iter().map(|c| c.name.clone()).collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

async fn autocomplete_offers_teachers_their_classes_school_admins_their_schools_and_district_admins_their_districts(
    db: TestDb,
) {
    let world = ClassWorld::on(db).await;
    let typed =
        |text: &'static str| Request::autocomplete("class-cards", "class", &[("class", text)]);
    let titles = |reply: &Reply| -> Vec<String> {
        offered(reply)
            .iter()
            .map(|name| name.split(" · ").next().unwrap().to_owned())
            .collect()
    };
    let rivera = world.run("m.rivera", typed("")).await;
    assert_eq!(titles(&rivera), ["Science 7B (SCI-7B)"]);
    assert!(
        offered(&rivera)[0].ends_with(" · Lincoln Middle School"),
        "{rivera:?}"
    );
    assert_eq!(
        titles(&world.run("j.okafor", typed("")).await),
        ["Math 8 (MATH-8)"]
    );
    assert_eq!(
        titles(&world.run("s.patel", typed("")).await),
        ["Math 8 (MATH-8)", "Science 7B (SCI-7B)"]
    );
    assert_eq!(titles(&world.run("k.adams", typed("")).await), ["Art 4"]);
    assert_eq!(
        titles(&world.run("d.whitfield", typed("")).await),
        ["Art 4", "Math 8 (MATH-8)", "Science 7B (SCI-7B)"]
    );
    assert_eq!(
        titles(&world.run("b.shore", typed("")).await),
        ["Bay Biology (BIO-10)"]
    );
    assert!(offered(&world.run("ada.lovelace", typed("")).await).is_empty());
    // What is typed narrows by title or class code.
    assert_eq!(
        titles(&world.run("d.whitfield", typed("sci")).await),
        ["Science 7B (SCI-7B)"]
    );
    assert_eq!(
        titles(&world.run("s.patel", typed("MATH-")).await),
        ["Math 8 (MATH-8)"]
    );
    // The value is the class's stable id.
    let science = world.class("c-sci7b").await;
    let Body::Choices(choices) = world.run("m.rivera", typed("")).await.body else {
        panic!("choices");
    };
    assert_eq!(choices[0].value, science.id.to_string());
}

async fn the_prompt_names_the_class_and_the_count_and_neither_it_nor_cancel_changes_a_password(
    db: TestDb,
) {
    let world = ClassWorld::on(db).await;
    let students = world.science_students().await;
    assert_eq!(students.len(), 5);
    for s in &students {
        world.give_password(s, "old password of mine").await;
    }
    let science = world.class("c-sci7b").await;
    let (content, buttons) = world.prompt("m.rivera", &science.id.to_string()).await;
    assert_eq!(
        content,
        "Print login cards for **Science 7B (SCI-7B)** at Lincoln Middle School: 5 students will get a new temporary password; their current passwords stop working. (1 student you may not reset will be skipped.)"
    );
    assert_eq!(buttons.len(), 2);
    assert!(
        button(&buttons, "Confirm")
            .custom_id
            .starts_with("class-cards:confirm:")
    );
    let cancel = button(&buttons, "Cancel");
    for s in &students {
        assert!(world.signs_in(s, "old password of mine").await);
    }
    // A sourcedId typed by hand names the same class.
    let (by_sourced_id, _) = world.prompt("m.rivera", "c-sci7b").await;
    assert_eq!(by_sourced_id, content);

    let cancelled = world
        .run("m.rivera", Request::button(&cancel.custom_id))
        .await;
    assert_eq!(cancelled.text(), "Cancelled; nothing was changed.");
    assert!(cancelled.secret.is_none());
    for s in &students {
        assert!(world.signs_in(s, "old password of mine").await);
    }
    let resets = world
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == Action::PasswordReset.as_str() && e.actor_user_id.is_some())
        .count();
    assert_eq!(resets, 0, "no reset was made or audited");
}

async fn a_class_the_actor_may_not_act_on_gets_the_answer_for_no_class_at_all_and_is_audited(
    db: TestDb,
) {
    let world = ClassWorld::on(db).await;
    let science = world.class("c-sci7b").await.id.to_string();
    for (login, class) in [
        ("j.okafor", science.as_str()),
        ("j.okafor", "c-sci7b"),
        ("k.adams", science.as_str()),
        ("b.shore", science.as_str()),
        ("ada.lovelace", science.as_str()),
        ("m.rivera", "c-nope"),
        ("m.rivera", "0193a000-0000-7000-8000-000000000000"),
    ] {
        let reply = world
            .run(login, Request::command("class-cards", &[("class", class)]))
            .await;
        assert_eq!(reply.text(), NO_SUCH_CLASS, "{login} naming {class}");
    }
    let refused = world
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == Action::ClassCards.as_str() && e.outcome == "refused")
        .count();
    assert_eq!(refused, 7);
}

/// Rivera's prompt for Science 7B, confirmed.
async fn confirm_science(world: &ClassWorld, login: &str) -> Reply {
    let (_, buttons) = world.prompt(login, "c-sci7b").await;
    world
        .run(
            login,
            Request::button(&button(&buttons, "Confirm").custom_id),
        )
        .await
}

async fn confirm_resets_every_student_the_actor_may_reset_skips_and_counts_the_others_and_audits_each(
    db: TestDb,
) {
    let world = ClassWorld::on(db).await;
    let fay = world.user("fay.gone").await;
    world.give_password(&fay, "fay keeps this one").await;
    let reply = confirm_science(&world, "m.rivera").await;
    assert_eq!(
        reply.text(),
        "Done: 5 new temporary passwords for **Science 7B (SCI-7B)**; the cards are in your DMs. Skipped 1 you may not reset."
    );
    let secret = reply.secret.as_ref().unwrap();
    assert!(
        !secret.text.expose_secret().contains('`'),
        "no password in the DM text"
    );
    let Some(Undo::Passwords(undo)) = &secret.undo else {
        panic!("the batch's undo");
    };
    assert_eq!(undo.len(), 5);

    let text = pdf_text(&attached_pdf(&reply));
    let passwords = passwords_in(&text);
    assert_eq!(passwords.len(), 5, "{text}");
    let students = world.science_students().await;
    for student in &students {
        let login = student.login.as_str();
        assert_eq!(text.matches(login).count(), 1, "{login} once in {text}");
        let theirs: Vec<&String> = {
            let mut found = Vec::new();
            for p in &passwords {
                if world.signs_in(student, p).await {
                    found.push(p);
                }
            }
            found
        };
        assert_eq!(theirs.len(), 1, "exactly one card's password is {login}'s");
        assert_eq!(text.matches(theirs[0].as_str()).count(), 1);
        assert!(world.user(login).await.must_change_password);
    }
    assert!(text.contains("Science 7B"), "{text}");
    assert!(text.contains("Lincoln Middle School"), "{text}");
    assert!(
        world.signs_in(&fay, "fay keeps this one").await,
        "the skipped are untouched"
    );

    let events = world.audit().await;
    let resets: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::PasswordReset.as_str() && e.actor_user_id.is_some())
        .collect();
    assert_eq!(resets.len(), 5);
    let batch = resets[0].after.as_ref().unwrap()["batch"].clone();
    assert!(batch.is_string());
    assert!(
        resets
            .iter()
            .all(|e| e.after.as_ref().unwrap()["batch"] == batch)
    );
    let summaries: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::ClassCards.as_str())
        .collect();
    assert_eq!(summaries.len(), 1);
    let summary = summaries[0].after.as_ref().unwrap();
    assert_eq!(summary["batch"], batch);
    assert_eq!(summary["reset"], 5);
    assert_eq!(summary["skipped"], 1);
    assert_eq!(summaries[0].target.as_deref(), Some("Science 7B (SCI-7B)"));
    let log = serde_json::to_string(&events).unwrap();
    for p in &passwords {
        assert!(
            !log.contains(p.as_str()),
            "a password reached the audit log"
        );
    }
    assert!(!log.contains("%PDF"), "the PDF reached the audit log");
}

async fn a_confirm_after_the_class_changed_is_refused_and_changes_nothing(db: TestDb) {
    let world = ClassWorld::on(db).await;
    let students = world.science_students().await;
    for s in &students {
        world.give_password(s, "old password of mine").await;
    }
    let (_, buttons) = world.prompt("m.rivera", "c-sci7b").await;
    let eve = world.user("eve.zhou").await;
    let disabled = UserChanges {
        disabled: Some(true),
        ..UserChanges::default()
    };
    world
        .db
        .store
        .update_user(&eve, &disabled, cli_audit(Action::UserDisable, t0()))
        .await
        .unwrap();
    let reply = world
        .run(
            "m.rivera",
            Request::button(&button(&buttons, "Confirm").custom_id),
        )
        .await;
    assert_eq!(
        reply.text(),
        "The class changed since you asked; nothing was changed. Run /class-cards again."
    );
    assert!(reply.secret.is_none());
    for s in &students {
        assert!(world.signs_in(s, "old password of mine").await);
    }
    // A new prompt counts what the class is now.
    let (content, _) = world.prompt("m.rivera", "c-sci7b").await;
    assert!(content.contains(": 4 students will get"), "{content}");
    assert!(
        content.contains("(2 students you may not reset"),
        "{content}"
    );
}

async fn one_prompt_prints_once(db: TestDb) {
    let world = ClassWorld::on(db).await;
    let (_, buttons) = world.prompt("m.rivera", "c-sci7b").await;
    let confirm = &button(&buttons, "Confirm").custom_id;
    let first = world.run("m.rivera", Request::button(confirm)).await;
    assert!(first.text().starts_with("Done: 5 new"), "{}", first.text());
    let again = world.run("m.rivera", Request::button(confirm)).await;
    assert!(
        again.text().starts_with("These cards were already printed"),
        "{}",
        again.text()
    );
    assert!(again.secret.is_none());
    // The authority is checked again at the click: a forged Confirm for a
    // class the clicker may not act on is refused like no class at all.
    let forged = confirm.clone();
    let okafor = world.run("j.okafor", Request::button(&forged)).await;
    assert_eq!(okafor.text(), NO_SUCH_CLASS);
}

#[tokio::test]
async fn a_class_batch_is_one_burst_event_and_its_alert_names_the_class_and_count() {
    const CHANNEL: u64 = 1_310_000_000_000_000_078;
    let mut world = ClassWorld::with(TestDb::sqlite().await, 8).await;
    let discord = standin::start().await.unwrap();
    discord.add_text_channel(CHANNEL);
    let rest = DiscordRest::new(
        &discord.url(),
        Some(&SecretString::from("test-bot-token")),
        Some(42),
    )
    .unwrap();
    world.app.alerts = Some(Arc::new(rest));
    world
        .db
        .store
        .set_audit_channel(
            &world.tenant,
            DiscordChannelId::new(CHANNEL),
            cli_audit(Action::TenantAuditChannel, t0()),
        )
        .await
        .unwrap();
    // 13 students, over the default threshold of 10, in one batch: one event,
    // so no alert by itself.
    let reply = confirm_science(&world, "m.rivera").await;
    assert!(reply.text().starts_with("Done: 13 new"), "{}", reply.text());
    assert!(
        discord.channel_messages(CHANNEL).is_empty(),
        "a class's cards alone are no burst"
    );
    // Nine single resets: ten events, still at the threshold.
    for _ in 0..9 {
        let single = world
            .run(
                "m.rivera",
                Request::command("reset-password", &[("user", "ben.ng")]),
            )
            .await;
        assert!(single.secret.is_some(), "{}", single.text());
    }
    assert!(discord.channel_messages(CHANNEL).is_empty());
    // The next batch is the eleventh event: one alert, naming the class.
    let again = confirm_science(&world, "m.rivera").await;
    assert!(again.text().starts_with("Done: 13 new"), "{}", again.text());
    let messages = discord.channel_messages(CHANNEL);
    assert_eq!(messages.len(), 1, "one alert for the batch: {messages:?}");
    assert!(
        messages[0].starts_with(
            "Burst alert: Rivera, Maria (m.rivera) printed login cards for Science 7B (SCI-7B), 13 new passwords at once, and has made 11 password resets (a class's login cards count as one) in the last 10 minutes"
        ),
        "{}",
        messages[0]
    );
    let alerts: Vec<Value> = world
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == Action::BurstAlert.as_str())
        .map(|e| e.after.unwrap())
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["class"], "Science 7B (SCI-7B)");
    assert_eq!(alerts[0]["batch_resets"], 13);
    assert_eq!(alerts[0]["resets"], 11);

    // Within the window one alert is enough (Okafor's Math 8 is his own
    // count, and at 1 event far under the threshold).
    let (_, buttons) = world.prompt("j.okafor", "c-math8").await;
    let math = world
        .run(
            "j.okafor",
            Request::button(&button(&buttons, "Confirm").custom_id),
        )
        .await;
    assert!(math.text().starts_with("Done: 2 new"), "{}", math.text());
    assert_eq!(discord.channel_messages(CHANNEL).len(), 1);
}
