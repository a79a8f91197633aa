//! Local stand-ins for the outside services, speaking their documented wire
//! protocols, for the tests, the demo and the bench: Discord's REST API
//! ([`discord`]) and gateway ([`gateway`]), a simulated Discord client that
//! signs interactions as Discord does ([`simulate`]), Zendesk ([`zendesk`]),
//! an SMTP server ([`smtp`]), and a measured drain of the outbox against the
//! Zendesk stand-in ([`drain`]). Production code never depends on this module.

pub mod discord;
pub mod drain;
pub mod gateway;
pub mod simulate;
pub mod smtp;
pub mod zendesk;

pub use drain::{DrainReport, drain_benchmark};
pub use zendesk::{StandInOptions, ZendeskStandIn};
