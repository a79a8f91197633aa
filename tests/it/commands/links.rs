use super::*;

on_both_backends!(
    an_unlinked_chat_account_can_run_link_and_nothing_else,
    a_link_code_is_refused_one_second_after_a_day,
    a_link_code_still_works_one_second_before_a_day_is_up,
    a_link_code_is_stored_only_as_a_hash,
    an_unbound_server_gets_the_operator_command_that_binds_it,
);

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
