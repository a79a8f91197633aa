//! Who is asking, and whether the directory changed, in one statement: the
//! statement every interaction starts with (autocomplete's budget is one
//! round trip a keystroke).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::lookups::Ask;

use super::sync::Watermark;
use crate::directory::{DiscordGuildId, DiscordUserId, Tenant, TenantId, TenantName, User};
use crate::store::rows::{USER_COLUMNS, user_from_row};
use crate::store::{Backend, Store, StoreError};

/// What the caller's statement learned about the directory, for
/// [`Store::search_people`] to use instead of asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryCheck {
    /// SQLite: the change log's newest entry and how far it was pruned.
    Logged { top: i64, pruned: i64 },
    /// PostgreSQL: whether `tenant` changed since a snapshot its index held.
    Since { tenant: TenantId, changed: bool },
    /// The statement could not tell (no index for the tenant yet).
    Unknown,
}

/// A bound guild's tenant, the linked user (if any), and the check.
pub type CallerFound = (Tenant, Option<User>, DirectoryCheck);

impl Store {
    /// The tenant guild `guild` is bound to (`None` when unbound), the
    /// directory user chat account `discord` is linked to in it (`None` when
    /// not linked), and a [`DirectoryCheck`]: one statement, shared with the
    /// interactions asking at the same moment ([`super::lookups`]).
    pub async fn caller_in_guild(
        &self,
        guild: DiscordGuildId,
        discord: Option<DiscordUserId>,
    ) -> Result<Option<CallerFound>, StoreError> {
        let expected = self.directory.tenant_of(guild);
        let mark = match expected {
            Some(tenant) => self.directory_mark(tenant).await,
            None => None,
        };
        // PostgreSQL: the snapshot is passed only with the tenant it belongs
        // to, and compared only if the guild is still bound to that tenant.
        let since = match (mark, expected) {
            (Some(Watermark::Snapshot(s)), Some(tenant)) => Some((tenant, s)),
            _ => None,
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.lookups.ask(Ask {
            guild,
            discord,
            since,
            reply,
        });
        let row = answer
            .await
            .map_err(|_| StoreError::from(sqlx::Error::PoolClosed))??;
        let Some(row) = row else {
            return Ok(None);
        };
        let found = caller_from_row(self.backend, &row)?;
        self.directory.remember_guild(guild, found.0.id);
        Ok(Some(found))
    }
}

/// The one parameter of [`batch_statement`]: the asks as a JSON array.
pub(super) fn batch_parameter(asks: &[Ask]) -> String {
    let json: Vec<serde_json::Value> = asks
        .iter()
        .enumerate()
        .map(|(k, a)| {
            serde_json::json!({
                "k": k,
                "g": a.guild.to_string(),
                "d": a.discord.map(|d| d.to_string()),
                "t": a.since.as_ref().map(|(t, _)| t.to_string()),
                "s": a.since.as_ref().map(|(_, s)| s.as_str()),
            })
        })
        .collect();
    serde_json::Value::Array(json).to_string()
}

/// The statement answering a batch of asks (the callers' statement of each,
/// as one), given them as [`batch_parameter`]. Each row carries `ask`, the
/// index of the ask it answers; an ask whose guild is not bound has none.
/// The same text for every batch, so the connection prepares it once.
pub(super) fn batch_statement(backend: Backend) -> String {
    let (asks_from, check) = match backend {
        Backend::Sqlite => (
            "(SELECT value ->> 'k' AS k, value ->> 'g' AS g, value ->> 'd' AS d FROM json_each($1)) a"
                .to_owned(),
            super::sync::LOG_HEAD.to_owned(),
        ),
        // NULL unless the guild is still bound to the tenant whose snapshot
        // is passed.
        // Each (tenant, snapshot) of the batch is checked once, however
        // many of its asks carry it.
        Backend::Postgres => (
            format!(
                "json_to_recordset($1::json) AS a(k int8, g text, d text, t text, s text) \
                 LEFT JOIN (SELECT seen.t, seen.s, {} AS changed FROM \
                   (SELECT DISTINCT t, s FROM json_to_recordset($1::json) AS x(t text, s text) \
                    WHERE s IS NOT NULL) seen) ch ON ch.t = a.t AND ch.s = a.s",
                super::sync::changed_since("seen.t", "seen.s")
            ),
            "CASE WHEN g.tenant_id = a.t THEN ch.changed END AS dir_changed".to_owned(),
        ),
    };
    format!(
        "SELECT a.k AS ask, t.id AS t_id, t.name AS t_name, {USER_COLUMNS}, {check} FROM {asks_from} \
         JOIN guild_bindings g ON g.guild_id = a.g \
         JOIN tenants t ON t.id = g.tenant_id \
         LEFT JOIN chat_links l ON l.tenant_id = g.tenant_id AND l.discord_user_id = a.d \
         LEFT JOIN users u ON u.id = l.user_id"
    )
}

/// The tenant, linked user and check one row of the statement holds.
fn caller_from_row(backend: Backend, row: &AnyRow) -> Result<CallerFound, StoreError> {
    let id: String = row.try_get("t_id")?;
    let name: String = row.try_get("t_name")?;
    let tenant = Tenant {
        id: TenantId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
        name: TenantName::parse(&name).map_err(|e| StoreError::Corrupt(e.0))?,
    };
    let check = match backend {
        Backend::Sqlite => DirectoryCheck::Logged {
            top: row.try_get("dir_top")?,
            pruned: row.try_get("dir_pruned")?,
        },
        Backend::Postgres => match row.try_get::<Option<bool>, _>("dir_changed")? {
            Some(changed) => DirectoryCheck::Since {
                tenant: tenant.id,
                changed,
            },
            None => DirectoryCheck::Unknown,
        },
    };
    let linked: Option<String> = row.try_get("id")?;
    let user = match linked {
        Some(_) => Some(user_from_row(row)?),
        None => None,
    };
    Ok((tenant, user, check))
}
