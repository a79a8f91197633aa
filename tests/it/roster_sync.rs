//! Roster sync (policy.md): a re-import merges field by field against what the
//! roster said last time, on SQLite and on PostgreSQL alike. Local changes come
//! in as they do in production: a promotion through the signed Zendesk
//! webhook, moves and name edits through `commands::handle`.

use std::fmt::Write as _;
use std::path::Path;

use hallpass::audit::AuditQuery;
use hallpass::commands::{Body, Request};
use hallpass::directory::{Place, Role, User};
use hallpass::roster::{ImportOptions, ImportReport, import_oneroster};
use hallpass::support::Decision;

use crate::bot::Bot;
use crate::desk::{AGENT, Desk, WEBHOOK_SECRET};
use crate::helpers::{TestDb, World, on_both_backends, t0};
use crate::roster_snapshot::{audit_count, snapshot};

on_both_backends!(
    a_promotion_approved_through_the_signed_webhook_survives_a_reimport_of_the_unchanged_bundle,
    a_move_and_a_name_edit_made_in_chat_survive_a_reimport,
    the_roster_changing_a_field_nobody_touched_locally_is_applied,
    both_sides_changing_one_field_apply_the_roster_value_and_report_the_conflict_with_the_local_actor,
    a_dry_run_leaves_the_rows_it_reports_on_byte_for_byte_unchanged_and_the_audit_count_unchanged,
    disabling_always_applies_and_a_user_missing_from_the_roster_is_reported_never_deleted,
    a_roster_row_that_would_make_a_student_a_district_admin_is_refused_and_reported,
    an_upgrade_from_a_directory_imported_before_this_issue_changes_nothing_on_its_first_reimport,
);

/// The bot world's users as a roster lists them.
struct Roster {
    /// The bundle as it was at the first import.
    dir: tempfile::TempDir,
    users_csv: String,
}

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
    d-a,active,2026-08-17T07:00:00Z,Lincoln Unified,district,,\n\
    d-b,active,2026-08-17T07:00:00Z,Bayside District,district,,\n\
    s-a1,active,2026-08-17T07:00:00Z,Lincoln Middle School,school,,d-a\n\
    s-a2,active,2026-08-17T07:00:00Z,Adams Elementary,school,,d-a\n\
    s-b1,active,2026-08-17T07:00:00Z,Bayside High,school,,d-b\n";

fn org_of(bot: &Bot, place: Place) -> &'static str {
    let w = &bot.world;
    match place.school() {
        Some(s) if s == w.a1.id => "s-a1",
        Some(s) if s == w.a2.id => "s-a2",
        Some(_) => "s-b1",
        None if place.district() == w.district_a.id => "d-a",
        None => "d-b",
    }
}

fn row(bot: &Bot, u: &User) -> String {
    let role = match u.role {
        Role::Student => "student",
        Role::Teacher => "teacher",
        Role::SchoolAdmin | Role::DistrictAdmin => "administrator",
    };
    format!(
        "sis-{login},active,2026-08-17T07:00:00Z,true,{org},{role},{login},{first},{last},,{grade}\n",
        login = u.login,
        org = org_of(bot, u.place),
        first = u.first_name,
        last = u.last_name,
        grade = u.grade.map(|g| g.code()).unwrap_or_default(),
    )
}

impl Roster {
    /// A bundle with `users.csv` passed through `edit`.
    fn edited(&self, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orgs.csv"), ORGS).unwrap();
        std::fs::write(dir.path().join("users.csv"), edit(&self.users_csv)).unwrap();
        dir
    }
}

/// Gives the bot world's users the sourcedIds of a roster (as an import
/// before hallpass remembered roster values left them), writes that roster's
/// bundle, and imports it once: the baseline, which changes nothing.
async fn rostered(bot: &Bot) -> Roster {
    sqlx::query("UPDATE users SET source_id = 'sis-' || login WHERE tenant_id = $1")
        .bind(bot.world.tenant.id.to_string())
        .execute(bot.db.store.pool())
        .await
        .unwrap();
    let users = [
        &bot.tess, &bot.tom, &bot.ana, &bot.ben, &bot.cara, &bot.dev, &bot.sam, &bot.dana,
        &bot.dave,
    ];
    let mut users_csv = String::from(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,grades\n",
    );
    for u in users {
        let _ = write!(users_csv, "{}", row(bot, u));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orgs.csv"), ORGS).unwrap();
    std::fs::write(dir.path().join("users.csv"), &users_csv).unwrap();
    let before = snapshot(&bot.db.store, "users").await;
    let baseline = import(bot, dir.path()).await;
    assert_eq!(
        (
            baseline.users_unchanged,
            baseline.users_baselined,
            baseline.users_updated
        ),
        (9, 9, 0),
        "{baseline}"
    );
    assert_eq!(snapshot(&bot.db.store, "users").await, before);
    Roster { dir, users_csv }
}

async fn import(bot: &Bot, dir: &Path) -> ImportReport {
    import_with(bot, dir, false).await
}

async fn import_with(bot: &Bot, dir: &Path, dry_run: bool) -> ImportReport {
    let options = ImportOptions {
        show_progress: false,
        dry_run,
        ..Default::default()
    };
    let report = import_oneroster(
        &bot.db.store,
        &bot.world.tenant.name,
        dir,
        &options,
        bot.app.now(),
    )
    .await
    .unwrap();
    assert!(report.refused.is_empty(), "{report}");
    report
}

/// Opens `/edit-user` on `target` as `who` and submits `fields`.
async fn edit_in_chat(bot: &Bot, who: &User, target: &User, fields: &[(&str, &str)]) {
    let Body::Modal(modal) = bot
        .command(who, "edit-user", &[("user", &target.id.to_string())])
        .await
        .body
    else {
        panic!("expected the edit form")
    };
    let reply = bot
        .run(who, Request::modal_submit(&modal.custom_id, fields))
        .await;
    assert!(reply.text().starts_with("Updated"), "{}", reply.text());
}

async fn a_promotion_approved_through_the_signed_webhook_survives_a_reimport_of_the_unchanged_bundle(
    db: TestDb,
) {
    let desk = Desk::on(db).await;
    let bot = &desk.bot;
    let roster = rostered(bot).await;
    let request = desk.queue(&bot.tess, &bot.sam).await;
    desk.worker().run_once().await.unwrap();
    let ticket = desk.reload(&request).await.ticket_id.unwrap();
    let payload = desk
        .zendesk
        .agent_decides(ticket, Decision::Approved, AGENT)
        .unwrap();
    let webhook = desk.listener(Some(WEBHOOK_SECRET)).await;
    let answer = webhook
        .deliver(&payload, WEBHOOK_SECRET, bot.app.now(), "inv-1")
        .await;
    assert_eq!(answer.outcome(), "approved", "{answer:?}");
    let promoted = bot.reload(&bot.tess).await;
    assert_eq!(promoted.role, Role::SchoolAdmin);

    let report = import(bot, roster.dir.path()).await;
    assert_eq!(
        bot.reload(&bot.tess).await,
        promoted,
        "the promotion is kept, nothing rewritten"
    );
    assert_eq!(
        (
            report.local_changes_kept,
            report.roster_changes_applied,
            report.conflicts.len()
        ),
        (1, 0, 0),
        "{report}"
    );
    assert_eq!((report.users_updated, report.users_unchanged), (0, 9));
    // And the next night too.
    import(bot, roster.dir.path()).await;
    assert_eq!(bot.reload(&bot.tess).await.role, Role::SchoolAdmin);
}

async fn a_move_and_a_name_edit_made_in_chat_survive_a_reimport(db: TestDb) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    let moved = bot
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.ana.id.to_string()),
                ("school", &bot.world.a2.id.to_string()),
            ],
        )
        .await;
    assert!(moved.text().starts_with("Moved"), "{}", moved.text());
    edit_in_chat(&bot, &bot.tess, &bot.ben, &[("first_name", "Benjamin")]).await;
    let (ana, ben) = (bot.reload(&bot.ana).await, bot.reload(&bot.ben).await);

    let report = import(&bot, roster.dir.path()).await;
    assert_eq!(bot.reload(&bot.ana).await, ana, "the move is kept");
    assert_eq!(
        bot.reload(&bot.ben).await.first_name.as_str(),
        "Benjamin",
        "the corrected name is kept"
    );
    assert_eq!(bot.reload(&bot.ben).await, ben);
    assert_eq!(
        (report.local_changes_kept, report.users_updated),
        (2, 0),
        "{report}"
    );
    assert!(
        report.to_string().contains("2 local changes kept"),
        "{report}"
    );
}

async fn the_roster_changing_a_field_nobody_touched_locally_is_applied(db: TestDb) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    let changed = roster.edited(|csv| {
        csv.replace(",Cara,Diaz,", ",Cara,Diaz-Ruiz,").replace(
            "sis-ben.ng,active,2026-08-17T07:00:00Z,true,s-a1",
            "sis-ben.ng,active,2026-08-17T07:00:00Z,true,s-a2",
        )
    });
    let report = import(&bot, changed.path()).await;
    assert_eq!(bot.reload(&bot.cara).await.last_name.as_str(), "Diaz-Ruiz");
    assert_eq!(bot.reload(&bot.ben).await.place, World::at(&bot.world.a2));
    assert_eq!(
        (
            report.roster_changes_applied,
            report.users_updated,
            report.conflicts.len()
        ),
        (2, 2, 0),
        "{report}"
    );
    let events = bot
        .db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.cara.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let edit = events.last().unwrap();
    assert_eq!(
        (edit.action.as_str(), edit.actor.as_str()),
        ("user.edit", "roster import")
    );
    assert_eq!(edit.after.as_ref().unwrap()["last_name"], "Diaz-Ruiz");
}

async fn both_sides_changing_one_field_apply_the_roster_value_and_report_the_conflict_with_the_local_actor(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    bot.clock.advance(chrono::Duration::hours(2));
    edit_in_chat(&bot, &bot.tess, &bot.ana, &[("last_name", "Lopes")]).await;
    let local = bot
        .db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(bot.ana.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(local.actor.contains("tess.teach"), "{}", local.actor);

    let changed = roster.edited(|csv| csv.replace(",Ana,Lopez,", ",Ana,López-Vega,"));
    bot.clock.advance(chrono::Duration::hours(10));
    let report = import(&bot, changed.path()).await;
    assert_eq!(bot.reload(&bot.ana).await.last_name.as_str(), "López-Vega");
    assert_eq!(report.conflicts.len(), 1, "{report}");
    let conflict = &report.conflicts[0];
    assert_eq!(
        (
            conflict.source_id.as_str(),
            conflict.field.as_str(),
            conflict.hallpass.as_str(),
            conflict.roster.as_str()
        ),
        ("sis-ana.lopez", "last_name", "Lopes", "López-Vega")
    );
    assert_eq!(conflict.changed_by.as_deref(), Some(local.actor.as_str()));
    assert_eq!(conflict.changed_at.as_deref(), Some(local.at.as_str()));
    let printed = report.to_string();
    assert!(
        printed.contains(&format!("by {} at {}", local.actor, local.at)),
        "{printed}"
    );
    let json = report
        .json_lines()
        .into_iter()
        .find(|l| l["type"] == "conflict")
        .unwrap();
    assert_eq!(json["changed_by"], local.actor.as_str());
    assert_eq!(json["roster"], "López-Vega");

    let again = import(&bot, changed.path()).await;
    assert!(
        again.conflicts.is_empty(),
        "a conflict is reported once: {again}"
    );
    assert_eq!(again.users_updated, 0);
}

async fn a_dry_run_leaves_the_rows_it_reports_on_byte_for_byte_unchanged_and_the_audit_count_unchanged(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    edit_in_chat(&bot, &bot.tess, &bot.ana, &[("last_name", "Lopes")]).await;
    let changed = roster.edited(|csv| {
        let mut csv = csv
            .replace(",Ana,Lopez,", ",Ana,López-Vega,")
            .replace(",Cara,Diaz,", ",Cara,Diaz-Ruiz,")
            .replace("sis-tom.teach,active", "sis-tom.teach,tobedeleted");
        csv.push_str(
            "sis-new.kid,active,2026-08-17T07:00:00Z,TRUE,s-new,student,new.kid,New,Kid,,05\n",
        );
        csv
    });
    std::fs::write(
        changed.path().join("orgs.csv"),
        format!("{ORGS}s-new,active,2026-08-17T07:00:00Z,New School,school,,d-b\n"),
    )
    .unwrap();
    let tables = [
        "tenants",
        "districts",
        "schools",
        "users",
        "roster_values",
        "chat_links",
    ];
    let mut before = Vec::new();
    for table in tables {
        before.push(snapshot(&bot.db.store, table).await);
    }
    let audited = audit_count(&bot.db.store).await;

    let dry = import_with(&bot, changed.path(), true).await;
    let mut after = Vec::new();
    for table in tables {
        after.push(snapshot(&bot.db.store, table).await);
    }
    assert_eq!(after, before, "nothing written");
    assert_eq!(audit_count(&bot.db.store).await, audited, "no audit entry");
    assert!(dry.dry_run);
    assert!(dry.to_string().contains("Dry run: nothing was written."));
    assert_eq!(
        (
            dry.orgs_created,
            dry.users_created,
            dry.users_updated,
            dry.users_disabled,
            dry.conflicts.len()
        ),
        (1, 1, 2, 1, 1),
        "{dry}"
    );

    // The real run reports exactly what the dry run said it would.
    let real = import(&bot, changed.path()).await;
    let without_flag = |r: &ImportReport| {
        r.json_lines()
            .into_iter()
            .map(|mut l| {
                l.as_object_mut().unwrap().remove("dry_run");
                l
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_flag(&dry), without_flag(&real));
    assert_ne!(snapshot(&bot.db.store, "users").await, before[3]);
}

async fn disabling_always_applies_and_a_user_missing_from_the_roster_is_reported_never_deleted(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    // Cara is disabled in the roster; Dev is no longer listed at all.
    let changed = roster.edited(|csv| {
        csv.replace(
            "sis-cara.diaz,active,2026-08-17T07:00:00Z,true",
            "sis-cara.diaz,active,2026-08-17T07:00:00Z,FALSE",
        )
        .lines()
        .filter(|l| !l.starts_with("sis-dev.patel,"))
        .map(|l| format!("{l}\n"))
        .collect()
    });
    let dev = bot.reload(&bot.dev).await;
    let report = import(&bot, changed.path()).await;
    assert!(bot.reload(&bot.cara).await.disabled);
    assert_eq!(report.users_disabled, 1);
    assert_eq!(report.missing.len(), 1, "{report}");
    assert_eq!(report.missing[0].source_id, "sis-dev.patel");
    assert_eq!(bot.reload(&bot.dev).await, dev, "left as they are");
    assert!(
        report
            .to_string()
            .contains("missing: sourcedId sis-dev.patel (dev.patel)")
    );

    // Re-enabled in hallpass; the roster still says disabled: disabling applies again.
    let cara = bot.reload(&bot.cara).await;
    bot.db
        .store
        .update_user(
            &cara,
            &hallpass::store::UserChanges {
                disabled: Some(false),
                ..Default::default()
            },
            crate::helpers::cli_audit(hallpass::audit::Action::UserEnable, t0()),
        )
        .await
        .unwrap();
    let again = import(&bot, changed.path()).await;
    assert!(bot.reload(&bot.cara).await.disabled, "{again}");
}

async fn a_roster_row_that_would_make_a_student_a_district_admin_is_refused_and_reported(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let roster = rostered(&bot).await;
    let typo = roster.edited(|csv| {
        csv.replace(
            "sis-ana.lopez,active,2026-08-17T07:00:00Z,true,s-a1,student",
            "sis-ana.lopez,active,2026-08-17T07:00:00Z,true,d-a,administrator",
        )
    });
    let report = import_oneroster(
        &bot.db.store,
        &bot.world.tenant.name,
        typo.path(),
        &ImportOptions::default(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(report.refused.len(), 1, "{report}");
    assert_eq!(
        report.refused[0].source_id.as_deref(),
        Some("sis-ana.lopez")
    );
    assert!(
        report.refused[0]
            .reason
            .contains("from student to district admin"),
        "{}",
        report.refused[0].reason
    );
    assert_eq!(bot.reload(&bot.ana).await.role, Role::Student);
}

async fn an_upgrade_from_a_directory_imported_before_this_issue_changes_nothing_on_its_first_reimport(
    db: TestDb,
) {
    use crate::import::{edited_sample, fixture, import as import_sample, user};
    use hallpass::audit::Action;
    use hallpass::directory::PersonName;
    use hallpass::store::UserChanges;

    import_sample(&db, &fixture("sample")).await;
    // What an import before this issue left: records with sourcedIds, and
    // nothing remembered about what the roster said (the table is new).
    sqlx::query("DELETE FROM roster_values")
        .execute(db.store.pool())
        .await
        .unwrap();
    // Then, before the upgrade, a promotion, a move and a corrected name.
    let changes = [
        (
            "tess.harper@lincolnusd.example",
            UserChanges {
                role: Some(Role::SchoolAdmin),
                ..UserChanges::default()
            },
        ),
        (
            "zoe.fischer",
            UserChanges {
                last_name: Some(PersonName::parse("Fischer-Lang").unwrap()),
                ..UserChanges::default()
            },
        ),
    ];
    for (login, change) in changes {
        let before = user(&db.store, login).await;
        db.store
            .update_user(
                &before,
                &change,
                crate::helpers::cli_audit(Action::UserEdit, t0()),
            )
            .await
            .unwrap();
    }
    let noah = user(&db.store, "noah.schmidt").await;
    let aes = db
        .store
        .schools(noah.tenant_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Adams Elementary")
        .unwrap();
    db.store
        .update_user(
            &noah,
            &UserChanges {
                place: Some(World::at(&aes)),
                ..UserChanges::default()
            },
            crate::helpers::cli_audit(Action::UserMove, t0()),
        )
        .await
        .unwrap();
    let users = snapshot(&db.store, "users").await;
    let audited = audit_count(&db.store).await;

    let first = import_sample(&db, &fixture("sample")).await;
    assert_eq!(snapshot(&db.store, "users").await, users, "{first}");
    assert_eq!(
        (
            first.users_baselined,
            first.users_updated,
            first.conflicts.len()
        ),
        (28, 0, 0),
        "{first}"
    );
    assert_eq!(
        audit_count(&db.store).await,
        audited + 1,
        "only the summary event"
    );

    // From now on the roster's own changes apply, and the local ones stay.
    let next = import_sample(&db, &fixture("sample")).await;
    assert_eq!(
        (next.users_baselined, next.local_changes_kept),
        (0, 3),
        "{next}"
    );
    let changed = edited_sample(|csv| csv.replace(",Noah,Schmidt,", ",Noah,Schmidt-Berg,"));
    import_sample(&db, changed.path()).await;
    let noah = user(&db.store, "noah.schmidt").await;
    assert_eq!(noah.last_name.as_str(), "Schmidt-Berg");
    assert_eq!(noah.place, World::at(&aes), "the move is still kept");
    assert_eq!(
        user(&db.store, "tess.harper@lincolnusd.example").await.role,
        Role::SchoolAdmin
    );
}
