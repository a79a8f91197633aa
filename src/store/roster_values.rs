//! What the roster last said about each imported user (`roster_values`), for
//! the three-way merge of `crate::roster`. Promises: the values are read for a
//! whole tenant in one query; they are written in the import's own
//! transactions, beside the records and audit entries they belong to, so a
//! record and what the roster last said about it never disagree after a crash;
//! and they are not audited (they are the roster's words, not a change to a
//! person's record).

use std::collections::HashMap;

use super::json_pages::{Pages, read_pages};
use super::roster::values_list;
use super::rows::place_of;
use super::{Backend, Store, StoreError, hierarchy::search_key, time};
use crate::directory::{
    District, DistrictId, Grade, Login, ParseError, PersonName, Place, Role, TenantId, UserId,
};

/// The fields a roster sets on a user, as it last gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RosterValues {
    pub login: Login,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: Role,
    pub place: Place,
    pub grade: Option<Grade>,
    pub disabled: bool,
}

fn corrupt(column: &str) -> impl Fn(ParseError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("roster_values.{column}: {e}"))
}

/// What `roster_values` holds for one user, in [`VALUES_COLUMNS`] order, as
/// an element of a page of JSON (`json_pages`).
#[derive(Debug, serde::Deserialize)]
struct ValuesRaw {
    user_id: String,
    login: String,
    first_name: String,
    last_name: String,
    role: String,
    school_id: Option<String>,
    district_id: String,
    grade: Option<String>,
    disabled: i64,
}

const VALUES_COLUMNS: &str = "r.user_id, r.login, r.first_name, r.last_name, r.role, r.school_id, \
     r.district_id, r.grade, r.disabled";

impl ValuesRaw {
    fn into_values(self) -> Result<(UserId, RosterValues), StoreError> {
        let place = place_of(
            "roster_values",
            &self.district_id,
            self.school_id.as_deref(),
        )?;
        let values = RosterValues {
            login: Login::parse(&self.login).map_err(corrupt("login"))?,
            first_name: PersonName::parse(&self.first_name).map_err(corrupt("first_name"))?,
            last_name: PersonName::parse(&self.last_name).map_err(corrupt("last_name"))?,
            role: Role::parse(&self.role).map_err(corrupt("role"))?,
            place,
            grade: self
                .grade
                .map(|g| Grade::parse(&g))
                .transpose()
                .map_err(corrupt("grade"))?,
            disabled: self.disabled != 0,
        };
        let user = UserId::parse(&self.user_id).map_err(corrupt("user_id"))?;
        Ok((user, values))
    }
}

impl Store {
    /// What the roster last said about each imported user of the tenant. A
    /// user imported before hallpass remembered this has no entry.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn roster_values(
        &self,
        tenant: TenantId,
    ) -> Result<HashMap<UserId, RosterValues>, StoreError> {
        self.roster_values_in_pages(tenant, PAGE).await
    }

    pub(super) async fn roster_values_in_pages(
        &self,
        tenant: TenantId,
        page: i64,
    ) -> Result<HashMap<UserId, RosterValues>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut values = HashMap::new();
        let tenant = tenant.to_string();
        read_pages(
            &mut conn,
            self.backend,
            &VALUES_PAGES,
            (&tenant, page),
            |raw: ValuesRaw| {
                let (user, v) = raw.into_values()?;
                values.insert(user, v);
                Ok(())
            },
        )
        .await?;
        Ok(values)
    }

    /// Creates the district hallpass makes for a school whose roster names no
    /// district above it, marked `implicit`.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn create_implicit_district(
        &self,
        tenant: TenantId,
        name: &str,
        source_id: &str,
    ) -> Result<District, StoreError> {
        let district = District {
            id: DistrictId::new(),
            tenant_id: tenant,
            name: name.trim().to_owned(),
            source_id: Some(source_id.to_owned()),
        };
        sqlx::query(
            "INSERT INTO districts (id, tenant_id, name, name_key, source_id, implicit) \
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(district.id.to_string())
        .bind(tenant.to_string())
        .bind(district.name.clone())
        .bind(search_key(&district.name))
        .bind(district.source_id.clone())
        .execute(&self.pool)
        .await?;
        Ok(district)
    }
}

/// Rows per multi-row upsert on SQLite: 500 × 10 parameters, well within its
/// limit. PostgreSQL takes them all in one statement (`roster::bulk`).
const ROWS_PER_STATEMENT: usize = 500;

/// Rows a page when the values are read.
const PAGE: i64 = 20_000;

/// Records what the roster said about these users now (inside the caller's
/// transaction, after the users' own rows are written).
pub(crate) async fn remember(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    values: &[(UserId, &RosterValues)],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        return super::roster::bulk::remember(conn, values, at).await;
    }
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO roster_values (user_id, login, first_name, last_name, role, school_id, district_id, \
             grade, disabled, updated_at) VALUES {} ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, \
             first_name = excluded.first_name, last_name = excluded.last_name, role = excluded.role, \
             school_id = excluded.school_id, district_id = excluded.district_id, grade = excluded.grade, \
             disabled = excluded.disabled, updated_at = excluded.updated_at",
            values_list(backend, chunk.len(), 10)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (user, v) in chunk {
            query = query
                .bind(user.to_string())
                .bind(v.login.as_str().to_owned())
                .bind(v.first_name.as_str().to_owned())
                .bind(v.last_name.as_str().to_owned())
                .bind(v.role.as_str())
                .bind(v.place.school().map(|s| s.to_string()))
                .bind(v.place.district().to_string())
                .bind(v.grade.map(|g| g.code()))
                .bind(i64::from(v.disabled))
                .bind(time::encode(at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// What the roster said about the tenant's users, as [`Store::roster_values`]
/// reads it in pages (`json_pages`).
pub(super) const VALUES_PAGES: Pages<'static> = Pages {
    columns: VALUES_COLUMNS,
    tables: "roster_values r JOIN users u ON u.id = r.user_id",
    tenant: "u.tenant_id",
    key: "u.id",
    what: "roster_values",
};
