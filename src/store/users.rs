//! Users: create, read, change with optimistic concurrency, count. (Search is in `search.rs`.)

use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::Row;

use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::user_rows::{insert_user_row, write_user_row};
use super::{Store, StoreError, audit};
use crate::audit::AuditEntry;
use crate::directory::{
    DiscordUserId, DistrictId, Grade, Login, PersonName, Place, Role, TenantId, Title, User, UserId,
};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: Login,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: Role,
    pub place: Place,
    pub grade: Option<Grade>,
    pub title: Option<Title>,
    pub source_id: Option<String>,
    pub disabled: bool,
}

/// The fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub login: Option<Login>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub title: Option<Option<Title>>,
    pub grade: Option<Option<Grade>>,
    pub role: Option<Role>,
    pub place: Option<Place>,
    pub disabled: Option<bool>,
}

impl UserChanges {
    /// The record as it would be after the change (version and time untouched).
    pub fn apply_to(&self, user: &User) -> User {
        let mut after = user.clone();
        if let Some(v) = &self.login {
            after.login = v.clone();
        }
        if let Some(v) = &self.first_name {
            after.first_name = v.clone();
        }
        if let Some(v) = &self.last_name {
            after.last_name = v.clone();
        }
        if let Some(v) = &self.title {
            after.title = v.clone();
        }
        if let Some(v) = &self.grade {
            after.grade = *v;
        }
        if let Some(v) = self.role {
            after.role = v;
        }
        if let Some(v) = self.place {
            after.place = v;
        }
        if let Some(v) = self.disabled {
            after.disabled = v;
        }
        after
    }
}

/// The audited, non-secret fields of a record.
pub(crate) fn audit_fields(user: &User) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("login".into(), json!(user.login.as_str()));
    map.insert("first_name".into(), json!(user.first_name.as_str()));
    map.insert("last_name".into(), json!(user.last_name.as_str()));
    map.insert("role".into(), json!(user.role.as_str()));
    map.insert(
        "school_id".into(),
        json!(user.place.school().map(|s| s.to_string())),
    );
    map.insert(
        "district_id".into(),
        json!(user.place.district().to_string()),
    );
    map.insert("grade".into(), json!(user.grade.map(|g| g.code())));
    map.insert(
        "title".into(),
        json!(user.title.as_ref().map(|t| t.as_str())),
    );
    map.insert("disabled".into(), json!(user.disabled));
    map
}

/// The fields that differ, before and after.
pub(crate) fn diff(before: &User, after: &User) -> (Value, Value) {
    let (b, a) = (audit_fields(before), audit_fields(after));
    let mut old = Map::new();
    let mut new = Map::new();
    for (key, value) in &a {
        if b.get(key) != Some(value) {
            old.insert(key.clone(), b.get(key).cloned().unwrap_or(Value::Null));
            new.insert(key.clone(), value.clone());
        }
    }
    (Value::Object(old), Value::Object(new))
}

/// One directory record as `hallpass user show --json` prints it (never a hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub tenant: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub school: Option<String>,
    pub district: Option<String>,
    pub school_id: Option<String>,
    pub district_id: Option<String>,
    pub grade: Option<String>,
    pub title: Option<String>,
    pub must_change_password: bool,
    pub discord_user_id: Option<String>,
    pub disabled: bool,
}

impl Store {
    /// Creates a user and audits it, in one transaction.
    #[tracing::instrument(skip(self, new, audit), fields(login = %new.login))]
    pub async fn insert_user(
        &self,
        tenant: TenantId,
        new: &NewUser,
        audit: AuditEntry,
    ) -> Result<User, StoreError> {
        let now = audit.at;
        let user = User {
            id: UserId::new(),
            tenant_id: tenant,
            login: new.login.clone(),
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            role: new.role,
            place: new.place,
            grade: new.grade,
            title: new.title.clone(),
            must_change_password: false,
            disabled: new.disabled,
            discord_user_id: None,
            source_id: new.source_id.clone(),
            version: 1,
            updated_at: now,
        };
        if !user.place.fits(user.role) {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        insert_user_row(&mut tx, &user).await?;
        let entry = audit
            .in_tenant(tenant)
            .target(user.id, user.display_name())
            .change(
                Value::Object(Map::new()),
                Value::Object(audit_fields(&user)),
            );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = $1 AND u.tenant_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_login(
        &self,
        tenant: TenantId,
        login: &Login,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.tenant_id = $1 AND u.login_key = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(login.key())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_discord(
        &self,
        tenant: TenantId,
        discord: DiscordUserId,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE l.tenant_id = $1 AND l.discord_user_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(discord.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Applies `changes` to the record the caller read as `before`, and audits
    /// the fields that changed, in one transaction. Fails with
    /// [`StoreError::Conflict`] when the record changed since `before` was read.
    /// Returns the record as it is now (unchanged, and nothing audited, when
    /// `changes` change nothing).
    #[tracing::instrument(skip(self, before, changes, audit), fields(user = %before.id, version = before.version))]
    pub async fn update_user(
        &self,
        before: &User,
        changes: &UserChanges,
        audit: AuditEntry,
    ) -> Result<User, StoreError> {
        let mut after = changes.apply_to(before);
        if after == *before {
            return Ok(after);
        }
        if !after.place.fits(after.role) {
            return Err(StoreError::NotFound);
        }
        after.version = before.version + 1;
        after.updated_at = audit.at;
        let tx = self.begin_write().await?;
        self.finish_update(tx, before, after, audit).await
    }

    /// Writes `after` over the record read as `before` inside `tx`, audits the
    /// difference and commits; the second half of every audited user update.
    pub(crate) async fn finish_update(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        before: &User,
        after: User,
        audit: AuditEntry,
    ) -> Result<User, StoreError> {
        if !write_user_row(&mut tx, before, &after).await? {
            drop(tx);
            return match self.user(before.tenant_id, before.id).await? {
                Some(current) if current.version != before.version => Err(StoreError::Conflict),
                _ => Err(StoreError::NotFound),
            };
        }
        let (old, new) = diff(before, &after);
        let entry = audit
            .in_tenant(after.tenant_id)
            .target(after.id, after.display_name())
            .change(old, new);
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Active district admins of a district (the last one is never demoted or moved away).
    pub async fn count_district_admins(
        &self,
        tenant: TenantId,
        district: DistrictId,
    ) -> Result<u32, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(
            super::moves::count_district_admins_sql(),
        ))
        .bind(tenant.to_string())
        .bind(district.to_string())
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The record with the names of its school, district and tenant, for display.
    pub async fn user_record(
        &self,
        tenant: TenantId,
        id: UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT t.name AS tenant_name, s.name AS school_name, d.name AS district_name \
             FROM users u JOIN tenants t ON t.id = u.tenant_id JOIN districts d ON d.id = u.district_id \
             LEFT JOIN schools s ON s.id = u.school_id WHERE u.id = $1 AND u.tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (Some(row), Some(user)) = (row, self.user(tenant, id).await?) else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            id: user.id.to_string(),
            tenant: row.try_get("tenant_name")?,
            login: user.login.to_string(),
            first_name: user.first_name.to_string(),
            last_name: user.last_name.to_string(),
            role: user.role.as_str().to_owned(),
            school: row.try_get("school_name")?,
            district: row.try_get("district_name")?,
            school_id: user.place.school().map(|s| s.to_string()),
            district_id: Some(user.place.district().to_string()),
            grade: user.grade.map(|g| g.code()),
            title: user.title.map(|t| t.to_string()),
            must_change_password: user.must_change_password,
            discord_user_id: user.discord_user_id.map(|d| d.to_string()),
            disabled: user.disabled,
        }))
    }
}
