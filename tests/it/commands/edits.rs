use super::*;

on_both_backends!(
    edit_user_opens_a_modal_with_only_the_fields_this_actor_may_change,
    the_modal_submit_applies_the_change_and_summarises_before_and_after,
    two_educators_with_the_same_form_open_the_second_is_told_it_changed,
    bad_modal_values_are_explained_and_change_nothing,
    a_teacher_cannot_edit_another_teacher_and_is_told_why,
);

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
