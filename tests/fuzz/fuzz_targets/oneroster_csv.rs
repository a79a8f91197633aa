//! OneRoster CSV rows: any bytes read as users.csv, with small limits so the
//! bounds are reached, and every cell that reads as text parsed as each
//! domain type the import would make of it. Nothing may panic.
#![no_main]

use hallpass::directory::{Grade, Login, PersonName, Role, Title};
use hallpass::roster::{CsvLimits, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = CsvLimits {
        max_line_bytes: 4096,
        max_rows: 64,
    };
    let Ok((headers, rows)) = read_rows("users.csv", data, limits) else {
        return;
    };
    assert!(rows.len() <= 64);
    let mut last_line = 1;
    for (line, cells) in rows {
        assert!(
            line > last_line,
            "rows go forward: {line} after {last_line}"
        );
        last_line = line;
        for cell in cells.into_iter().flatten() {
            let _ = Login::parse(&cell);
            let _ = PersonName::parse(&cell);
            let _ = Title::parse(&cell);
            let _ = Grade::parse(&cell);
            let _ = Role::parse(&cell);
        }
    }
    drop(headers);
});
