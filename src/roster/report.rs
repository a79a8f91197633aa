//! What an import did. Promise: every row of the bundle is accounted for, either
//! in a count or as a refused row naming its file, line and reason; the printed
//! report lists the refused rows in file order, the conflicts of the roster
//! sync (with who made the local change, and when), the users the roster no
//! longer lists and the implicit districts made, then the summary line(s).
//! `--json` prints the same, one object per line, the summary last.

use std::fmt;

use serde_json::{Value, json};

use super::class_report::ClassCounts;

/// The outcome of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub orgs_created: usize,
    pub orgs_updated: usize,
    /// Users created (a user created already disabled counts here too).
    pub users_created: usize,
    /// Users whose record changed, re-enabled ones included.
    pub users_updated: usize,
    /// Rows that matched the record already (or disabled a user already disabled).
    pub users_unchanged: usize,
    /// Users this import disabled (`status=tobedeleted` or `enabledUser=false`).
    pub users_disabled: usize,
    /// Rows not imported, in file order.
    pub refused: Vec<RefusedRow>,
    /// Fields of known users the roster changed and this import applied.
    pub roster_changes_applied: usize,
    /// Fields changed in hallpass that the roster did not change: kept.
    pub local_changes_kept: usize,
    /// Known users with no remembered roster values (imported before hallpass
    /// remembered them): this bundle became what the roster last said, and
    /// their records were kept as they are.
    pub users_baselined: usize,
    /// Fields both sides changed: the roster's value was applied.
    pub conflicts: Vec<Conflict>,
    /// Imported users, still enabled, that the bundle no longer lists (never deleted).
    pub missing: Vec<MissingUser>,
    /// Districts made for schools with no district above them.
    pub implicit_districts: Vec<ImplicitDistrict>,
    /// `--dry-run`: nothing was written.
    pub dry_run: bool,
    /// What classes.csv and enrollments.csv did; `None` when the bundle has neither.
    pub classes: Option<ClassCounts>,
}

/// A field both hallpass and the roster changed since the last import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub source_id: String,
    pub user_id: String,
    /// The user's login before this import.
    pub login: String,
    /// "login", "first_name", "last_name", "role", "place", "grade" or "disabled".
    pub field: String,
    /// hallpass's value before this import (a place by its name).
    pub hallpass: String,
    /// The roster's value, now applied.
    pub roster: String,
    /// Who made the local change, from the audit log (`None` if it has no trace).
    pub changed_by: Option<String>,
    /// When, as the audit log has it (RFC 3339).
    pub changed_at: Option<String>,
}

/// An imported user the bundle does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingUser {
    pub source_id: String,
    pub user_id: String,
    pub login: String,
}

/// A district hallpass made for a school whose roster names no district above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitDistrict {
    /// The district's name: the school's.
    pub name: String,
    /// The school it was made for.
    pub school_source_id: String,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    /// "orgs.csv", "users.csv", "classes.csv" or "enrollments.csv".
    pub file: String,
    /// The line the row starts on, 1-based; the header is line 1.
    pub line: u64,
    /// The row's `sourcedId`, when it has one.
    pub source_id: Option<String>,
    /// A sentence saying what is wrong.
    pub reason: String,
}

impl RefusedRow {
    pub(crate) fn new(
        file: &str,
        line: u64,
        source_id: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            source_id: source_id.filter(|s| !s.is_empty()).map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// How many refused rows the summary audit event carries; the printed report has them all.
const AUDITED_REFUSALS: usize = 100;

impl ImportReport {
    /// Puts the refused rows in file order (orgs.csv, users.csv, classes.csv,
    /// enrollments.csv, in the order they are imported), then by line.
    pub(crate) fn sort(&mut self) {
        let rank = |file: &str| match file {
            "orgs.csv" => 0,
            "users.csv" => 1,
            "classes.csv" => 2,
            _ => 3,
        };
        self.refused.sort_by(|a, b| {
            (rank(&a.file), &a.file, a.line).cmp(&(rank(&b.file), &b.file, b.line))
        });
    }

    /// The counts, and the first refused rows and conflicts, for the summary audit event.
    pub(crate) fn summary_json(&self) -> Value {
        let refused: Vec<Value> = self
            .refused
            .iter()
            .take(AUDITED_REFUSALS)
            .map(|r| json!({ "file": r.file, "line": r.line, "source_id": r.source_id, "reason": r.reason }))
            .collect();
        let conflicts: Vec<Value> = self
            .conflicts
            .iter()
            .take(AUDITED_REFUSALS)
            .map(Conflict::json)
            .collect();
        let mut summary = self.counts_json();
        if let Value::Object(map) = &mut summary {
            map.insert("refused_rows".into(), Value::Array(refused));
            map.insert("conflict_fields".into(), Value::Array(conflicts));
        }
        summary
    }

    /// Whether any row was refused (the command line then exits with its own status).
    pub fn has_refusals(&self) -> bool {
        !self.refused.is_empty()
    }

    /// `--json`: one object per line, each with a `type` (`refused`,
    /// `conflict`, `missing`, `implicit_district`), the `summary` last.
    pub fn json_lines(&self) -> Vec<Value> {
        let mut lines: Vec<Value> = Vec::new();
        for r in &self.refused {
            lines.push(json!({ "type": "refused", "file": r.file, "line": r.line, "source_id": r.source_id, "reason": r.reason }));
        }
        for c in &self.conflicts {
            let mut line = c.json();
            if let Value::Object(map) = &mut line {
                map.insert("type".into(), json!("conflict"));
            }
            lines.push(line);
        }
        for m in &self.missing {
            lines.push(json!({ "type": "missing", "source_id": m.source_id, "id": m.user_id, "login": m.login }));
        }
        for d in &self.implicit_districts {
            lines.push(json!({ "type": "implicit_district", "name": d.name, "school_source_id": d.school_source_id }));
        }
        let mut summary = self.counts_json();
        if let Value::Object(map) = &mut summary {
            map.insert("type".into(), json!("summary"));
        }
        lines.push(summary);
        lines
    }

    fn counts_json(&self) -> Value {
        let mut counts = json!({
            "roster_changes_applied": self.roster_changes_applied,
            "local_changes_kept": self.local_changes_kept,
            "users_baselined": self.users_baselined,
            "conflicts": self.conflicts.len(),
            "missing": self.missing.len(),
            "implicit_districts": self.implicit_districts.len(),
            "dry_run": self.dry_run,
            "orgs_created": self.orgs_created,
            "orgs_updated": self.orgs_updated,
            "users_created": self.users_created,
            "users_updated": self.users_updated,
            "users_unchanged": self.users_unchanged,
            "users_disabled": self.users_disabled,
            "refused": self.refused.len(),
        });
        if let (Value::Object(map), Some(classes)) = (&mut counts, &self.classes) {
            map.extend(classes.json());
        }
        counts
    }
}

impl Conflict {
    fn json(&self) -> Value {
        json!({
            "source_id": self.source_id,
            "id": self.user_id,
            "login": self.login,
            "field": self.field,
            "hallpass": self.hallpass,
            "roster": self.roster,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at,
        })
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sourcedId {} ({}): {} was changed in hallpass to \"{}\"",
            self.source_id, self.login, self.field, self.hallpass
        )?;
        match (&self.changed_by, &self.changed_at) {
            (Some(by), Some(at)) => write!(f, " by {by} at {at}")?,
            _ => write!(f, " (no audit entry says by whom)")?,
        }
        write!(
            f,
            " and in the roster to \"{}\"; the roster's value was applied.",
            self.roster
        )
    }
}

impl fmt::Display for RefusedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file, self.line)?;
        if let Some(id) = &self.source_id {
            write!(f, " (sourcedId {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for row in &self.refused {
            writeln!(f, "refused: {row}")?;
        }
        for c in &self.conflicts {
            writeln!(f, "conflict: {c}")?;
        }
        for m in &self.missing {
            writeln!(
                f,
                "missing: sourcedId {} ({}) is no longer in the roster; the user is left as they are (never deleted).",
                m.source_id, m.login
            )?;
        }
        for d in &self.implicit_districts {
            writeln!(
                f,
                "implicit district: \"{}\" was made for school {}, whose roster names no district above it.",
                d.name, d.school_source_id
            )?;
        }
        if self.dry_run {
            writeln!(f, "Dry run: nothing was written.")?;
        }
        if self.roster_changes_applied
            + self.local_changes_kept
            + self.conflicts.len()
            + self.missing.len()
            + self.users_baselined
            > 0
        {
            writeln!(
                f,
                "Roster sync: {} from the roster applied, {} kept, {}, {} no longer in the roster{}.",
                plural(self.roster_changes_applied, "change", "changes"),
                plural(self.local_changes_kept, "local change", "local changes"),
                match self.conflicts.len() {
                    0 => "no conflicts".to_owned(),
                    n => plural(n, "conflict (listed above)", "conflicts (listed above)"),
                },
                plural(self.missing.len(), "user", "users"),
                match self.users_baselined {
                    0 => String::new(),
                    n => format!(
                        "; {} had no remembered roster values, so this bundle was taken as the roster's last word and their records were kept",
                        plural(n, "user", "users")
                    ),
                },
            )?;
        }
        if let Some(classes) = &self.classes {
            writeln!(f, "{classes}")?;
        }
        writeln!(
            f,
            "Orgs: {} created, {} updated. Users: {} created, {} updated, {} unchanged, {} disabled. {}.",
            self.orgs_created,
            self.orgs_updated,
            self.users_created,
            self.users_updated,
            self.users_unchanged,
            self.users_disabled,
            match self.refused.len() {
                0 => "No rows refused".to_owned(),
                n => plural(
                    n,
                    "row refused (listed above)",
                    "rows refused (listed above)"
                ),
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_report_lists_each_refused_row_in_file_order_then_sums_up() {
        let mut report = ImportReport {
            users_created: 20,
            refused: vec![
                RefusedRow::new(
                    "users.csv",
                    9,
                    Some("s-9"),
                    "grades: \"14\" is not a grade.",
                ),
                RefusedRow::new("orgs.csv", 4, None, "name is empty."),
                RefusedRow::new("users.csv", 3, Some(""), "role \"aide\" is not imported."),
            ],
            ..ImportReport::default()
        };
        report.sort();
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "refused: orgs.csv line 4: name is empty.");
        assert_eq!(
            lines[1],
            "refused: users.csv line 3: role \"aide\" is not imported."
        );
        assert_eq!(
            lines[2],
            "refused: users.csv line 9 (sourcedId s-9): grades: \"14\" is not a grade."
        );
        assert_eq!(
            lines[3],
            "Orgs: 0 created, 0 updated. Users: 20 created, 0 updated, 0 unchanged, 0 disabled. \
             3 rows refused (listed above)."
        );
    }

    #[test]
    fn a_clean_import_says_no_rows_were_refused() {
        let text = ImportReport {
            orgs_created: 1,
            ..ImportReport::default()
        }
        .to_string();
        assert!(text.ends_with("No rows refused.\n"), "{text}");
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn the_summary_event_carries_the_counts_and_the_refused_rows() {
        let report = ImportReport {
            users_unchanged: 5,
            refused: vec![RefusedRow::new("users.csv", 2, Some("x"), "why")],
            ..ImportReport::default()
        };
        let json = report.summary_json();
        assert_eq!(json["users_unchanged"], 5);
        assert_eq!(json["refused"], 1);
        assert_eq!(json["refused_rows"][0]["line"], 2);
    }
}
