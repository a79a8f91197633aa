use super::*;

fn table(content: &[u8]) -> (tempfile::TempDir, Table) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), content).unwrap();
    let table = Table::open(dir.path(), "users.csv").unwrap();
    (dir, table)
}

#[test]
fn columns_are_found_by_name_in_any_case_and_order_despite_a_bom() {
    let (_dir, table) = table(b"\xEF\xBB\xBFsourcedId,GivenName,familyname\r\ns1,Ana,Lopez\r\n");
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
fn rows_keep_the_line_they_start_on_with_bare_cr_line_ends() {
    let csv = b"a,b\r1,\"x\ry\"\r\r2,3\r\r\n3\n4\r\n5";
    let (_dir, mut table) = table(csv);
    let mut rows = Vec::new();
    while let Some(record) = table.next_record().unwrap() {
        rows.push((record.line, record.text(Some(0), "a").unwrap().to_owned()));
    }
    let rows: Vec<(u64, &str)> = rows.iter().map(|(l, a)| (*l, a.as_str())).collect();
    assert_eq!(rows, vec![(2, "1"), (5, "2"), (7, "3"), (8, "4"), (9, "5")]);
}

#[test]
fn the_fuzzers_bare_cr_file_puts_its_row_on_line_2() {
    // tests/fuzz/artifacts/oneroster_csv/crash-a611dfc5…: a header, a CR,
    // a row; every row used to be reported as line 1.
    let (headers, rows) = read_rows("users.csv", &b"\xa8\rU"[..], CsvLimits::default()).unwrap();
    assert_eq!(headers, vec!["\u{fffd}".to_owned()]);
    assert_eq!(rows, vec![(2, vec![Ok("U".to_owned())])]);
}

#[test]
fn bare_cr_rows_are_counted_and_measured_one_by_one_against_the_limits() {
    let limits = CsvLimits {
        max_rows: 1000,
        max_line_bytes: 100,
    };
    // 1,000 short rows, well over 100 bytes in all, no LF anywhere.
    let mut at_cap = b"sourcedId,givenName\r".to_vec();
    for n in 0..1000 {
        at_cap.extend_from_slice(format!("s{n},Ana\r").as_bytes());
    }
    let mut table = Table::read("users.csv", &at_cap[..], limits).unwrap();
    let mut last = 0;
    while let Some(record) = table.next_record().unwrap() {
        last = record.line;
    }
    assert_eq!(last, 1001);
    at_cap.extend_from_slice(b"s1000,Ana");
    assert!(matches!(
        Table::read("users.csv", &at_cap[..], limits).err().unwrap(),
        ImportError::TooManyRows { limit: 1000, .. }
    ));
    let long = [b"a\rshort\r".as_slice(), &[b'x'; 101]].concat();
    assert!(matches!(
        Table::read("users.csv", &long[..], limits).err().unwrap(),
        ImportError::LineTooLong { line: 3, .. }
    ));
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

/// A stream that yields `head`, then `body` over and over, up to `total`
/// bytes, counting what was read: a huge file that is never on disk.
struct Generated {
    head: Vec<u8>,
    body: Vec<u8>,
    total: u64,
    served: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() && self.served.get() < self.total {
            let at = self.served.get() as usize;
            let byte = match self.head.get(at) {
                Some(b) => *b,
                None => self.body[(at - self.head.len()) % self.body.len()],
            };
            out[n] = byte;
            n += 1;
            self.served.set(self.served.get() + 1);
        }
        Ok(n)
    }
}

fn generated(
    head: &[u8],
    body: &[u8],
    total: u64,
) -> (Generated, std::rc::Rc<std::cell::Cell<u64>>) {
    let served = std::rc::Rc::new(std::cell::Cell::new(0));
    let stream = Generated {
        head: head.to_vec(),
        body: body.to_vec(),
        total,
        served: served.clone(),
    };
    (stream, served)
}

#[test]
fn a_line_over_one_mib_refuses_the_file_having_read_little_more_than_the_limit() {
    // 16 GiB of one unquoted cell with no line end.
    let (stream, served) = generated(b"sourcedId,givenName\ns1,", b"x", 16 << 30);
    let err = Table::read("users.csv", stream, CsvLimits::default())
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            ImportError::LineTooLong {
                line: 2,
                limit: 1_048_576,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "users.csv line 2 is longer than 1048576 bytes; the file was not imported (is it really CSV?)."
    );
    assert!(
        served.get() < (1 << 20) + 128 * 1024,
        "read {} bytes",
        served.get()
    );
}

#[test]
fn a_quoted_line_break_does_not_hide_a_row_over_the_limit() {
    let (stream, _) = generated(b"a\n\"", b"yy\n", 1 << 30);
    let limits = CsvLimits {
        max_line_bytes: 1000,
        ..CsvLimits::default()
    };
    let err = Table::read("users.csv", stream, limits).err().unwrap();
    assert!(
        matches!(err, ImportError::LineTooLong { line: 2, .. }),
        "{err}"
    );
}

#[test]
fn a_row_count_over_the_cap_refuses_the_file_having_read_one_row_past_it() {
    let (stream, served) = generated(
        b"sourcedId,givenName\r\n",
        b"s,\"A, \"\"b\"\"\"\r\n\r\n",
        1 << 40,
    );
    let limits = CsvLimits {
        max_rows: 1000,
        ..CsvLimits::default()
    };
    let err = Table::read("users.csv", stream, limits).err().unwrap();
    assert!(
        matches!(err, ImportError::TooManyRows { limit: 1000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("more than 1000 rows"), "{err}");
    assert!(served.get() < 200 * 1024, "read {} bytes", served.get());
}

#[test]
fn a_file_at_the_cap_is_read_whole_with_blank_lines_and_a_missing_last_line_end() {
    let csv = b"a,b\n\n1,\"x\ny\"\n\n2,3";
    let limits = CsvLimits {
        max_rows: 2,
        max_line_bytes: 9,
    };
    let mut table = Table::read("users.csv", &csv[..], limits).unwrap();
    let mut lines = Vec::new();
    while let Some(record) = table.next_record().unwrap() {
        lines.push(record.line);
    }
    assert_eq!(lines, vec![3, 6]);
    let one_less = CsvLimits {
        max_rows: 1,
        ..limits
    };
    assert!(matches!(
        Table::read("users.csv", &csv[..], one_less).err().unwrap(),
        ImportError::TooManyRows { limit: 1, .. }
    ));
}
