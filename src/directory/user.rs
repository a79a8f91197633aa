//! Records of the directory.

use chrono::{DateTime, Utc};

use super::{
    DiscordUserId, DistrictId, Grade, Login, PersonName, Role, SchoolId, TenantId, TenantName,
    Title, UserId,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct District {
    pub id: DistrictId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The OneRoster `sourcedId` it was imported from, if any.
    pub source_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: SchoolId,
    pub tenant_id: TenantId,
    pub district_id: DistrictId,
    pub name: String,
    pub source_id: Option<String>,
}

/// Where a user sits in the hierarchy. Students, teachers and school admins have
/// a home school (and so a district); district admins have a district and no school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    School {
        school: SchoolId,
        district: DistrictId,
    },
    District {
        district: DistrictId,
    },
}

impl Place {
    pub fn district(&self) -> DistrictId {
        match self {
            Self::School { district, .. } | Self::District { district } => *district,
        }
    }

    pub fn school(&self) -> Option<SchoolId> {
        match self {
            Self::School { school, .. } => Some(*school),
            Self::District { .. } => None,
        }
    }

    /// The shape of place a role must have.
    pub fn fits(&self, role: Role) -> bool {
        matches!(
            (self, role),
            (Self::District { .. }, Role::DistrictAdmin)
                | (
                    Self::School { .. },
                    Role::Student | Role::Teacher | Role::SchoolAdmin
                )
        )
    }
}

/// A directory user. Never carries a password hash: credentials live apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub login: Login,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: Role,
    pub place: Place,
    pub grade: Option<Grade>,
    pub title: Option<Title>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub discord_user_id: Option<DiscordUserId>,
    pub source_id: Option<String>,
    /// Optimistic-concurrency version: bumped by every change to the record.
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// "Lopez, Ana".
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.last_name, self.first_name)
    }
}
