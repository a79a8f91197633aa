//! The Zendesk client against the local stand-in, over real HTTP: what it
//! sends, how it signs in, and how each kind of failure reaches the caller.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallpass::app::ManualClock;
use hallpass::standins::zendesk::{CreationFault, StandInOptions, StoredComment, ZendeskStandIn};
use hallpass::support::zendesk::{OAUTH_SCOPE, TOKEN_REFRESH_MARGIN};
use hallpass::support::{NewTicket, ZendeskAuth, ZendeskClient, ZendeskConfig, ZendeskError};
use secrecy::SecretString;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod faults;
mod secrets;
mod tickets;
mod tokens;

/// Long enough for any honest local call.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Short, against a stand-in told to stall for [`STALL`].
const SHORT_TIMEOUT: Duration = Duration::from_millis(300);

const STALL: Duration = Duration::from_secs(1);

async fn standin_with(options: StandInOptions) -> ZendeskStandIn {
    ZendeskStandIn::start(options).await.unwrap()
}

async fn standin() -> ZendeskStandIn {
    standin_with(StandInOptions::default()).await
}

fn oauth_client(zendesk: &ZendeskStandIn) -> ZendeskClient {
    ZendeskClient::new(zendesk.client_config(TIMEOUT)).unwrap()
}

fn client_with(zendesk: &ZendeskStandIn, auth: ZendeskAuth, timeout: Duration) -> ZendeskClient {
    ZendeskClient::new(ZendeskConfig {
        base_url: zendesk.url(),
        auth,
        timeout,
    })
    .unwrap()
}

fn promotion(n: u32) -> NewTicket {
    NewTicket {
        subject: format!("Promotion request #{n}: Ana Lopez to school admin at Lincoln MS"),
        body: "Maria Chen asks that Ana Lopez become a school admin. Reason: runs the timetable."
            .into(),
        requester_name: "Maria Chen".into(),
        requester_email: "m.chen@lincoln.example.org".into(),
        external_id: format!("hallpass-promotion-{n}"),
        tags: vec!["hallpass".into(), "promotion_request".into()],
    }
}

fn bearer_of(zendesk: &ZendeskStandIn, index: usize) -> String {
    format!("Bearer {}", zendesk.token_issues()[index].access_token)
}

/// A port nothing listens on, held (bound, never listening) for as long as
/// the returned socket lives, so no one else can take it meanwhile.
fn closed_port_url() -> (tokio::net::TcpSocket, url::Url) {
    let (socket, address) = crate::desk::refusing_socket();
    (
        socket,
        url::Url::parse(&format!("http://{address}")).unwrap(),
    )
}

const CLIENT_SECRET: &str = "standin-oauth-client-secret";

const API_TOKEN: &str = "standin-legacy-api-token";

fn assert_no_secret(shown: &str, zendesk: &ZendeskStandIn) {
    assert!(!shown.contains(CLIENT_SECRET), "client secret in: {shown}");
    assert!(!shown.contains(API_TOKEN), "API token in: {shown}");
    for issue in zendesk.token_issues() {
        assert!(
            !shown.contains(&issue.access_token),
            "access token in: {shown}"
        );
    }
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Five lookups at once, from five tasks sharing the client.
async fn five_concurrent_lookups(client: ZendeskClient) {
    let client = Arc::new(client);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let client = client.clone();
        tasks.spawn(async move { client.find_by_external_id("nothing").await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap(), None);
    }
}
