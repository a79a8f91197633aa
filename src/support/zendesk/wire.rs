//! The JSON shapes of Zendesk's Tickets API that the client sends and reads.
//! Borrowed, so building one copies nothing.

use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub(super) struct TicketEnvelope<T> {
    pub(super) ticket: T,
}

#[derive(Serialize)]
pub(super) struct CreateTicket<'a> {
    pub(super) subject: &'a str,
    pub(super) comment: Comment<'a>,
    pub(super) requester: Requester<'a>,
    pub(super) external_id: &'a str,
    pub(super) tags: &'a [String],
}

#[derive(Serialize)]
pub(super) struct UpdateTicket<'a> {
    pub(super) comment: Comment<'a>,
}

#[derive(Serialize)]
pub(super) struct Comment<'a> {
    pub(super) body: &'a str,
    pub(super) public: bool,
}

#[derive(Serialize)]
pub(super) struct Requester<'a> {
    pub(super) name: &'a str,
    pub(super) email: &'a str,
}

#[derive(Deserialize)]
pub(super) struct TicketAnswer {
    pub(super) ticket: TicketId,
}

#[derive(Deserialize)]
pub(super) struct TicketsAnswer {
    pub(super) tickets: Vec<TicketId>,
}

#[derive(Deserialize)]
pub(super) struct TicketId {
    pub(super) id: u64,
}
