//! Who is asking, and whether the directory changed, in one statement: the
//! statement every interaction starts with (autocomplete's budget is one
//! round trip a keystroke).

use sqlx::Row;

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
    /// not linked), and a [`DirectoryCheck`]: one statement.
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
        let check = match self.backend {
            Backend::Sqlite => super::sync::LOG_HEAD.to_owned(),
            // NULL unless the guild is still bound to the tenant whose
            // snapshot is passed.
            Backend::Postgres => format!(
                "CASE WHEN g.tenant_id = $3 THEN {} END AS dir_changed",
                super::sync::changed_since("g.tenant_id", "$4")
            ),
        };
        let sql = format!(
            "SELECT t.id AS t_id, t.name AS t_name, {USER_COLUMNS}, {check} FROM guild_bindings g \
             JOIN tenants t ON t.id = g.tenant_id \
             LEFT JOIN chat_links l ON l.tenant_id = g.tenant_id AND l.discord_user_id = $2 \
             LEFT JOIN users u ON u.id = l.user_id \
             WHERE g.guild_id = $1"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(guild.to_string())
            .bind(discord.map(|d| d.to_string()));
        if self.backend == Backend::Postgres {
            let snapshot = match (&mark, expected) {
                (Some(Watermark::Snapshot(s)), Some(_)) => Some(s.clone()),
                _ => None,
            };
            query = query
                .bind(snapshot.as_ref().and(expected).map(|t| t.to_string()))
                .bind(snapshot);
        }
        let Some(row) = query.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let id: String = row.try_get("t_id")?;
        let name: String = row.try_get("t_name")?;
        let tenant = Tenant {
            id: TenantId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
            name: TenantName::parse(&name).map_err(|e| StoreError::Corrupt(e.0))?,
        };
        self.directory.remember_guild(guild, tenant.id);
        let check = match self.backend {
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
            Some(_) => Some(user_from_row(&row)?),
            None => None,
        };
        Ok(Some((tenant, user, check)))
    }
}
