//! The gateway way in, for real: `hallpass serve` (the binary) with
//! DISCORD_TOKEN set, its REST calls and `GET /gateway` sent to the Discord
//! REST stand-in, its websocket to the gateway stand-in, both on loopback.
//! Interactions arrive as `INTERACTION_CREATE` dispatches over the socket;
//! the answers are read from the REST stand-in's record, the connection
//! state from the logs and `/healthz`.

use std::process::Stdio;
use std::time::Duration;

use hallpass::audit::Action;
use hallpass::directory::DiscordGuildId;
use hallpass::standins::discord::{self as standin, DiscordStandIn, Fault, MESSAGES};
use hallpass::standins::gateway::{self, GatewayRecord, GatewayStandIn};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use url::Url;

use crate::bot::Bot;
use crate::helpers::{cli_audit, t0};
use crate::interactions::{APPLICATION_ID, Server};

const TOKEN: &str = "test-gateway-token.secret-part";
/// A second server of the bot's tenant, carried by shard 1 of 2 (its id
/// `>> 22` is 1; the bot's own server, 4242, is on shard 0).
const SECOND_SERVER: u64 = 1 << 22;
/// A generous bound on any one awaited event, so a broken build fails
/// instead of hanging; the events themselves are awaited, not timed.
const PATIENCE: Duration = Duration::from_secs(120);

/// `hallpass serve`, its log lines as they come, and its listener's address.
struct Serve {
    child: Child,
    lines: watch::Receiver<Vec<String>>,
    base: Url,
}

impl Serve {
    async fn start(bot: &Bot, rest: &DiscordStandIn, token: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .arg("serve")
            .env("DATABASE_URL", &bot.db.url)
            .env("HALLPASS_LISTEN", "127.0.0.1:0")
            .env("DISCORD_TOKEN", token)
            .env("DISCORD_APPLICATION_ID", APPLICATION_ID.to_string())
            .env("DISCORD_API_URL", rest.url().as_str())
            .env("RUST_LOG", "info,sqlx=warn,serenity=warn")
            .env_remove("DISCORD_PUBLIC_KEY")
            .env_remove("ZENDESK_URL")
            .env_remove("SMTP_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, mut lines) = watch::channel(Vec::<String>::new());
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sender.send_modify(|all| all.push(line));
            }
        });
        let listening = tokio::time::timeout(
            PATIENCE,
            lines.wait_for(|all| all.iter().any(|l| l.contains("listening"))),
        )
        .await
        .expect("serve logs that it is listening")
        .unwrap()
        .iter()
        .find(|l| l.contains("listening"))
        .cloned()
        .unwrap();
        let address = listening
            .split_whitespace()
            .find_map(|word| word.strip_prefix("address="))
            .unwrap_or_else(|| panic!("no address in {listening:?}"))
            .to_owned();
        Self {
            child,
            lines,
            base: Url::parse(&format!("http://{address}/")).unwrap(),
        }
    }

    /// Waits for a log line containing `text`, and returns it.
    async fn logged(&mut self, text: &str) -> String {
        let mut lines = self.lines.clone();
        let found = tokio::time::timeout(
            PATIENCE,
            lines.wait_for(|all| all.iter().any(|line| line.contains(text))),
        )
        .await;
        let Ok(Ok(all)) = found else {
            panic!("no log line with {text:?} in {:#?}", self.log())
        };
        all.iter()
            .find(|line| line.contains(text))
            .cloned()
            .unwrap()
    }

    fn log(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }

    async fn healthz(&self) -> (u16, String) {
        let answer = reqwest::get(self.base.join("/healthz").unwrap())
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    /// `GET /metrics`, asked again until it holds every one of `lines` (an
    /// answer is counted just after its last request to Discord).
    async fn metrics_with(&self, lines: &[&str]) -> String {
        let asked = async {
            loop {
                let text = reqwest::get(self.base.join("/metrics").unwrap())
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if lines.iter().all(|line| text.contains(line)) {
                    return text;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(PATIENCE, asked)
            .await
            .unwrap_or_else(|_| panic!("/metrics never showed {lines:#?}"))
    }

    async fn login(&self, login: &str, password: &str) -> u16 {
        reqwest::Client::new()
            .post(self.base.join("/api/v1/login").unwrap())
            .json(&json!({ "tenant": "lincoln", "login": login, "password": password }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// The world: the bot's directory, both stand-ins (the REST one answering
/// `GET /gateway` with the gateway's URL) and `serve` started with `token`.
struct World {
    bot: Bot,
    rest: DiscordStandIn,
    gateway: GatewayStandIn,
    serve: Serve,
    discord: SimulatedDiscord,
}

impl World {
    async fn start(token: &str, heartbeat_interval_ms: u64) -> Self {
        let gateway = gateway::start_with(TOKEN, APPLICATION_ID, heartbeat_interval_ms)
            .await
            .unwrap();
        Self::on(gateway, token).await
    }

    /// As `start`, for a bot in so many guilds that Discord requires `shards`.
    async fn sharded(shards: u64) -> Self {
        let gateway = gateway::start_sharded(TOKEN, APPLICATION_ID, shards)
            .await
            .unwrap();
        Self::on(gateway, TOKEN).await
    }

    async fn on(gateway: GatewayStandIn, token: &str) -> Self {
        let bot = Bot::new().await;
        let rest = standin::start().await.unwrap();
        rest.serve_gateway(&gateway);
        let serve = Serve::start(&bot, &rest, token).await;
        Self {
            bot,
            rest,
            gateway,
            serve,
            discord: SimulatedDiscord::new([9; 32], APPLICATION_ID),
        }
    }

    async fn until(&self, what: &str, done: impl FnMut(&GatewayRecord) -> bool) -> GatewayRecord {
        tokio::time::timeout(PATIENCE, self.gateway.wait_until(done))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the gateway never saw {what}: {:#?}\nlog: {:#?}",
                    self.gateway.record(),
                    self.serve.log()
                )
            })
    }

    /// `/reset-password` for ana by tess, as an interaction payload.
    fn reset_ana(&self) -> Value {
        self.reset_ana_as(Server::member(&self.bot.tess))
    }

    /// The same, sent by tess in the tenant's second server ([`SECOND_SERVER`]).
    fn reset_ana_in_the_second_server(&self) -> Value {
        self.reset_ana_as(Member {
            guild: SECOND_SERVER,
            user: self.bot.tess.discord_user_id.unwrap().get(),
            username: "tess",
        })
    }

    fn reset_ana_as(&self, tess: Member<'_>) -> Value {
        self.discord.command(
            tess,
            "reset-password",
            &[("user", &self.bot.ana.id.to_string())],
        )
    }

    /// Binds [`SECOND_SERVER`] to the bot's tenant.
    async fn bind_the_second_server(&self) {
        self.bot
            .app
            .store
            .bind_guild(
                DiscordGuildId::new(SECOND_SERVER),
                self.bot.world.tenant.id,
                cli_audit(Action::GuildBind, t0()),
            )
            .await
            .unwrap();
    }

    /// The requests to the interaction's callback so far.
    fn callbacks(&self, payload: &Value) -> usize {
        let path = format!(
            "/api/v10/interactions/{}/{}/callback",
            payload["id"].as_str().unwrap(),
            SimulatedDiscord::token_of(payload)
        );
        self.rest
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .count()
    }

    /// Waits until the deferred answer to `payload` has been edited in, woken
    /// by each request the REST stand-in records, and returns the edit's content.
    async fn edited(&self, payload: &Value) -> String {
        let path = format!(
            "/api/v10/webhooks/{APPLICATION_ID}/{}/messages/@original",
            SimulatedDiscord::token_of(payload)
        );
        self.rest
            .wait_for(PATIENCE, |requests| {
                requests
                    .iter()
                    .find(|r| r.method == "PATCH" && r.path == path)
                    .cloned()
            })
            .await
            .map(|edit| edit.body.unwrap()["content"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| {
                panic!(
                    "never edited: {:#?}\nlog: {:#?}",
                    self.rest.requests(),
                    self.serve.log()
                )
            })
    }

    /// Asserts the whole answer to one `/reset-password`: acknowledged once
    /// through the callback (deferred, privately), the DM to the invoker with
    /// the password in one code span, the original response edited (without
    /// the password), and the password signs ana in. Returns the password.
    async fn assert_reset_answered(&self, payload: &Value, dms_before: usize) -> String {
        let edit = self.edited(payload).await;
        assert_eq!(self.callbacks(payload), 1, "acknowledged exactly once");
        let id = payload["id"].as_str().unwrap();
        let ack = self
            .rest
            .requests()
            .into_iter()
            .find(|r| r.path.starts_with(&format!("/api/v10/interactions/{id}/")))
            .unwrap()
            .body
            .unwrap();
        assert_eq!(ack["type"], 5, "deferred: {ack}");
        assert_eq!(ack["data"]["flags"], 64, "privately: {ack}");
        let dms = self.rest.dms();
        assert_eq!(dms.len(), dms_before + 1, "one DM: {dms:?}");
        let (to, text) = dms.last().unwrap().clone();
        assert_eq!(Some(to), self.bot.tess.discord_user_id.map(|d| d.get()));
        let parts: Vec<&str> = text.split('`').collect();
        assert_eq!(parts.len(), 3, "one code span in {text:?}");
        let password = parts[1].to_owned();
        assert!(edit.starts_with("Done: "), "{edit}");
        assert!(!edit.contains(&password), "the edit keeps the secret out");
        assert_eq!(
            self.serve.login("ana.lopez", &password).await,
            200,
            "the DM's password signs ana in"
        );
        password
    }

    /// No log line carries the bot token.
    fn assert_token_not_logged(&self) {
        let log = self.serve.log();
        assert!(
            log.iter().all(|line| !line.contains("secret-part")),
            "{log:#?}"
        );
    }
}

#[tokio::test]
async fn reset_password_over_the_gateway_websocket_is_acknowledged_dmed_and_edited() {
    let mut world = World::start(TOKEN, 2_000).await;
    let record = world.until("a session", |r| r.live).await;
    assert_eq!(record.connections, vec!["v=10".to_owned()], "API v10");
    assert_eq!(
        record.identifies,
        vec![gateway::Identify {
            token_accepted: true,
            intents: 1,
            shard: [0, 1],
        }],
        "one IDENTIFY with the token and GUILDS only"
    );
    world.serve.logged("connected to the Discord gateway").await;
    assert_eq!(
        world.serve.healthz().await,
        (200, "ok\ngateway: connected\n".to_owned())
    );
    let payload = world.reset_ana();
    world.gateway.dispatch_interaction(&payload).unwrap();
    world.assert_reset_answered(&payload, 0).await;
    // Counted in /metrics as the HTTP endpoint counts its interactions.
    world
        .serve
        .metrics_with(&[
            "hallpass_interactions_total{kind=\"command\",command=\"reset-password\"} 1",
            "hallpass_interaction_outcomes_total{command=\"reset-password\",outcome=\"allowed\"} 1",
            "hallpass_gateway_state{state=\"connected\"} 1",
            "hallpass_gateway_state{state=\"failed\"} 0",
        ])
        .await;
    // Heartbeats are answered: serenity sends the next one only after an ACK
    // (2 s apart, so that a loaded machine still acknowledges in time).
    let record = world.until("two heartbeats", |r| r.heartbeats >= 2).await;
    assert_eq!(record.connections.len(), 1, "no reconnect: {record:?}");
    world.assert_token_not_logged();
}

#[tokio::test]
async fn after_a_dropped_socket_the_client_resumes_and_no_interaction_is_answered_twice() {
    let mut world = World::start(TOKEN, gateway::DISCORD_HEARTBEAT_INTERVAL_MS).await;
    world.until("a session", |r| r.live).await;
    let first = world.reset_ana();
    world.gateway.dispatch_interaction(&first).unwrap();
    world.assert_reset_answered(&first, 0).await;

    world.gateway.drop_connection();
    // Dispatched while the socket is down: replayed on RESUME.
    let second = world.reset_ana();
    world.gateway.dispatch_interaction(&second).unwrap();
    let record = world
        .until("a resume", |r| r.live && !r.resumes.is_empty())
        .await;
    assert_eq!(record.resumes.len(), 1, "{record:?}");
    assert!(record.resumes[0].accepted);
    assert_eq!(record.resumes[0].session_id, record.sessions[0]);
    assert_eq!(
        record.resumes[0].seq, 2,
        "READY and the first interaction seen"
    );
    world.assert_reset_answered(&second, 1).await;
    world
        .serve
        .logged("resumed the Discord gateway session")
        .await;

    let third = world.reset_ana();
    world.gateway.dispatch_interaction(&third).unwrap();
    world.assert_reset_answered(&third, 2).await;
    assert_eq!(
        world.callbacks(&first),
        1,
        "the first is not answered again"
    );
    assert_eq!(world.callbacks(&second), 1);
    assert_eq!(world.rest.dms().len(), 3, "one DM per interaction");
    let record = world.gateway.record();
    assert_eq!(record.identifies.len(), 1, "resumed, not re-identified");
    assert_eq!(
        world.serve.healthz().await,
        (200, "ok\ngateway: connected\n".to_owned())
    );
    world
        .serve
        .metrics_with(&[
            "hallpass_gateway_sessions_total{how=\"identified\"} 1",
            "hallpass_gateway_sessions_total{how=\"resumed\"} 1",
            "hallpass_interactions_total{kind=\"command\",command=\"reset-password\"} 3",
        ])
        .await;
}

#[tokio::test]
async fn after_op_7_reconnect_the_client_resumes_and_keeps_answering() {
    let world = World::start(TOKEN, gateway::DISCORD_HEARTBEAT_INTERVAL_MS).await;
    world.until("a session", |r| r.live).await;
    world.gateway.send_reconnect();
    let record = world
        .until("a resume", |r| r.live && !r.resumes.is_empty())
        .await;
    assert!(record.resumes[0].accepted, "{record:?}");
    assert_eq!(record.identifies.len(), 1);
    let payload = world.reset_ana();
    world.gateway.dispatch_interaction(&payload).unwrap();
    world.assert_reset_answered(&payload, 0).await;
}

#[tokio::test]
async fn after_op_9_invalid_session_the_client_identifies_again_and_keeps_answering() {
    let mut world = World::start(TOKEN, gateway::DISCORD_HEARTBEAT_INTERVAL_MS).await;
    world.until("a session", |r| r.live).await;
    let first = world.reset_ana();
    world.gateway.dispatch_interaction(&first).unwrap();
    world.assert_reset_answered(&first, 0).await;

    world.gateway.invalidate_session();
    let record = world
        .until("a second session", |r| r.live && r.sessions.len() == 2)
        .await;
    assert_eq!(record.identifies.len(), 2, "{record:?}");
    assert!(record.identifies.iter().all(|i| i.token_accepted));
    assert!(record.resumes.is_empty(), "not resumable: {record:?}");
    world
        .serve
        .logged("re-identified with the Discord gateway")
        .await;

    let second = world.reset_ana();
    world.gateway.dispatch_interaction(&second).unwrap();
    world.assert_reset_answered(&second, 1).await;
    assert_eq!(world.callbacks(&first), 1);
    world
        .serve
        .metrics_with(&["hallpass_gateway_sessions_total{how=\"identified\"} 2"])
        .await;
}

#[tokio::test]
async fn a_wrong_token_closed_with_4004_stops_the_client_with_a_clear_error_and_healthz_unhealthy()
{
    let mut world = World::start(
        "a-wrong-token.secret-part",
        gateway::DISCORD_HEARTBEAT_INTERVAL_MS,
    )
    .await;
    let line = world
        .serve
        .logged("the Discord gateway client has stopped")
        .await;
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("Discord refused DISCORD_TOKEN"), "{line}");
    assert!(line.contains("4004"), "{line}");
    let (status, body) = world.serve.healthz().await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("gateway: failed: Discord refused DISCORD_TOKEN"),
        "{body}"
    );
    // The client has stopped for good: one connection, one IDENTIFY, and
    // nothing more by the time a second /healthz has been answered.
    let record = world.gateway.record();
    assert_eq!(record.closes_sent, vec![4004]);
    assert_eq!(record.identifies.len(), 1, "{record:?}");
    assert!(!record.identifies[0].token_accepted);
    assert_eq!(world.serve.healthz().await.0, 503);
    world
        .serve
        .metrics_with(&[
            "hallpass_gateway_state{state=\"failed\"} 1",
            "hallpass_gateway_state{state=\"connected\"} 0",
        ])
        .await;
    let record = world.gateway.record();
    assert_eq!(record.connections.len(), 1, "no reconnect: {record:?}");
    assert_eq!(record.identifies.len(), 1, "no reconnect: {record:?}");
    world.assert_token_not_logged();
}

/// SIGTERM while a reset that came over the gateway is delivering its
/// password: `serve` leaves the gateway at once and waits for the delivery
/// (as for one sent to the HTTP endpoint), so the DM goes out, the answer is
/// edited in and the password stands, rather than the process ending
/// mid-delivery and the next start rolling the password back.
#[tokio::test]
async fn on_sigterm_serve_leaves_the_gateway_and_delivers_the_reset_in_flight_before_it_exits() {
    let mut world = World::start(TOKEN, gateway::DISCORD_HEARTBEAT_INTERVAL_MS).await;
    world.until("a session", |r| r.live).await;
    world.serve.logged("connected to the Discord gateway").await;
    // The DM with the password is held until the test lets it go.
    world.rest.script(MESSAGES, &[Fault::Hold]);
    let payload = world.reset_ana();
    world.gateway.dispatch_interaction(&payload).unwrap();
    assert!(
        world.rest.wait_held(1, PATIENCE).await,
        "the DM reached the stand-in: {:#?}",
        world.serve.log()
    );
    let pid = world.serve.child.id().unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    world
        .serve
        .logged("stopping: finishing the interactions in flight")
        .await;
    // It leaves the gateway at once, while the delivery is still held, so
    // that what Discord sends from now on goes to the instances that stay.
    world.serve.logged("leaving the Discord gateway").await;
    let record = world.until("the session closed", |r| !r.live).await;
    assert_eq!(record.connections.len(), 1, "no reconnect: {record:?}");
    world.rest.release_held();
    let exited = tokio::time::timeout(PATIENCE, world.serve.child.wait())
        .await
        .expect("serve exits once the delivery is done")
        .unwrap();
    assert!(exited.success(), "{exited:?}");
    world
        .serve
        .logged("stopped: every delivery in flight finished")
        .await;
    let dms = world.rest.dms();
    assert_eq!(dms.len(), 1, "the DM went out: {dms:?}");
    let password = dms[0].1.split('`').nth(1).unwrap().to_owned();
    let edited = world.rest.requests().iter().any(|r| {
        r.method == "PATCH"
            && r.path
                == format!(
                    "/api/v10/webhooks/{APPLICATION_ID}/{}/messages/@original",
                    SimulatedDiscord::token_of(&payload)
                )
    });
    assert!(edited, "the deferred answer was edited in");
    let bot = &world.bot;
    let unfinished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM handoffs WHERE finished_at IS NULL")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        unfinished, 0,
        "no hand-off left for the next start to roll back"
    );
    assert!(
        bot.holds_password(&bot.ana, &password).await,
        "the delivered password is the one stored: no roll-back"
    );
}

/// A bot in more servers than one shard may carry (Discord requires a shard
/// per 2,500 and closes a lone IDENTIFY with 4011): `serve` connects every
/// shard `GET /gateway/bot` recommends, says it is connected only once all
/// are, and answers the interactions each one carries, a server's going to
/// the shard `(guild_id >> 22) % shards`.
#[tokio::test]
async fn a_bot_that_needs_two_shards_connects_both_and_answers_the_servers_of_each() {
    let mut world = World::sharded(2).await;
    world.bind_the_second_server().await;
    world.serve.logged("shard=0/2").await;
    // Serenity starts shards 5 seconds apart: while only one is up, part of
    // the servers would go unheard, and /healthz says so.
    if world.gateway.record().live_shards < 2 {
        assert_eq!(
            world.serve.healthz().await,
            (200, "ok\ngateway: connecting\n".to_owned())
        );
    }
    let record = world.until("both shards", |r| r.live).await;
    let mut shards: Vec<[u64; 2]> = record.identifies.iter().map(|i| i.shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, vec![[0, 2], [1, 2]], "{record:?}");
    assert!(record.closes_sent.is_empty(), "{record:?}");
    world.serve.logged("shard=1/2").await;
    let connected = async {
        while world.serve.healthz().await.1 != "ok\ngateway: connected\n" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, connected)
        .await
        .expect("/healthz says connected once both shards are");

    let on_shard_0 = world.reset_ana();
    let on_shard_1 = world.reset_ana_in_the_second_server();
    world.gateway.dispatch_interaction(&on_shard_0).unwrap();
    world.assert_reset_answered(&on_shard_0, 0).await;
    world.gateway.dispatch_interaction(&on_shard_1).unwrap();
    world.assert_reset_answered(&on_shard_1, 1).await;
    world
        .serve
        .metrics_with(&[
            "hallpass_gateway_sessions_total{how=\"identified\"} 2",
            "hallpass_gateway_state{state=\"connected\"} 1",
        ])
        .await;
}
