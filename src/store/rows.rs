//! Turning rows back into domain types. A value that no longer parses means the
//! database was edited by hand; it surfaces as `StoreError::Corrupt`, never a panic.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, time};
use crate::directory::{
    DiscordUserId, DistrictId, Grade, Login, ParseError, PersonName, Place, Role, SchoolId,
    TenantId, Title, User, UserId,
};

/// The columns every user query selects, with the chat link joined in.
pub(crate) const USER_COLUMNS: &str = "u.id, u.tenant_id, u.login, u.first_name, u.last_name, u.role, \
     u.school_id, u.district_id, u.grade, u.title, u.must_change_password, u.disabled, u.source_id, \
     u.version, u.updated_at, l.discord_user_id";

pub(crate) const USER_FROM: &str = "users u LEFT JOIN chat_links l ON l.user_id = u.id";

fn corrupt(column: &str) -> impl Fn(ParseError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("users.{column}: {e}"))
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    let opt = |name: &str| -> Result<Option<String>, StoreError> {
        Ok(row.try_get::<Option<String>, _>(name)?)
    };

    let role = Role::parse(&text("role")?).map_err(corrupt("role"))?;
    let district = DistrictId::parse(&text("district_id")?).map_err(corrupt("district_id"))?;
    let place = match opt("school_id")? {
        Some(school) => Place::School {
            school: SchoolId::parse(&school).map_err(corrupt("school_id"))?,
            district,
        },
        None => Place::District { district },
    };
    Ok(User {
        id: UserId::parse(&text("id")?).map_err(corrupt("id"))?,
        tenant_id: TenantId::parse(&text("tenant_id")?).map_err(corrupt("tenant_id"))?,
        login: Login::parse(&text("login")?).map_err(corrupt("login"))?,
        first_name: PersonName::parse(&text("first_name")?).map_err(corrupt("first_name"))?,
        last_name: PersonName::parse(&text("last_name")?).map_err(corrupt("last_name"))?,
        role,
        place,
        grade: opt("grade")?
            .map(|g| Grade::parse(&g))
            .transpose()
            .map_err(corrupt("grade"))?,
        title: opt("title")?
            .map(|t| Title::parse(&t))
            .transpose()
            .map_err(corrupt("title"))?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        discord_user_id: opt("discord_user_id")?
            .map(|d| DiscordUserId::parse(&d))
            .transpose()
            .map_err(corrupt("discord_user_id"))?,
        source_id: opt("source_id")?,
        version: row.try_get("version")?,
        updated_at: time::decode(&text("updated_at")?)?,
    })
}
