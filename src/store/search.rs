//! Searching users by the start of a name or login, within a school or a
//! district: the query behind every autocomplete keystroke. One statement a
//! keystroke: the three prefix ranges (last name, first name, login), each
//! one range of a covering index led by the district (users_search_*: district,
//! key, role, id, school; migration 150), with the school's name joined in. A
//! school search walks its district's range and keeps the school's entries.

use sqlx::Row;

use super::hierarchy::prefix_range;
use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::{Store, StoreError};
use crate::directory::{DistrictId, Role, SchoolId, TenantId, User};

/// Where a search looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    School(SchoolId),
    District(DistrictId),
}

impl Store {
    /// Users of `roles` in `scope` whose last name, first name or login starts
    /// with `prefix`, in name order, at most `limit`.
    pub async fn search_users(
        &self,
        tenant: TenantId,
        scope: SearchScope,
        roles: &[Role],
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let found = self
            .search_users_with_school(tenant, scope, roles, prefix, limit)
            .await?;
        Ok(found.into_iter().map(|(user, _)| user).collect())
    }

    /// [`Store::search_users`], each user with the name of their school (none
    /// for a district admin), read in the same statement: autocomplete labels
    /// its choices with it, and one query per keystroke is the budget.
    pub async fn search_users_with_school(
        &self,
        tenant: TenantId,
        scope: SearchScope,
        roles: &[Role],
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(User, Option<String>)>, StoreError> {
        let (low, high) = prefix_range(prefix);
        let scope_id = match scope {
            SearchScope::School(s) => s.to_string(),
            SearchScope::District(d) => d.to_string(),
        };
        let Some(sql) = search_sql(scope, roles) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(scope_id)
            .bind(low)
            .bind(high)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((user_from_row(row)?, row.try_get("school_name")?)))
            .collect()
    }
}

/// The statement of [`Store::search_users_with_school`] (parameters: tenant,
/// school or district, low and high ends of the prefix range, limit), or
/// `None` when no role is asked for.
fn search_sql(scope: SearchScope, roles: &[Role]) -> Option<String> {
    let scope_sql = match scope {
        // The district is looked up once, so the branch is a range of the
        // district's index; the school is checked on each index entry.
        SearchScope::School(_) => {
            "u.district_id = (SELECT sc.district_id FROM schools sc WHERE sc.id = $2) \
             AND u.school_id = $2"
        }
        SearchScope::District(_) => "u.district_id = $2",
    };
    let role_list = roles
        .iter()
        .map(|r| format!("'{}'", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    if role_list.is_empty() {
        return None;
    }
    // Three prefix ranges, each one range of a covering index
    // (users_search_*: district, key, role, id, school), each capped at `limit`,
    // merged. The tenant is checked once, on the rows returned, through
    // an expression no index serves (`|| ''`): as a plain `tenant_id = $1`
    // SQLite drove the outer statement by the tenant's whole UNIQUE
    // (tenant_id, login_key) index, probing the IN list per row
    // (measured: 1.3 s a keystroke at 100,000 users).
    let branch = |key: &str| {
        format!(
            "SELECT id FROM (SELECT u.id FROM users u WHERE {scope_sql} AND u.role IN ({role_list}) \
             AND u.{key} >= $3 AND u.{key} < $4 ORDER BY u.{key} LIMIT $5)"
        )
    };
    Some(format!(
        "SELECT {USER_COLUMNS}, s.name AS school_name FROM {USER_FROM} LEFT JOIN schools s ON s.id = u.school_id \
         WHERE u.tenant_id || '' = $1 AND u.id IN ({} a UNION {} b UNION {} c) \
         ORDER BY u.last_key, u.first_key, u.login_key LIMIT $5",
        branch("last_key"),
        branch("first_key"),
        branch("login_key"),
    ))
}

#[cfg(test)]
#[path = "search_plan_tests.rs"]
mod plan_tests;
