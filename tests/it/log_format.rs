//! `serve` as operators run it: JSON logs on request, and a configuration that
//! would leave deferred answers hanging refused at start-up.

use std::process::{Command, Output};

/// A syntactically valid Ed25519 public key (hex).
const PUBLIC_KEY: &str = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

fn serve_without_application_id(dir: &std::path::Path, format: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass"));
    command
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("h.db").display()),
        )
        .env("HALLPASS_LISTEN", "127.0.0.1:0")
        .env("DISCORD_PUBLIC_KEY", PUBLIC_KEY)
        .env_remove("DISCORD_APPLICATION_ID")
        .env_remove("DISCORD_TOKEN")
        .env("RUST_LOG", "info");
    match format {
        Some(f) => command.env("HALLPASS_LOG_FORMAT", f),
        None => command.env_remove("HALLPASS_LOG_FORMAT"),
    };
    command.output().unwrap()
}

#[test]
fn serve_refuses_a_public_key_without_an_application_id_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve_without_application_id(dir.path(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("DISCORD_PUBLIC_KEY is set but DISCORD_APPLICATION_ID is not"),
        "{stderr}"
    );
}

#[test]
fn with_hallpass_log_format_json_every_log_line_is_a_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve_without_application_id(dir.path(), Some("json"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("hallpass: "))
        .collect();
    assert!(!log_lines.is_empty(), "no log line: {stderr}");
    for line in log_lines {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(parsed["level"].is_string(), "{line}");
        assert!(parsed["timestamp"].is_string(), "{line}");
        assert!(parsed["fields"]["message"].is_string(), "{line}");
    }
}
