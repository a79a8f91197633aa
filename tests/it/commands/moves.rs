use super::*;

on_both_backends!(
    a_district_admin_moves_a_student_to_another_school_and_sees_before_and_after,
    moves_outside_the_rules_are_refused_with_the_rule,
    a_district_admin_switches_a_school_admin_to_district_admin_and_back,
);

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
