//! Guild bindings (a Discord server belongs to one tenant) and chat links
//! (a Discord account is one directory user per tenant, and back).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::{Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::{DiscordGuildId, DiscordUserId, Tenant, TenantId, TenantName, User};

impl Store {
    /// Binds a guild to a tenant (re-binding moves it) and audits it.
    #[tracing::instrument(skip(self, audit))]
    pub async fn bind_guild(
        &self,
        guild: DiscordGuildId,
        tenant: TenantId,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let previous = sqlx::query("SELECT tenant_id FROM guild_bindings WHERE guild_id = $1")
            .bind(guild.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get::<String, _>("tenant_id"))
            .transpose()?;
        sqlx::query(
            "INSERT INTO guild_bindings (guild_id, tenant_id, bound_at) VALUES ($1, $2, $3) \
             ON CONFLICT (guild_id) DO UPDATE SET tenant_id = excluded.tenant_id, bound_at = excluded.bound_at",
        )
        .bind(guild.to_string())
        .bind(tenant.to_string())
        .bind(time::encode(audit.at))
        .execute(&mut *tx)
        .await?;
        let entry = audit.change(
            json!({ "guild_id": guild.to_string(), "tenant_id": previous }),
            json!({ "guild_id": guild.to_string(), "tenant_id": tenant.to_string() }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant a guild is bound to; `None` for an unbound guild.
    pub async fn tenant_for_guild(
        &self,
        guild: DiscordGuildId,
    ) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query(
            "SELECT t.id, t.name FROM guild_bindings g JOIN tenants t ON t.id = g.tenant_id WHERE g.guild_id = $1",
        )
        .bind(guild.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let name: String = row.try_get("name")?;
        Ok(Some(Tenant {
            id: TenantId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
            name: TenantName::parse(&name).map_err(|e| StoreError::Corrupt(e.0))?,
        }))
    }

    /// Links a Discord account to a directory user and audits it. Refused with
    /// [`StoreError::AlreadyLinked`] when either side is linked already.
    #[tracing::instrument(skip(self, user, audit), fields(user = %user.id))]
    pub async fn link_discord(
        &self,
        user: &User,
        discord: DiscordUserId,
        audit: AuditEntry,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO chat_links (tenant_id, discord_user_id, user_id, linked_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.tenant_id.to_string())
        .bind(discord.to_string())
        .bind(user.id.to_string())
        .bind(time::encode(audit.at))
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if StoreError::is_unique_violation(&e) => return Err(StoreError::AlreadyLinked),
            other => other?,
        };
        let entry = audit.target(user.id, user.display_name()).change(
            json!({ "discord_user_id": null }),
            json!({ "discord_user_id": discord.to_string() }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(User {
            discord_user_id: Some(discord),
            ..user.clone()
        })
    }

    /// When a guild was bound (for operator output).
    pub async fn guild_bound_at(
        &self,
        guild: DiscordGuildId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT bound_at FROM guild_bindings WHERE guild_id = $1")
            .bind(guild.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            r.try_get::<String, _>("bound_at")
                .map_err(StoreError::from)
                .and_then(|t| time::decode(&t))
        })
        .transpose()
    }
}
