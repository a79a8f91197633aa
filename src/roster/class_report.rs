//! What an import did with classes.csv and enrollments.csv. Promise: every
//! row of those files is counted here or refused in the report's `refused`
//! list; the counts print as one line and join the summary audit event and
//! `--json`'s summary only when the bundle had one of the files, so a bundle
//! without them reports exactly as before.

use std::fmt;

use serde_json::{Map, Value, json};

/// The class and enrolment counts of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassCounts {
    /// The bundle had classes.csv (without it, classes are left as they are).
    pub classes_file: bool,
    /// The bundle had enrollments.csv (without it, enrolments are left as they are).
    pub enrollments_file: bool,
    pub classes_created: usize,
    /// Classes whose title, code or school changed.
    pub classes_updated: usize,
    pub classes_unchanged: usize,
    /// Classes removed by `status=tobedeleted`, with their enrolments.
    pub classes_ended: usize,
    /// Classes of the tenant that classes.csv no longer lists (left as they are).
    pub classes_missing: usize,
    pub enrollments_created: usize,
    pub enrollments_updated: usize,
    pub enrollments_unchanged: usize,
    /// Enrolments removed by `status=tobedeleted` (or now of a role hallpass does not keep).
    pub enrollments_ended: usize,
    /// Rows of a role hallpass does not keep (administrator, aide, guardian,
    /// parent, proctor, relative): valid OneRoster, skipped, not refused.
    pub enrollments_skipped: usize,
    /// Enrolments of the tenant that enrollments.csv no longer lists (left as they are).
    pub enrollments_missing: usize,
}

impl ClassCounts {
    /// The counts as summary fields (merged into the import's summary object).
    pub(crate) fn json(&self) -> Map<String, Value> {
        let value = json!({
            "classes_file": self.classes_file,
            "enrollments_file": self.enrollments_file,
            "classes_created": self.classes_created,
            "classes_updated": self.classes_updated,
            "classes_unchanged": self.classes_unchanged,
            "classes_ended": self.classes_ended,
            "classes_missing": self.classes_missing,
            "enrollments_created": self.enrollments_created,
            "enrollments_updated": self.enrollments_updated,
            "enrollments_unchanged": self.enrollments_unchanged,
            "enrollments_ended": self.enrollments_ended,
            "enrollments_skipped": self.enrollments_skipped,
            "enrollments_missing": self.enrollments_missing,
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

impl fmt::Display for ClassCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.classes_file {
            write!(
                f,
                "Classes: {} created, {} updated, {} unchanged, {} ended, {} no longer in the roster (left as they are).",
                self.classes_created,
                self.classes_updated,
                self.classes_unchanged,
                self.classes_ended,
                self.classes_missing
            )?;
        } else {
            write!(
                f,
                "Classes: the bundle has no classes.csv; classes are left as they are."
            )?;
        }
        if self.enrollments_file {
            write!(
                f,
                " Enrolments: {} created, {} updated, {} unchanged, {} ended, {} skipped (roles hallpass does not keep), \
                 {} no longer in the roster (left as they are).",
                self.enrollments_created,
                self.enrollments_updated,
                self.enrollments_unchanged,
                self.enrollments_ended,
                self.enrollments_skipped,
                self.enrollments_missing
            )
        } else {
            write!(
                f,
                " Enrolments: the bundle has no enrollments.csv; enrolments are left as they are."
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_with_classes_but_no_enrolments_says_so() {
        let counts = ClassCounts {
            classes_file: true,
            classes_created: 3,
            ..ClassCounts::default()
        };
        let text = counts.to_string();
        assert!(text.starts_with("Classes: 3 created,"), "{text}");
        assert!(text.contains("no enrollments.csv"), "{text}");
        assert_eq!(counts.json()["classes_created"], 3);
    }
}
