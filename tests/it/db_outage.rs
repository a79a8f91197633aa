//! The database becomes unreachable mid-run: the service talks to PostgreSQL
//! through a TCP relay this test controls, and the test cuts it. Commands
//! then fail with a clear private answer and write nothing, `/healthz`
//! answers 503, and when the relay comes back the service resumes by itself,
//! without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hallpass::audit::AuditQuery;
use hallpass::store::Store;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::TestDb;
use crate::interactions::Server;
use crate::load::{server_with_limits, unlimited};

/// A TCP relay to PostgreSQL that can be cut (every open connection dropped,
/// new ones closed at once) and restored.
pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Relay {
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = watch::channel(0u64);
        let accepting = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn healthz(server: &Server) -> (u16, String) {
    let url = server.endpoint.join("/healthz").unwrap();
    let response = server.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

const TROUBLE: &str = "Something went wrong on hallpass's side and nothing was changed. Please try again in a minute.";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_database_becomes_unreachable_commands_fail_privately_and_write_nothing_healthz_answers_503_and_service_resumes_by_itself()
 {
    let mut db = TestDb::postgres().await;
    let (host_port, name) = db
        .url
        .trim_start_matches("postgres://")
        .split_once('@')
        .map(|(_, rest)| rest)
        .unwrap()
        .split_once('/')
        .unwrap();
    let relay = Relay::start(host_port.to_owned()).await;
    let relayed = format!("postgres://postgres@127.0.0.1:{}/{name}", relay.port);
    db.store = Store::connect(&relayed).await.unwrap();
    let server = server_with_limits(db, unlimited()).await;
    let bot = &server.bot;

    assert_eq!(healthz(&server).await.0, 200);
    let (before, _) = server
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.ben.id.to_string()),
                ("school", &bot.world.a2.id.to_string()),
            ],
        )
        .await;
    assert!(
        before["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Moved "),
        "{before}"
    );
    let ben_before = bot.reload(&bot.ben).await;
    let (modal, _) = server
        .command(&bot.dana, "edit-user", &[("user", &bot.ana.id.to_string())])
        .await;
    assert_eq!(modal["type"], 9, "{modal}");
    let custom_id = modal["data"]["custom_id"].as_str().unwrap().to_owned();
    let events_before = bot
        .db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
        .len();

    relay.cut();

    let (status, body) = healthz(&server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, "the database does not answer\n");

    let (moved, _) = server
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.ben.id.to_string()),
                ("school", &bot.world.a1.id.to_string()),
            ],
        )
        .await;
    assert_eq!(moved["type"], 4, "{moved}");
    assert_eq!(moved["data"]["flags"], 64, "privately: {moved}");
    assert_eq!(moved["data"]["content"], TROUBLE);
    let submit = server.discord.modal_submit(
        Server::member(&bot.dana),
        &custom_id,
        &[("first_name", "Anita"), ("last_name", "Lopez")],
    );
    let (status, edited) = server.send(&submit).await;
    assert_eq!(status, 200, "never a 500: {edited}");
    assert_eq!(edited["data"]["flags"], 64, "privately: {edited}");
    assert_eq!(edited["data"]["content"], TROUBLE);
    let (whois, _) = server
        .command(&bot.dana, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    assert_eq!(whois["data"]["flags"], 64, "{whois}");
    assert_eq!(whois["data"]["content"], TROUBLE);
    println!(
        "db outage: healthz 503 {body:?}; move, modal submit and whois answered privately {TROUBLE:?}"
    );

    relay.restore();

    // The pool reconnects on its own: health comes back without a restart.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (status, _) = healthz(&server).await;
        if status == 200 {
            break;
        }
        assert!(attempts < 1_000, "the service never resumed");
    }
    println!("db outage: healthz 200 again after {attempts} probe(s) once the relay returned");

    // Nothing the refused commands tried was written, not even in part.
    let ben_after = bot.reload(&bot.ben).await;
    assert_eq!(ben_after.place, ben_before.place);
    assert_eq!(ben_after.version, ben_before.version);
    let ana = bot.reload(&bot.ana).await;
    assert_eq!(ana.first_name.as_str(), "Ana");
    let events_after = bot
        .db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(
        events_after.len(),
        events_before,
        "no audit entry for a change that was not made: {:?}",
        &events_after[events_before..]
    );

    // And the same form, submitted again, now applies.
    let again = server.discord.modal_submit(
        Server::member(&bot.dana),
        &custom_id,
        &[("first_name", "Anita"), ("last_name", "Lopez")],
    );
    let (status, edited) = server.send(&again).await;
    assert_eq!(status, 200);
    assert!(
        edited["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Updated "),
        "{edited}"
    );
    assert_eq!(bot.reload(&bot.ana).await.first_name.as_str(), "Anita");
}
