use super::*;

on_both_backends!(
    the_audit_log_refuses_update_and_delete,
    the_audit_log_is_queryable_by_target_actor_tenant_and_time,
);

async fn the_audit_log_refuses_update_and_delete(db: TestDb) {
    let world = World::build(&db.store).await;
    world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let events = db.store.audit_events(&AuditQuery::default()).await.unwrap();
    assert!(!events.is_empty());
    let update = sqlx::query("UPDATE audit_events SET outcome = 'refused'")
        .execute(db.store.pool())
        .await;
    let err = update.unwrap_err().to_string();
    assert!(err.contains("append-only"), "{err}");
    let delete = sqlx::query("DELETE FROM audit_events")
        .execute(db.store.pool())
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(
        db.store.audit_events(&AuditQuery::default()).await.unwrap(),
        events
    );
}

async fn the_audit_log_is_queryable_by_target_actor_tenant_and_time(db: TestDb) {
    let world = World::build(&db.store).await;
    let teacher = world
        .user(&db.store, "tess.teach", Role::Teacher, World::at(&world.a1))
        .await;
    let student = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let actor = AuditActor {
        user_id: Some(teacher.id),
        discord_user_id: Some(DiscordUserId::new(42)),
        label: "Teach, Tess".into(),
    };
    for (hours, outcome) in [
        (1, Outcome::Applied),
        (2, Outcome::Refused),
        (3, Outcome::Applied),
    ] {
        let mut entry = AuditEntry::new(
            Some(world.tenant.id),
            t0() + Duration::hours(hours),
            actor.clone(),
            Action::PasswordReset,
            Origin::default(),
        )
        .target(student.id, student.display_name());
        if outcome == Outcome::Refused {
            entry = entry.refused("rate limited");
        }
        db.store.append_audit(&entry).await.unwrap();
    }
    let by_target = db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(student.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_target
            .iter()
            .filter(|e| e.action == "password.reset")
            .count(),
        3
    );
    let by_actor = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_actor.len(), 3);
    assert_eq!(by_actor[1].outcome, "refused");
    assert_eq!(by_actor[1].reason.as_deref(), Some("rate limited"));
    assert_eq!(by_actor[0].actor_discord_id.as_deref(), Some("42"));
    let since = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            since: Some(t0() + Duration::minutes(90)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    assert!(since[0].seq < since[1].seq, "oldest first");
    let other_tenant = db
        .store
        .audit_events(&AuditQuery {
            tenant_id: Some(world.other.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other_tenant.iter().all(|e| e.target_user_id.is_none()));
    let newest = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].at, by_actor[2].at);
}
