//! The callers' statements of interactions that arrive together run as one
//! (`store::directory::lookups`), on connections of their own, on both
//! backends: each caller still gets exactly their own answer; a change
//! committed through another instance shows at the next ask; a closed store
//! refuses asks and leaves no connection open; on PostgreSQL a connection
//! the server dropped is opened again for the next ask.

use futures_util::future::join_all;
use hallpass::audit::Action;
use hallpass::directory::{DiscordGuildId, DiscordUserId, Role, User};
use hallpass::store::Store;

use crate::helpers::{TestDb, World, cli_audit, on_both_backends, postgres_admin_url, t0};

on_both_backends!(
    callers_asking_at_once_each_get_their_own_answer,
    a_link_made_through_another_instance_shows_at_the_next_ask,
    a_closed_store_refuses_asks_and_leaves_no_connection_open,
);

const GUILD: u64 = 7_000;
const OTHER_GUILD: u64 = 7_001;
const UNBOUND_GUILD: u64 = 7_002;
const PEOPLE: u64 = 90;

/// `PEOPLE` teachers of the tenant, each linked to chat account 1000 + i;
/// the tenant bound to `GUILD`, the other tenant to `OTHER_GUILD`.
async fn linked_world(store: &Store) -> (World, Vec<User>) {
    let world = World::build(store).await;
    for (guild, tenant) in [(GUILD, world.tenant.id), (OTHER_GUILD, world.other.id)] {
        store
            .bind_guild(
                DiscordGuildId::new(guild),
                tenant,
                cli_audit(Action::GuildBind, t0()),
            )
            .await
            .unwrap();
    }
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let login = format!("t{i}.teacher");
        let user = world
            .user(store, &login, Role::Teacher, World::at(&world.a1))
            .await;
        let user = store
            .link_discord(
                &user,
                DiscordUserId::new(1_000 + i),
                cli_audit(Action::ChatLink, t0()),
            )
            .await
            .unwrap();
        people.push(user);
    }
    (world, people)
}

async fn callers_asking_at_once_each_get_their_own_answer(db: TestDb) {
    let store = &db.store;
    let (world, people) = linked_world(store).await;
    // More asks than one statement answers, all made before any is answered.
    let asks = (0..PEOPLE).map(|i| (GUILD, Some(1_000 + i)));
    let asks: Vec<(u64, Option<u64>)> = asks
        .chain([
            (GUILD, Some(9_999)),       // not linked
            (GUILD, None),              // no account (an API caller)
            (OTHER_GUILD, Some(1_000)), // linked in the other tenant only
            (UNBOUND_GUILD, Some(1_001)),
        ])
        .collect();
    let answers = join_all(asks.iter().map(|(guild, discord)| {
        store.caller_in_guild(DiscordGuildId::new(*guild), discord.map(DiscordUserId::new))
    }))
    .await;
    for (i, answer) in answers.iter().take(PEOPLE as usize).enumerate() {
        let (tenant, user, _) = answer.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(tenant.id, world.tenant.id);
        let user = user.as_ref().unwrap();
        assert_eq!(user.id, people[i].id, "ask {i} got someone else's answer");
        assert_eq!(user.login, people[i].login);
    }
    let rest: Vec<_> = answers[PEOPLE as usize..]
        .iter()
        .map(|a| {
            a.as_ref()
                .unwrap()
                .as_ref()
                .map(|(t, u, _)| (t.id, u.is_some()))
        })
        .collect();
    assert_eq!(
        rest,
        vec![
            Some((world.tenant.id, false)),
            Some((world.tenant.id, false)),
            Some((world.other.id, false)),
            None,
        ]
    );
}

async fn a_link_made_through_another_instance_shows_at_the_next_ask(db: TestDb) {
    let (world, _) = linked_world(&db.store).await;
    let newcomer = world
        .user(
            &db.store,
            "new.teacher",
            Role::Teacher,
            World::at(&world.a1),
        )
        .await;
    let ask = || {
        db.store
            .caller_in_guild(DiscordGuildId::new(GUILD), Some(DiscordUserId::new(5_000)))
    };
    let (_, before, _) = ask().await.unwrap().unwrap();
    assert!(before.is_none());
    let other = Store::connect(&db.url).await.unwrap();
    other
        .link_discord(
            &newcomer,
            DiscordUserId::new(5_000),
            cli_audit(Action::ChatLink, t0()),
        )
        .await
        .unwrap();
    other.close().await;
    let (_, after, _) = ask().await.unwrap().unwrap();
    assert_eq!(after.map(|u| u.id), Some(newcomer.id));
}

async fn a_closed_store_refuses_asks_and_leaves_no_connection_open(db: TestDb) {
    let store = Store::connect(&db.url).await.unwrap();
    let (world, people) = linked_world(&store).await;
    let ask = || store.caller_in_guild(DiscordGuildId::new(GUILD), Some(DiscordUserId::new(1_000)));
    let (tenant, user, _) = ask().await.unwrap().unwrap();
    assert_eq!(
        (tenant.id, user.map(|u| u.id)),
        (world.tenant.id, Some(people[0].id))
    );
    store.close().await;
    assert!(ask().await.is_err(), "a closed store answered");
    match db.url.strip_prefix("sqlite://") {
        // The write-ahead log goes when the database's last connection closes;
        // the test's own store still holds one, so close that too.
        Some(path) => {
            db.store.close().await;
            let wal = format!("{path}-wal");
            assert!(
                !std::path::Path::new(&wal).exists(),
                "a connection stayed open"
            );
        }
        None => {
            db.store.close().await;
            assert_eq!(connections_to(&db.url).await, 0, "a connection stayed open");
        }
    }
}

/// PostgreSQL: the sessions open on the database of `url`.
async fn connections_to(url: &str) -> i64 {
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin = Store::connect(&postgres_admin_url()).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .fetch_one(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    n
}

#[tokio::test]
async fn postgres_a_connection_the_server_dropped_is_opened_again_for_the_next_ask() {
    let db = TestDb::postgres().await;
    let (world, people) = linked_world(&db.store).await;
    let ask = || {
        db.store
            .caller_in_guild(DiscordGuildId::new(GUILD), Some(DiscordUserId::new(1_001)))
    };
    ask().await.unwrap().unwrap();
    // What a server restart does to every session of the database.
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let admin = Store::connect(&postgres_admin_url()).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(name)
    .fetch_all(admin.pool())
    .await
    .unwrap();
    admin.close().await;
    assert!(!ended.is_empty());
    // The ask on the dropped connection may fail; the one after it answers.
    let first = ask().await;
    let answer = match first {
        Ok(answer) => answer,
        Err(_) => ask().await.unwrap(),
    };
    let (tenant, user, _) = answer.unwrap();
    assert_eq!(
        (tenant.id, user.map(|u| u.id)),
        (world.tenant.id, Some(people[1].id))
    );
}
