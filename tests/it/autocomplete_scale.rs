//! Autocomplete after the district-scale indexes and the one-query caller:
//! what it offers is exactly what `policy::can_see` allows, and it reads the
//! database on every keystroke, so a change made by another instance on the
//! same PostgreSQL database shows at the next one.

use std::collections::BTreeSet;

use hallpass::app::{App, Settings};
use hallpass::audit::Action;
use hallpass::commands::{Body, Reply, Request};
use hallpass::credentials::{HashParams, PasswordHasher};
use hallpass::directory::{Role, User};
use hallpass::policy::{Subject, can_see};
use hallpass::store::{Store, UserChanges};

use crate::bot::Bot;
use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};

on_both_backends!(autocomplete_offers_exactly_the_people_can_see_allows_in_every_school_and_role,);

fn choices(reply: &Reply) -> Vec<(String, String)> {
    match &reply.body {
        Body::Choices(choices) => choices
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

/// Two letters from `n`: "aa", "ab", …, so every generated name is valid.
fn tag(n: usize) -> String {
    let letter = |k: usize| char::from(b'a' + (k % 26) as u8);
    format!("{}{}", letter(n / 26), letter(n))
}

async fn autocomplete_offers_exactly_the_people_can_see_allows_in_every_school_and_role(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let store = &bot.db.store;
    let w = &bot.world;
    // "Quinn <tag>" in every school and role of the tenant (fewer than 25 in
    // any one area, so "offered" can be compared with "allowed" exactly),
    // and one in the other tenant, who nobody here may see.
    let mut quinns: Vec<User> = Vec::new();
    let mut n = 0;
    let mut add = async |role: Role, place| {
        n += 1;
        let login = format!("quinn.{}", tag(n));
        quinns.push(w.user(store, &login, role, place).await);
    };
    for school in [&w.a1, &w.a2, &w.b1] {
        for _ in 0..5 {
            add(Role::Student, World::at(school)).await;
        }
        add(Role::Teacher, World::at(school)).await;
        add(Role::SchoolAdmin, World::at(school)).await;
    }
    let district_a = hallpass::directory::Place::District {
        district: w.district_a.id,
    };
    add(Role::DistrictAdmin, district_a).await;
    let outsider = store
        .insert_user(
            w.other.id,
            &hallpass::store::NewUser {
                login: hallpass::directory::Login::parse("quinn.outside").unwrap(),
                first_name: hallpass::directory::PersonName::parse("Quinn").unwrap(),
                last_name: hallpass::directory::PersonName::parse("Outside").unwrap(),
                role: Role::Student,
                place: World::at(&w.z1),
                grade: None,
                title: None,
                source_id: None,
                disabled: false,
            },
            cli_audit(Action::UserCreate, t0()),
        )
        .await
        .unwrap();

    // Typed as a first name ("qu"), a last name ("Ab…" is quinn.ab) and a login ("quinn.a").
    for typed in ["qu", "ab", "quinn.a"] {
        for actor in [&bot.tess, &bot.sam, &bot.dana, &bot.ana] {
            let offered: BTreeSet<String> = choices(
                &bot.run(
                    actor,
                    Request::autocomplete("whois", "user", &[("user", typed)]),
                )
                .await,
            )
            .into_iter()
            .map(|(_, id)| id)
            .collect();
            let me = Subject::from(actor);
            let allowed: BTreeSet<String> = quinns
                .iter()
                .chain([&bot.tess, &bot.sam, &bot.dana, &bot.ana])
                .filter(|u| {
                    let key = typed.to_lowercase();
                    u.first_name.as_str().to_lowercase().starts_with(&key)
                        || u.last_name.as_str().to_lowercase().starts_with(&key)
                        || u.login.key().starts_with(&key)
                })
                .filter(|u| can_see(&me, &Subject::from(*u)).is_allowed())
                .map(|u| u.id.to_string())
                .collect();
            assert_eq!(
                offered, allowed,
                "{} typing {typed:?} is offered exactly whom can_see allows",
                actor.login
            );
            assert!(!offered.contains(&outsider.id.to_string()));
        }
    }
    // Not vacuous: each area saw some, and the district admin the most.
    let count = |actor: &User| {
        let me = Subject::from(actor);
        quinns
            .iter()
            .filter(|u| can_see(&me, &Subject::from(*u)).is_allowed())
            .count()
    };
    assert_eq!(
        count(&bot.tess),
        5,
        "a teacher sees the students of their school"
    );
    assert!(count(&bot.dana) > count(&bot.sam));
}

/// A second hallpass instance on the same database, as in a multi-instance deployment.
pub(crate) async fn second_instance(url: &str) -> App {
    let store = Store::connect(url).await.unwrap();
    let hasher = PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap();
    App::new(store, hasher, Settings::default())
}

#[tokio::test]
async fn an_edit_through_another_instance_on_the_same_postgresql_database_shows_at_the_next_keystroke()
 {
    let bot = Bot::on(TestDb::postgres().await).await;
    let other = second_instance(&bot.db.url).await;
    let type_as = async |actor: &User, typed: &str| {
        choices(
            &bot.run(
                actor,
                Request::autocomplete("whois", "user", &[("user", typed)]),
            )
            .await,
        )
    };
    let before = type_as(&bot.tess, "lopez").await;
    assert!(
        before
            .iter()
            .any(|(name, id)| name.starts_with("Lopez, Ana") && *id == bot.ana.id.to_string()),
        "{before:?}"
    );

    // Renamed by the other instance: the next keystroke shows the new name.
    let renamed = other
        .store
        .update_user(
            &bot.ana,
            &UserChanges {
                first_name: Some(hallpass::directory::PersonName::parse("Anabel").unwrap()),
                ..UserChanges::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    let after = type_as(&bot.tess, "anab").await;
    assert_eq!(
        after.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(),
        vec![bot.ana.id.to_string()],
        "{after:?}"
    );
    assert!(after[0].0.starts_with("Lopez, Anabel"), "{after:?}");

    // Moved to another district's school by the other instance: the teacher
    // of her old school no longer sees her, her new district's view does not
    // include her old one's admin, and the label names the new school.
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
    let teacher = type_as(&bot.tess, "lopez").await;
    assert!(
        !teacher.iter().any(|(_, id)| *id == bot.ana.id.to_string()),
        "a student moved away is not offered at the next keystroke: {teacher:?}"
    );
    let district_a = type_as(&bot.dana, "lopez").await;
    assert!(
        !district_a
            .iter()
            .any(|(_, id)| *id == bot.ana.id.to_string()),
        "{district_a:?}"
    );
    other.store.close().await;
}
