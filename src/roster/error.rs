//! Why a whole import stopped. A problem with one row is never an `ImportError`:
//! it becomes a refused row in the report and the other rows are still imported.

use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("The bundle has no {file} (looked in {dir}).")]
    MissingFile { file: String, dir: String },
    #[error("{file} has no \"{column}\" column (its columns are: {found}).")]
    MissingColumn {
        file: String,
        column: String,
        found: String,
    },
    #[error("Failed to read {file}: {source}")]
    UnreadableCsv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error(
        "{file} line {line} is longer than {limit} bytes; the file was not imported (is it really CSV?)."
    )]
    LineTooLong {
        file: String,
        line: u64,
        limit: usize,
    },
    #[error(
        "{file} has more than {limit} rows; the file was not imported (HALLPASS_IMPORT_MAX_ROWS raises the cap)."
    )]
    TooManyRows { file: String, limit: u64 },
    #[error("The import stopped on a database error: {0}")]
    Store(#[from] StoreError),
}
