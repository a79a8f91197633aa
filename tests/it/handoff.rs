//! The password hand-off is exact: a roll-back restores the previous password
//! only while the stored hash is still the one the reset wrote, what it needs
//! is kept in the store, and hand-offs that never finished are rolled back at
//! start-up. On SQLite and on PostgreSQL alike.

use chrono::Duration;
use hallpass::audit::{Action, AuditQuery};
use hallpass::directory::{Role, User};
use hallpass::store::{HandoffId, NewPassword, RollBack, Store};

use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};

on_both_backends!(
    a_roll_back_restores_the_previous_password_while_the_reset_s_hash_is_still_stored,
    a_roll_back_leaves_a_newer_reset_standing,
    a_roll_back_leaves_a_password_the_student_set_meanwhile_standing,
    a_roll_back_of_a_user_without_a_password_removes_only_the_reset_s_password,
    a_delivered_hand_off_is_never_rolled_back_and_forgets_the_previous_hash,
    hand_offs_that_never_finished_are_rolled_back_at_start_up_and_give_back_the_quota,
);

async fn student(db: &TestDb) -> User {
    let world = World::build(&db.store).await;
    world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await
}

async fn stored_hash(store: &Store, user: &User) -> Option<String> {
    store
        .password_hash(user.tenant_id, user.id)
        .await
        .unwrap()
        .map(|p| p.phc)
}

async fn reset(store: &Store, user: &User, phc: &str, quota_use: Option<&str>) -> HandoffId {
    let new = NewPassword {
        phc,
        expires_at: t0() + Duration::hours(72),
        quota_use,
    };
    store
        .start_handoff(user, &new, cli_audit(Action::PasswordReset, t0()))
        .await
        .unwrap()
}

async fn set(store: &Store, user: &User, phc: &str, must_change: bool) {
    store
        .set_password(
            user,
            phc,
            must_change,
            None,
            cli_audit(Action::PasswordReset, t0()),
        )
        .await
        .unwrap();
}

async fn a_roll_back_restores_the_previous_password_while_the_reset_s_hash_is_still_stored(
    db: TestDb,
) {
    let ana = student(&db).await;
    set(&db.store, &ana, "$argon2id$own", false).await;
    let handoff = reset(&db.store, &ana, "$argon2id$temporary", None).await;
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$temporary")
    );
    let rolled = db.store.roll_back_handoff(&handoff, t0()).await.unwrap();
    assert_eq!(rolled, RollBack::Restored);
    let back = db
        .store
        .password_hash(ana.tenant_id, ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.phc, "$argon2id$own");
    assert!(
        !back.must_change,
        "the student's own password needs no change"
    );
    assert_eq!(back.expires_at, None);
    // A second roll-back (a sweep racing the delivery task) does nothing.
    assert_eq!(
        db.store.roll_back_handoff(&handoff, t0()).await.unwrap(),
        RollBack::AlreadyFinished
    );
    let audit = db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(ana.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let restored: Vec<_> = audit
        .iter()
        .filter(|e| e.reason.as_deref().is_some_and(|r| r.contains("restored")))
        .collect();
    assert_eq!(restored.len(), 1, "{audit:?}");
}

async fn a_roll_back_leaves_a_newer_reset_standing(db: TestDb) {
    let ana = student(&db).await;
    set(&db.store, &ana, "$argon2id$own", false).await;
    let first = reset(&db.store, &ana, "$argon2id$first", None).await;
    let second = reset(&db.store, &ana, "$argon2id$second", None).await;
    // The first reset's delivery fails after the second was set.
    assert_eq!(
        db.store.roll_back_handoff(&first, t0()).await.unwrap(),
        RollBack::Superseded
    );
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$second")
    );
    // Nobody received the first one, so when the second fails too, the
    // student's own password comes back, not the first reset's.
    assert_eq!(
        db.store.roll_back_handoff(&second, t0()).await.unwrap(),
        RollBack::Restored
    );
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$own")
    );
}

async fn a_roll_back_leaves_a_password_the_student_set_meanwhile_standing(db: TestDb) {
    let ana = student(&db).await;
    set(&db.store, &ana, "$argon2id$own", false).await;
    let handoff = reset(&db.store, &ana, "$argon2id$temporary", None).await;
    set(&db.store, &ana, "$argon2id$chosen-meanwhile", false).await;
    assert_eq!(
        db.store.roll_back_handoff(&handoff, t0()).await.unwrap(),
        RollBack::Superseded
    );
    let stored = db
        .store
        .password_hash(ana.tenant_id, ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.phc, "$argon2id$chosen-meanwhile");
    assert!(!stored.must_change);
}

async fn a_roll_back_of_a_user_without_a_password_removes_only_the_reset_s_password(db: TestDb) {
    let ana = student(&db).await;
    let handoff = reset(&db.store, &ana, "$argon2id$temporary", None).await;
    assert_eq!(
        db.store.roll_back_handoff(&handoff, t0()).await.unwrap(),
        RollBack::Restored
    );
    assert_eq!(stored_hash(&db.store, &ana).await, None);
    // A password set after a reset is never deleted by that reset's roll-back.
    let handoff = reset(&db.store, &ana, "$argon2id$temporary-2", None).await;
    set(&db.store, &ana, "$argon2id$chosen", false).await;
    assert_eq!(
        db.store.roll_back_handoff(&handoff, t0()).await.unwrap(),
        RollBack::Superseded
    );
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$chosen")
    );
}

async fn a_delivered_hand_off_is_never_rolled_back_and_forgets_the_previous_hash(db: TestDb) {
    let ana = student(&db).await;
    set(&db.store, &ana, "$argon2id$own", false).await;
    let handoff = reset(&db.store, &ana, "$argon2id$temporary", None).await;
    db.store.finish_handoff(&handoff, t0()).await.unwrap();
    assert_eq!(
        db.store.roll_back_handoff(&handoff, t0()).await.unwrap(),
        RollBack::AlreadyFinished
    );
    let rolled = db
        .store
        .roll_back_unfinished_handoffs(t0() + Duration::days(1), t0())
        .await
        .unwrap();
    assert_eq!(rolled, 0);
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$temporary")
    );
    let kept: Option<String> =
        sqlx::query_scalar("SELECT previous_hash FROM handoffs WHERE id = $1")
            .bind(handoff.0.clone())
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(kept, None, "a finished hand-off keeps no old hash");
}

async fn hand_offs_that_never_finished_are_rolled_back_at_start_up_and_give_back_the_quota(
    db: TestDb,
) {
    let ana = student(&db).await;
    set(&db.store, &ana, "$argon2id$own", false).await;
    let taken = db
        .store
        .take_quota(
            ana.tenant_id,
            "user:ana",
            "self_reset",
            1,
            Duration::hours(24),
            t0(),
        )
        .await
        .unwrap()
        .taken
        .unwrap();
    reset(&db.store, &ana, "$argon2id$temporary", Some(&taken)).await;
    // Too young for the sweep of another instance: left alone.
    let young = db
        .store
        .roll_back_unfinished_handoffs(t0() - Duration::minutes(15), t0())
        .await
        .unwrap();
    assert_eq!(young, 0);
    // The process stopped before delivering; the next start rolls it back.
    let rolled = db
        .store
        .roll_back_unfinished_handoffs(t0() + Duration::seconds(1), t0())
        .await
        .unwrap();
    assert_eq!(rolled, 1);
    assert_eq!(
        stored_hash(&db.store, &ana).await.as_deref(),
        Some("$argon2id$own")
    );
    let again = db
        .store
        .take_quota(
            ana.tenant_id,
            "user:ana",
            "self_reset",
            1,
            Duration::hours(24),
            t0(),
        )
        .await
        .unwrap();
    assert!(again.taken.is_some(), "the self-service use was given back");
}
