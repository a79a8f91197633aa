//! A world for the class-cards tests, built the way a district builds it: a
//! OneRoster bundle (orgs, users, classes, enrolments) written to a temporary
//! folder and imported, a Discord server bound to the tenant, linked chat
//! accounts, a fast (test-only) hasher, a pinned clock and seeded randomness.
//!
//! Tenant "lincoln": district LUSD (Lincoln Middle School, Adams Elementary)
//! and district Bay (Bay High).
//! * Science 7B (SCI-7B) at Lincoln MS: taught by Rivera; students s01–s05,
//!   plus s06 (disabled) — 5 that may be reset, 1 skipped;
//! * Math 8 (MATH-8) at Lincoln MS: taught by Okafor; students s01, s02;
//! * Art 4 at Adams: taught by Adams' teacher Diaz; student a01;
//! * Bay Biology at Bay High: student b01.

use std::path::Path;
use std::sync::Arc;

use hallpass::app::{App, ManualClock, Randomness, Settings};
use hallpass::audit::{Action, AuditEvent, AuditQuery};
use hallpass::commands::{Body, Button, Invocation, Reply, Request, handle};
use hallpass::credentials::{HashParams, PasswordHasher};
use hallpass::directory::{Class, DiscordGuildId, DiscordUserId, Login, TenantName, User};
use hallpass::roster::{ImportOptions, import_oneroster};
use secrecy::SecretString;

use crate::helpers::{TestDb, cli_audit, t0};

pub const GUILD: u64 = 4343;

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
lusd,active,2026-08-17T07:00:00Z,Lincoln Unified,district,LUSD,
lms,active,2026-08-17T07:00:00Z,Lincoln Middle School,school,LMS,lusd
aes,active,2026-08-17T07:00:00Z,Adams Elementary,school,AES,lusd
bay,active,2026-08-17T07:00:00Z,Bay District,district,BAY,
bhs,active,2026-08-17T07:00:00Z,Bay High,school,BHS,bay
";

const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n";

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c-sci7b,active,2026-08-17T07:00:00Z,Science 7B,07,crs-sci,SCI-7B,scheduled,Room 12,lms,term1,Science,,1
c-math8,active,2026-08-17T07:00:00Z,Math 8,08,crs-math,MATH-8,scheduled,Room 3,lms,term1,Math,,2
c-art4,active,2026-08-17T07:00:00Z,Art 4,04,crs-art,,scheduled,Studio,aes,term1,Art,,3
c-bio,active,2026-08-17T07:00:00Z,Bay Biology,10,crs-bio,BIO-10,scheduled,Lab,bhs,term1,Science,,1
";

/// (sourcedId, enabled, org, role, login, given, family, grade)
type Row = (
    &'static str,
    bool,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PEOPLE: &[Row] = &[
    (
        "t-rivera", true, "lms", "teacher", "m.rivera", "Maria", "Rivera", "",
    ),
    (
        "t-okafor", true, "lms", "teacher", "j.okafor", "James", "Okafor", "",
    ),
    (
        "t-diaz", true, "aes", "teacher", "l.diaz", "Luz", "Diaz", "",
    ),
    (
        "a-patel",
        true,
        "lms",
        "administrator",
        "s.patel",
        "Samira",
        "Patel",
        "",
    ),
    (
        "a-adams",
        true,
        "aes",
        "administrator",
        "k.adams",
        "Kim",
        "Adams",
        "",
    ),
    (
        "d-whit",
        true,
        "lusd",
        "administrator",
        "d.whitfield",
        "Dana",
        "Whitfield",
        "",
    ),
    (
        "d-bay",
        true,
        "bay",
        "administrator",
        "b.shore",
        "Bo",
        "Shore",
        "",
    ),
    (
        "s01",
        true,
        "lms",
        "student",
        "ada.lovelace",
        "Ada",
        "Lovelace",
        "07",
    ),
    ("s02", true, "lms", "student", "ben.ng", "Ben", "Ng", "07"),
    (
        "s03",
        true,
        "lms",
        "student",
        "cleo.ortiz",
        "Cleo",
        "Ortiz",
        "07",
    ),
    (
        "s04", true, "lms", "student", "il1.oo0", "Ilya", "Oolo", "07",
    ),
    (
        "s05", true, "lms", "student", "eve.zhou", "Eve", "Zhou", "07",
    ),
    (
        "s06", false, "lms", "student", "fay.gone", "Fay", "Gone", "07",
    ),
    ("a01", true, "aes", "student", "gus.art", "Gus", "Art", "04"),
    ("b01", true, "bhs", "student", "hal.bay", "Hal", "Bay", "10"),
];

/// (class, school, user, role)
const ENROLMENTS: &[(&str, &str, &str, &str)] = &[
    ("c-sci7b", "lms", "t-rivera", "teacher"),
    ("c-sci7b", "lms", "s01", "student"),
    ("c-sci7b", "lms", "s02", "student"),
    ("c-sci7b", "lms", "s03", "student"),
    ("c-sci7b", "lms", "s04", "student"),
    ("c-sci7b", "lms", "s05", "student"),
    ("c-sci7b", "lms", "s06", "student"),
    ("c-math8", "lms", "t-okafor", "teacher"),
    ("c-math8", "lms", "s01", "student"),
    ("c-math8", "lms", "s02", "student"),
    ("c-art4", "aes", "t-diaz", "teacher"),
    ("c-art4", "aes", "a01", "student"),
    ("c-bio", "bhs", "b01", "student"),
];

/// Writes the bundle into `dir`, with `extra` students enrolled in Science 7B
/// (logins `extraNN`), for a bigger class.
pub fn write_bundle(dir: &Path, extra: usize) {
    std::fs::write(dir.join("orgs.csv"), ORGS).unwrap();
    let mut users = USERS_HEADER.to_owned();
    let mut enrolments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n".to_owned();
    for (id, enabled, org, role, login, given, family, grade) in PEOPLE {
        users.push_str(&format!(
            "{id},active,2026-08-17T07:00:00Z,{enabled},{org},{role},{login},,{given},{family},,,,,,,{grade},\n"
        ));
    }
    for n in 0..extra {
        users.push_str(&format!(
            "x{n:02},active,2026-08-17T07:00:00Z,true,lms,student,extra{n:02},,Extra,Student{n:02},,,,,,,07,\n"
        ));
    }
    let mut line = 0;
    let mut enrol = |class: &str, school: &str, user: &str, role: &str| {
        line += 1;
        enrolments.push_str(&format!(
            "e{line:03},active,2026-08-17T07:00:00Z,{class},{school},{user},{role},false,,\n"
        ));
    };
    for (class, school, user, role) in ENROLMENTS {
        enrol(class, school, user, role);
    }
    for n in 0..extra {
        enrol("c-sci7b", "lms", &format!("x{n:02}"), "student");
    }
    std::fs::write(dir.join("users.csv"), users).unwrap();
    std::fs::write(dir.join("classes.csv"), CLASSES).unwrap();
    std::fs::write(dir.join("enrollments.csv"), enrolments).unwrap();
}

pub struct ClassWorld {
    pub db: TestDb,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub tenant: hallpass::directory::Tenant,
}

impl ClassWorld {
    pub async fn on(db: TestDb) -> Self {
        Self::with(db, 0).await
    }

    /// The world with `extra` more students in Science 7B.
    pub async fn with(db: TestDb, extra: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_bundle(dir.path(), extra);
        let name = TenantName::parse("lincoln").unwrap();
        let report = import_oneroster(
            &db.store,
            &name,
            dir.path(),
            &ImportOptions::default(),
            t0(),
        )
        .await
        .unwrap();
        assert!(report.refused.is_empty(), "{report}");
        let tenant = db.store.tenant_by_name(&name).await.unwrap().unwrap();
        db.store
            .bind_guild(
                DiscordGuildId::new(GUILD),
                tenant.id,
                cli_audit(Action::GuildBind, t0()),
            )
            .await
            .unwrap();
        let hasher = PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let mut app = App::new(db.store.clone(), hasher, Settings::default());
        app.clock = clock.clone();
        app.random = Arc::new(Randomness::seeded(11));
        let world = Self {
            db,
            app,
            clock,
            tenant,
        };
        for (n, login) in [
            "m.rivera",
            "j.okafor",
            "l.diaz",
            "s.patel",
            "k.adams",
            "d.whitfield",
            "b.shore",
            "ada.lovelace",
        ]
        .into_iter()
        .enumerate()
        {
            let user = world.user(login).await;
            world
                .db
                .store
                .link_discord(
                    &user,
                    DiscordUserId::new(3000 + n as u64),
                    cli_audit(Action::ChatLink, t0()),
                )
                .await
                .unwrap();
        }
        world
    }

    pub async fn user(&self, login: &str) -> User {
        self.db
            .store
            .user_by_login(self.tenant.id, &Login::parse(login).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{login} missing"))
    }

    pub async fn class(&self, sourced_id: &str) -> Class {
        self.db
            .store
            .class_by_sourced_id(self.tenant.id, sourced_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("class {sourced_id} missing"))
    }

    /// The students of Science 7B who may be reset by its teacher, in order.
    pub async fn science_students(&self) -> Vec<User> {
        let class = self.class("c-sci7b").await;
        self.db
            .store
            .class_students(class.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|s| !s.disabled)
            .collect()
    }

    pub fn inv(user: &User) -> Invocation {
        Invocation {
            guild: Some(DiscordGuildId::new(GUILD)),
            channel: Some("556".into()),
            interaction_id: Some("778".into()),
            user: user.discord_user_id,
            api_caller: None,
        }
    }

    pub async fn run(&self, login: &str, request: Request) -> Reply {
        let user = self.user(login).await;
        handle(&self.app, &Self::inv(&user), request).await
    }

    /// `/class-cards class:<id>` as `login`: the prompt's content and buttons.
    pub async fn prompt(&self, login: &str, class: &str) -> (String, Vec<Button>) {
        let reply = self
            .run(login, Request::command("class-cards", &[("class", class)]))
            .await;
        match reply.body {
            Body::Prompt { content, buttons } => (content, buttons),
            other => panic!("expected a prompt, got {other:?}"),
        }
    }

    /// Gives `user` a known password (hashed by the app's hasher).
    pub async fn give_password(&self, user: &User, password: &str) {
        let hash = self
            .app
            .hasher
            .hash(&SecretString::from(password.to_owned()))
            .await
            .unwrap();
        let user = self
            .db
            .store
            .user(self.tenant.id, user.id)
            .await
            .unwrap()
            .unwrap();
        self.db
            .store
            .set_password(
                &user,
                hash.as_str(),
                false,
                None,
                cli_audit(Action::PasswordReset, t0()),
            )
            .await
            .unwrap();
    }

    /// Whether `password` is `user`'s current password.
    pub async fn signs_in(&self, user: &User, password: &str) -> bool {
        let Some(stored) = self
            .db
            .store
            .password_hash(self.tenant.id, user.id)
            .await
            .unwrap()
        else {
            return false;
        };
        let hash = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
        self.app
            .hasher
            .verify(&SecretString::from(password.to_owned()), &hash)
            .await
            .unwrap_or(false)
    }

    pub async fn audit(&self) -> Vec<AuditEvent> {
        self.db
            .store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap()
    }
}

/// The button of a prompt with that label's first word.
pub fn button<'a>(buttons: &'a [Button], first_word: &str) -> &'a Button {
    buttons
        .iter()
        .find(|b| b.label.starts_with(first_word))
        .unwrap_or_else(|| panic!("no {first_word} button in {buttons:?}"))
}
