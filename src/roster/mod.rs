//! The OneRoster 1.1 CSV import (`hallpass import oneroster DIR --tenant NAME`).
//!
//! Promise: importing a bundle makes the tenant's districts, schools and users
//! match it, keyed by `sourcedId`, so importing the same bundle again changes
//! nothing; every row that cannot be imported is refused with its file, line
//! and reason while every other row is imported; and every record written is
//! audited in the same transaction. Users absent from a bundle are left as they
//! are (OneRoster says to mark departures `tobedeleted`).
//!
//! The files: `table` reads CSV by header name, `orgs` and `users` turn rows
//! into records, `write` writes them in batches, `import` runs the whole, and
//! `generate` writes bundles of any size for tests and benchmarks.

mod error;
mod generate;
mod import;
mod orgs;
mod report;
mod table;
mod users;
mod write;

pub use error::ImportError;
pub use generate::write_sample_bundle;
pub use import::{ImportOptions, import_oneroster};
pub use report::{ImportReport, RefusedRow};
