//! Finding a class by the OneRoster sourcedId an operator or a teacher typed
//! (autocomplete gives the stable id; `hallpass cards --class` takes either).

use super::{Store, StoreError};
use crate::directory::{Class, TenantId};

impl Store {
    /// The class of `tenant` imported with `sourced_id`, if any.
    pub async fn class_by_sourced_id(
        &self,
        tenant: TenantId,
        sourced_id: &str,
    ) -> Result<Option<Class>, StoreError> {
        let row = sqlx::query("SELECT id FROM classes WHERE tenant_id = $1 AND source_id = $2")
            .bind(tenant.to_string())
            .bind(sourced_id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = sqlx::Row::try_get(&row, "id")?;
        let id = crate::directory::ClassId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?;
        self.class_by_id(tenant, id).await
    }
}
