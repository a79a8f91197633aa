//! The demo-wide secrets scan: `hallpass demo` plays its whole script with
//! tracing at TRACE captured; then every temporary password and link code it
//! issued (read from the DMs that carried them) is searched for in the
//! captured logs, in the audit log, and in the raw bytes of the SQLite
//! database, its -wal and its -shm. None may appear. In the transcript of what
//! people saw, each password appears only inside its DM.

use hallpass::audit::AuditQuery;
use hallpass::store::Store;

use crate::capture::Captured;

/// The inline code spans of every DM in the transcript: the secrets issued.
fn secrets_in_dms(transcript: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for dm in transcript.split("✉ DM from hallpass to ").skip(1) {
        // The DM's text is indented under its heading; it ends at the first
        // line that is not.
        let body: Vec<&str> = dm
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect();
        let body = body.join("\n");
        for (n, span) in body.split('`').enumerate() {
            if n % 2 == 1 && span.len() >= 6 {
                secrets.push(span.to_owned());
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

#[tokio::test]
async fn no_password_or_link_code_the_demo_issues_is_in_the_logs_the_audit_log_or_the_database_files()
 {
    let dir = tempfile::tempdir().unwrap();
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let mut out: Vec<u8> = Vec::new();
    {
        // The test's runtime is single-threaded: every task the demo spawns
        // runs on this thread, under this subscriber.
        let _guard = tracing::subscriber::set_default(subscriber);
        tracing::trace!("the capture is on");
        hallpass::demo::run(dir.path(), &mut out).await.unwrap();
    }
    let transcript = String::from_utf8(out).unwrap();
    let logs = logs.text();
    assert!(logs.contains("the capture is on"), "the capture works");
    assert!(logs.contains("TRACE"), "captured at TRACE");

    let secrets = secrets_in_dms(&transcript);
    // The temporary passwords (the link codes are typed back by the student,
    // so they are rightly in the transcript twice).
    let passwords: Vec<&String> = secrets
        .iter()
        .filter(|s| {
            transcript
                .split("✉ DM from hallpass to ")
                .any(|dm| dm.contains(&format!("`{s}`")) && dm.contains("Temporary password for"))
        })
        .collect();
    assert!(!passwords.is_empty(), "{secrets:?}");
    assert!(
        secrets.len() >= 2,
        "the demo issues at least a temporary password and a link code: {secrets:?}\n{transcript}"
    );

    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("hallpass-demo.db").display()
    ))
    .await
    .unwrap();
    let audit = format!(
        "{:?}",
        store.audit_events(&AuditQuery::default()).await.unwrap()
    );
    assert!(audit.contains("password.reset"), "the audit log was read");
    store.close().await;

    let mut files = Vec::new();
    for name in [
        "hallpass-demo.db",
        "hallpass-demo.db-wal",
        "hallpass-demo.db-shm",
    ] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            files.push((name, bytes));
        }
    }
    assert!(
        files
            .iter()
            .any(|(n, b)| *n == "hallpass-demo.db" && !b.is_empty())
    );

    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "{secret:?} is in the logs");
        assert!(
            !audit.contains(secret.as_str()),
            "{secret:?} is in the audit log"
        );
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret:?} is in the raw bytes of {name}"
            );
        }
    }
    for password in &passwords {
        let in_dms = transcript
            .split("✉ DM from hallpass to ")
            .skip(1)
            .filter(|dm| dm.contains(password.as_str()))
            .count();
        assert_eq!(
            transcript.matches(password.as_str()).count(),
            in_dms,
            "{password:?} is shown outside its DM"
        );
    }
    println!(
        "secrets scan: {} secrets issued, {} bytes of TRACE logs, {} database files ({} bytes) scanned: none found",
        secrets.len(),
        logs.len(),
        files.len(),
        files.iter().map(|(_, b)| b.len()).sum::<usize>()
    );
}
