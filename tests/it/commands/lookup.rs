use super::*;

on_both_backends!(
    autocomplete_offers_only_people_the_actor_can_see,
    whois_shows_a_minimal_card_and_audit_is_for_admins,
    a_burst_of_commands_beyond_the_limit_is_answered_with_when_to_try_again,
    autocomplete_beyond_its_budget_offers_one_choice_saying_when_to_try_again,
);

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
