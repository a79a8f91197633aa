//! Classes (sections) and the two ways a person belongs to one.
//!
//! Promise: a class belongs to exactly one school (and so one district) of one
//! tenant, and is keyed within the tenant by the roster's `sourcedId`; the only
//! ties hallpass keeps between people and classes are "student of" and
//! "teacher of" ([`ClassRole`]), because those are the only ones a rule reads.

use super::{ClassId, DistrictId, SchoolId, TenantId};

/// One class of a school, as the roster's classes.csv names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub id: ClassId,
    pub tenant_id: TenantId,
    pub district_id: DistrictId,
    pub school_id: SchoolId,
    /// The OneRoster `sourcedId`, the import's key within the tenant.
    pub sourced_id: String,
    pub title: String,
    /// OneRoster `classCode` ("SCI-7B"), when the roster gives one.
    pub class_code: Option<String>,
}

impl Class {
    /// The class as people read it: "Science 7B (SCI-7B)", or the title alone.
    pub fn label(&self) -> String {
        match self.class_code.as_deref() {
            Some(code) if !code.is_empty() && code != self.title => {
                format!("{} ({code})", self.title)
            }
            _ => self.title.clone(),
        }
    }
}

/// How a person is enrolled in a class. OneRoster knows more roles
/// (administrator, aide, guardian, parent, proctor, relative); hallpass keeps
/// these two, the ones the class rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassRole {
    Student,
    Teacher,
}

impl ClassRole {
    /// The stored and OneRoster spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Teacher => "teacher",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "student" => Some(Self::Student),
            "teacher" => Some(Self::Teacher),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(code: Option<&str>) -> Class {
        Class {
            id: ClassId::new(),
            tenant_id: TenantId::new(),
            district_id: DistrictId::new(),
            school_id: SchoolId::new(),
            sourced_id: "c-1".into(),
            title: "Science 7B".into(),
            class_code: code.map(str::to_owned),
        }
    }

    #[test]
    fn a_class_is_labelled_by_its_title_and_its_code() {
        assert_eq!(class(Some("SCI-7B")).label(), "Science 7B (SCI-7B)");
        assert_eq!(class(None).label(), "Science 7B");
        assert_eq!(class(Some("")).label(), "Science 7B");
    }

    #[test]
    fn a_class_role_round_trips_through_its_stored_spelling() {
        for role in [ClassRole::Student, ClassRole::Teacher] {
            assert_eq!(ClassRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(ClassRole::parse("aide"), None);
    }
}
