//! Reading a tenant's people in for the index: pages of 20,000 people, each
//! page one row holding a JSON array of the people, in id order
//! (`store::json_pages`, which says why).

use super::index::{PersonRow, TenantIndex};
use crate::directory::{Grade, Role, TenantId, UserId};
use crate::store::json_pages::{Pages, read_pages};
use crate::store::rows::place_of;
use crate::store::{Backend, StoreError};

const PAGE: i64 = 20_000;

/// One person as the page's JSON array holds them, in [`PERSON_COLUMNS`] order.
pub(super) type Raw = (
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// The columns of a person, in [`Raw`] order.
pub(super) const PERSON_COLUMNS: &str = "u.id, u.role, u.school_id, u.district_id, u.disabled, u.grade, \
     u.first_name, u.last_name, u.login, u.first_key, u.last_key, u.login_key";

fn corrupt(column: &str) -> impl Fn(crate::directory::ParseError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("users.{column}: {e}"))
}

pub(super) fn person(raw: Raw) -> Result<PersonRow, StoreError> {
    let (id, role, school, district, disabled, grade, first, last, login, fk, lk, gk) = raw;
    let place = place_of("users", &district, school.as_deref())?;
    Ok(PersonRow {
        id: UserId::parse(&id).map_err(corrupt("id"))?,
        role: Role::parse(&role).map_err(corrupt("role"))?,
        place,
        disabled: disabled != 0,
        grade: grade
            .map(|g| Grade::parse(&g))
            .transpose()
            .map_err(corrupt("grade"))?,
        first_name: first,
        last_name: last,
        login,
        first_key: fk,
        last_key: lk,
        login_key: gk,
    })
}

/// Puts every person of `tenant` into `index`, reading through `conn` (a
/// transaction, so every page is of the same snapshot).
pub(super) async fn load_people(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: TenantId,
    index: &mut TenantIndex,
) -> Result<(), StoreError> {
    load_people_in_pages(conn, backend, tenant, index, PAGE).await
}

pub(super) async fn load_people_in_pages(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: TenantId,
    index: &mut TenantIndex,
    page_size: i64,
) -> Result<(), StoreError> {
    let tenant = tenant.to_string();
    read_pages(
        conn,
        backend,
        &PERSON_PAGES,
        (&tenant, page_size),
        |raw: Raw| {
            index.put_row(person(raw)?);
            Ok(())
        },
    )
    .await
}

/// The tenant's people, as the index load reads them in pages (`json_pages`).
pub(crate) const PERSON_PAGES: Pages<'static> = Pages {
    columns: PERSON_COLUMNS,
    tables: "users u",
    tenant: "u.tenant_id",
    key: "u.id",
    what: "users (read for autocomplete)",
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::audit::{Action, AuditActor, AuditEntry, Origin};
    use crate::directory::{Login, PersonName, Place, TenantName};
    use crate::store::{NewUser, Store};

    /// Seven people in tenant "a" and seven in "b", one of them with a
    /// quote, a backslash and an accent in their name (JSON must carry them).
    async fn two_tenants(store: &Store) -> TenantId {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let mut first = None;
        for name in ["a", "b"] {
            let tenant = store
                .create_tenant(&TenantName::parse(name).unwrap(), now)
                .await
                .unwrap()
                .id;
            let district = store.create_district(tenant, "D", None).await.unwrap().id;
            let audit = AuditEntry::new(
                Some(tenant),
                now,
                AuditActor::system("t"),
                Action::UserCreate,
                Origin::api("t"),
            );
            for n in 0..7 {
                let new = NewUser {
                    login: Login::parse(&format!("{name}{n}")).unwrap(),
                    first_name: PersonName::parse(if n == 3 { "Zoë \"Z\\\"" } else { "Ana" })
                        .unwrap(),
                    last_name: PersonName::parse("O'Neil").unwrap(),
                    role: Role::DistrictAdmin,
                    place: Place::District { district },
                    grade: None,
                    title: None,
                    source_id: None,
                    disabled: n == 5,
                };
                store
                    .insert_user(tenant, &new, audit.clone())
                    .await
                    .unwrap();
            }
            first.get_or_insert(tenant);
        }
        first.unwrap()
    }

    async fn every_page_size_reads_the_tenant_whole_and_no_other(store: &Store) {
        let tenant = two_tenants(store).await;
        let users = store.tenant_users(tenant).await.unwrap();
        for page in [1, 3, 7, 100] {
            let mut conn = store.pool.acquire().await.unwrap();
            let mut index = TenantIndex::default();
            load_people_in_pages(&mut conn, store.backend, tenant, &mut index, page)
                .await
                .unwrap();
            index.finish();
            assert_eq!(index.len(), 7, "page size {page}");
            for user in &users {
                let area = super::super::index::Area::District(user.place.district());
                let found = index.search(area, &[Role::DistrictAdmin], &user.login.key(), 1);
                assert_eq!(found, vec![PersonRow::of(user)], "page size {page}");
            }
        }
    }

    crate::store::store_tests_on_both_backends!(
        every_page_size_reads_the_tenant_whole_and_no_other
    );
}
