//! Grades as OneRoster 1.1 writes them (CEDS code set): `IT`, `PR`, `PK`, `TK`,
//! `KG`, `01`-`12`, `13`, `PS`, `UG`, `Other`. Bare numbers are accepted and
//! zero-padded ("7" becomes "07") because spreadsheets drop the zero.

use std::fmt;

use serde::{Serialize, Serializer};

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grade {
    Infant,
    Preschool,
    PreKindergarten,
    TransitionalKindergarten,
    Kindergarten,
    /// Grades 1 to 13.
    Numbered(u8),
    Postsecondary,
    Ungraded,
    Other,
}

impl Grade {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let upper = s.to_ascii_uppercase();
        let grade = match upper.as_str() {
            "IT" => Self::Infant,
            "PR" => Self::Preschool,
            "PK" => Self::PreKindergarten,
            "TK" => Self::TransitionalKindergarten,
            "KG" | "K" => Self::Kindergarten,
            "PS" => Self::Postsecondary,
            "UG" => Self::Ungraded,
            "OTHER" => Self::Other,
            _ => match upper.parse::<u8>() {
                Ok(n @ 1..=13) if upper.len() <= 2 => Self::Numbered(n),
                _ => {
                    return Err(ParseError::new(format!(
                        "\"{s}\" is not a grade. Use KG, PK, 01 to 12 (or 13), or another OneRoster grade code."
                    )));
                }
            },
        };
        Ok(grade)
    }

    /// The OneRoster code.
    pub fn code(&self) -> String {
        match self {
            Self::Infant => "IT".into(),
            Self::Preschool => "PR".into(),
            Self::PreKindergarten => "PK".into(),
            Self::TransitionalKindergarten => "TK".into(),
            Self::Kindergarten => "KG".into(),
            Self::Numbered(n) => format!("{n:02}"),
            Self::Postsecondary => "PS".into(),
            Self::Ungraded => "UG".into(),
            Self::Other => "Other".into(),
        }
    }

    /// How a teacher says it: "grade 7", "kindergarten".
    pub fn spoken(&self) -> String {
        match self {
            Self::Numbered(n) => format!("grade {n}"),
            Self::Kindergarten => "kindergarten".into(),
            Self::PreKindergarten => "pre-K".into(),
            other => other.code(),
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn oneroster_grade_codes_are_accepted() {
        for code in [
            "IT", "PR", "PK", "TK", "KG", "01", "09", "12", "13", "PS", "UG", "Other",
        ] {
            assert_eq!(Grade::parse(code).unwrap().code(), code);
        }
    }

    #[test]
    fn bare_numbers_are_zero_padded() {
        assert_eq!(Grade::parse("7").unwrap().code(), "07");
        assert_eq!(Grade::parse(" k ").unwrap(), Grade::Kindergarten);
    }

    #[test]
    fn impossible_grades_are_refused_with_the_codes_that_work() {
        for bad in ["0", "00", "14", "grade 7", "007", "", "-1"] {
            let err = Grade::parse(bad).unwrap_err();
            assert!(err.0.contains("KG"), "{bad}: {err}");
        }
    }
}
