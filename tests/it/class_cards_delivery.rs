//! `/class-cards` end to end through the real listener with signed
//! interactions (the Discord stand-in on the other side): the prompt with its
//! buttons, Confirm deferred and the prompt edited, the PDF as a DM
//! attachment, read back with `pdftotext` and `pdftoppm` + `rqrr`, its
//! passwords signing in through `POST /api/v1/login`; the follow-up when DMs
//! are closed, and the roll-back of the whole batch when nothing can be
//! delivered.

use hallpass::directory::User;
use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::capture::Captured;
use crate::cards_pdf::qr_cells;
use crate::class_cards::{passwords_in, pdf_text};
use crate::class_listener::Listening;
use crate::class_world::ClassWorld;
use crate::helpers::{TestDb, on_both_backends};

const OLD: &str = "the old one still here";

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    confirm_sends_the_cards_as_a_dm_attachment_whose_passwords_sign_in_and_must_be_changed,
    with_dms_closed_the_cards_come_in_the_ephemeral_follow_up,
    when_neither_a_dm_nor_a_follow_up_gets_through_every_reset_of_the_batch_is_rolled_back,
);

/// The world behind the listener, every Science 7B student with [`OLD`] as password.
pub async fn start(db: TestDb) -> (Listening, Vec<User>) {
    let listening = Listening::start(ClassWorld::on(db).await).await;
    let students = listening.world.science_students().await;
    for s in &students {
        listening.world.give_password(s, OLD).await;
    }
    (listening, students)
}

/// Rivera's prompt for Science 7B, confirmed; the edit of the prompt.
pub async fn confirm(l: &Listening) -> (serde_json::Value, String) {
    let (prompt, ids) = l.prompt("m.rivera", "c-sci7b").await;
    assert_eq!(prompt["type"], 4, "{prompt}");
    assert_eq!(prompt["data"]["flags"], 64, "only the teacher sees it");
    let content = prompt["data"]["content"].as_str().unwrap();
    assert!(
        content.contains("5 students will get a new temporary password"),
        "{content}"
    );
    assert_eq!(ids.len(), 2);
    let confirm = ids
        .iter()
        .find(|id| id.starts_with("class-cards:confirm:"))
        .unwrap();
    let (answer, token) = l.click("m.rivera", confirm).await;
    assert_eq!(
        answer["type"], 6,
        "a slow click is acknowledged first: {answer}"
    );
    let edit = l.edited(&token).await;
    assert_eq!(
        edit["components"],
        json!([]),
        "the buttons are gone: {edit}"
    );
    (edit, token)
}

/// Each student's password on the cards: exactly one per student, found by
/// signing in through the API (which also shows it must be changed).
async fn sign_in_with_cards(l: &Listening, students: &[User], text: &str) {
    let passwords = passwords_in(text);
    assert_eq!(passwords.len(), students.len(), "{text}");
    for student in students {
        let login = student.login.as_str();
        assert_eq!(text.matches(login).count(), 1, "{login} once on the cards");
        let mut theirs = Vec::new();
        for p in &passwords {
            let (status, body) = l.login(login, p).await;
            if status == 200 {
                assert_eq!(body["must_change_password"], true, "{body}");
                theirs.push(p.clone());
            }
        }
        assert_eq!(theirs.len(), 1, "one card's password signs {login} in");
        assert_eq!(text.matches(theirs[0].as_str()).count(), 1);
        let (old, _) = l.login(login, OLD).await;
        assert_eq!(old, 401, "the old password stopped working");
    }
}

async fn confirm_sends_the_cards_as_a_dm_attachment_whose_passwords_sign_in_and_must_be_changed(
    db: TestDb,
) {
    let (l, students) = start(db).await;
    let fay = l.world.user("fay.gone").await;
    let (edit, _) = confirm(&l).await;
    let content = edit["content"].as_str().unwrap();
    assert!(
        content.starts_with("Done: 5 new temporary passwords for **Science 7B (SCI-7B)**; the cards are in your DMs. Skipped 1 you may not reset."),
        "{content}"
    );
    let rivera = l
        .world
        .user("m.rivera")
        .await
        .discord_user_id
        .unwrap()
        .get();
    let files = l.standin.dm_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let (to, file) = &files[0];
    assert_eq!(*to, rivera);
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(file.filename, "login-cards-science-7b-sci-7b.pdf");
    let dms = l.standin.dms();
    assert!(
        dms.iter().any(|(to, text)| *to == rivera
            && text.starts_with("Login cards for Science 7B (SCI-7B): 5 students.")),
        "{dms:?}"
    );
    let text = pdf_text(&file.bytes);
    sign_in_with_cards(&l, &students, &text).await;
    assert!(
        !text.contains(fay.login.as_str()),
        "the skipped get no card"
    );
    assert!(l.standin.followup_files().is_empty());
}

async fn with_dms_closed_the_cards_come_in_the_ephemeral_follow_up(db: TestDb) {
    let (l, students) = start(db).await;
    l.standin.fail_dms_with(50007);
    let (edit, token) = confirm(&l).await;
    let content = edit["content"].as_str().unwrap();
    assert!(content.starts_with("Done: 5 new"), "{content}");
    assert!(l.standin.dm_files().is_empty());
    let files = l.standin.followup_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].0, token);
    sign_in_with_cards(&l, &students, &pdf_text(&files[0].1.bytes)).await;
}

async fn when_neither_a_dm_nor_a_follow_up_gets_through_every_reset_of_the_batch_is_rolled_back(
    db: TestDb,
) {
    let (l, students) = start(db).await;
    l.standin.fail_dms_with(50007);
    l.standin.fail_followups();
    let (edit, _) = confirm(&l).await;
    let content = edit["content"].as_str().unwrap();
    assert!(
        content.contains("5 new passwords were taken back"),
        "{content}"
    );
    assert!(l.standin.dm_files().is_empty());
    assert!(l.standin.followup_files().is_empty());
    for s in &students {
        let (status, body) = l.login(s.login.as_str(), OLD).await;
        assert_eq!(
            status, 200,
            "{}'s old password works again: {body}",
            s.login
        );
        assert_eq!(body["must_change_password"], false);
    }
}

/// Every QR code on the PDF's pages, cell by cell (see `cards_pdf::qr_cells`).
pub fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cards.pdf");
    std::fs::write(&file, pdf).unwrap();
    qr_cells(&file, dir.path()).into_iter().flatten().collect()
}

#[tokio::test(flavor = "current_thread")]
async fn the_cards_qr_codes_lead_to_the_sign_in_page_with_tenant_and_login_and_no_log_line_holds_a_password()
 {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(FmtSpan::NEW)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (l, students) = start(TestDb::sqlite().await).await;
    confirm(&l).await;
    let files = l.standin.dm_files();
    let pdf = &files[0].1.bytes;
    let passwords = passwords_in(&pdf_text(pdf));
    let mut codes = qr_codes(pdf);
    codes.sort();
    let mut expected: Vec<String> = students
        .iter()
        .map(|s| {
            format!(
                "{}/signin?tenant=lincoln&login={}",
                l.base,
                s.login.as_str()
            )
        })
        .collect();
    expected.sort();
    assert_eq!(codes, expected);
    let log = captured.text();
    assert!(!log.is_empty(), "the capture saw the request");
    for p in &passwords {
        assert!(
            codes.iter().all(|c| !c.contains(p.as_str())),
            "no QR holds a password"
        );
        assert!(!log.contains(p.as_str()), "a password reached the log");
    }
    assert!(!log.contains("%PDF"), "the PDF reached the log");
}
