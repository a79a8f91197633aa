//! orgs.csv: districts and schools, keyed by `sourcedId` within the tenant.
//!
//! Promises: districts are imported before schools, whatever order the file
//! lists them in; a school's parent must be a district of the bundle or one
//! already in the tenant; a known org whose name changed is renamed, and one
//! that did not change is not written; only `district` and `school` orgs are
//! imported, and every other row is refused with its reason. Orgs are never
//! deleted (`status=tobedeleted` is refused: disable the users instead) and a
//! school never changes district through an import, because its users' places
//! would silently change with it.

use std::collections::HashMap;

use super::ImportError;
use super::report::{ImportReport, RefusedRow};
use super::table::{Record, Table};
use crate::directory::{DistrictId, Place, SchoolId, TenantId};
use crate::store::{OrgTable, Store};

/// What a `sourcedId` names in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgRef {
    District(DistrictId),
    School {
        school: SchoolId,
        district: DistrictId,
    },
}

impl OrgRef {
    pub fn place(self) -> Place {
        match self {
            Self::District(district) => Place::District { district },
            Self::School { school, district } => Place::School { school, district },
        }
    }
}

/// Every org of the tenant by `sourcedId`: those of the bundle and those imported before.
pub(crate) type OrgMap = HashMap<String, OrgRef>;

const MAX_NAME: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    District,
    School,
}

struct OrgRow {
    line: u64,
    source_id: String,
    kind: Kind,
    name: String,
    parent: String,
}

/// The columns of orgs.csv this import reads.
pub(crate) struct OrgColumns {
    source_id: usize,
    kind: usize,
    name: usize,
    status: Option<usize>,
    parent: Option<usize>,
}

impl OrgColumns {
    pub fn find(table: &Table) -> Result<Self, ImportError> {
        Ok(Self {
            source_id: table.required("sourcedId")?,
            kind: table.required("type")?,
            name: table.required("name")?,
            status: table.column("status"),
            parent: table.column("parentSourcedId"),
        })
    }
}

fn org_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("name is empty.".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("name is longer than {MAX_NAME} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("name contains a line break or another control character.".into());
    }
    Ok(name.to_owned())
}

fn parse_row(record: &Record, cols: &OrgColumns) -> Result<OrgRow, String> {
    let source_id = record.text(Some(cols.source_id), "sourcedId")?.to_owned();
    if source_id.is_empty() {
        return Err("sourcedId is empty.".into());
    }
    match record
        .text(cols.status, "status")?
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "active" => {}
        "tobedeleted" => {
            return Err(
                "status is tobedeleted, but hallpass does not delete districts or schools: \
                        the org is left as it is (disable its users instead)."
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "status \"{other}\" is not one of active or tobedeleted."
            ));
        }
    }
    let kind = match record
        .text(Some(cols.kind), "type")?
        .to_ascii_lowercase()
        .as_str()
    {
        "district" => Kind::District,
        "school" => Kind::School,
        other => {
            return Err(format!(
                "type \"{other}\" is not imported: hallpass has districts and schools only."
            ));
        }
    };
    let name = org_name(record.text(Some(cols.name), "name")?)?;
    let parent = record.text(cols.parent, "parentSourcedId")?.to_owned();
    Ok(OrgRow {
        line: record.line,
        source_id,
        kind,
        name,
        parent,
    })
}

/// Reads orgs.csv, creates or renames the tenant's districts and schools, and
/// returns every org of the tenant by `sourcedId`.
#[tracing::instrument(skip(store, table, cols, report))]
pub(crate) async fn import_orgs(
    store: &Store,
    tenant: TenantId,
    mut table: Table,
    cols: &OrgColumns,
    report: &mut ImportReport,
) -> Result<OrgMap, ImportError> {
    let file = table.name();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(record) = table.next_record()? {
        let source_id = record
            .text(Some(cols.source_id), "sourcedId")
            .unwrap_or_default()
            .to_owned();
        let parsed = parse_row(&record, cols).and_then(|row| match seen.get(&row.source_id) {
            Some(first) => Err(format!(
                "sourcedId {} is listed again (first on line {first}).",
                row.source_id
            )),
            None => Ok(row),
        });
        match parsed {
            Ok(row) => {
                seen.insert(row.source_id.clone(), row.line);
                rows.push(row);
            }
            Err(reason) => {
                report
                    .refused
                    .push(RefusedRow::new(file, record.line, Some(&source_id), reason))
            }
        }
    }

    let mut names: HashMap<String, (OrgRef, String)> = HashMap::new();
    for d in store.districts(tenant).await? {
        if let Some(source) = d.source_id {
            names.insert(source, (OrgRef::District(d.id), d.name));
        }
    }
    for s in store.schools(tenant).await? {
        if let Some(source) = s.source_id {
            names.insert(
                source,
                (
                    OrgRef::School {
                        school: s.id,
                        district: s.district_id,
                    },
                    s.name,
                ),
            );
        }
    }
    let mut orgs: OrgMap = names
        .iter()
        .map(|(k, (org, _))| (k.clone(), *org))
        .collect();

    for kind in [Kind::District, Kind::School] {
        for row in rows.iter().filter(|r| r.kind == kind) {
            let refuse =
                |reason: String| RefusedRow::new(file, row.line, Some(&row.source_id), reason);
            let outcome = match kind {
                Kind::District => {
                    upsert_district(store, tenant, row, names.get(&row.source_id)).await?
                }
                Kind::School => {
                    upsert_school(store, tenant, row, names.get(&row.source_id), &orgs).await?
                }
            };
            match outcome {
                Upsert::Created(org) => {
                    report.orgs_created += 1;
                    orgs.insert(row.source_id.clone(), org);
                }
                Upsert::Renamed => report.orgs_updated += 1,
                Upsert::Unchanged => {}
                Upsert::Refused(reason) => report.refused.push(refuse(reason)),
            }
        }
    }
    Ok(orgs)
}

enum Upsert {
    Created(OrgRef),
    Renamed,
    Unchanged,
    Refused(String),
}

async fn upsert_district(
    store: &Store,
    tenant: TenantId,
    row: &OrgRow,
    existing: Option<&(OrgRef, String)>,
) -> Result<Upsert, ImportError> {
    match existing {
        None => {
            let district = store
                .create_district(tenant, &row.name, Some(&row.source_id))
                .await?;
            Ok(Upsert::Created(OrgRef::District(district.id)))
        }
        Some((OrgRef::School { .. }, _)) => Ok(Upsert::Refused(format!(
            "sourcedId {} is a school in this tenant; it cannot become a district.",
            row.source_id
        ))),
        Some((OrgRef::District(id), name)) => {
            rename(store, OrgTable::Districts, &id.to_string(), name, &row.name).await
        }
    }
}

async fn upsert_school(
    store: &Store,
    tenant: TenantId,
    row: &OrgRow,
    existing: Option<&(OrgRef, String)>,
    orgs: &OrgMap,
) -> Result<Upsert, ImportError> {
    let district = match (row.parent.as_str(), orgs.get(&row.parent)) {
        ("", _) => {
            return Ok(Upsert::Refused(
                "parentSourcedId is empty: a school belongs to a district.".into(),
            ));
        }
        (_, Some(OrgRef::District(district))) => *district,
        (parent, Some(OrgRef::School { .. })) => {
            return Ok(Upsert::Refused(format!(
                "parent org {parent} is a school, not a district."
            )));
        }
        (parent, None) => {
            return Ok(Upsert::Refused(format!(
                "parent org {parent} is not a district of this bundle or of this tenant."
            )));
        }
    };
    match existing {
        None => {
            let school = store
                .create_school(tenant, district, &row.name, Some(&row.source_id))
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
            rename(
                store,
                OrgTable::Schools,
                &school.to_string(),
                name,
                &row.name,
            )
            .await
        }
    }
}

async fn rename(
    store: &Store,
    table: OrgTable,
    id: &str,
    current: &str,
    wanted: &str,
) -> Result<Upsert, ImportError> {
    if current == wanted {
        return Ok(Upsert::Unchanged);
    }
    store.rename_org(table, id, wanted).await?;
    Ok(Upsert::Renamed)
}
