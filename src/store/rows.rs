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

/// A user's columns as read, in [`USER_COLUMNS`] order: from a row
/// ([`user_from_row`]), or as an element of a page of JSON (`json_pages`),
/// whose arrays serde reads into these fields in order.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct UserRaw {
    id: String,
    tenant_id: String,
    login: String,
    first_name: String,
    last_name: String,
    role: String,
    school_id: Option<String>,
    district_id: String,
    grade: Option<String>,
    title: Option<String>,
    must_change_password: i64,
    disabled: i64,
    source_id: Option<String>,
    version: i64,
    updated_at: String,
    discord_user_id: Option<String>,
}

/// The place a row's `district_id` and `school_id` name (a district admin has
/// no school); a value that no longer parses is [`StoreError::Corrupt`],
/// naming the column of `table`.
pub(crate) fn place_of(
    table: &str,
    district: &str,
    school: Option<&str>,
) -> Result<Place, StoreError> {
    let corrupt = |column: &'static str| {
        move |e: ParseError| StoreError::Corrupt(format!("{table}.{column}: {e}"))
    };
    let district = DistrictId::parse(district).map_err(corrupt("district_id"))?;
    Ok(match school {
        Some(school) => Place::School {
            school: SchoolId::parse(school).map_err(corrupt("school_id"))?,
            district,
        },
        None => Place::District { district },
    })
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    UserRaw {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        login: row.try_get("login")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        role: row.try_get("role")?,
        school_id: row.try_get("school_id")?,
        district_id: row.try_get("district_id")?,
        grade: row.try_get("grade")?,
        title: row.try_get("title")?,
        must_change_password: row.try_get("must_change_password")?,
        disabled: row.try_get("disabled")?,
        source_id: row.try_get("source_id")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        discord_user_id: row.try_get("discord_user_id")?,
    }
    .into_user()
}

impl UserRaw {
    /// The user these columns hold; a value that no longer parses is
    /// [`StoreError::Corrupt`], naming its column.
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let role = Role::parse(&self.role).map_err(corrupt("role"))?;
        let place = place_of("users", &self.district_id, self.school_id.as_deref())?;
        Ok(User {
            id: UserId::parse(&self.id).map_err(corrupt("id"))?,
            tenant_id: TenantId::parse(&self.tenant_id).map_err(corrupt("tenant_id"))?,
            login: Login::parse(&self.login).map_err(corrupt("login"))?,
            first_name: PersonName::parse(&self.first_name).map_err(corrupt("first_name"))?,
            last_name: PersonName::parse(&self.last_name).map_err(corrupt("last_name"))?,
            role,
            place,
            grade: self
                .grade
                .map(|g| Grade::parse(&g))
                .transpose()
                .map_err(corrupt("grade"))?,
            title: self
                .title
                .map(|t| Title::parse(&t))
                .transpose()
                .map_err(corrupt("title"))?,
            must_change_password: self.must_change_password != 0,
            disabled: self.disabled != 0,
            discord_user_id: self
                .discord_user_id
                .map(|d| DiscordUserId::parse(&d))
                .transpose()
                .map_err(corrupt("discord_user_id"))?,
            source_id: self.source_id,
            version: self.version,
            updated_at: time::decode(&self.updated_at)?,
        })
    }
}
