//! The support desk around the bot world: a Zendesk stand-in and a Discord
//! stand-in reached over real HTTP by the production clients, the outbox
//! worker, and the HTTP listener serving the Zendesk webhook.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hallpass::app::Settings;
use hallpass::audit::{Action, AuditActor, AuditEntry, AuditQuery, Origin};
use hallpass::directory::{PromotionId, User};
use hallpass::discord::DiscordRest;
use hallpass::standins::discord::{self as discord_standin, DiscordStandIn};
use hallpass::standins::zendesk::{RecordedRequest, StandInOptions, ZendeskStandIn};
use hallpass::store::{NewPromotion, PromotionRequest, Store};
use hallpass::support::ticket::{TicketFacts, encode, promotion_ticket};
use hallpass::support::{
    NewTicket, OutboxSettings, OutboxWorker, TriggerPayload, ZendeskClient, ZendeskConfig, sign,
};
use hallpass::web::{ListenerLimits, Listening, Metrics, WebState};
use secrecy::SecretString;
use tokio::task::JoinHandle;
use url::Url;

use crate::bot::Bot;
use crate::helpers::TestDb;

/// Long enough for any honest local call.
pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const WEBHOOK_SECRET: &str = "dGhpcyBpcyB0aGUgd2ViaG9vayBzZWNyZXQ=";
pub const AGENT: &str = "agent@support.example.org";

pub struct Desk {
    pub bot: Bot,
    pub zendesk: ZendeskStandIn,
    pub discord: DiscordStandIn,
    pub rest: Arc<DiscordRest>,
}

impl Desk {
    pub async fn new() -> Self {
        Self::on(TestDb::sqlite().await).await
    }

    pub async fn on(db: TestDb) -> Self {
        let mut bot = Bot::on(db).await;
        bot.app.settings = Arc::new(Settings {
            zendesk_configured: true,
            ..Settings::default()
        });
        let zendesk = ZendeskStandIn::start(StandInOptions::default())
            .await
            .unwrap();
        let discord = discord_standin::start().await.unwrap();
        let token = SecretString::from("test-bot-token");
        let rest = Arc::new(DiscordRest::new(&discord.url(), Some(&token), Some(42)).unwrap());
        Self {
            bot,
            zendesk,
            discord,
            rest,
        }
    }

    /// Quick to back off, so a test moves the clock a minute and retries.
    pub fn settings() -> OutboxSettings {
        OutboxSettings {
            give_up_after: Duration::from_secs(60 * 60),
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
            lease: Duration::from_secs(60),
            batch: 10,
            poll_interval: Duration::from_millis(50),
        }
    }

    pub fn client(&self, timeout: Duration) -> Arc<ZendeskClient> {
        Arc::new(ZendeskClient::new(self.zendesk.client_config(timeout)).unwrap())
    }

    /// A worker of this instance, on the production client.
    pub fn worker(&self) -> OutboxWorker {
        self.worker_with(self.client(TIMEOUT), Self::settings())
    }

    pub fn worker_with(
        &self,
        client: Arc<ZendeskClient>,
        settings: OutboxSettings,
    ) -> OutboxWorker {
        OutboxWorker::new(self.bot.app.clone(), client, self.rest.clone(), settings)
    }

    /// Moves the worker's (and everyone's) clock.
    pub fn advance(&self, seconds: i64) {
        self.bot.clock.advance(chrono::Duration::seconds(seconds));
    }

    pub fn store(&self) -> &Store {
        &self.bot.db.store
    }

    /// Queues a request straight in the store (the command's own tests go
    /// through `/promote-request`), with the ticket `adjust` may alter.
    pub async fn queue_with(
        &self,
        teacher: &User,
        requester: &User,
        adjust: impl FnOnce(&mut NewTicket) + Send,
    ) -> PromotionRequest {
        let id = PromotionId::new();
        let world = &self.bot.world;
        let new = NewPromotion {
            id,
            tenant_id: world.tenant.id,
            teacher_id: teacher.id,
            school_id: teacher.place.school().unwrap(),
            requester_id: requester.id,
            reason: "Runs the timetable and mentors new staff.".into(),
        };
        let school = self
            .store()
            .school(world.tenant.id, teacher.place.school().unwrap())
            .await
            .unwrap()
            .unwrap();
        let district = self
            .store()
            .district(world.tenant.id, teacher.place.district())
            .await
            .unwrap()
            .unwrap();
        let render = |number| {
            let mut ticket = promotion_ticket(&TicketFacts {
                request: id,
                number,
                tenant: &world.tenant.name,
                teacher,
                school: &school.name,
                district: &district.name,
                requester,
                reason: "Runs the timetable and mentors new staff.",
            });
            adjust(&mut ticket);
            encode(&ticket)
        };
        let audit = AuditEntry::new(
            Some(world.tenant.id),
            self.bot.app.now(),
            AuditActor::system("test"),
            Action::PromotionRequest,
            Origin::api("test"),
        )
        .target(teacher.id, teacher.display_name());
        self.store()
            .create_promotion(&new, audit, render)
            .await
            .unwrap()
    }

    pub async fn queue(&self, teacher: &User, requester: &User) -> PromotionRequest {
        self.queue_with(teacher, requester, |_| {}).await
    }

    pub async fn reload(&self, request: &PromotionRequest) -> PromotionRequest {
        self.store().promotion(request.id).await.unwrap().unwrap()
    }

    pub fn posts(&self) -> Vec<RecordedRequest> {
        self.zendesk.requests_to("POST", "/api/v2/tickets")
    }

    /// Lookups by external id.
    pub fn lookups(&self) -> Vec<RecordedRequest> {
        self.zendesk
            .requests_to("GET", "/api/v2/tickets")
            .into_iter()
            .filter(|r| {
                r.query
                    .as_deref()
                    .is_some_and(|q| q.contains("external_id="))
            })
            .collect()
    }

    /// The DMs the Discord stand-in delivered to one chat account.
    pub fn dms_to(&self, user: &User) -> Vec<String> {
        let id = user.discord_user_id.unwrap().get();
        self.discord
            .dms()
            .into_iter()
            .filter(|(to, _)| *to == id)
            .map(|(_, text)| text)
            .collect()
    }

    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        self.store()
            .audit_events(&AuditQuery::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("promotion."))
            .map(|e| (e.action, e.outcome, e.actor))
            .collect()
    }

    /// The HTTP listener with the webhook secret set (or not).
    pub async fn listener(&self, secret: Option<&str>) -> Listener {
        let state = WebState {
            verifier: None,
            discord: Some(self.rest.clone()),
            metrics: Arc::new(Metrics::default()),
            zendesk_webhook_secret: secret.map(|s| Arc::new(SecretString::from(s.to_owned()))),
            api_token: None,
            zendesk: Some(self.client(TIMEOUT)),
            // The answer waits for the DMs and the note, so a test reads them
            // as soon as it has the answer; the long bounds only turn a hang
            // into a failure.
            follow_up_grace: Duration::from_secs(60),
            limits: ListenerLimits {
                request_timeout: Duration::from_secs(120),
                ..ListenerLimits::default()
            },
            ..WebState::new(self.bot.app.clone())
        };
        let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
        Listener {
            url: listening.url("/webhooks/zendesk"),
            http: reqwest::Client::new(),
            _server: listening,
        }
    }
}

struct ServerTask(JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct Listener {
    pub url: String,
    http: reqwest::Client,
    _server: Listening,
}

/// What the webhook answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn outcome(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body).unwrap()["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Listener {
    /// Posts `body` with exactly these headers.
    pub async fn post(&self, body: &str, headers: &[(&str, String)]) -> Answer {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            body: response.text().await.unwrap(),
        }
    }

    /// Posts `payload` as Zendesk would: signed with `secret` at `at`.
    pub async fn deliver(
        &self,
        payload: &TriggerPayload,
        secret: &str,
        at: DateTime<Utc>,
        invocation: &str,
    ) -> Answer {
        let body = serde_json::to_string(payload).unwrap();
        self.post(&body, &signed_headers(&body, secret, at, invocation))
            .await
    }
}

pub fn signed_headers(
    body: &str,
    secret: &str,
    at: DateTime<Utc>,
    invocation: &str,
) -> Vec<(&'static str, String)> {
    let timestamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = sign(
        &SecretString::from(secret.to_owned()),
        &timestamp,
        body.as_bytes(),
    );
    vec![
        ("X-Zendesk-Webhook-Signature", signature),
        ("X-Zendesk-Webhook-Signature-Timestamp", timestamp),
        ("X-Zendesk-Webhook-Invocation-Id", invocation.to_owned()),
    ]
}

/// A port that refuses connections until opened, then forwards each one to
/// the stand-in: "connection refused" from the production client, then success.
pub struct Gate {
    address: SocketAddr,
    /// Bound to `address` but not listening: the port stays ours and every
    /// connection is refused until `open` starts listening on it.
    socket: Option<tokio::net::TcpSocket>,
    target: SocketAddr,
    forwarder: Option<ServerTask>,
}

/// A socket bound to a free loopback port and not listening: connections to
/// it are refused, and no one else can take the port while it is held.
pub fn refusing_socket() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap();
    (socket, address)
}

impl Gate {
    pub async fn closed_in_front_of(zendesk: &ZendeskStandIn) -> Self {
        let (socket, address) = refusing_socket();
        let target: SocketAddr = format!(
            "{}:{}",
            zendesk.url().host_str().unwrap(),
            zendesk.url().port().unwrap()
        )
        .parse()
        .unwrap();
        Self {
            address,
            socket: Some(socket),
            target,
            forwarder: None,
        }
    }

    pub fn config(&self, zendesk: &ZendeskStandIn) -> ZendeskConfig {
        ZendeskConfig {
            base_url: Url::parse(&format!("http://{}", self.address)).unwrap(),
            auth: zendesk.oauth_auth(),
            timeout: TIMEOUT,
        }
    }

    pub async fn open(&mut self) {
        let socket = self.socket.take().expect("a gate opens once");
        let listener = socket.listen(1024).unwrap();
        let target = self.target;
        self.forwarder = Some(ServerTask(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        })));
    }
}

/// Waits until `done` holds of the Zendesk stand-in, woken by each request it
/// receives or answers; the 30 s bound only turns a hang into a failure.
pub async fn eventually(zendesk: &ZendeskStandIn, mut done: impl FnMut(&ZendeskStandIn) -> bool) {
    let held = zendesk
        .wait_for(Duration::from_secs(30), |z| done(z).then_some(()))
        .await;
    assert!(held.is_some(), "the condition never held");
}
