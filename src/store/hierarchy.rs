//! Tenants, districts and schools.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, time};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{
    District, DistrictId, Place, School, SchoolId, Tenant, TenantId, TenantName,
};

fn tenant_from_row(row: &AnyRow) -> Result<Tenant, StoreError> {
    let id: String = row.try_get("id")?;
    let name: String = row.try_get("name")?;
    Ok(Tenant {
        id: TenantId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
        name: TenantName::parse(&name).map_err(|e| StoreError::Corrupt(e.0))?,
    })
}

fn district_from_row(row: &AnyRow) -> Result<District, StoreError> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    Ok(District {
        id: DistrictId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
        tenant_id: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.0))?,
        name: row.try_get("name")?,
        source_id: row.try_get("source_id")?,
    })
}

fn school_from_row(row: &AnyRow) -> Result<School, StoreError> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let district: String = row.try_get("district_id")?;
    Ok(School {
        id: SchoolId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))?,
        tenant_id: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.0))?,
        district_id: DistrictId::parse(&district).map_err(|e| StoreError::Corrupt(e.0))?,
        name: row.try_get("name")?,
        source_id: row.try_get("source_id")?,
    })
}

/// The lower-cased form names are searched by.
pub(crate) fn search_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The half-open range `[prefix, upper)` of keys that start with `prefix`.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    let low = search_key(prefix);
    let high = format!("{low}\u{10FFFF}");
    (low, high)
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn create_tenant(
        &self,
        name: &TenantName,
        now: DateTime<Utc>,
    ) -> Result<Tenant, StoreError> {
        let tenant = Tenant {
            id: TenantId::new(),
            name: name.clone(),
        };
        let mut tx = self.begin_write().await?;
        let inserted =
            sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(tenant.id.to_string())
                .bind(name.as_str().to_owned())
                .bind(time::encode(now))
                .execute(&mut *tx)
                .await;
        match inserted {
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::TenantExists(name.to_string()));
            }
            other => other?,
        };
        let entry = AuditEntry::new(
            Some(tenant.id),
            now,
            AuditActor::system("cli"),
            Action::TenantCreate,
            Origin::api("cli"),
        );
        super::audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(tenant)
    }

    pub async fn tenant_by_name(&self, name: &TenantName) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM tenants WHERE name = $1")
            .bind(name.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM tenants WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    /// The tenant of that name, created if it does not exist yet.
    pub async fn ensure_tenant(
        &self,
        name: &TenantName,
        now: DateTime<Utc>,
    ) -> Result<Tenant, StoreError> {
        if let Some(tenant) = self.tenant_by_name(name).await? {
            return Ok(tenant);
        }
        match self.create_tenant(name, now).await {
            Err(StoreError::TenantExists(_)) => {
                self.tenant_by_name(name).await?.ok_or(StoreError::NotFound)
            }
            other => other,
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_district(
        &self,
        tenant: TenantId,
        name: &str,
        source_id: Option<&str>,
    ) -> Result<District, StoreError> {
        let district = District {
            id: DistrictId::new(),
            tenant_id: tenant,
            name: name.trim().to_owned(),
            source_id: source_id.map(str::to_owned),
        };
        sqlx::query("INSERT INTO districts (id, tenant_id, name, name_key, source_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(district.id.to_string())
            .bind(tenant.to_string())
            .bind(district.name.clone())
            .bind(search_key(&district.name))
            .bind(district.source_id.clone())
            .execute(&self.pool)
            .await?;
        Ok(district)
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_school(
        &self,
        tenant: TenantId,
        district: DistrictId,
        name: &str,
        source_id: Option<&str>,
    ) -> Result<School, StoreError> {
        let school = School {
            id: SchoolId::new(),
            tenant_id: tenant,
            district_id: district,
            name: name.trim().to_owned(),
            source_id: source_id.map(str::to_owned),
        };
        // The district must be of the same tenant: checked in the statement itself.
        let result = sqlx::query(
            "INSERT INTO schools (id, tenant_id, district_id, name, name_key, source_id) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS \
             (SELECT 1 FROM districts WHERE id = $3 AND tenant_id = $2)",
        )
        .bind(school.id.to_string())
        .bind(tenant.to_string())
        .bind(district.to_string())
        .bind(school.name.clone())
        .bind(search_key(&school.name))
        .bind(school.source_id.clone())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(school)
    }

    /// Renames a district or school kept in step with a roster (import).
    pub async fn rename_org(
        &self,
        table: OrgTable,
        id: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        let sql = match table {
            OrgTable::Districts => "UPDATE districts SET name = $1, name_key = $2 WHERE id = $3",
            OrgTable::Schools => "UPDATE schools SET name = $1, name_key = $2 WHERE id = $3",
        };
        sqlx::query(sql)
            .bind(name.trim().to_owned())
            .bind(search_key(name))
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn district(
        &self,
        tenant: TenantId,
        id: DistrictId,
    ) -> Result<Option<District>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, name, source_id FROM districts WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(district_from_row).transpose()
    }

    pub async fn school(
        &self,
        tenant: TenantId,
        id: SchoolId,
    ) -> Result<Option<School>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, district_id, name, source_id FROM schools WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(school_from_row).transpose()
    }

    pub async fn districts(&self, tenant: TenantId) -> Result<Vec<District>, StoreError> {
        let rows = sqlx::query("SELECT id, tenant_id, name, source_id FROM districts WHERE tenant_id = $1 ORDER BY name_key")
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(district_from_row).collect()
    }

    pub async fn schools(&self, tenant: TenantId) -> Result<Vec<School>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, district_id, name, source_id FROM schools WHERE tenant_id = $1 ORDER BY name_key",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(school_from_row).collect()
    }

    /// The name of a place: its school's, or for a district admin the district's.
    pub async fn place_name(
        &self,
        tenant: TenantId,
        place: Place,
    ) -> Result<Option<String>, StoreError> {
        Ok(match place {
            Place::School { school, .. } => self.school(tenant, school).await?.map(|s| s.name),
            Place::District { district } => self.district(tenant, district).await?.map(|d| d.name),
        })
    }

    /// Schools of a district whose name starts with `prefix` (autocomplete).
    pub async fn search_schools(
        &self,
        tenant: TenantId,
        district: Option<DistrictId>,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<School>, StoreError> {
        let (low, high) = prefix_range(prefix);
        let rows = sqlx::query(
            "SELECT id, tenant_id, district_id, name, source_id FROM schools \
             WHERE tenant_id = $1 AND ($2 IS NULL OR district_id = $2) AND name_key >= $3 AND name_key < $4 \
             ORDER BY name_key LIMIT $5",
        )
        .bind(tenant.to_string())
        .bind(district.map(|d| d.to_string()))
        .bind(low)
        .bind(high)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(school_from_row).collect()
    }

    /// Districts of a tenant whose name starts with `prefix` (autocomplete).
    pub async fn search_districts(
        &self,
        tenant: TenantId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<District>, StoreError> {
        let (low, high) = prefix_range(prefix);
        let rows = sqlx::query(
            "SELECT id, tenant_id, name, source_id FROM districts \
             WHERE tenant_id = $1 AND name_key >= $2 AND name_key < $3 ORDER BY name_key LIMIT $4",
        )
        .bind(tenant.to_string())
        .bind(low)
        .bind(high)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(district_from_row).collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub enum OrgTable {
    Districts,
    Schools,
}
