//! `web::listen`, the one way every listener starts: a graceful shutdown that
//! really stops it, and `serve`'s separate `/metrics` listener.

use std::time::Duration;

use hallpass::web::WebState;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::bot::Bot;

#[tokio::test]
async fn a_listener_answers_until_it_is_shut_down_and_then_refuses_connections() {
    let bot = Bot::new().await;
    let listening = hallpass::web::listen("127.0.0.1:0", WebState::new(bot.app.clone()))
        .await
        .unwrap();
    let addr = listening.addr();
    assert_ne!(addr.port(), 0, "the bound port is the real one");
    let health = reqwest::get(listening.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    listening.shutdown().await.unwrap();
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "connected after shutdown: {refused:?}");
}

/// The address a `serve` log line names after `address=`.
fn logged_address(line: &str) -> String {
    let (_, rest) = line.split_once("address=").unwrap();
    rest.split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn with_hallpass_metrics_listen_metrics_answer_on_their_own_port_and_not_on_the_main_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("serve")
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("HALLPASS_LISTEN", "127.0.0.1:0")
        .env("HALLPASS_METRICS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env_remove("HALLPASS_LOG_FORMAT")
        .env_remove("HALLPASS_METRICS_TOKEN")
        .env_remove("HALLPASS_SECRET_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut main, mut metrics) = (None, None);
    // The timeout only turns a hang into a failure.
    tokio::time::timeout(Duration::from_secs(120), async {
        while main.is_none() || metrics.is_none() {
            let line = lines.next_line().await.unwrap().expect("serve ended early");
            if line.contains("serving /metrics") {
                metrics = Some(logged_address(&line));
            } else if line.contains("listening") && line.contains("address=") {
                main = Some(logged_address(&line));
            }
        }
    })
    .await
    .expect("serve did not log both addresses");
    let (main, metrics) = (main.unwrap(), metrics.unwrap());
    assert_ne!(main, metrics);
    assert!(
        !metrics.ends_with(":0"),
        "the bound port is logged: {metrics}"
    );

    let on_own = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_own.status(), 200);
    assert!(on_own.text().await.unwrap().contains("hallpass_"));
    let on_main = reqwest::get(format!("http://{main}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_main.status(), 404);
    let health = reqwest::get(format!("http://{main}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    child.kill().await.unwrap();
}
