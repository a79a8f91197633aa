//! What an import did. Promise: every row of the bundle is accounted for, either
//! in a count or as a refused row naming its file, line and reason; the printed
//! report lists the refused rows in file order, then one summary line.

use std::fmt;

use serde_json::{Value, json};

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
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    /// "orgs.csv" or "users.csv".
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
    /// Puts the refused rows in file order (orgs.csv before users.csv, then by line).
    pub(crate) fn sort(&mut self) {
        let rank = |file: &str| if file == "orgs.csv" { 0 } else { 1 };
        self.refused.sort_by(|a, b| {
            (rank(&a.file), &a.file, a.line).cmp(&(rank(&b.file), &b.file, b.line))
        });
    }

    /// The counts, and the first refused rows, for the summary audit event.
    pub(crate) fn summary_json(&self) -> Value {
        let refused: Vec<Value> = self
            .refused
            .iter()
            .take(AUDITED_REFUSALS)
            .map(|r| json!({ "file": r.file, "line": r.line, "source_id": r.source_id, "reason": r.reason }))
            .collect();
        json!({
            "orgs_created": self.orgs_created,
            "orgs_updated": self.orgs_updated,
            "users_created": self.users_created,
            "users_updated": self.users_updated,
            "users_unchanged": self.users_unchanged,
            "users_disabled": self.users_disabled,
            "refused": self.refused.len(),
            "refused_rows": refused,
        })
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
