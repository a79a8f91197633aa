//! A table of hostile values through every text field, by `/edit-user` (the
//! modal submit, signed, through the listener) and by the OneRoster import.
//! Each value is either refused with a reason or stored exactly as sent (in
//! its NFC form: names are NFC-normalised on purpose, so "José" typed two
//! ways is one name; see directory/name.rs);
//! none is executed as SQL, and none gets a 500. A lone surrogate in a JSON
//! escape (which no UTF-8 text can hold) is refused as a malformed request,
//! and in a CSV file its encoded bytes are refused as not UTF-8.

use hallpass::app::Clock;
use hallpass::directory::{Login, User};
use hallpass::roster::{ImportOptions, import_oneroster};
use unicode_normalization::UnicodeNormalization;

use crate::helpers::{TestDb, on_both_backends, t0};
use crate::import::{fixture, tenant};
use crate::interactions::Server;
use crate::load::{letters, server_with_limits, unlimited};

on_both_backends!(
    every_hostile_value_in_every_edit_user_field_is_refused_with_a_reason_or_stored_exactly,
    a_lone_surrogate_in_a_json_escape_is_refused_as_malformed_and_changes_nothing,
    every_hostile_value_in_every_imported_name_field_is_refused_with_a_reason_or_stored_exactly,
    an_import_over_the_configured_row_cap_is_refused_with_a_clear_message_and_writes_nothing,
);

async fn an_import_over_the_configured_row_cap_is_refused_with_a_clear_message_and_writes_nothing(
    db: TestDb,
) {
    let options = ImportOptions {
        limits: hallpass::roster::CsvLimits {
            max_rows: 10,
            ..Default::default()
        },
        ..ImportOptions::default()
    };
    let err = import_oneroster(&db.store, &tenant(), &fixture("sample"), &options, t0())
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "users.csv has more than 10 rows; the file was not imported (HALLPASS_IMPORT_MAX_ROWS raises the cap)."
    );
    assert!(db.store.tenant_by_name(&tenant()).await.unwrap().is_none());
}

fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("sql quote", "O'Brien".into()),
        ("sql drop", "Robert'); DROP TABLE users;--".into()),
        ("sql tautology", "x' OR '1'='1".into()),
        ("sql wildcards", "100%_\\;".into()),
        ("10,000 characters", "a".repeat(10_000)),
        ("nul", "Ana\u{0}".into()),
        ("bell", "An\u{7}a".into()),
        ("line break", "Ana\nLopez".into()),
        ("terminal escape", "\u{1b}[31mAna".into()),
        ("right-to-left override", "Ana\u{202E}gpj.exe".into()),
        ("right-to-left isolate", "\u{2067}Ana".into()),
        ("zero-width joiner", "An\u{200D}a".into()),
        ("emoji zwj sequence", "\u{1F469}\u{200D}\u{1F4BB}".into()),
        ("emoji", "Ana \u{1F600}".into()),
        ("combining accent", "Ana\u{301}".into()),
    ]
}

fn field_of(user: &User, field: &str) -> String {
    match field {
        "first_name" => user.first_name.as_str().to_owned(),
        "last_name" => user.last_name.as_str().to_owned(),
        "title" => user
            .title
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        "login" => user.login.as_str().to_owned(),
        other => panic!("no field {other}"),
    }
}

async fn every_hostile_value_in_every_edit_user_field_is_refused_with_a_reason_or_stored_exactly(
    db: TestDb,
) {
    let server = server_with_limits(db, unlimited()).await;
    let bot = &server.bot;
    let tables_before = table_count(bot).await;
    let (mut stored, mut refused) = (0, 0);
    for field in ["first_name", "last_name", "title", "login"] {
        for (what, value) in hostile() {
            let before = bot.reload(&bot.tess).await;
            let custom_id = format!("edit-user:{}:{}", before.id, before.version);
            let submit = server.discord.modal_submit(
                Server::member(&bot.sam),
                &custom_id,
                &[(field, value.as_str())],
            );
            let (status, answer) = server.send(&submit).await;
            assert_eq!(status, 200, "{field} {what}: never a 500: {answer}");
            assert_eq!(answer["data"]["flags"], 64, "{answer}");
            let content = answer["data"]["content"].as_str().unwrap_or_default();
            let after = bot.reload(&bot.tess).await;
            if content.starts_with("Updated ") {
                assert_eq!(
                    field_of(&after, field),
                    value.nfc().collect::<String>(),
                    "{field} {what}: stored exactly as sent"
                );
                stored += 1;
                // Put the record back for the next value.
                restore(&server, &after, field, &field_of(&before, field)).await;
            } else {
                assert!(
                    content.starts_with("Nothing was changed:\n• ") && content.len() > 24,
                    "{field} {what}: refused with a reason: {content:?}"
                );
                assert_eq!(after, before, "{field} {what}: a refusal changes nothing");
                refused += 1;
            }
        }
    }
    let tables_after = table_count(bot).await;
    assert_eq!(tables_after.0, tables_before.0, "no user was dropped");
    assert!(
        tables_after.1 > tables_before.1,
        "the audit log is there and grew"
    );
    assert!(
        stored > 0 && refused > 0,
        "{stored} stored, {refused} refused"
    );
    println!("hostile /edit-user: {stored} stored exactly, {refused} refused with a reason");
}

async fn restore(server: &Server, user: &User, field: &str, value: &str) {
    let custom_id = format!("edit-user:{}:{}", user.id, user.version);
    let submit = server.discord.modal_submit(
        Server::member(&server.bot.sam),
        &custom_id,
        &[(field, value)],
    );
    let (status, answer) = server.send(&submit).await;
    assert_eq!(status, 200);
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Updated "),
        "{answer}"
    );
}

/// The users and audit rows: both tables still there, no user lost.
async fn table_count(bot: &crate::bot::Bot) -> (i64, i64) {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(bot.db.store.pool())
        .await
        .unwrap();
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(bot.db.store.pool())
        .await
        .unwrap();
    (users, audit)
}

async fn a_lone_surrogate_in_a_json_escape_is_refused_as_malformed_and_changes_nothing(db: TestDb) {
    let server = server_with_limits(db, unlimited()).await;
    let bot = &server.bot;
    let before = bot.reload(&bot.tess).await;
    let custom_id = format!("edit-user:{}:{}", before.id, before.version);
    for field in ["first_name", "last_name", "title", "login"] {
        let submit = server.discord.modal_submit(
            Server::member(&bot.sam),
            &custom_id,
            &[(field, "Tess-SURROGATE")],
        );
        let body = serde_json::to_string(&submit)
            .unwrap()
            .replace("-SURROGATE", "\\ud800");
        assert!(body.contains("Tess\\ud800"));
        let timestamp = bot.clock.now().timestamp().to_string();
        let response = server
            .client
            .post(server.endpoint.clone())
            .header("content-type", "application/json")
            .header(
                "x-signature-ed25519",
                server.discord.sign(&timestamp, body.as_bytes()),
            )
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{field}");
        assert_eq!(response.text().await.unwrap(), "malformed interaction");
        assert_eq!(bot.reload(&bot.tess).await, before, "{field}");
    }
}

const HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";

async fn every_hostile_value_in_every_imported_name_field_is_refused_with_a_reason_or_stored_exactly(
    db: TestDb,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("sample").join("orgs.csv"),
        dir.path().join("orgs.csv"),
    )
    .unwrap();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(HEADER.split(',')).unwrap();
    // (line, login, column, value as sent); the header is line 1 and every
    // hostile value is quoted by the writer, line breaks and all.
    let mut rows: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
    let mut n = 0;
    for column in ["givenName", "familyName", "username"] {
        for (_, value) in hostile() {
            n += 1;
            let login = format!("hostile.{}", letters(n, 3).to_lowercase());
            rows.push((login, column, value.into_bytes()));
        }
        n += 1;
        rows.push((
            format!("surrogate.{}", letters(n, 3).to_lowercase()),
            column,
            b"Ana\xED\xA0\x80".to_vec(),
        ));
    }
    let mut lines = Vec::new();
    let mut line = 2u64;
    for (n, (login, column, value)) in rows.iter().enumerate() {
        let source_id = format!("hostile-{n}");
        let mut given = b"Ana".to_vec();
        let mut family = b"Lopez".to_vec();
        let mut username = login.as_bytes().to_vec();
        match *column {
            "givenName" => given = value.clone(),
            "familyName" => family = value.clone(),
            _ => username = value.clone(),
        }
        let record: Vec<&[u8]> = vec![
            source_id.as_bytes(),
            b"active",
            b"2026-08-17T07:00:00Z",
            b"true",
            b"lusd-lms",
            b"student",
            &username,
            b"",
            &given,
            &family,
            b"",
            b"",
            b"",
            b"",
            b"",
            b"",
            b"07",
            b"",
        ];
        csv.write_record(&record).unwrap();
        lines.push(line);
        line += 1 + value.iter().filter(|b| **b == b'\n').count() as u64;
    }
    std::fs::write(dir.path().join("users.csv"), csv.into_inner().unwrap()).unwrap();
    let report = import_oneroster(
        &db.store,
        &tenant(),
        dir.path(),
        &ImportOptions::default(),
        t0(),
    )
    .await
    .unwrap();
    let tenant_id = db
        .store
        .tenant_by_name(&tenant())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (mut stored, mut refused) = (0, 0);
    for ((login, column, value), line) in rows.iter().zip(lines) {
        let refusal = report
            .refused
            .iter()
            .find(|r| r.file == "users.csv" && r.line == line);
        let text = String::from_utf8_lossy(value);
        match refusal {
            Some(r) => {
                assert!(r.reason.len() > 10, "{column} {text:?}: a reason: {r:?}");
                refused += 1;
            }
            None => {
                let login = if *column == "username" {
                    text.to_string()
                } else {
                    login.clone()
                };
                let user = db
                    .store
                    .user_by_login(tenant_id, &Login::parse(&login).unwrap())
                    .await
                    .unwrap()
                    .unwrap_or_else(|| {
                        panic!("{column} {text:?}: neither refused nor stored: {report}")
                    });
                let got = match *column {
                    "givenName" => user.first_name.as_str().to_owned(),
                    "familyName" => user.last_name.as_str().to_owned(),
                    _ => user.login.as_str().to_owned(),
                };
                assert_eq!(
                    got,
                    text.nfc().collect::<String>(),
                    "{column}: stored exactly as sent"
                );
                stored += 1;
            }
        }
    }
    assert!(
        stored > 0 && refused > 0,
        "{stored} stored, {refused} refused"
    );
    println!("hostile import: {stored} stored exactly, {refused} refused with a reason");
}
