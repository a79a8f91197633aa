//! The four roles, in the order of the authority they carry.

use std::fmt;

use serde::{Serialize, Serializer};

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Student,
    Teacher,
    SchoolAdmin,
    DistrictAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Student,
        Role::Teacher,
        Role::SchoolAdmin,
        Role::DistrictAdmin,
    ];

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "student" => Ok(Self::Student),
            "teacher" => Ok(Self::Teacher),
            "school_admin" => Ok(Self::SchoolAdmin),
            "district_admin" => Ok(Self::DistrictAdmin),
            _ => Err(ParseError::new(format!(
                "\"{}\" is not a role. Roles are student, teacher, school_admin and district_admin.",
                raw.trim()
            ))),
        }
    }

    /// The stable name used in the database, `--json` and slash-command choices.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Teacher => "teacher",
            Self::SchoolAdmin => "school_admin",
            Self::DistrictAdmin => "district_admin",
        }
    }

    /// How people say it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Teacher => "teacher",
            Self::SchoolAdmin => "school admin",
            Self::DistrictAdmin => "district admin",
        }
    }

    /// Teacher, school admin or district admin.
    pub fn is_educator(&self) -> bool {
        !matches!(self, Self::Student)
    }

    /// School admin or district admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::SchoolAdmin | Self::DistrictAdmin)
    }

    /// Staff choose longer passwords than students.
    pub fn is_staff(&self) -> bool {
        self.is_educator()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn roles_round_trip_through_their_stable_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("School Admin"), Ok(Role::SchoolAdmin));
    }

    #[test]
    fn educators_and_admins_are_as_the_policy_defines_them() {
        assert!(!Role::Student.is_educator());
        assert!(Role::Teacher.is_educator() && !Role::Teacher.is_admin());
        assert!(Role::SchoolAdmin.is_admin() && Role::DistrictAdmin.is_admin());
    }

    #[test]
    fn unknown_roles_are_refused() {
        assert!(Role::parse("principal").is_err());
    }
}
