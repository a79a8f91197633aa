//! The OneRoster 1.1 CSV import (`hallpass import oneroster DIR --tenant NAME`).
//!
//! Promise: importing a bundle makes the tenant's districts, schools and users
//! match what the roster says, keyed by `sourcedId`, while keeping what people
//! changed in hallpass (policy.md "Roster sync"): a re-import merges each user
//! field by field against what the roster said last time, so a field the
//! roster did not change keeps hallpass's value, a field it changed is
//! applied, and a field both changed takes the roster's value and is reported
//! as a conflict with who changed it locally. Importing the same bundle again
//! changes nothing; every row that cannot be imported is refused with its
//! file, line and reason while every other row is imported; every record
//! written is audited in the same transaction. Users absent from a bundle are
//! reported and left as they are (OneRoster says to mark departures
//! `tobedeleted`). A dry run reports all of this and writes nothing.
//!
//! The files: `table` reads CSV by header name, `orgs` and `users` turn rows
//! into records, `sync` is the three-way merge, `conflicts` finds who made the
//! local side of a conflict, `write` writes in batches, `import` runs the
//! whole, and `generate` writes bundles of any size for tests and benchmarks.
//! `classes` and `enrollments` import classes.csv and enrollments.csv when the
//! bundle has them (`class_report` counts what they did).

mod class_report;
mod classes;
mod conflicts;
mod enrollments;
mod error;
mod generate;
mod import;
mod orgs;
mod report;
mod sync;
mod table;
mod users;
mod write;

pub use class_report::ClassCounts;
pub use error::ImportError;
pub use generate::write_sample_bundle;
pub use import::{ImportOptions, import_oneroster, import_oneroster_in_batches};
pub use report::{Conflict, ImplicitDistrict, ImportReport, MissingUser, RefusedRow};
pub use table::{CsvLimits, DEFAULT_MAX_ROWS, Rows, read_rows};
