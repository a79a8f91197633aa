//! Reading one CSV file of a OneRoster bundle. Promises: columns are found by
//! header name, in any order and any letter case, with a UTF-8 BOM ignored;
//! LF and CRLF line ends and quoted fields (commas, quotes, line breaks inside)
//! are read as RFC 4180 says; a short row reads its missing cells as empty; and
//! every row keeps the line it starts on (the header is line 1) for the report.
//! A cell that is not UTF-8 refuses its row, not the file.

use std::collections::HashMap;
use std::io::{self, Cursor};
use std::path::Path;
use std::sync::Arc;

use csv::{ByteRecord, Reader, ReaderBuilder, Trim};

use super::ImportError;

/// An open CSV file whose header has been read.
pub(crate) struct Table {
    name: &'static str,
    headers: Vec<String>,
    columns: HashMap<String, usize>,
    reader: Reader<Cursor<Arc<[u8]>>>,
    /// The whole file: a bundle of 100,000 users is some 15 MB, and the bytes
    /// are needed to find the line a row starts on (see [`Table::next_record`]).
    bytes: Arc<[u8]>,
}

/// One data row.
pub(crate) struct Record {
    /// The line the row starts on, 1-based, the header being line 1.
    pub line: u64,
    fields: ByteRecord,
}

impl Table {
    /// Opens `dir/name` and reads its header.
    #[tracing::instrument]
    pub fn open(dir: &Path, name: &'static str) -> Result<Self, ImportError> {
        let path = dir.join(name);
        let bytes: Arc<[u8]> = std::fs::read(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => ImportError::MissingFile {
                    file: name.to_owned(),
                    dir: dir.display().to_string(),
                },
                _ => ImportError::UnreadableCsv {
                    file: name.to_owned(),
                    source: e.into(),
                },
            })?
            .into();
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
    /// on the `\n` of a CRLF, or before skipped blank lines. The row really
    /// starts after those line ends, so they are counted here.
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
            .take_while(|b| matches!(b, b'\r' | b'\n'));
        let line = position.line() + skipped.filter(|b| **b == b'\n').count() as u64;
        Ok(Some(Record { line, fields }))
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
mod tests {
    use super::*;

    fn table(content: &[u8]) -> (tempfile::TempDir, Table) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("users.csv"), content).unwrap();
        let table = Table::open(dir.path(), "users.csv").unwrap();
        (dir, table)
    }

    #[test]
    fn columns_are_found_by_name_in_any_case_and_order_despite_a_bom() {
        let (_dir, table) =
            table(b"\xEF\xBB\xBFsourcedId,GivenName,familyname\r\ns1,Ana,Lopez\r\n");
        assert_eq!(table.column("sourcedId"), Some(0));
        assert_eq!(table.column("givenName"), Some(1));
        assert_eq!(table.column("familyName"), Some(2));
        assert_eq!(table.column("email"), None);
    }

    #[test]
    fn a_missing_required_column_is_named_in_the_error() {
        let (_dir, table) = table(b"sourcedId,givenName\n");
        let err = table.required("familyName").err().unwrap();
        assert!(err.to_string().contains("\"familyName\""), "{err}");
        assert!(err.to_string().contains("users.csv"), "{err}");
    }

    #[test]
    fn rows_keep_the_line_they_start_on_through_crlf_and_quoted_line_breaks() {
        let csv = b"a,b\r\n1,\"x, \"\"y\"\"\"\r\n2,\"two\r\nlines\"\r\n\r\n3\r\n";
        let (_dir, mut table) = table(csv);
        let (a, b) = (table.column("a"), table.column("b"));
        let first = table.next_record().unwrap().unwrap();
        assert_eq!((first.line, first.text(b, "b").unwrap()), (2, "x, \"y\""));
        let second = table.next_record().unwrap().unwrap();
        assert_eq!((second.line, second.text(a, "a").unwrap()), (3, "2"));
        let third = table.next_record().unwrap().unwrap();
        assert_eq!(third.line, 6);
        assert_eq!(
            third.text(b, "b").unwrap(),
            "",
            "a short row reads its missing cells as empty"
        );
        assert!(table.next_record().unwrap().is_none());
    }

    #[test]
    fn rows_after_blank_lines_keep_their_own_line_with_lf_line_ends() {
        let (_dir, mut table) = table(b"\xEF\xBB\xBFa,b\n\n\n1,2\n\"x\ny\",3\n\n3,4");
        let mut lines = Vec::new();
        while let Some(record) = table.next_record().unwrap() {
            lines.push(record.line);
        }
        assert_eq!(lines, vec![4, 5, 8]);
    }

    #[test]
    fn a_cell_that_is_not_utf8_is_a_reason_for_its_row() {
        let (_dir, mut table) = table(b"a\n\xFF\xFE\n");
        let record = table.next_record().unwrap().unwrap();
        assert!(
            record
                .text(table.column("a"), "a")
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Table::open(dir.path(), "orgs.csv").err().unwrap();
        assert!(
            matches!(err, ImportError::MissingFile { ref file, .. } if file == "orgs.csv"),
            "{err}"
        );
    }
}
