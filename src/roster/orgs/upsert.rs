//! Creating and renaming orgs for `import_orgs`, or in a dry run only
//! deciding what would be created or renamed (with ids that are never written).

use std::collections::HashMap;

use super::{OrgMap, OrgRef, OrgRow};
use crate::directory::{DistrictId, SchoolId, TenantId};
use crate::roster::ImportError;
use crate::roster::report::{ImplicitDistrict, ImportReport};
use crate::store::{OrgTable, Store};

pub(super) enum Upsert {
    Created(OrgRef),
    Renamed,
    Unchanged,
    Refused(String),
}

/// Creates and renames orgs, or in a dry run only decides what it would.
pub(super) struct Upserter<'s> {
    pub store: &'s Store,
    pub tenant: TenantId,
    pub dry_run: bool,
    pub names: HashMap<String, (OrgRef, String)>,
}

impl Upserter<'_> {
    pub async fn district(&self, row: &OrgRow) -> Result<Upsert, ImportError> {
        match self.names.get(&row.source_id) {
            None if self.dry_run => Ok(Upsert::Created(OrgRef::District(DistrictId::new()))),
            None => {
                let district = self
                    .store
                    .create_district(self.tenant, &row.name, Some(&row.source_id))
                    .await?;
                Ok(Upsert::Created(OrgRef::District(district.id)))
            }
            Some((OrgRef::School { .. }, _)) => Ok(Upsert::Refused(format!(
                "sourcedId {} is a school in this tenant; it cannot become a district.",
                row.source_id
            ))),
            Some((OrgRef::District(id), name)) => {
                self.rename(OrgTable::Districts, &id.to_string(), name, &row.name)
                    .await
            }
        }
    }

    /// The implicit district for the schools under `root`, made the first time.
    pub async fn implicit_district(
        &mut self,
        root: &OrgRow,
        orgs: &mut OrgMap,
        report: &mut ImportReport,
    ) -> Result<DistrictId, ImportError> {
        let key = format!("implicit:{}", root.source_id);
        if let Some(OrgRef::District(district)) = orgs.get(&key) {
            return Ok(*district);
        }
        let district = if self.dry_run {
            DistrictId::new()
        } else {
            self.store
                .create_implicit_district(self.tenant, &root.name, &key)
                .await?
                .id
        };
        orgs.insert(key.clone(), OrgRef::District(district));
        self.names
            .insert(key, (OrgRef::District(district), root.name.clone()));
        report.orgs_created += 1;
        report.implicit_districts.push(ImplicitDistrict {
            name: root.name.clone(),
            school_source_id: root.source_id.clone(),
        });
        Ok(district)
    }

    pub async fn school(&self, row: &OrgRow, district: DistrictId) -> Result<Upsert, ImportError> {
        match self.names.get(&row.source_id) {
            None if self.dry_run => Ok(Upsert::Created(OrgRef::School {
                school: SchoolId::new(),
                district,
            })),
            None => {
                let school = self
                    .store
                    .create_school(self.tenant, district, &row.name, Some(&row.source_id))
                    .await?;
                Ok(Upsert::Created(OrgRef::School {
                    school: school.id,
                    district,
                }))
            }
            Some((OrgRef::District(_), _)) => Ok(Upsert::Refused(format!(
                "sourcedId {} is a district in this tenant; it cannot become a school.",
                row.source_id
            ))),
            Some((
                OrgRef::School {
                    district: current, ..
                },
                _,
            )) if *current != district => Ok(Upsert::Refused(format!(
                "this school belongs to another district in hallpass; an import does not move schools between \
                     districts (parentSourcedId {}). Its users stay where they are.",
                row.parent
            ))),
            Some((OrgRef::School { school, .. }, name)) => {
                self.rename(OrgTable::Schools, &school.to_string(), name, &row.name)
                    .await
            }
        }
    }

    async fn rename(
        &self,
        table: OrgTable,
        id: &str,
        current: &str,
        wanted: &str,
    ) -> Result<Upsert, ImportError> {
        if current == wanted {
            return Ok(Upsert::Unchanged);
        }
        if !self.dry_run {
            self.store.rename_org(table, id, wanted).await?;
        }
        Ok(Upsert::Renamed)
    }
}
