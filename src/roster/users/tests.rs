//! The planner, row by row: roles and places from `role` and `orgSourcedIds`,
//! logins, grades, unchanged records and deletions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::TimeZone;

use super::*;
use crate::directory::{DistrictId, Grade, Place, Role, SchoolId};
use crate::roster::orgs::OrgRef;

const HEADER: &str =
    "sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,grades";

struct Fixture {
    orgs: OrgMap,
    district: DistrictId,
    school: SchoolId,
}

fn fixture() -> Fixture {
    let district = DistrictId::new();
    let school = SchoolId::new();
    let mut orgs = OrgMap::new();
    orgs.insert("d".into(), OrgRef::District(district));
    orgs.insert("s".into(), OrgRef::School { school, district });
    Fixture {
        orgs,
        district,
        school,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap()
}

/// Plans every row of `rows` (CSV lines after the header) against `existing`.
fn plan(f: &Fixture, existing: Vec<User>, rows: &[&str]) -> Vec<Result<Plan, String>> {
    // Each record as the roster last gave it: the record itself.
    let remembered = existing
        .iter()
        .map(|u| (u.id, sync::values_of(u)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("users.csv"),
        format!("{HEADER}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let mut table = Table::open(dir.path(), "users.csv").unwrap();
    let cols = UserColumns::find(&table).unwrap();
    let mut planner = Planner::new(TenantId::new(), &f.orgs, existing, remembered, now());
    let mut plans = Vec::new();
    while let Some(record) = table.next_record().unwrap() {
        plans.push(planner.plan(&record, &cols));
    }
    plans
}

fn written(plan: &Result<Plan, String>) -> &RosterWrite {
    match plan {
        Ok(Plan::Write(w)) => w,
        Ok(Plan::Unchanged) => panic!("expected a write, got unchanged"),
        Err(reason) => panic!("expected a write, got refused: {reason}"),
    }
}

fn refused(plan: &Result<Plan, String>) -> &str {
    match plan {
        Err(reason) => reason,
        Ok(_) => panic!("expected a refusal"),
    }
}

#[test]
fn an_administrator_at_a_district_is_a_district_admin_and_at_a_school_a_school_admin() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &[
            "a,,,d,administrator,dana,Dana,Day,,",
            "b,,,s,Administrator,sam,Sam,Sun,,",
        ],
    );
    let (dana, sam) = (written(&plans[0]), written(&plans[1]));
    assert_eq!(
        (dana.after.role, dana.after.place),
        (
            Role::DistrictAdmin,
            Place::District {
                district: f.district
            }
        )
    );
    assert_eq!(sam.after.role, Role::SchoolAdmin);
    assert_eq!(sam.after.place.school(), Some(f.school));
    assert_eq!(dana.action, Action::UserCreate);
}

#[test]
fn a_student_takes_the_first_known_school_of_their_orgs() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &["a,,,\"gone, d, s\",student,ana,Ana,Lopez,,\"7, 8\""],
    );
    let ana = written(&plans[0]);
    assert_eq!(ana.after.place.school(), Some(f.school));
    assert_eq!(
        ana.after.grade,
        Some(Grade::Numbered(7)),
        "the first of several grades, zero-padded"
    );
    assert_eq!(ana.after.source_id.as_deref(), Some("a"));
}

#[test]
fn a_student_or_teacher_at_a_district_only_is_refused_naming_the_org() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &[
            "a,,,d,student,ana,Ana,Lopez,,",
            "b,,,d,teacher,ben,Ben,Ng,,",
        ],
    );
    assert!(refused(&plans[0]).contains("a student belongs to a school, but org d is a district"));
    assert!(refused(&plans[1]).contains("a teacher belongs to a school"));
}

#[test]
fn the_email_is_the_login_when_the_username_is_empty() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &[
            "a,,,s,teacher,,Ana,Lopez,ana@school.example,",
            "b,,,s,teacher,,Ben,Ng,,",
        ],
    );
    assert_eq!(
        written(&plans[0]).after.login.as_str(),
        "ana@school.example"
    );
    assert!(refused(&plans[1]).contains("username and email are both empty"));
}

#[test]
fn a_login_is_claimed_by_the_first_row_that_is_imported_and_not_by_a_refused_one() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &[
            "a,,,s,student,ana,Ana,Lopez,,14",
            "b,,,s,student,ANA,Ana,Lopez,,07",
            "c,,,s,student,Ana,Ana,Lopez,,07",
        ],
    );
    assert!(refused(&plans[0]).starts_with("grades:"));
    written(&plans[1]);
    assert_eq!(
        refused(&plans[2]),
        "login Ana is already claimed by sourcedId b on line 3."
    );
}

#[test]
fn a_row_that_matches_its_record_is_unchanged_and_a_change_bumps_the_version() {
    let f = fixture();
    let created = written(&plan(&f, vec![], &["a,,,s,student,ana,Ana,Lopez,,07"])[0])
        .after
        .clone();
    let plans = plan(
        &f,
        vec![created.clone()],
        &["a,active,true,s,student,ana,Ana,Lopez,,07"],
    );
    assert!(matches!(plans[0], Ok(Plan::Unchanged)));
    let plans = plan(
        &f,
        vec![created.clone()],
        &["a,,,s,student,ana,Ana,López,,07"],
    );
    let edit = written(&plans[0]);
    assert_eq!(
        (edit.action, edit.after.version, edit.after.id),
        (Action::UserEdit, created.version + 1, created.id)
    );
}

#[test]
fn tobedeleted_needs_only_the_sourced_id_and_disables_a_known_user() {
    let f = fixture();
    let created = written(&plan(&f, vec![], &["a,,,s,student,ana,Ana,Lopez,,07"])[0])
        .after
        .clone();
    let plans = plan(
        &f,
        vec![created.clone()],
        &["a,tobedeleted,,,,,,,,", "unknown,tobedeleted,,,,,,,,"],
    );
    let disable = written(&plans[0]);
    assert_eq!(
        (disable.action, disable.after.disabled),
        (Action::UserDisable, true)
    );
    assert_eq!(
        disable.after.last_name, created.last_name,
        "nothing else changes"
    );
    assert!(
        matches!(plans[1], Ok(Plan::Unchanged)),
        "an unknown user is not created only to be deleted"
    );
}

#[test]
fn unknown_roles_statuses_and_enabled_values_are_refused_with_the_value() {
    let f = fixture();
    let plans = plan(
        &f,
        vec![],
        &[
            "a,,,s,aide,a,A,B,,",
            "b,archived,,s,student,b,A,B,,",
            "c,,maybe,s,student,c,A,B,,",
            "d,,,s,,d,A,B,,",
        ],
    );
    assert!(refused(&plans[0]).contains("role \"aide\" is not imported"));
    assert!(refused(&plans[1]).contains("status \"archived\""));
    assert!(refused(&plans[2]).contains("enabledUser \"maybe\""));
    assert_eq!(refused(&plans[3]), "role is empty.");
}
