//! The store's class queries, on SQLite and PostgreSQL: the autocomplete
//! search within each role's scope (policy.md "Classes and login cards"), a
//! class by id within its tenant, and a class's students in name order.

use hallpass::directory::{ClassId, User};
use hallpass::policy::{ClassScope, Subject, can_see_class, class_scope};
use hallpass::store::Store;

use crate::classes_import::{class, full_bundle, import_into, tenant_id};
use crate::helpers::{TestDb, on_both_backends};
use crate::import::user;

on_both_backends!(
    each_role_is_offered_exactly_the_classes_its_scope_covers,
    a_search_matches_the_start_of_a_title_or_a_code_in_any_case_in_title_order,
    nothing_of_another_tenant_is_found_or_read,
    a_class_lists_its_students_by_family_name_given_name_and_login_whatever_their_state,
);

async fn titles(store: &Store, actor: &User, typed: &str, limit: u32) -> Vec<String> {
    let scope = class_scope(&Subject::from(actor));
    let found = store
        .search_classes(actor.tenant_id, &scope, typed, limit)
        .await
        .unwrap();
    for class in &found {
        let teaches = store.teaches(actor.id, class.id).await.unwrap();
        assert!(
            can_see_class(&Subject::from(actor), class, teaches).is_allowed(),
            "offered but not allowed: {class:?}"
        );
    }
    found.into_iter().map(|c| c.title).collect()
}

async fn each_role_is_offered_exactly_the_classes_its_scope_covers(db: TestDb) {
    import_into(&db.store, "lincoln", full_bundle().path(), false).await;
    let s = &db.store;
    let tess = user(s, "tess.harper").await;
    assert_eq!(
        titles(s, &tess, "", 25).await,
        ["Art", "Science 7B"],
        "the two she teaches, one in another school"
    );
    let omar = user(s, "omar.reyes").await;
    assert_eq!(titles(s, &omar, "", 25).await, ["Mathematics 7"]);
    let sam = user(s, "sam.admin").await;
    assert_eq!(
        titles(s, &sam, "", 25).await,
        ["Mathematics 7", "Science 7B"],
        "his school's"
    );
    let dana = user(s, "dana.admin").await;
    assert_eq!(
        titles(s, &dana, "", 25).await,
        ["Art", "Mathematics 7", "Science 7B"],
        "her district's, not Bayside's"
    );
    let minh = user(s, "minh.nguyen").await;
    assert_eq!(class_scope(&Subject::from(&minh)), ClassScope::Nothing);
    assert!(
        titles(s, &minh, "", 25).await.is_empty(),
        "a student is offered nothing"
    );
    let bay = user(s, "bay.teacher").await;
    assert_eq!(titles(s, &bay, "", 25).await, ["Biology"]);
    let off = User {
        disabled: true,
        ..dana.clone()
    };
    assert!(
        titles(s, &off, "", 25).await.is_empty(),
        "a disabled admin is offered nothing"
    );
}

async fn a_search_matches_the_start_of_a_title_or_a_code_in_any_case_in_title_order(db: TestDb) {
    import_into(&db.store, "lincoln", full_bundle().path(), false).await;
    let s = &db.store;
    let dana = user(s, "dana.admin").await;
    assert_eq!(titles(s, &dana, "sci", 25).await, ["Science 7B"]);
    assert_eq!(
        titles(s, &dana, "MATH-", 25).await,
        ["Mathematics 7"],
        "by code"
    );
    assert_eq!(
        titles(s, &dana, "art-3", 25).await,
        ["Art"],
        "code, another case"
    );
    assert!(
        titles(s, &dana, "7b", 25).await.is_empty(),
        "the start, not the middle"
    );
    assert_eq!(
        titles(s, &dana, "", 2).await,
        ["Art", "Mathematics 7"],
        "at most the limit, by title"
    );
    let tess = user(s, "tess.harper").await;
    assert_eq!(
        titles(s, &tess, "SCI-7", 25).await,
        ["Science 7B"],
        "a teacher's search by code"
    );
    assert!(
        titles(s, &tess, "math", 25).await.is_empty(),
        "not a class she teaches"
    );
}

async fn nothing_of_another_tenant_is_found_or_read(db: TestDb) {
    let dir = full_bundle();
    import_into(&db.store, "lincoln", dir.path(), false).await;
    import_into(&db.store, "other", dir.path(), false).await;
    let s = &db.store;
    let lincoln = tenant_id(s, "lincoln").await;
    let other = tenant_id(s, "other").await;
    let theirs = class(s, other, "c-sci").await;
    assert_eq!(s.class_by_id(lincoln, theirs.id).await.unwrap(), None);
    assert_eq!(
        s.class_by_id(other, theirs.id).await.unwrap(),
        Some(theirs.clone())
    );
    assert_eq!(s.class_by_id(lincoln, ClassId::new()).await.unwrap(), None);
    let ours = s
        .class_by_sourced_id(lincoln, "c-sci")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(ours.id, theirs.id, "one sourcedId, a class in each tenant");
    assert_eq!(
        s.class_by_id(lincoln, ours.id).await.unwrap(),
        Some(ours.clone())
    );
    assert_eq!(
        s.class_by_sourced_id(lincoln, "c-nope").await.unwrap(),
        None
    );
    // Their school's and district's scopes, asked in lincoln, find nothing.
    for scope in [
        ClassScope::School(theirs.school_id),
        ClassScope::District(theirs.district_id),
    ] {
        assert!(
            s.search_classes(lincoln, &scope, "", 25)
                .await
                .unwrap()
                .is_empty(),
            "{scope:?}"
        );
    }
    let their_students = s.class_students(theirs.id).await.unwrap();
    assert_eq!(their_students.len(), 4);
    assert!(their_students.iter().all(|u| u.tenant_id == other));
    let tess = user(s, "tess.harper").await;
    let subject = Subject::from(&tess);
    assert!(
        !can_see_class(&subject, &theirs, true).is_allowed(),
        "not across tenants"
    );
    assert!(can_see_class(&subject, &ours, true).is_allowed());
    let taught = ClassScope::Taught { teacher: tess.id };
    assert!(
        s.search_classes(other, &taught, "", 25)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_class_lists_its_students_by_family_name_given_name_and_login_whatever_their_state(
    db: TestDb,
) {
    import_into(&db.store, "lincoln", full_bundle().path(), false).await;
    let s = &db.store;
    let lincoln = tenant_id(s, "lincoln").await;
    let sci = class(s, lincoln, "c-sci").await;
    // Ben's account is disabled and he moved school: still listed, still enrolled.
    let users =
        crate::classes_import::USERS.replace("u-s3,active,true,s-1,", "u-s3,active,false,s-2,");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orgs.csv"), crate::classes_import::ORGS).unwrap();
    std::fs::write(dir.path().join("users.csv"), users).unwrap();
    import_into(s, "lincoln", dir.path(), false).await;
    let ben = user(s, "ben.lopez").await;
    assert!(ben.disabled);
    let students = s.class_students(sci.id).await.unwrap();
    let names: Vec<(String, String, bool)> = students
        .iter()
        .map(|u| (u.display_name(), u.login.to_string(), u.disabled))
        .collect();
    assert_eq!(
        names,
        [
            ("Adams, Zoë".to_owned(), "zoe.adams".to_owned(), false),
            ("Lopez, Ana".to_owned(), "ana.lopez".to_owned(), false),
            ("Lopez, Ben".to_owned(), "ben.lopez".to_owned(), true),
            ("Nguyễn, Minh".to_owned(), "minh.nguyen".to_owned(), false),
        ]
    );
    assert!(
        students
            .iter()
            .all(|u| u.role == hallpass::directory::Role::Student),
        "not the teacher"
    );
    assert!(s.class_students(ClassId::new()).await.unwrap().is_empty());
}
