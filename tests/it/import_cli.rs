//! `hallpass import oneroster` as a nightly job runs it: the real binary,
//! output to pipes, on SQLite and on PostgreSQL alike.

use std::process::{Command, Output};

use crate::helpers::{TestDb, on_both_backends};
use crate::import::fixture;
use crate::roster_snapshot::audit_count;

on_both_backends!(
    an_import_that_refused_rows_exits_with_status_3_and_a_clean_one_with_0,
    piped_output_of_an_import_carries_no_ansi_colour_codes,
    json_prints_one_object_per_line_with_the_summary_last_and_dry_run_writes_nothing,
);

fn import(db: &TestDb, bundle: &str, extra: &[&str]) -> Output {
    import_into(db, bundle, "lincoln", extra)
}

fn import_into(db: &TestDb, bundle: &str, tenant: &str, extra: &[&str]) -> Output {
    let dir = fixture(bundle);
    let mut args = vec![
        "import",
        "oneroster",
        dir.to_str().unwrap(),
        "--tenant",
        tenant,
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(&args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn an_import_that_refused_rows_exits_with_status_3_and_a_clean_one_with_0(db: TestDb) {
    let messy = import(&db, "messy", &[]);
    assert_eq!(messy.status.code(), Some(3), "{}", text(&messy.stderr));
    assert!(text(&messy.stdout).contains("refused: users.csv line 5"));
    assert!(
        text(&messy.stderr).contains("of the bundle were refused"),
        "{}",
        text(&messy.stderr)
    );
    let clean = import_into(&db, "sample", "another-district", &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stderr));
    let help = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["import", "oneroster", "--help"])
        .output()
        .unwrap();
    assert!(
        text(&help.stdout).contains("3 when the import ran but refused one or more rows"),
        "the status is documented: {}",
        text(&help.stdout)
    );
}

async fn piped_output_of_an_import_carries_no_ansi_colour_codes(db: TestDb) {
    let out = import(&db, "sample", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("roster imported"),
        "the closing log line: {stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "ANSI in {stderr:?}");
    assert!(!text(&out.stdout).contains('\u{1b}'));
}

async fn json_prints_one_object_per_line_with_the_summary_last_and_dry_run_writes_nothing(
    db: TestDb,
) {
    let dry = import(&db, "messy", &["--dry-run", "--json"]);
    assert_eq!(dry.status.code(), Some(3), "{}", text(&dry.stderr));
    let lines: Vec<serde_json::Value> = text(&dry.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["users_created"], 6);
    let refused = lines.iter().filter(|l| l["type"] == "refused").count();
    assert_eq!(summary["refused"], refused);
    assert_eq!(
        db.store
            .tenant_by_name(&crate::import::tenant())
            .await
            .unwrap(),
        None,
        "not even the tenant"
    );
    assert_eq!(audit_count(&db.store).await, 0);
}
