//! "A district admin cannot demote or move the last district admin of a
//! district", end to end and under a race, on SQLite and on PostgreSQL.
//!
//! The bot world's district A has two district admins, Dana and Dave. Each
//! test runs on a fresh database of each backend.

use hallpass::audit::{Action, AuditQuery};
use hallpass::directory::{Place, Role, User};
use hallpass::store::{StoreError, UserChanges};

use crate::bot::Bot;
use crate::helpers::{TestDb, cli_audit, on_both_backends, t0};

const NO_SUCH_USER: &str = "No user you can manage matches that.";
const LAST: &str = "That is the last district admin of the district. Make someone else a district admin there first.";

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    two_district_admins_demoting_each_other_at_the_same_moment_exactly_one_succeeds,
    two_district_admins_moving_each_other_away_at_the_same_moment_exactly_one_succeeds,
    the_store_refuses_to_demote_the_last_district_admin_whoever_read_the_record_first,
    a_disabled_district_admin_does_not_count_as_a_district_admin_who_remains,
    a_disabled_district_admin_may_be_moved_away_from_the_last_enabled_one,
);

fn demote_to_a1(bot: &Bot, who: &User) -> Vec<(String, String)> {
    vec![
        ("user".into(), who.id.to_string()),
        ("role".into(), "school_admin".into()),
        ("school".into(), bot.world.a1.id.to_string()),
    ]
}

fn move_to_b(bot: &Bot, who: &User) -> Vec<(String, String)> {
    vec![
        ("user".into(), who.id.to_string()),
        ("district".into(), bot.world.district_b.id.to_string()),
    ]
}

async fn run_as(bot: &Bot, actor: &User, options: &[(String, String)]) -> String {
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    bot.command(actor, "edit-user", &options)
        .await
        .text()
        .to_owned()
}

async fn enabled_district_admins_of_a(bot: &Bot) -> u32 {
    bot.db
        .store
        .count_district_admins(bot.world.tenant.id, bot.world.district_a.id)
        .await
        .unwrap()
}

async fn moves_in_audit(bot: &Bot) -> (usize, Vec<String>) {
    let events = bot
        .db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap();
    let moves: Vec<_> = events.iter().filter(|e| e.action == "user.move").collect();
    let applied = moves.iter().filter(|e| e.outcome == "applied").count();
    let refused = moves
        .iter()
        .filter(|e| e.outcome == "refused")
        .map(|e| e.reason.clone().unwrap_or_default())
        .collect();
    (applied, refused)
}

/// Dana acts on Dave and Dave on Dana, both at once.
async fn race(bot: &Bot, dana_does: Vec<(String, String)>, dave_does: Vec<(String, String)>) {
    let (by_dana, by_dave) = tokio::join!(
        run_as(bot, &bot.dana, &dana_does),
        run_as(bot, &bot.dave, &dave_does)
    );
    let answers = [&by_dana, &by_dave];
    assert_eq!(
        answers.iter().filter(|a| a.starts_with("Moved ")).count(),
        1,
        "exactly one succeeds: {answers:?}"
    );
    // The loser either raced the winner inside the store (the last district
    // admin) or started after the winner had already made them a school admin
    // or sent them away (then they can no longer see the winner).
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.as_str() == LAST || a.as_str() == NO_SUCH_USER)
            .count(),
        1,
        "the other is refused: {answers:?}"
    );
    assert_eq!(
        enabled_district_admins_of_a(bot).await,
        1,
        "district A keeps one district admin"
    );
    let (applied, _) = moves_in_audit(bot).await;
    assert_eq!(applied, 1, "one move is audited as applied");
    let refusals = refusals(bot).await;
    assert_eq!(refusals.len(), 1, "one refusal is audited: {refusals:?}");
    assert!(
        refusals[0] == LAST || refusals[0] == NO_SUCH_USER,
        "{refusals:?}"
    );
}

async fn refusals(bot: &Bot) -> Vec<String> {
    bot.db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == "refused")
        .map(|e| e.reason.unwrap_or_default())
        .collect()
}

async fn two_district_admins_demoting_each_other_at_the_same_moment_exactly_one_succeeds(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let (dana_does, dave_does) = (demote_to_a1(&bot, &bot.dave), demote_to_a1(&bot, &bot.dana));
    race(&bot, dana_does, dave_does).await;
}

async fn two_district_admins_moving_each_other_away_at_the_same_moment_exactly_one_succeeds(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let (dana_does, dave_does) = (move_to_b(&bot, &bot.dave), move_to_b(&bot, &bot.dana));
    race(&bot, dana_does, dave_does).await;
}

/// The interleaving a race produces, made certain: both records are read
/// before either change is written. The check must be in the transaction.
async fn the_store_refuses_to_demote_the_last_district_admin_whoever_read_the_record_first(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let (dana, dave) = (bot.reload(&bot.dana).await, bot.reload(&bot.dave).await);
    let demote = UserChanges {
        role: Some(Role::SchoolAdmin),
        place: Some(crate::helpers::World::at(&bot.world.a1)),
        ..Default::default()
    };
    let (first, second) = tokio::join!(
        bot.db
            .store
            .move_user(&dave, &demote, cli_audit(Action::UserMove, t0())),
        bot.db
            .store
            .move_user(&dana, &demote, cli_audit(Action::UserMove, t0())),
    );
    let outcomes = [first.is_ok(), second.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{first:?} {second:?}"
    );
    let refused = if first.is_err() { first } else { second };
    assert!(
        matches!(refused, Err(StoreError::LastDistrictAdmin)),
        "{refused:?}"
    );
    assert_eq!(enabled_district_admins_of_a(&bot).await, 1);
    let (applied, _) = moves_in_audit(&bot).await;
    assert_eq!(applied, 1, "the refused change wrote no audit entry");
}

/// Dora is a disabled district admin of district A. She cannot act, so with
/// Dave gone Dana is the last district admin, and Dave's stale attempt to
/// demote her is refused.
async fn a_disabled_district_admin_does_not_count_as_a_district_admin_who_remains(db: TestDb) {
    let bot = Bot::on(db).await;
    let dora = disabled_district_admin(&bot).await;
    assert_eq!(enabled_district_admins_of_a(&bot).await, 2);
    let dana_before = bot.reload(&bot.dana).await;
    let moved = run_as(&bot, &bot.dana, &demote_to_a1(&bot, &bot.dave)).await;
    assert!(moved.starts_with("Moved District, Dave"), "{moved}");
    let demote = UserChanges {
        role: Some(Role::SchoolAdmin),
        place: Some(crate::helpers::World::at(&bot.world.a1)),
        ..Default::default()
    };
    let refused = bot
        .db
        .store
        .move_user(&dana_before, &demote, cli_audit(Action::UserMove, t0()))
        .await;
    assert!(
        matches!(refused, Err(StoreError::LastDistrictAdmin)),
        "{refused:?}"
    );
    assert_eq!(
        bot.reload(&bot.dana).await,
        dana_before,
        "Dana is unchanged"
    );
    assert_eq!(bot.reload(&dora).await, dora, "Dora is unchanged");
    assert_eq!(enabled_district_admins_of_a(&bot).await, 1);
}

/// Moving a disabled district admin takes no admin away from the district.
async fn a_disabled_district_admin_may_be_moved_away_from_the_last_enabled_one(db: TestDb) {
    let bot = Bot::on(db).await;
    let dora = disabled_district_admin(&bot).await;
    // Dave leaves for district B first: Dana is the last enabled one.
    let moved = run_as(&bot, &bot.dana, &move_to_b(&bot, &bot.dave)).await;
    assert!(moved.starts_with("Moved District, Dave"), "{moved}");
    let moved = run_as(&bot, &bot.dana, &move_to_b(&bot, &dora)).await;
    assert_eq!(
        moved,
        "Moved Disabled, Dora: district admin of Lincoln Unified → district admin of Bayside District."
    );
    assert_eq!(
        bot.reload(&dora).await.place,
        Place::District {
            district: bot.world.district_b.id
        }
    );
    assert_eq!(enabled_district_admins_of_a(&bot).await, 1);
}

async fn disabled_district_admin(bot: &Bot) -> User {
    let dora = bot
        .world
        .user(
            &bot.db.store,
            "dora.disabled",
            Role::DistrictAdmin,
            Place::District {
                district: bot.world.district_a.id,
            },
        )
        .await;
    bot.db
        .store
        .update_user(
            &dora,
            &UserChanges {
                disabled: Some(true),
                ..Default::default()
            },
            cli_audit(Action::UserDisable, t0()),
        )
        .await
        .unwrap()
}
