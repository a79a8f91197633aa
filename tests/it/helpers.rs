//! Shared fixtures: a fresh database per test (a SQLite file in a temporary
//! directory, or a new PostgreSQL database that is dropped afterwards) and a
//! small world of districts, schools and users.

use chrono::{DateTime, TimeZone, Utc};
use hallpass::audit::{Action, AuditActor, AuditEntry, Origin};
use hallpass::directory::{
    District, Grade, Login, PersonName, Place, Role, School, Tenant, TenantName, Title, User,
};
use hallpass::store::{NewUser, ScratchDatabase, Store};

/// Where the PostgreSQL tests create their databases. A test that cannot reach
/// it fails: it never skips.
pub fn postgres_admin_url() -> String {
    hallpass::store::test_postgres_url()
}

pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// Dropped (with the database) after the store.
    _pg: Option<ScratchDatabase>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hallpass.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            url,
            _dir: Some(dir),
            _pg: None,
        }
    }

    pub async fn postgres() -> Self {
        let admin = postgres_admin_url();
        let db = ScratchDatabase::create(&admin, "hallpass_test")
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL is required for this test and did not answer at {admin}: {e}")
            });
        let url = db.url().to_owned();
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            url,
            _dir: None,
            _pg: Some(db),
        }
    }
}

/// A fixed "now" so tests do not read the clock.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap()
}

pub fn cli_audit(action: Action, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry::new(
        None,
        at,
        AuditActor::system("test"),
        action,
        Origin::api("test"),
    )
}

/// Tenant "lincoln": district A (schools A1, A2) and district B (school B1),
/// plus a second tenant "other" with district Z and school Z1.
pub struct World {
    pub tenant: Tenant,
    pub district_a: District,
    pub district_b: District,
    pub a1: School,
    pub a2: School,
    pub b1: School,
    pub other: Tenant,
    pub z1: School,
}

impl World {
    pub async fn build(store: &Store) -> Self {
        let tenant = store
            .create_tenant(&TenantName::parse("lincoln").unwrap(), t0())
            .await
            .unwrap();
        let district_a = store
            .create_district(tenant.id, "Lincoln Unified", Some("d-a"))
            .await
            .unwrap();
        let district_b = store
            .create_district(tenant.id, "Bayside District", Some("d-b"))
            .await
            .unwrap();
        let a1 = store
            .create_school(
                tenant.id,
                district_a.id,
                "Lincoln Middle School",
                Some("s-a1"),
            )
            .await
            .unwrap();
        let a2 = store
            .create_school(tenant.id, district_a.id, "Adams Elementary", Some("s-a2"))
            .await
            .unwrap();
        let b1 = store
            .create_school(tenant.id, district_b.id, "Bayside High", Some("s-b1"))
            .await
            .unwrap();
        let other = store
            .create_tenant(&TenantName::parse("other").unwrap(), t0())
            .await
            .unwrap();
        let district_z = store
            .create_district(other.id, "Zeta District", None)
            .await
            .unwrap();
        let z1 = store
            .create_school(other.id, district_z.id, "Zeta School", None)
            .await
            .unwrap();
        Self {
            tenant,
            district_a,
            district_b,
            a1,
            a2,
            b1,
            other,
            z1,
        }
    }

    pub fn at(school: &School) -> Place {
        Place::School {
            school: school.id,
            district: school.district_id,
        }
    }

    pub async fn user(&self, store: &Store, login: &str, role: Role, place: Place) -> User {
        let (first, last) = login.split_once('.').unwrap_or((login, "tester"));
        let capitalised = |s: &str| s[..1].to_uppercase() + &s[1..];
        let (first, last) = (capitalised(first), capitalised(last));
        let new = NewUser {
            login: Login::parse(login).unwrap(),
            first_name: PersonName::parse(&first).unwrap(),
            last_name: PersonName::parse(&last).unwrap(),
            role,
            place,
            grade: (role == Role::Student).then(|| Grade::parse("07").unwrap()),
            title: (role != Role::Student).then(|| Title::parse("Staff").unwrap()),
            source_id: None,
            disabled: false,
        };
        store
            .insert_user(self.tenant.id, &new, cli_audit(Action::UserCreate, t0()))
            .await
            .unwrap()
    }
}

/// Each named `async fn(TestDb)` of the calling module as two tests,
/// `sqlite::<name>` and `postgres::<name>`, each on a fresh database of its
/// backend. An attribute first, as in
/// `on_both_backends!(#[tokio::test(flavor = "multi_thread")] a, b)`, sets the
/// runtime the tests run on.
macro_rules! on_both_backends {
    (#[tokio::test $how:tt] $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test $how]
              async fn $name() { super::$name($crate::helpers::TestDb::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test $how]
              async fn $name() { super::$name($crate::helpers::TestDb::postgres().await).await })*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
              async fn $name() { super::$name($crate::helpers::TestDb::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test]
              async fn $name() { super::$name($crate::helpers::TestDb::postgres().await).await })*
        }
    };
}
pub(crate) use on_both_backends;
