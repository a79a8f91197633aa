//! `hallpass bench --quick`, the binary as an operator runs it: every
//! scenario of the summary runs and the object has every field of
//! `interfaces.md`. The figures of a few hundred users mean nothing, so
//! nothing here looks at their size.

use std::process::Command;

use serde_json::Value;

use crate::helpers::postgres_admin_url;

const FIELDS: &[(&str, &[&str])] = &[
    ("machine", &["cores"]),
    (
        "autocomplete_sqlite",
        &[
            "users",
            "clients",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "mean_ms",
            "rps",
            "floor_mean_ms",
            "floor_p99_ms",
            "floor_rps",
            "ratio_to_floor",
            "in_process_mean_ms",
        ],
    ),
    (
        "autocomplete_postgres",
        &[
            "users",
            "clients",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "mean_ms",
            "rps",
            "floor_mean_ms",
            "floor_p99_ms",
            "floor_rps",
            "ratio_to_floor",
            "in_process_mean_ms",
        ],
    ),
    ("edit_submit_sqlite", &["p50_ms", "p95_ms", "p99_ms"]),
    (
        "reset_throughput",
        &["resets_per_s", "raw_hashes_per_s", "ratio"],
    ),
    (
        "autocomplete_under_resets",
        &["p99_ms", "alone_p99_ms", "rps"],
    ),
    (
        "import_sqlite",
        &[
            "users",
            "seconds",
            "reimport_seconds",
            "floor_seconds",
            "ratio",
        ],
    ),
    (
        "import_postgres",
        &[
            "users",
            "seconds",
            "reimport_seconds",
            "floor_seconds",
            "ratio",
        ],
    ),
    (
        "signin",
        &[
            "rps",
            "raw_verifies_per_s",
            "ratio",
            "unknown_login_mean_ms",
            "wrong_password_mean_ms",
            "unknown_login_p50_ms",
            "wrong_password_p50_ms",
        ],
    ),
    (
        "outbox_drain",
        &[
            "tickets_created",
            "allowed_per_s",
            "achieved_per_s",
            "ratio",
        ],
    ),
];

#[test]
fn a_quick_bench_run_reports_every_scenario_of_the_spec_with_numbers() {
    let output = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["bench", "--quick", "--users", "300", "--json"])
        .env("HALLPASS_BENCH_POSTGRES_URL", postgres_admin_url())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let human = String::from_utf8(output.stdout).unwrap();
    let summary: Value = serde_json::from_str(human.lines().last().unwrap()).unwrap();

    for (scenario, fields) in FIELDS {
        let object = summary[scenario]
            .as_object()
            .unwrap_or_else(|| panic!("{scenario} is missing from {summary}"));
        // PostgreSQL is part of this machine's setup: a database scenario
        // that could not run is a failure here, not a skip.
        assert!(
            object.get("error").is_none(),
            "{scenario} did not run: {}",
            object["error"]
        );
        for field in *fields {
            assert!(
                object.get(*field).is_some_and(Value::is_number),
                "{scenario}.{field} is not a number in {summary}"
            );
        }
        assert!(
            human.contains(&format!("{scenario}: ")),
            "no human line for {scenario}:\n{human}"
        );
    }
    assert!(summary["machine"]["argon2"].is_string());
    assert!(summary["peak_rss_mib"].is_number());
    // --users sets the directory's size, and the autocomplete figures say so.
    assert_eq!(summary["import_sqlite"]["users"], 300);
    assert_eq!(summary["autocomplete_sqlite"]["users"], 300);
    assert_eq!(summary["autocomplete_postgres"]["users"], 300);
    assert_eq!(summary["outbox_drain"]["tickets_created"], 10);
}
