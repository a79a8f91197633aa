//! Classes and enrolments from the roster (issue 11 part 1), on SQLite and
//! PostgreSQL: a bundle with classes.csv and enrollments.csv ties students and
//! teachers to their classes; a re-import changes nothing; `tobedeleted` ends
//! an enrolment or a class; refused rows are reported with file, line and
//! reason while the others are imported; a bundle without the files imports
//! as before; a dry run writes nothing.

use crate::helpers::{TestDb, on_both_backends, t0};
use crate::import::{audit, tenant, user};
use hallpass::directory::{Class, TenantId};
use hallpass::roster::{
    ImportError, ImportOptions, ImportReport, import_oneroster, write_sample_bundle,
};
use hallpass::store::Store;
use std::path::Path;

mod enrolments;
mod refusals;

pub(crate) const ORGS: &str = "\
sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d-1,active,,Lincoln Unified,district,LU,
s-1,active,,Lincoln Middle School,school,LMS,d-1
s-2,active,,Adams Elementary,school,AE,d-1
d-2,active,,Bayside District,district,BD,
s-3,active,,Bayside High,school,BH,d-2
";

pub(crate) const USERS: &str = "\
sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName,grades
u-da,active,true,d-1,administrator,dana.admin,Dana,Admin,
u-sa,active,true,s-1,administrator,sam.admin,Sam,Admin,
u-t1,active,true,s-1,teacher,tess.harper,Tess,Harper,
u-t2,active,true,s-1,teacher,omar.reyes,Omar,Reyes,
u-t3,active,true,s-3,teacher,bay.teacher,Bay,Teacher,
u-s1,active,true,s-1,student,minh.nguyen,Minh,Nguyễn,07
u-s2,active,true,s-1,student,ana.lopez,Ana,Lopez,07
u-s3,active,true,s-1,student,ben.lopez,Ben,Lopez,07
u-s4,active,true,s-1,student,zoe.adams,Zoë,Adams,07
u-s5,active,true,s-2,student,kim.park,Kim,Park,03
u-s6,active,true,s-3,student,lee.bay,Lee,Bay,10
";

pub(crate) const CLASSES: &str = "\
sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c-sci,active,,Science 7B,07,crs-sci,SCI-7B,scheduled,Room 4,s-1,t-1,Science,,1
c-math,active,,Mathematics 7,07,crs-math,MATH-7,scheduled,,s-1,t-1,,,2
c-art,active,,Art,03,crs-art,ART-3,scheduled,,s-2,t-1,,,3
c-bio,active,,Biology,10,crs-bio,BIO-10,scheduled,,s-3,t-1,,,1
";

pub(crate) const ENROLLMENTS: &str = "\
sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e-1,active,,c-sci,s-1,u-t1,teacher,true,,
e-2,active,,c-sci,s-1,u-s1,student,false,,
e-3,active,,c-sci,s-1,u-s2,student,false,,
e-4,active,,c-sci,s-1,u-s3,student,false,,
e-5,active,,c-sci,s-1,u-s4,student,false,,
e-6,active,,c-math,s-1,u-t2,teacher,true,,
e-7,active,,c-math,s-1,u-s1,student,false,,
e-8,active,,c-art,s-2,u-t1,teacher,false,,
e-9,active,,c-art,,u-s5,student,false,,
e-10,active,,c-bio,s-3,u-t3,teacher,true,,
e-11,active,,c-bio,s-3,u-s6,student,false,,
";

/// A bundle of the four files (a file given as `None` is left out).
pub(crate) fn bundle(classes: Option<&str>, enrollments: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orgs.csv"), ORGS).unwrap();
    std::fs::write(dir.path().join("users.csv"), USERS).unwrap();
    if let Some(text) = classes {
        std::fs::write(dir.path().join("classes.csv"), text).unwrap();
    }
    if let Some(text) = enrollments {
        std::fs::write(dir.path().join("enrollments.csv"), text).unwrap();
    }
    dir
}

pub(crate) fn full_bundle() -> tempfile::TempDir {
    bundle(Some(CLASSES), Some(ENROLLMENTS))
}

pub(crate) async fn import_into(
    store: &Store,
    name: &str,
    dir: &Path,
    dry_run: bool,
) -> ImportReport {
    let options = ImportOptions {
        dry_run,
        ..ImportOptions::default()
    };
    let tenant = hallpass::directory::TenantName::parse(name).unwrap();
    import_oneroster(store, &tenant, dir, &options, t0())
        .await
        .unwrap()
}

async fn import(db: &TestDb, dir: &Path) -> ImportReport {
    import_into(&db.store, "lincoln", dir, false).await
}

pub(crate) async fn tenant_id(store: &Store, name: &str) -> TenantId {
    let name = hallpass::directory::TenantName::parse(name).unwrap();
    store.tenant_by_name(&name).await.unwrap().unwrap().id
}

/// The tenant's class with `sourced_id`.
pub(crate) async fn class(store: &Store, tenant: TenantId, sourced_id: &str) -> Class {
    store
        .class_by_sourced_id(tenant, sourced_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no class {sourced_id}"))
}

/// Every enrolment as (enrolment sourcedId, class sourcedId, login, role), in sourcedId order.
async fn enrolments(store: &Store) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT e.source_id, c.source_id, u.login, e.role FROM enrollments e \
         JOIN classes c ON c.id = e.class_id JOIN users u ON u.id = e.user_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.sort_by_key(|r| r.0.trim_start_matches("e-").parse::<u32>().unwrap_or(0));
    rows
}

async fn logins(store: &Store, class: &Class) -> Vec<String> {
    store
        .class_students(class.id)
        .await
        .unwrap()
        .iter()
        .map(|u| u.login.to_string())
        .collect()
}
