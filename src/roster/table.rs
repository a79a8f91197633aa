//! Reading one CSV file of a OneRoster bundle. Promises: columns are found by
//! header name, in any order and any letter case, with a UTF-8 BOM ignored;
//! LF, CRLF and bare CR line ends (each one line end, as the csv crate's
//! `Terminator::CRLF` reads them) and quoted fields (commas, quotes, line
//! breaks inside) are read as RFC 4180 says; a short row reads its missing
//! cells as empty; and every row keeps the line it starts on (the header is
//! line 1, a quoted line break counts) for the report.
//! A cell that is not UTF-8 refuses its row, not the file. A file with a row
//! longer than [`CsvLimits::max_line_bytes`] (1 MiB) or more rows than
//! [`CsvLimits::max_rows`] is refused as a whole with a clear message, and is
//! read no further than the first byte over the bound, so memory stays bounded
//! whatever the file (or stream) holds.

use std::collections::HashMap;
use std::io::{self, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use csv::{ByteRecord, Reader, ReaderBuilder, Trim};

use super::ImportError;

mod scan;
use scan::Scanner;

/// The bounds on one CSV file of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvLimits {
    /// The longest row, in bytes (quoted line breaks included), 1 MiB.
    pub max_line_bytes: usize,
    /// The most data rows (the header and blank lines not counted), 1,000,000
    /// (HALLPASS_IMPORT_MAX_ROWS).
    pub max_rows: u64,
}

/// The default of [`CsvLimits::max_rows`].
pub const DEFAULT_MAX_ROWS: u64 = 1_000_000;

impl Default for CsvLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// How many line ends `bytes` holds: a CRLF, a lone LF and a lone CR are one
/// each. `bytes` must not start between the CR and the LF of a CRLF.
fn line_ends(bytes: &[u8]) -> u64 {
    let mut after_cr = false;
    let mut ends = 0;
    for &b in bytes {
        if b == b'\r' || (b == b'\n' && !after_cr) {
            ends += 1;
        }
        after_cr = b == b'\r';
    }
    ends
}

/// Reads `source` to its end, refusing it at the first row over the limits.
/// Hand-written rather than a csv reader over the stream, because the rows'
/// starting lines are found from the bytes afterwards (see [`Table::next_record`]).
fn read_bounded(
    name: &'static str,
    mut source: impl Read,
    limits: CsvLimits,
) -> Result<Vec<u8>, ImportError> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut scanner = Scanner::new(name, limits);
    loop {
        let n = match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ImportError::UnreadableCsv {
                    file: name.to_owned(),
                    source: e.into(),
                });
            }
        };
        let read = chunk.get(..n).unwrap_or_default();
        for &b in read {
            scanner.step(b)?;
        }
        bytes.extend_from_slice(read);
    }
    scanner.finish()?;
    Ok(bytes)
}

/// Every data row of the CSV file `name` read from `source` as the import
/// reads it: its starting line and its cells as text (or the reason a cell is
/// not). For the fuzz target (tests/fuzz) and anyone checking a file by hand.
pub type Rows = Vec<(u64, Vec<Result<String, String>>)>;

/// See [`Rows`].
pub fn read_rows(
    name: &'static str,
    source: impl Read,
    limits: CsvLimits,
) -> Result<(Vec<String>, Rows), ImportError> {
    let mut table = Table::read(name, source, limits)?;
    let headers = table.headers.clone();
    let mut rows = Vec::new();
    while let Some(record) = table.next_record()? {
        let cells = (0..headers.len().max(record.fields.len()))
            .map(|c| record.text(Some(c), "cell").map(str::to_owned))
            .collect();
        rows.push((record.line, cells));
    }
    Ok((headers, rows))
}

/// An open CSV file whose header has been read.
pub(crate) struct Table {
    name: &'static str,
    headers: Vec<String>,
    columns: HashMap<String, usize>,
    reader: Reader<Cursor<Arc<[u8]>>>,
    /// The whole file: a bundle of 100,000 users is some 15 MB, and the bytes
    /// are needed to find the line a row starts on (see [`Table::next_record`]).
    bytes: Arc<[u8]>,
    /// Line ends are counted up to here (the start of the last row found)...
    counted_to: usize,
    /// ...and the line that byte is on.
    counted_line: u64,
}

/// One data row.
pub(crate) struct Record {
    /// The line the row starts on, 1-based, the header being line 1.
    pub line: u64,
    fields: ByteRecord,
}

impl Table {
    /// Opens `dir/name` and reads its header, with the default limits.
    #[cfg(test)]
    pub fn open(dir: &Path, name: &'static str) -> Result<Self, ImportError> {
        Self::open_within(dir, name, CsvLimits::default())
    }

    /// Opens `dir/name` and reads its header; a file over `limits` is refused.
    #[tracing::instrument]
    pub fn open_within(
        dir: &Path,
        name: &'static str,
        limits: CsvLimits,
    ) -> Result<Self, ImportError> {
        let path = dir.join(name);
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ImportError::MissingFile {
                file: name.to_owned(),
                dir: dir.display().to_string(),
            },
            _ => ImportError::UnreadableCsv {
                file: name.to_owned(),
                source: e.into(),
            },
        })?;
        Self::read(name, file, limits)
    }

    /// Reads the file `name` from `source` and its header; a file over
    /// `limits` is refused having read at most one byte past the bound.
    pub fn read(
        name: &'static str,
        source: impl Read,
        limits: CsvLimits,
    ) -> Result<Self, ImportError> {
        let bytes: Arc<[u8]> = read_bounded(name, source, limits)?.into();
        let mut reader = ReaderBuilder::new()
            .flexible(true)
            .trim(Trim::All)
            .from_reader(Cursor::new(bytes.clone()));
        let unreadable = |source| ImportError::UnreadableCsv {
            file: name.to_owned(),
            source,
        };
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(unreadable)?
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_owned()
            })
            .collect();
        let mut columns = HashMap::new();
        for (index, header) in headers.iter().enumerate() {
            columns.entry(header.to_lowercase()).or_insert(index);
        }
        Ok(Self {
            name,
            headers,
            columns,
            reader,
            bytes,
            counted_to: 0,
            counted_line: 1,
        })
    }

    /// The file's name in the bundle ("users.csv").
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The file's size in bytes (for progress).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The index of an optional column.
    pub fn column(&self, header: &str) -> Option<usize> {
        self.columns.get(&header.to_lowercase()).copied()
    }

    /// The index of a column the import cannot do without.
    pub fn required(&self, header: &str) -> Result<usize, ImportError> {
        self.column(header)
            .ok_or_else(|| ImportError::MissingColumn {
                file: self.name.to_owned(),
                column: header.to_owned(),
                found: self.headers.join(", "),
            })
    }

    /// The next row, `None` at the end. Blank lines are skipped.
    ///
    /// The csv crate positions a record where its reader stopped before it:
    /// on the `\n` of a CRLF, or before skipped blank lines; and its line
    /// count sees only LFs, so a file of bare CRs would be all "line 1". The
    /// row really starts after those line ends, and its line is counted here
    /// from the bytes before it, each CRLF, LF or CR being one line end.
    pub fn next_record(&mut self) -> Result<Option<Record>, ImportError> {
        let mut fields = ByteRecord::new();
        let more = self
            .reader
            .read_byte_record(&mut fields)
            .map_err(|source| ImportError::UnreadableCsv {
                file: self.name.to_owned(),
                source,
            })?;
        if !more {
            return Ok(None);
        }
        let Some(position) = fields.position() else {
            return Ok(None);
        };
        let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
        let skipped = self
            .bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        // A row starts on a byte that is not a line end, so the counted span
        // never splits a CRLF.
        let start = from.saturating_add(skipped).min(self.bytes.len());
        if start > self.counted_to {
            let span = self.bytes.get(self.counted_to..start).unwrap_or_default();
            self.counted_line += line_ends(span);
            self.counted_to = start;
        }
        Ok(Some(Record {
            line: self.counted_line,
            fields,
        }))
    }

    /// How far into the file the reader is, in bytes (for progress).
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }
}

impl Record {
    /// The trimmed text of a cell; empty when the column or the cell is missing.
    /// `header` names the column in the reason when the cell is not UTF-8.
    pub fn text(&self, column: Option<usize>, header: &str) -> Result<&str, String> {
        let Some(bytes) = column.and_then(|c| self.fields.get(c)) else {
            return Ok("");
        };
        std::str::from_utf8(bytes).map_err(|_| format!("{header} is not valid UTF-8 text."))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
