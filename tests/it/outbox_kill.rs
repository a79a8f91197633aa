//! `hallpass serve` (the binary) killed with SIGKILL while its outbox worker
//! is opening tickets, then started again on the same SQLite file: every
//! promotion request ends with exactly one Zendesk ticket. The Zendesk
//! stand-in creates each ticket and then holds its answer a moment, so the
//! kill lands between a ticket's creation and the worker learning of it.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use hallpass::directory::Role;
use hallpass::standins::zendesk::CreationFault;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use url::Url;

use crate::desk::{Desk, eventually};
use crate::helpers::World;

/// A generous bound on any one awaited event, so a broken build fails
/// instead of hanging; the events themselves are awaited, not timed.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// `hallpass serve` on the desk's database, with its log lines as they come.
pub struct Serve {
    pub child: Child,
    pub lines: watch::Receiver<Vec<String>>,
    pub base: Url,
}

impl Serve {
    /// Starts `serve` with Zendesk set to the desk's stand-in, and `env` on top.
    pub async fn start(desk: &Desk, env: &[(&str, String)]) -> Self {
        let options = hallpass::standins::zendesk::StandInOptions::default();
        let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass"));
        command
            .arg("serve")
            .env("DATABASE_URL", &desk.bot.db.url)
            .env("HALLPASS_LISTEN", "127.0.0.1:0")
            .env("ZENDESK_URL", desk.zendesk.url().as_str())
            .env("ZENDESK_OAUTH_CLIENT_ID", options.oauth_client_id)
            .env("ZENDESK_OAUTH_CLIENT_SECRET", options.oauth_client_secret)
            .env("RUST_LOG", "info,sqlx=warn,serenity=warn")
            .env_remove("DISCORD_TOKEN")
            .env_remove("DISCORD_APPLICATION_ID")
            .env_remove("DISCORD_PUBLIC_KEY")
            .env_remove("SMTP_URL")
            .env_remove("ZENDESK_EMAIL")
            .env_remove("ZENDESK_API_TOKEN");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = watch::channel(Vec::<String>::new());
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sender.send_modify(|all| all.push(line));
            }
        });
        let mut serve = Self {
            child,
            lines,
            base: Url::parse("http://127.0.0.1/").unwrap(),
        };
        let listening = serve.logged("listening").await;
        let address = listening
            .split_whitespace()
            .find_map(|word| word.strip_prefix("address="))
            .unwrap_or_else(|| panic!("no address in {listening:?}"))
            .to_owned();
        serve.base = Url::parse(&format!("http://{address}/")).unwrap();
        serve
    }

    /// Waits for a log line containing `text`, and returns it.
    pub async fn logged(&mut self, text: &str) -> String {
        let mut lines = self.lines.clone();
        let found = tokio::time::timeout(
            PATIENCE,
            lines.wait_for(|all| all.iter().any(|line| line.contains(text))),
        )
        .await;
        let Ok(Ok(all)) = found else {
            panic!("no log line with {text:?} in {:#?}", self.lines.borrow())
        };
        all.iter()
            .find(|line| line.contains(text))
            .cloned()
            .unwrap()
    }
}

/// Queues `n` promotion requests, each for a teacher of its own.
pub async fn queue_requests(desk: &Desk, n: usize, prefix: &str) -> Vec<String> {
    let bot = &desk.bot;
    let mut ids = Vec::new();
    for i in 0..n {
        let teacher = bot
            .world
            .user(
                desk.store(),
                &format!("{prefix}{i}.teacher"),
                Role::Teacher,
                World::at(&bot.world.a1),
            )
            .await;
        ids.push(desk.queue(&teacher, &teacher).await.id.to_string());
    }
    ids
}

#[tokio::test]
async fn serve_killed_mid_delivery_and_started_again_opens_exactly_one_ticket_per_request() {
    const REQUESTS: usize = 16;
    let desk = Desk::new().await;
    let ids = queue_requests(&desk, REQUESTS, "kill").await;
    // Each ticket is created, then its answer held 300 ms.
    desk.zendesk.inject(
        CreationFault::CreateThenStall(Duration::from_millis(300)),
        REQUESTS,
    );
    let mut first = Serve::start(&desk, &[]).await;
    // The Zendesk stand-in has no change signal: `eventually` polls it.
    eventually(&desk.zendesk, |z| z.tickets().len() >= 4).await;
    first.child.start_kill().unwrap();
    let status = first.child.wait().await.unwrap();
    assert!(!status.success(), "killed, not stopped: {status:?}");
    let at_kill = desk.zendesk.tickets().len();
    assert!(at_kill < REQUESTS, "the kill landed mid-drain ({at_kill})");
    assert!(
        desk.store().next_delivery_due().await.unwrap().is_some(),
        "entries were left in the outbox"
    );

    let _second = Serve::start(&desk, &[]).await;
    let drained = tokio::time::timeout(PATIENCE, async {
        // Polled: the outbox changes inside another process.
        while desk.store().next_delivery_due().await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(drained.is_ok(), "the outbox never emptied");

    let tickets = desk.zendesk.tickets();
    let external: Vec<String> = tickets
        .iter()
        .map(|t| t.external_id.clone().unwrap())
        .collect();
    let distinct: BTreeSet<&String> = external.iter().collect();
    assert_eq!(
        tickets.len(),
        REQUESTS,
        "one ticket per request: {external:?}"
    );
    assert_eq!(distinct.len(), REQUESTS, "each external id once");
    assert_eq!(
        distinct.into_iter().cloned().collect::<BTreeSet<_>>(),
        ids.into_iter().collect::<BTreeSet<_>>()
    );
    assert!(
        !desk.lookups().is_empty(),
        "the entry cut off mid-call was looked up before it was created again"
    );
}
