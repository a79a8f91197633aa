//! The byte scanner behind `read_bounded`: it follows RFC 4180 quoting just
//! far enough to tell a row's end from a quoted line break, so a file over
//! the limits is refused at the first byte past them.

use crate::roster::ImportError;
use crate::roster::table::CsvLimits;

/// Where a byte leaves the RFC 4180 scanner of `read_bounded`: the same
/// states csv-core goes through, enough to tell a row's end from a quoted
/// line break.
#[derive(Clone, Copy)]
enum Scan {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Where the scan of one file is: enough to count rows and measure each
/// row's length as the bytes arrive, so a file over the limits stops early.
pub(super) struct Scanner {
    name: &'static str,
    limits: CsvLimits,
    state: Scan,
    /// The physical line the scan is on, and the one the current row began on.
    line: u64,
    row_line: u64,
    row_len: usize,
    row_blank: bool,
    rows: u64,
    header_seen: bool,
    after_cr: bool,
}

impl Scanner {
    pub(super) fn new(name: &'static str, limits: CsvLimits) -> Self {
        Self {
            name,
            limits,
            state: Scan::FieldStart,
            line: 1,
            row_line: 1,
            row_len: 0,
            row_blank: true,
            rows: 0,
            header_seen: false,
            after_cr: false,
        }
    }

    pub(super) fn step(&mut self, b: u8) -> Result<(), ImportError> {
        self.row_len += 1;
        if self.row_len > self.limits.max_line_bytes {
            return Err(ImportError::LineTooLong {
                file: self.name.to_owned(),
                line: self.row_line,
                limit: self.limits.max_line_bytes,
            });
        }
        let ends_row = self.advance(b);
        if !matches!(b, b'\r' | b'\n') {
            self.row_blank = false;
        }
        if b == b'\r' || (b == b'\n' && !self.after_cr) {
            self.line += 1;
        }
        self.after_cr = b == b'\r';
        if ends_row {
            if !self.row_blank {
                if self.header_seen {
                    self.rows += 1;
                }
                self.header_seen = true;
            }
            if self.rows > self.limits.max_rows {
                return Err(self.too_many_rows());
            }
            self.state = Scan::FieldStart;
            (self.row_line, self.row_len, self.row_blank) = (self.line, 0, true);
        }
        Ok(())
    }

    /// Moves the quoting state over `b`; whether `b` ends a row.
    fn advance(&mut self, b: u8) -> bool {
        let (next, ends_row) = match (self.state, b) {
            (Scan::Quoted, b'"') => (Scan::QuoteInQuoted, false),
            (Scan::Quoted, _) => (Scan::Quoted, false),
            (state, b'\n' | b'\r') => (state, true),
            (Scan::FieldStart | Scan::QuoteInQuoted | Scan::Unquoted, b',') => {
                (Scan::FieldStart, false)
            }
            (Scan::FieldStart | Scan::QuoteInQuoted, b'"') => (Scan::Quoted, false),
            _ => (Scan::Unquoted, false),
        };
        self.state = next;
        ends_row
    }

    /// The last row, when the file does not end with a line break.
    pub(super) fn finish(&self) -> Result<(), ImportError> {
        if !self.row_blank && self.header_seen && self.rows + 1 > self.limits.max_rows {
            return Err(self.too_many_rows());
        }
        Ok(())
    }

    fn too_many_rows(&self) -> ImportError {
        ImportError::TooManyRows {
            file: self.name.to_owned(),
            limit: self.limits.max_rows,
        }
    }
}
