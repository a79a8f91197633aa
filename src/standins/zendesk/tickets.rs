//! The stand-in's tickets: create (with Zendesk's idempotency keys and the
//! injected faults), list by external id, show and update.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Access, refusal};
use super::routes::{error, invalid, not_found, rate_limited, server_error};
use super::state::{
    CreationFault, IdempotentCreation, Shared, State as Inner, StoredComment, StoredTicket,
};
use crate::support::zendesk::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_LOOKUP_HEADER};

type SharedState = State<Arc<Shared>>;

fn ticket_json(shared: &Shared, ticket: &StoredTicket) -> Value {
    json!({
        "id": ticket.id,
        "url": format!("{}api/v2/tickets/{}.json", shared.base_url, ticket.id),
        "external_id": ticket.external_id,
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": ticket.comments.first().map(|c| c.body.as_str()),
        "status": ticket.status,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.requester_id,
        "tags": ticket.tags,
    })
}

/// The fields of a ticket creation, checked as Zendesk would.
struct TicketFields {
    subject: Option<String>,
    comment: StoredComment,
    requester_name: Option<String>,
    requester_email: String,
    external_id: Option<String>,
    tags: Vec<String>,
}

fn optional_string(object: &Value, field: &str) -> Result<Option<String>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

fn comment_of(ticket: &Value) -> Result<Option<StoredComment>, String> {
    let Some(comment) = ticket.get("comment") else {
        return Ok(None);
    };
    let body = optional_string(comment, "body")?.unwrap_or_default();
    if body.trim().is_empty() {
        return Err("Description: cannot be blank".into());
    }
    let public = match comment.get("public") {
        None => true,
        Some(Value::Bool(public)) => *public,
        Some(_) => return Err("comment.public must be true or false".into()),
    };
    Ok(Some(StoredComment { body, public }))
}

fn tags_of(ticket: &Value) -> Result<Option<Vec<String>>, String> {
    match ticket.get("tags") {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "tags must be strings".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("tags must be an array of strings".into()),
    }
}

fn ticket_fields(request: &Value, default_email: &str) -> Result<TicketFields, String> {
    let ticket = request
        .get("ticket")
        .filter(|t| t.is_object())
        .ok_or("the body must be {\"ticket\": {...}}")?;
    let comment = comment_of(ticket)?.ok_or("Description: cannot be blank")?;
    let (requester_name, requester_email) = match ticket.get("requester") {
        None => (None, default_email.to_owned()),
        Some(requester) => {
            let email = optional_string(requester, "email")?
                .filter(|e| e.contains('@'))
                .ok_or("Requester: email is not valid")?;
            (optional_string(requester, "name")?, email)
        }
    };
    Ok(TicketFields {
        subject: optional_string(ticket, "subject")?,
        comment,
        requester_name,
        requester_email,
        external_id: optional_string(ticket, "external_id")?,
        tags: tags_of(ticket)?.unwrap_or_default(),
    })
}

enum Created {
    New(StoredTicket),
    Replayed(StoredTicket),
    KeyMismatch,
}

pub(super) async fn create_ticket(
    State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Write) {
        return refused;
    }
    let stall_after_creating = match injected_fault(&shared).await {
        Ok(stall) => stall,
        Err(refused) => return refused,
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidJSON",
            "The body is not JSON",
        );
    };
    let fields = match ticket_fields(&request, &shared.options.api_email) {
        Ok(fields) => fields,
        Err(description) => return invalid(&description),
    };
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let window = shared.options.idempotency_window;
    let created = shared.with(|s| {
        if let Some(earlier) = key
            .as_ref()
            .and_then(|k| s.idempotency.get(k))
            .filter(|e| e.at.elapsed() < window)
        {
            if earlier.request != request {
                return Created::KeyMismatch;
            }
            if let Some(ticket) = s.tickets.get(&earlier.ticket_id) {
                return Created::Replayed(ticket.clone());
            }
        }
        let ticket = store(s, fields);
        if let Some(key) = key.clone() {
            let entry = IdempotentCreation {
                request,
                ticket_id: ticket.id,
                at: Instant::now(),
            };
            s.idempotency.insert(key, entry);
        }
        Created::New(ticket)
    });
    if let Some(delay) = stall_after_creating {
        shared.changed();
        tokio::time::sleep(delay).await;
    }
    let (ticket, lookup) = match created {
        Created::New(ticket) => (ticket, "miss"),
        Created::Replayed(ticket) => (ticket, "hit"),
        Created::KeyMismatch => {
            return error(
                StatusCode::BAD_REQUEST,
                "IdempotentRequestError",
                "Request parameters don't match the given idempotency key",
            );
        }
    };
    let body = Json(json!({"ticket": ticket_json(&shared, &ticket)}));
    match key {
        Some(_) => (
            StatusCode::CREATED,
            [(IDEMPOTENCY_LOOKUP_HEADER, lookup)],
            body,
        )
            .into_response(),
        None => (StatusCode::CREATED, body).into_response(),
    }
}

/// The next injected creation fault: `Err(answer)` refuses the request,
/// `Ok(Some(delay))` creates the ticket and then stalls before answering.
async fn injected_fault(shared: &Shared) -> Result<Option<std::time::Duration>, Response> {
    match shared.with(|s| s.creation_faults.pop_front()) {
        Some(CreationFault::RateLimited {
            retry_after_seconds,
        }) => Err(rate_limited(retry_after_seconds)),
        Some(CreationFault::ServerError) => Err(server_error()),
        Some(CreationFault::StallWithoutCreating(delay)) => {
            tokio::time::sleep(delay).await;
            Err(server_error())
        }
        Some(CreationFault::CreateThenStall(delay)) => Ok(Some(delay)),
        None => Ok(None),
    }
}

fn store(state: &mut Inner, fields: TicketFields) -> StoredTicket {
    let ticket = StoredTicket {
        id: state.next_ticket_id(),
        subject: fields.subject,
        requester_id: state.user_id(&fields.requester_email),
        requester_name: fields.requester_name,
        requester_email: fields.requester_email,
        external_id: fields.external_id,
        tags: fields.tags,
        status: "new".into(),
        comments: vec![fields.comment],
    };
    state.tickets.insert(ticket.id, ticket.clone());
    ticket
}

pub(super) async fn list_tickets(
    State(shared): SharedState,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Read) {
        return refused;
    }
    let wanted = query.get("external_id");
    let tickets: Vec<Value> = shared.with(|s| {
        s.tickets
            .values()
            .filter(|t| wanted.is_none() || t.external_id.as_ref() == wanted)
            .map(|t| ticket_json(&shared, t))
            .collect()
    });
    let count = tickets.len();
    Json(json!({
        "tickets": tickets,
        "next_page": null,
        "previous_page": null,
        "count": count,
    }))
    .into_response()
}

fn ticket_id(segment: &str) -> Option<u64> {
    segment
        .strip_suffix(".json")
        .unwrap_or(segment)
        .parse()
        .ok()
}

pub(super) async fn show_ticket(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(segment): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Read) {
        return refused;
    }
    let ticket = ticket_id(&segment).and_then(|id| shared.with(|s| s.tickets.get(&id).cloned()));
    match ticket {
        Some(ticket) => Json(json!({"ticket": ticket_json(&shared, &ticket)})).into_response(),
        None => not_found(),
    }
}

pub(super) async fn update_ticket(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Write) {
        return refused;
    }
    let Some(id) = ticket_id(&segment) else {
        return not_found();
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidJSON",
            "The body is not JSON",
        );
    };
    let Some(changes) = request.get("ticket").filter(|t| t.is_object()) else {
        return invalid("the body must be {\"ticket\": {...}}");
    };
    let parsed = comment_of(changes).and_then(|comment| {
        Ok((
            comment,
            optional_string(changes, "status")?,
            tags_of(changes)?,
        ))
    });
    let (comment, status, tags) = match parsed {
        Ok(parsed) => parsed,
        Err(description) => return invalid(&description),
    };
    let updated = shared.with(|s| {
        let ticket = s.tickets.get_mut(&id)?;
        ticket.comments.extend(comment.clone());
        if let Some(status) = status {
            ticket.status = status;
        }
        if let Some(tags) = tags {
            ticket.tags = tags;
        }
        Some(ticket.clone())
    });
    let Some(ticket) = updated else {
        return not_found();
    };
    let events: Vec<Value> = comment
        .iter()
        .map(|c| json!({"type": "Comment", "body": c.body, "public": c.public}))
        .collect();
    Json(json!({
        "ticket": ticket_json(&shared, &ticket),
        "audit": {"ticket_id": ticket.id, "events": events},
    }))
    .into_response()
}
