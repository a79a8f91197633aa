//! Support tickets: the Zendesk API client, the webhook that brings an
//! agent's decision back, and a local Zendesk stand-in for tests and the demo.
//!
//! The promise of the module as a whole: Zendesk credentials and the webhook
//! secret stay inside `SecretString`s and never reach `Debug`, logs or error
//! messages; time is a parameter ([`Clock`] for token lifetimes, `now` for
//! webhook freshness).

pub mod clock;
pub mod standin;
pub mod webhook;
pub mod zendesk;

pub use clock::{Clock, ManualClock, SystemClock};
pub use standin::{StandInOptions, ZendeskStandIn};
pub use webhook::{
    Decision, TriggerPayload, WebhookAuthError, sign, verify_headers, verify_signature,
};
pub use zendesk::{NewTicket, TicketRef, ZendeskAuth, ZendeskClient, ZendeskConfig, ZendeskError};
