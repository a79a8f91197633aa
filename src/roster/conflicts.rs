//! Who made the local side of a conflict, from the audit log. Promise: a
//! conflict names the newest applied change to that field of that user made
//! by anyone but a roster import, with its time; places are shown by name.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::ImportError;
use super::report::Conflict;
use super::sync::FieldValue;
use super::users::PendingConflict;
use crate::audit::{AuditEvent, AuditQuery};
use crate::directory::{TenantId, UserId};
use crate::store::Store;

/// Turns the planner's conflicts into the report's, asking the audit log once
/// per user. `import_actor` is the roster import's own actor label.
#[tracing::instrument(skip(store, pending), fields(conflicts = pending.len()))]
pub(crate) async fn attribute(
    store: &Store,
    tenant: TenantId,
    import_actor: &str,
    pending: Vec<PendingConflict>,
) -> Result<Vec<Conflict>, ImportError> {
    let mut events: HashMap<UserId, Vec<AuditEvent>> = HashMap::new();
    let mut out = Vec::with_capacity(pending.len());
    for p in pending {
        if let Entry::Vacant(slot) = events.entry(p.user) {
            let query = AuditQuery {
                tenant_id: Some(tenant),
                target_user_id: Some(p.user),
                ..AuditQuery::default()
            };
            slot.insert(store.audit_events(&query).await?);
        }
        let keys = p.conflict.field.audit_keys();
        let local = events.get(&p.user).and_then(|list| {
            list.iter().rev().find(|e| {
                e.outcome == "applied"
                    && e.actor != import_actor
                    && e.after
                        .as_ref()
                        .is_some_and(|after| keys.iter().any(|k| after.get(*k).is_some()))
            })
        });
        out.push(Conflict {
            source_id: p.source_id,
            user_id: p.user.to_string(),
            login: p.login,
            field: p.conflict.field.as_str().to_owned(),
            hallpass: shown(store, tenant, p.conflict.hallpass).await?,
            roster: shown(store, tenant, p.conflict.roster).await?,
            changed_by: local.map(|e| e.actor.clone()),
            changed_at: local.map(|e| e.at.clone()),
        });
    }
    Ok(out)
}

async fn shown(store: &Store, tenant: TenantId, value: FieldValue) -> Result<String, ImportError> {
    Ok(match value {
        FieldValue::Text(text) => text,
        FieldValue::Place(place) => match store.place_name(tenant, place).await? {
            Some(name) => name,
            // A school a dry run would create is not in the database yet.
            None => format!(
                "a new place ({})",
                place
                    .school()
                    .map_or_else(|| place.district().to_string(), |s| s.to_string())
            ),
        },
    })
}
