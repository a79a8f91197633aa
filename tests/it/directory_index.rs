//! Autocomplete's in-memory index of the directory (`store::directory`), on
//! both backends: once loaded it answers the searches, and every change
//! committed before a keystroke, by this instance or another on the same
//! database, shows at that keystroke: a rename, a move, someone new, a school
//! renamed; on PostgreSQL also a change whose transaction took its id before,
//! and committed after, one the index had already applied.

use hallpass::audit::Action;
use hallpass::commands::{Body, Reply, Request};
use hallpass::directory::{DiscordUserId, PersonName, Role, User};
use hallpass::store::UserChanges;

use crate::autocomplete_scale::second_instance;
use crate::bot::Bot;
use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};

on_both_backends!(
    a_change_through_another_instance_shows_at_the_next_keystroke_from_the_loaded_index,
    someone_new_and_a_renamed_school_show_at_the_next_keystroke,
    an_import_sized_change_is_read_again_whole_and_found_meanwhile,
);

fn choices(reply: &Reply) -> Vec<(String, String)> {
    match &reply.body {
        Body::Choices(choices) => choices
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

async fn typed(bot: &Bot, actor: &User, text: &str) -> Vec<(String, String)> {
    let reply = bot
        .run(
            actor,
            Request::autocomplete("whois", "user", &[("user", text)]),
        )
        .await;
    choices(&reply)
}

/// A bot whose store has the tenant's index loaded (so the answers below come
/// from memory, not from the SQL search used while it loads).
async fn loaded(db: TestDb) -> Bot {
    let bot = Bot::on(db).await;
    bot.db
        .store
        .preload_directory(bot.world.tenant.id)
        .await
        .unwrap();
    assert!(bot.db.store.directory_loaded(bot.world.tenant.id).await);
    bot
}

fn ids(found: &[(String, String)]) -> Vec<String> {
    found.iter().map(|(_, id)| id.clone()).collect()
}

async fn a_change_through_another_instance_shows_at_the_next_keystroke_from_the_loaded_index(
    db: TestDb,
) {
    let bot = loaded(db).await;
    let other = second_instance(&bot.db.url).await;
    let before = typed(&bot, &bot.tess, "lopez").await;
    assert!(
        before
            .iter()
            .any(|(n, id)| n.starts_with("Lopez, Ana") && *id == bot.ana.id.to_string()),
        "{before:?}"
    );
    let renamed = other
        .store
        .update_user(
            &bot.ana,
            &UserChanges {
                first_name: Some(PersonName::parse("Anabel").unwrap()),
                ..UserChanges::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    let after = typed(&bot, &bot.tess, "anab").await;
    assert_eq!(ids(&after), vec![bot.ana.id.to_string()], "{after:?}");
    assert!(after[0].0.starts_with("Lopez, Anabel"), "{after:?}");
    assert!(
        typed(&bot, &bot.tess, "ana ")
            .await
            .iter()
            .all(|(n, _)| !n.starts_with("Lopez, Ana ·"))
    );

    // Moved to district B: her old school's teacher no longer finds her, and
    // the district B admin's choice names her new school.
    other
        .store
        .update_user(
            &renamed,
            &UserChanges {
                place: Some(World::at(&bot.world.b1)),
                ..UserChanges::default()
            },
            cli_audit(Action::UserMove, t0()),
        )
        .await
        .unwrap();
    assert!(!ids(&typed(&bot, &bot.tess, "lopez").await).contains(&bot.ana.id.to_string()));
    let admin_b = bot
        .world
        .user(
            &bot.db.store,
            "bea.admin",
            Role::SchoolAdmin,
            World::at(&bot.world.b1),
        )
        .await;
    let admin_b = bot
        .db
        .store
        .link_discord(
            &admin_b,
            DiscordUserId::new(2000),
            cli_audit(Action::ChatLink, t0()),
        )
        .await
        .unwrap();
    let seen = typed(&bot, &admin_b, "lopez").await;
    let ana = seen.iter().find(|(_, id)| *id == bot.ana.id.to_string());
    assert!(
        ana.is_some_and(|(n, _)| n.contains("Bayside High")),
        "{seen:?}"
    );
    assert!(bot.db.store.directory_loaded(bot.world.tenant.id).await);
}

async fn someone_new_and_a_renamed_school_show_at_the_next_keystroke(db: TestDb) {
    let bot = loaded(db).await;
    let other = second_instance(&bot.db.url).await;
    assert!(typed(&bot, &bot.tess, "zuzu").await.is_empty());
    let zuzu = bot
        .world
        .user(
            &other.store,
            "zuzu.new",
            Role::Student,
            World::at(&bot.world.a1),
        )
        .await;
    let found = typed(&bot, &bot.tess, "zuzu").await;
    assert_eq!(ids(&found), vec![zuzu.id.to_string()]);
    assert!(found[0].0.contains("Lincoln Middle School"), "{found:?}");

    sqlx::query("UPDATE schools SET name = 'Lincoln Junior High', name_key = 'lincoln junior high' WHERE id = $1")
        .bind(bot.world.a1.id.to_string())
        .execute(other.store.pool())
        .await
        .unwrap();
    let found = typed(&bot, &bot.tess, "zuzu").await;
    assert!(found[0].0.contains("Lincoln Junior High"), "{found:?}");
}

/// The out-of-order commit: a writer takes its transaction id, a second
/// writer commits after it, the index applies the second; then the first
/// commits. A watermark of "the highest id seen" would skip it for ever.
#[tokio::test]
async fn on_postgresql_a_change_committed_after_a_later_one_was_applied_still_shows() {
    let bot = loaded(TestDb::postgres().await).await;
    let other = second_instance(&bot.db.url).await;
    let mut first = other.store.pool().begin().await.unwrap();
    sqlx::query("UPDATE users SET first_name = 'Benedict', first_key = 'benedict', version = version + 1 WHERE id = $1")
        .bind(bot.ben.id.to_string())
        .execute(&mut *first)
        .await
        .unwrap();
    other
        .store
        .update_user(
            &bot.ana,
            &UserChanges {
                first_name: Some(PersonName::parse("Anabel").unwrap()),
                ..UserChanges::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&typed(&bot, &bot.tess, "anab").await),
        vec![bot.ana.id.to_string()]
    );
    assert!(
        typed(&bot, &bot.tess, "benedict").await.is_empty(),
        "not committed yet"
    );
    first.commit().await.unwrap();
    assert_eq!(
        ids(&typed(&bot, &bot.tess, "benedict").await),
        vec![bot.ben.id.to_string()]
    );
}

/// More than the index applies row by row (10,000 people, as an import
/// writes): the tenant is read again, the SQL search answering meanwhile,
/// and every one of them is found either way.
async fn an_import_sized_change_is_read_again_whole_and_found_meanwhile(db: TestDb) {
    let bot = loaded(db).await;
    let other = second_instance(&bot.db.url).await;
    let (series, id) = if bot.db.url.starts_with("sqlite") {
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001) SELECT i FROM n",
            "printf('%08x-0000-7000-8000-%012x', i, i)",
        )
    } else {
        (
            "SELECT generate_series(1, 10001) AS i",
            "gen_random_uuid()::text",
        )
    };
    let sql = format!(
        "INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, \
         role, school_id, district_id, grade, title, must_change_password, disabled, source_id, version, \
         created_at, updated_at) \
         SELECT {id}, $1, 'bulk' || i, 'bulk' || i, 'Bulk', 'Person' || i, 'bulk', 'person' || i, \
         'student', $2, $3, '07', NULL, 0, 0, NULL, 1, '2026-12-01T09:00:00.000000Z', '2026-12-01T09:00:00.000000Z' \
         FROM ({series}) s"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(bot.world.tenant.id.to_string())
        .bind(bot.world.a1.id.to_string())
        .bind(bot.world.district_a.id.to_string())
        .execute(other.store.pool())
        .await
        .unwrap();
    let found = typed(&bot, &bot.tess, "person10001").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.starts_with("Person10001, Bulk"), "{found:?}");
    let mut waited = 0;
    while !bot.db.store.directory_loaded(bot.world.tenant.id).await {
        waited += 1;
        assert!(waited < 600, "the index was not read again within 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let found = typed(&bot, &bot.tess, "person5000").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(typed(&bot, &bot.tess, "bulk").await.len(), 25);
}
