//! The slash-command handlers, called as every transport calls them.

use hallpass::audit::AuditQuery;
use hallpass::commands::{Body, Reply, Request};
use hallpass::credentials::PasswordHash;
use hallpass::directory::{DiscordGuildId, DiscordUserId, Role};
use secrecy::{ExposeSecret, SecretString};

use crate::bot::Bot;
use crate::helpers::{TestDb, on_both_backends};
use crate::unchanged::Snapshot;

// Every test here runs twice: on a fresh SQLite file and on a fresh
// PostgreSQL database (as the store conformance suite does), so quotas,
// link codes and restores are exercised on the backend that makes them hard.
on_both_backends!(
    a_teacher_resets_a_student_of_their_school_and_only_the_teacher_receives_the_password,
    a_student_of_another_school_is_answered_exactly_like_a_user_that_does_not_exist,
    self_service_reset_is_limited_to_three_a_day_and_says_how_many_are_left,
    the_self_service_quota_is_held_in_the_database_across_restarts,
    an_unlinked_chat_account_can_run_link_and_nothing_else,
    a_link_code_is_refused_one_second_after_a_day,
    a_link_code_still_works_one_second_before_a_day_is_up,
    a_link_code_is_stored_only_as_a_hash,
    a_temporary_password_expires_72_hours_after_it_was_issued_by_the_clock,
    an_unbound_server_gets_the_operator_command_that_binds_it,
    edit_user_opens_a_modal_with_only_the_fields_this_actor_may_change,
    the_modal_submit_applies_the_change_and_summarises_before_and_after,
    two_educators_with_the_same_form_open_the_second_is_told_it_changed,
    bad_modal_values_are_explained_and_change_nothing,
    a_teacher_cannot_edit_another_teacher_and_is_told_why,
    a_district_admin_moves_a_student_to_another_school_and_sees_before_and_after,
    moves_outside_the_rules_are_refused_with_the_rule,
    a_district_admin_switches_a_school_admin_to_district_admin_and_back,
    autocomplete_offers_only_people_the_actor_can_see,
    whois_shows_a_minimal_card_and_audit_is_for_admins,
    a_burst_of_commands_beyond_the_limit_is_answered_with_when_to_try_again,
    autocomplete_beyond_its_budget_offers_one_choice_saying_when_to_try_again,
);

const NO_SUCH_USER: &str = "No user you can manage matches that.";

fn choices(reply: &Reply) -> Vec<(String, String)> {
    match &reply.body {
        Body::Choices(choices) => choices
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

/// The text between the single pair of backticks.
fn code_span(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    assert_eq!(parts.len(), 3, "exactly one inline code span in {text:?}");
    parts[1].to_owned()
}

async fn a_teacher_resets_a_student_of_their_school_and_only_the_teacher_receives_the_password(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let reply = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    assert!(matches!(
        reply.body,
        Body::Text {
            ephemeral: true,
            ..
        }
    ));
    assert!(reply.text().contains("Lopez, Ana"), "{}", reply.text());
    let secret = reply.secret.as_ref().expect("a password to deliver");
    assert_eq!(
        secret.to, bot.tess.discord_user_id,
        "the password goes to the invoker"
    );
    let password = code_span(secret.text.expose_secret());
    assert!(regex_like_passphrase(&password), "{password}");
    assert!(
        !reply.text().contains(&password),
        "the visible reply never holds the password"
    );
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let hash = PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        bot.app
            .hasher
            .verify(&SecretString::from(password.clone()), &hash)
            .await
            .unwrap()
    );
    assert_eq!(
        stored.expires_at,
        Some(crate::helpers::t0() + chrono::Duration::hours(72))
    );
    assert!(bot.reload(&bot.ana).await.must_change_password);
    let audit = serde_json::to_string(
        &bot.db
            .store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        !audit.contains(&password) && !audit.contains(&stored.phc),
        "no secret in the audit log"
    );
    assert!(audit.contains("password.reset"));
}

fn regex_like_passphrase(p: &str) -> bool {
    let parts: Vec<&str> = p.split('-').collect();
    parts.len() == 4
        && parts[..3]
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && parts[3].len() == 3
        && parts[3].chars().all(|c| c.is_ascii_digit())
}

async fn a_student_of_another_school_is_answered_exactly_like_a_user_that_does_not_exist(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let before = Snapshot::of(&bot).await;
    let hidden = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    let missing = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &uuid::Uuid::now_v7().to_string())],
        )
        .await;
    let by_login = bot
        .command(&bot.tess, "whois", &[("user", "cara.diaz")])
        .await;
    assert_eq!(hidden.text(), NO_SUCH_USER);
    assert_eq!(missing.text(), NO_SUCH_USER);
    assert_eq!(by_login.text(), NO_SUCH_USER);
    assert!(hidden.secret.is_none());
    assert_eq!(
        bot.db
            .store
            .password_hash(bot.world.tenant.id, bot.cara.id)
            .await
            .unwrap(),
        None
    );
    // Each refused attempt is audited, and nothing else changed.
    before.assert_only_refusals(&bot, &[NO_SUCH_USER; 3]).await;
}

async fn self_service_reset_is_limited_to_three_a_day_and_says_how_many_are_left(db: TestDb) {
    let bot = Bot::on(db).await;
    for left in [2, 1, 0] {
        let reply = bot.command(&bot.ana, "reset-password", &[]).await;
        assert!(
            reply
                .text()
                .contains(&format!("Self-service resets left today: {left}.")),
            "{}",
            reply.text()
        );
        assert_eq!(reply.secret.as_ref().unwrap().to, bot.ana.discord_user_id);
    }
    let before = Snapshot::of(&bot).await;
    let refused = bot.command(&bot.ana, "reset-password", &[]).await;
    assert!(
        refused
            .text()
            .contains("You've used all 3 self-service password resets for today"),
        "{}",
        refused.text()
    );
    before.assert_only_refusals(&bot, &[refused.text()]).await;
    assert!(
        refused.text().contains("09:00 UTC"),
        "says when: {}",
        refused.text()
    );
    assert!(refused.secret.is_none());
    bot.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let again = bot.command(&bot.ana, "reset-password", &[]).await;
    assert!(again.text().contains("left today: 2"), "{}", again.text());
}

async fn the_self_service_quota_is_held_in_the_database_across_restarts(db: TestDb) {
    let bot = Bot::on(db).await;
    for _ in 0..3 {
        bot.command(&bot.ana, "reset-password", &[]).await;
    }
    // A second instance of the app on the same database: the limit holds.
    let restarted = hallpass::app::App {
        limits: std::sync::Arc::new(hallpass::limits::Limits::default()),
        ..bot.app.clone()
    };
    let reply = hallpass::commands::handle(
        &restarted,
        &Bot::inv(&bot.ana),
        Request::command("reset-password", &[]),
    )
    .await;
    assert!(
        reply.text().contains("You've used all 3"),
        "{}",
        reply.text()
    );
}

async fn an_unlinked_chat_account_can_run_link_and_nothing_else(db: TestDb) {
    let bot = Bot::on(db).await;
    let mut stranger = bot.cara.clone();
    stranger.discord_user_id = Some(DiscordUserId::new(9999));
    let before = Snapshot::of(&bot).await;
    let reply = bot
        .command(&stranger, "whois", &[("user", "ana.lopez")])
        .await;
    assert!(
        reply.text().contains("isn't linked to hallpass yet"),
        "{}",
        reply.text()
    );
    before.assert_unchanged(&bot).await;
    let choices_reply = bot
        .run(
            &stranger,
            Request::autocomplete("whois", "user", &[("user", "a")]),
        )
        .await;
    assert!(choices(&choices_reply).is_empty());
    // An admin issues a code; the stranger links with it.
    let before = Snapshot::of(&bot).await;
    let issued = bot
        .command(&bot.sam, "link-code", &[("user", &bot.cara.id.to_string())])
        .await;
    assert!(
        issued.secret.is_none(),
        "cara is in A2: a school admin of A1 can't see her"
    );
    assert_eq!(issued.text(), NO_SUCH_USER);
    before.assert_only_refusals(&bot, &[NO_SUCH_USER]).await;
    let issued = bot
        .command(
            &bot.dana,
            "link-code",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    let code = code_span(issued.secret.as_ref().unwrap().text.expose_secret());
    assert_eq!(issued.secret.as_ref().unwrap().to, bot.dana.discord_user_id);
    let linked = bot
        .command(
            &stranger,
            "link",
            &[("code", &code.to_lowercase().replace('-', ""))],
        )
        .await;
    assert!(linked.text().contains("You're linked"), "{}", linked.text());
    assert_eq!(
        bot.reload(&bot.cara).await.discord_user_id,
        Some(DiscordUserId::new(9999))
    );
    let mut another = bot.dev.clone();
    another.discord_user_id = Some(DiscordUserId::new(8888));
    let before = Snapshot::of(&bot).await;
    let reused = bot.command(&another, "link", &[("code", &code)]).await;
    assert!(
        reused.text().contains("That code doesn't work"),
        "a code works once: {}",
        reused.text()
    );
    // A wrong code counts against the account's hourly budget of tries.
    before
        .assert_only_refusals_and_rows(&bot, &[reused.text()], &[("quota_usage", 1)])
        .await;
}

async fn issue_link_code(bot: &Bot, for_whom: &hallpass::directory::User) -> String {
    let issued = bot
        .command(
            &bot.dana,
            "link-code",
            &[("user", &for_whom.id.to_string())],
        )
        .await;
    code_span(issued.secret.as_ref().unwrap().text.expose_secret())
}

async fn a_link_code_is_refused_one_second_after_a_day(db: TestDb) {
    let bot = Bot::on(db).await;
    let code = issue_link_code(&bot, &bot.cara).await;
    bot.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let mut stranger = bot.cara.clone();
    stranger.discord_user_id = Some(DiscordUserId::new(9999));
    let before = Snapshot::of(&bot).await;
    let late = bot.command(&stranger, "link", &[("code", &code)]).await;
    assert!(
        late.text().contains("That code doesn't work"),
        "{}",
        late.text()
    );
    assert_eq!(bot.reload(&bot.cara).await.discord_user_id, None);
    // A late code is a wrong code: it counts against the hourly budget of tries.
    before
        .assert_only_refusals_and_rows(&bot, &[late.text()], &[("quota_usage", 1)])
        .await;
}

async fn a_link_code_still_works_one_second_before_a_day_is_up(db: TestDb) {
    let bot = Bot::on(db).await;
    let code = issue_link_code(&bot, &bot.cara).await;
    bot.clock
        .advance(chrono::Duration::hours(24) - chrono::Duration::seconds(1));
    let mut stranger = bot.cara.clone();
    stranger.discord_user_id = Some(DiscordUserId::new(9999));
    let linked = bot.command(&stranger, "link", &[("code", &code)]).await;
    assert!(linked.text().contains("You're linked"), "{}", linked.text());
    assert_eq!(
        bot.reload(&bot.cara).await.discord_user_id,
        Some(DiscordUserId::new(9999))
    );
}

async fn a_link_code_is_stored_only_as_a_hash(db: TestDb) {
    let bot = Bot::on(db).await;
    let code = issue_link_code(&bot, &bot.cara).await;
    let stored = crate::unchanged::every_value_in(&bot.db.store, "link_codes").await;
    assert!(!stored.is_empty(), "the code's row is there");
    let bare: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    for shown in [code.clone(), bare.clone(), bare.to_lowercase()] {
        assert!(
            !stored
                .iter()
                .any(|v| v.to_lowercase().contains(&shown.to_lowercase())),
            "the plain code {shown:?} appears in link_codes: {stored:?}"
        );
    }
}

async fn a_temporary_password_expires_72_hours_after_it_was_issued_by_the_clock(db: TestDb) {
    let bot = Bot::on(db).await;
    // Issued five hours into the test: the expiry follows the injected clock.
    bot.clock.advance(chrono::Duration::hours(5));
    bot.command(
        &bot.tess,
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    )
    .await;
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let issued = crate::helpers::t0() + chrono::Duration::hours(5);
    assert_eq!(
        stored.expires_at,
        Some(issued + chrono::Duration::hours(72)),
        "accepted until exactly 72 hours after issue, not a second more or less"
    );
    assert!(stored.must_change);
}

async fn an_unbound_server_gets_the_operator_command_that_binds_it(db: TestDb) {
    let bot = Bot::on(db).await;
    let mut inv = Bot::inv(&bot.tess);
    inv.guild = Some(DiscordGuildId::new(31337));
    let before = Snapshot::of(&bot).await;
    let reply = hallpass::commands::handle(
        &bot.app,
        &inv,
        Request::command(
            "edit-user",
            &[
                ("user", "ana.lopez"),
                ("school", &bot.world.a2.id.to_string()),
            ],
        ),
    )
    .await;
    before.assert_unchanged(&bot).await;
    assert!(
        reply
            .text()
            .contains("hallpass guild bind 31337 --tenant NAME"),
        "{}",
        reply.text()
    );
}

async fn edit_user_opens_a_modal_with_only_the_fields_this_actor_may_change(db: TestDb) {
    let bot = Bot::on(db).await;
    let reply = bot
        .command(&bot.tess, "edit-user", &[("user", &bot.ana.id.to_string())])
        .await;
    let Body::Modal(modal) = reply.body else {
        panic!("expected a modal, got {:?}", reply.body)
    };
    let ids: Vec<&str> = modal.inputs.iter().map(|i| i.custom_id.as_str()).collect();
    assert_eq!(ids, ["first_name", "last_name", "grade", "login"]);
    assert_eq!(modal.inputs[0].value, "Ana");
    assert_eq!(modal.inputs[2].value, "07");
    // A school admin editing a teacher gets a title, no grade.
    let reply = bot
        .command(&bot.sam, "edit-user", &[("user", &bot.tess.id.to_string())])
        .await;
    let Body::Modal(modal) = reply.body else {
        panic!("expected a modal")
    };
    let ids: Vec<&str> = modal.inputs.iter().map(|i| i.custom_id.as_str()).collect();
    assert_eq!(ids, ["first_name", "last_name", "title", "login"]);
}

async fn the_modal_submit_applies_the_change_and_summarises_before_and_after(db: TestDb) {
    let bot = Bot::on(db).await;
    let Body::Modal(modal) = bot
        .command(&bot.sam, "edit-user", &[("user", &bot.tess.id.to_string())])
        .await
        .body
    else {
        panic!("expected a modal")
    };
    let submit = Request::modal_submit(
        &modal.custom_id,
        &[
            ("first_name", "Tessa"),
            ("last_name", "Teach"),
            ("title", "Science Lead"),
            ("login", "tess.teach"),
        ],
    );
    let reply = bot.run(&bot.sam, submit.clone()).await;
    assert_eq!(
        reply.text(),
        "Updated Teach, Tessa:\n• first name: Tess → Tessa\n• title: Staff → Science Lead"
    );
    let now = bot.reload(&bot.tess).await;
    assert_eq!(now.first_name.as_str(), "Tessa");
    // The same form submitted again is stale: changed since it was opened.
    let before = Snapshot::of(&bot).await;
    let stale = bot.run(&bot.sam, submit).await;
    assert!(
        stale
            .text()
            .contains("changed by someone else since you opened it"),
        "{}",
        stale.text()
    );
    before.assert_only_refusals(&bot, &[stale.text()]).await;
}

async fn two_educators_with_the_same_form_open_the_second_is_told_it_changed(db: TestDb) {
    let bot = Bot::on(db).await;
    let by_tess = open_form(&bot, &bot.tess).await;
    let by_sam = open_form(&bot, &bot.sam).await;
    let first = bot
        .run(
            &bot.tess,
            Request::modal_submit(&by_tess.custom_id, &[("first_name", "Anita")]),
        )
        .await;
    assert!(first.text().starts_with("Updated"), "{}", first.text());
    let before = Snapshot::of(&bot).await;
    let second = bot
        .run(
            &bot.sam,
            Request::modal_submit(&by_sam.custom_id, &[("last_name", "Lopes")]),
        )
        .await;
    assert!(
        second.text().contains("since you opened it"),
        "{}",
        second.text()
    );
    assert_eq!(bot.reload(&bot.ana).await.last_name.as_str(), "Lopez");
    before.assert_only_refusals(&bot, &[second.text()]).await;
}

async fn open_form(bot: &Bot, who: &hallpass::directory::User) -> hallpass::commands::Modal {
    let Body::Modal(m) = bot
        .command(who, "edit-user", &[("user", &bot.ana.id.to_string())])
        .await
        .body
    else {
        panic!()
    };
    m
}

async fn bad_modal_values_are_explained_and_change_nothing(db: TestDb) {
    let bot = Bot::on(db).await;
    let Body::Modal(modal) = bot
        .command(&bot.tess, "edit-user", &[("user", &bot.ana.id.to_string())])
        .await
        .body
    else {
        panic!()
    };
    let before = Snapshot::of(&bot).await;
    let reply = bot
        .run(
            &bot.tess,
            Request::modal_submit(&modal.custom_id, &[("first_name", "Ana"), ("grade", "14")]),
        )
        .await;
    assert!(
        reply.text().starts_with("Nothing was changed"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("grade"), "{}", reply.text());
    let taken = bot
        .run(
            &bot.tess,
            Request::modal_submit(&modal.custom_id, &[("login", "BEN.NG")]),
        )
        .await;
    assert!(taken.text().contains("already used"), "{}", taken.text());
    assert_eq!(bot.reload(&bot.ana).await, bot.ana);
    // Bad values are explained, not audited; the taken login is a refusal,
    // audited in the generic words (other admins read the audit log, and
    // may not see the holder), while the reply names Ben, whom Tess can see.
    assert!(taken.text().contains("Ng, Ben"), "{}", taken.text());
    before
        .assert_only_refusals(
            &bot,
            &["That email/username can't be used for this record. Nothing was changed; choose another one."],
        )
        .await;
}

async fn a_teacher_cannot_edit_another_teacher_and_is_told_why(db: TestDb) {
    let bot = Bot::on(db).await;
    let before = Snapshot::of(&bot).await;
    let reply = bot
        .command(&bot.tess, "edit-user", &[("user", &bot.tom.id.to_string())])
        .await;
    assert_eq!(
        reply.text(),
        NO_SUCH_USER,
        "teachers can't see other teachers"
    );
    let own = bot
        .command(
            &bot.tess,
            "edit-user",
            &[("user", &bot.tess.id.to_string())],
        )
        .await;
    assert!(
        own.text().contains("can't edit their own record"),
        "{}",
        own.text()
    );
    before
        .assert_only_refusals(&bot, &[NO_SUCH_USER, own.text()])
        .await;
}

async fn a_district_admin_moves_a_student_to_another_school_and_sees_before_and_after(db: TestDb) {
    let bot = Bot::on(db).await;
    let reply = bot
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.ana.id.to_string()),
                ("school", &bot.world.a2.id.to_string()),
            ],
        )
        .await;
    assert_eq!(
        reply.text(),
        "Moved Lopez, Ana: student at Lincoln Middle School → student at Adams Elementary."
    );
    assert_eq!(
        bot.reload(&bot.ana).await.place.school(),
        Some(bot.world.a2.id)
    );
    let events = bot
        .db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.ana.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.last().unwrap().action, "user.move");
    assert_eq!(
        events.last().unwrap().origin.guild_id.as_deref(),
        Some("4242")
    );
}

/// Runs a move that must be refused, and proves from the database that it
/// changed nothing: every record as it was, one refused audit entry with the
/// reason the actor was told.
async fn refused_move(
    bot: &Bot,
    actor: &hallpass::directory::User,
    options: &[(&str, &str)],
) -> String {
    let before = Snapshot::of(bot).await;
    let reply = bot.command(actor, "edit-user", options).await;
    let text = reply.text().to_owned();
    before.assert_only_refusals(bot, &[&text]).await;
    text
}

async fn moves_outside_the_rules_are_refused_with_the_rule(db: TestDb) {
    let bot = Bot::on(db).await;
    let (ana, tess, dana) = (
        bot.ana.id.to_string(),
        bot.tess.id.to_string(),
        bot.dana.id.to_string(),
    );
    let (a1, a2, b1, z1) = (
        bot.world.a1.id.to_string(),
        bot.world.a2.id.to_string(),
        bot.world.b1.id.to_string(),
        bot.world.z1.id.to_string(),
    );
    let outside = refused_move(&bot, &bot.dana, &[("user", &ana), ("school", &b1)]).await;
    assert!(outside.contains("outside your district"), "{outside}");
    // A district admin promoting a teacher directly.
    let promote = refused_move(
        &bot,
        &bot.dana,
        &[("user", &tess), ("role", "school_admin")],
    )
    .await;
    assert!(promote.contains("/promote-request"), "{promote}");
    // A school admin moving a teacher.
    let teacher_move = refused_move(&bot, &bot.sam, &[("user", &tess), ("school", &a2)]).await;
    assert!(
        teacher_move.contains("Only a district admin can move a teacher"),
        "{teacher_move}"
    );
    let other_tenant = refused_move(&bot, &bot.dana, &[("user", &ana), ("school", &z1)]).await;
    assert!(
        other_tenant.contains("No school you can choose"),
        "{other_tenant}"
    );
    // A district admin changing her own role.
    let own = refused_move(
        &bot,
        &bot.dana,
        &[("user", &dana), ("role", "school_admin"), ("school", &a1)],
    )
    .await;
    assert!(own.contains("Nobody changes their own"), "{own}");
    assert_eq!(bot.reload(&bot.ana).await.place, bot.ana.place);
    assert_eq!(bot.reload(&bot.tess).await, bot.tess);
    assert_eq!(bot.reload(&bot.dana).await, bot.dana);
}

async fn a_district_admin_switches_a_school_admin_to_district_admin_and_back(db: TestDb) {
    let bot = Bot::on(db).await;
    let up = bot
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.sam.id.to_string()),
                ("role", "district_admin"),
            ],
        )
        .await;
    assert_eq!(
        up.text(),
        "Moved Admin, Sam: school admin at Lincoln Middle School → district admin of Lincoln Unified."
    );
    let sam = bot.sam.id.to_string();
    let without_school =
        refused_move(&bot, &bot.dana, &[("user", &sam), ("role", "school_admin")]).await;
    assert!(without_school.contains("name a school"), "{without_school}");
    let down = bot
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.sam.id.to_string()),
                ("role", "school_admin"),
                ("school", &bot.world.a2.id.to_string()),
            ],
        )
        .await;
    assert!(
        down.text().ends_with("→ school admin at Adams Elementary."),
        "{}",
        down.text()
    );
    assert_eq!(bot.reload(&bot.sam).await.role, Role::SchoolAdmin);
    // With two district admins, one may make the other a school admin.
    let dave_down = bot
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.dave.id.to_string()),
                ("role", "school_admin"),
                ("school", &bot.world.a1.id.to_string()),
            ],
        )
        .await;
    assert!(
        dave_down
            .text()
            .starts_with("Moved District, Dave: district admin of Lincoln Unified"),
        "{}",
        dave_down.text()
    );
}

async fn autocomplete_offers_only_people_the_actor_can_see(db: TestDb) {
    let bot = Bot::on(db).await;
    let teacher = choices(
        &bot.run(
            &bot.tess,
            Request::autocomplete("reset-password", "user", &[("user", "")]),
        )
        .await,
    );
    let names: Vec<&str> = teacher.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("Lopez, Ana · grade 7 · Lincoln Middle School")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("Teach, Tess")),
        "a teacher can pick themselves"
    );
    assert!(
        teacher.iter().any(|(_, id)| *id == bot.ben.id.to_string()),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.contains("Diaz") || n.contains("Patel") || n.contains("Tom")),
        "{names:?}"
    );
    let admin = choices(
        &bot.run(
            &bot.sam,
            Request::autocomplete("whois", "user", &[("user", "d")]),
        )
        .await,
    );
    assert!(
        admin.is_empty(),
        "a school admin never sees a district admin: {admin:?}"
    );
    let district = choices(
        &bot.run(
            &bot.dana,
            Request::autocomplete("whois", "user", &[("user", "d")]),
        )
        .await,
    );
    let names: Vec<&str> = district.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("District, Dave")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("Patel, Dev")),
        "district B is out of scope: {names:?}"
    );
    let by_two_words = choices(
        &bot.run(
            &bot.tess,
            Request::autocomplete("whois", "user", &[("user", "lopez, a")]),
        )
        .await,
    );
    assert_eq!(by_two_words.len(), 1);
    assert_eq!(
        by_two_words[0].1,
        bot.ana.id.to_string(),
        "values are stable ids"
    );
    let teachers = choices(
        &bot.run(
            &bot.sam,
            Request::autocomplete("promote-request", "teacher", &[("teacher", "t")]),
        )
        .await,
    );
    assert_eq!(teachers.len(), 2, "only teachers: {teachers:?}");
}

async fn whois_shows_a_minimal_card_and_audit_is_for_admins(db: TestDb) {
    let bot = Bot::on(db).await;
    bot.command(
        &bot.tess,
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    )
    .await;
    let card = bot
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    assert_eq!(
        card.text(),
        "**Lopez, Ana** (ana.lopez)\nRole: student\nSchool: Lincoln Middle School\nGrade: grade 7\nDiscord: linked\nPassword: a change is pending (temporary password issued)"
    );
    let before = Snapshot::of(&bot).await;
    let denied = bot
        .command(&bot.tess, "audit", &[("user", &bot.ana.id.to_string())])
        .await;
    assert!(
        denied
            .text()
            .contains("Only school admins and district admins"),
        "{}",
        denied.text()
    );
    before.assert_only_refusals(&bot, &[denied.text()]).await;
    let log = bot
        .command(&bot.sam, "audit", &[("user", &bot.ana.id.to_string())])
        .await;
    assert!(
        log.text()
            .contains("password.reset applied by Teach, Tess (tess.teach)"),
        "{}",
        log.text()
    );
}

/// The seconds in "… Please try again in N seconds."
fn retry_seconds(text: &str) -> u64 {
    let rest = text
        .strip_prefix("You're going a little fast. Please try again in ")
        .unwrap_or_else(|| panic!("not a rate-limit answer: {text:?}"));
    let seconds = rest
        .strip_suffix(" seconds.")
        .unwrap_or_else(|| panic!("not in seconds: {text:?}"));
    seconds.parse().unwrap()
}

async fn a_burst_of_commands_beyond_the_limit_is_answered_with_when_to_try_again(db: TestDb) {
    let mut bot = Bot::on(db).await;
    // Two commands and three keystrokes a minute per account.
    bot.app.limits = std::sync::Arc::new(hallpass::limits::Limits::per_minute(2, 3));
    for _ in 0..2 {
        let card = bot
            .command(&bot.tess, "whois", &[("user", "ana.lopez")])
            .await;
        assert!(card.text().starts_with("**Lopez, Ana**"), "{}", card.text());
    }
    let before = Snapshot::of(&bot).await;
    let limited = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    // One command every 30 seconds comes back.
    let wait = retry_seconds(limited.text());
    assert!((1..=30).contains(&wait), "{}", limited.text());
    assert!(limited.secret.is_none());
    before.assert_unchanged(&bot).await;
    // Another account has its own budget.
    let other = bot
        .command(&bot.sam, "whois", &[("user", "ana.lopez")])
        .await;
    assert!(
        other.text().starts_with("**Lopez, Ana**"),
        "{}",
        other.text()
    );
    // Keystrokes have their own budget: the spent command budget leaves them be.
    for _ in 0..3 {
        let keystroke = bot
            .run(
                &bot.tess,
                Request::autocomplete("whois", "user", &[("user", "lopez")]),
            )
            .await;
        assert_eq!(
            choices(&keystroke),
            vec![(
                "Lopez, Ana · grade 7 · Lincoln Middle School · ana.lopez".to_owned(),
                bot.ana.id.to_string()
            )]
        );
    }
}

async fn autocomplete_beyond_its_budget_offers_one_choice_saying_when_to_try_again(db: TestDb) {
    let mut bot = Bot::on(db).await;
    bot.app.limits = std::sync::Arc::new(hallpass::limits::Limits::per_minute(2, 3));
    let keystroke = || {
        bot.run(
            &bot.tess,
            Request::autocomplete("whois", "user", &[("user", "lopez")]),
        )
    };
    for _ in 0..3 {
        assert_eq!(choices(&keystroke().await).len(), 1);
    }
    let limited = choices(&keystroke().await);
    assert_eq!(limited.len(), 1, "{limited:?}");
    let (text, value) = &limited[0];
    // One keystroke every 20 seconds comes back.
    let wait = retry_seconds(text);
    assert!((1..=20).contains(&wait), "{text}");
    assert_eq!(value, hallpass::commands::RATE_LIMITED_CHOICE);
    // Picking that choice names nobody.
    let picked = bot.command(&bot.sam, "whois", &[("user", value)]).await;
    assert_eq!(picked.text(), NO_SUCH_USER);
    // Commands keep their own budget.
    let card = bot
        .command(&bot.tess, "whois", &[("user", "ana.lopez")])
        .await;
    assert!(card.text().starts_with("**Lopez, Ana**"), "{}", card.text());
}
