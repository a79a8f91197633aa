//! orgs.csv: districts and schools, keyed by `sourcedId` within the tenant.
//!
//! Promises: districts are imported before schools, whatever order the file
//! lists them in; a school's district is found by walking up its parents,
//! through `local`, `state` and `national` orgs and through other schools, to
//! the first district of the bundle or of the tenant; a school with no district
//! above it (an empty `parentSourcedId`, or a parent school that has none, as
//! single-school and charter exports have) goes into an implicit district
//! named after the topmost such school, marked implicit and reported when it
//! is made; a `department` is part of the school above it (its people are that
//! school's); a parent that names no org of the bundle or the tenant refuses
//! the school. A known org whose name changed is renamed, and one that did not
//! change is not written; `local`, `state` and `national` orgs are read only
//! to walk through; any other type is refused with its reason. Orgs are never
//! deleted (`status=tobedeleted` is refused: disable the users instead) and a
//! school never changes district through an import, because its users' places
//! would silently change with it. A dry run decides all of this and writes nothing.

use std::collections::{HashMap, HashSet};

mod upsert;

use upsert::{Upsert, Upserter};

use super::ImportError;
use super::report::{ImportReport, RefusedRow};
use super::table::{Record, Table};
use crate::directory::{DistrictId, Place, SchoolId, TenantId};
use crate::store::Store;

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
    Department,
    /// `local`, `state`, `national`: walked through, not imported.
    Grouping,
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
        "department" => Kind::Department,
        "local" | "state" | "national" => Kind::Grouping,
        other => {
            return Err(format!(
                "type \"{other}\" is not imported: hallpass has districts and schools (and reads \
                 departments, local, state and national orgs)."
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
/// returns every org of the tenant by `sourcedId` (departments as their school).
#[tracing::instrument(skip(store, table, cols, report))]
pub(crate) async fn import_orgs(
    store: &Store,
    tenant: TenantId,
    table: Table,
    cols: &OrgColumns,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<OrgMap, ImportError> {
    let file = table.name();
    let rows = read_rows(table, cols, report)?;
    let names = known_orgs(store, tenant).await?;
    let mut orgs: OrgMap = names
        .iter()
        .map(|(k, (org, _))| (k.clone(), *org))
        .collect();
    let mut up = Upserter {
        store,
        tenant,
        dry_run,
        names,
    };
    let bundle: HashMap<&str, &OrgRow> = rows.iter().map(|r| (r.source_id.as_str(), r)).collect();

    for row in rows.iter().filter(|r| r.kind == Kind::District) {
        let outcome = up.district(row).await?;
        settle(outcome, row, file, &mut orgs, report);
    }
    for row in rows.iter().filter(|r| r.kind == Kind::School) {
        let district = match district_of(row, &bundle, &orgs) {
            Ancestor::District(district) => district,
            Ancestor::Refused(reason) => {
                report.refused.push(RefusedRow::new(
                    file,
                    row.line,
                    Some(&row.source_id),
                    reason,
                ));
                continue;
            }
            Ancestor::Nothing(root) => up.implicit_district(root, &mut orgs, report).await?,
        };
        let outcome = up.school(row, district).await?;
        settle(outcome, row, file, &mut orgs, report);
    }
    for row in rows.iter().filter(|r| r.kind == Kind::Department) {
        match school_of(row, &bundle, &orgs) {
            Some(school) => {
                orgs.insert(row.source_id.clone(), school);
            }
            None => report.refused.push(RefusedRow::new(
                file,
                row.line,
                Some(&row.source_id),
                "a department is part of a school, but no imported school is above it.",
            )),
        }
    }
    Ok(orgs)
}

fn read_rows(
    mut table: Table,
    cols: &OrgColumns,
    report: &mut ImportReport,
) -> Result<Vec<OrgRow>, ImportError> {
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
    Ok(rows)
}

/// The tenant's districts and schools by `sourcedId`, with their names.
async fn known_orgs(
    store: &Store,
    tenant: TenantId,
) -> Result<HashMap<String, (OrgRef, String)>, ImportError> {
    let mut names = HashMap::new();
    for d in store.districts(tenant).await? {
        if let Some(source) = d.source_id {
            names.insert(source, (OrgRef::District(d.id), d.name));
        }
    }
    for s in store.schools(tenant).await? {
        if let Some(source) = s.source_id {
            let org = OrgRef::School {
                school: s.id,
                district: s.district_id,
            };
            names.insert(source, (org, s.name));
        }
    }
    Ok(names)
}

fn settle(outcome: Upsert, row: &OrgRow, file: &str, orgs: &mut OrgMap, report: &mut ImportReport) {
    match outcome {
        Upsert::Created(org) => {
            report.orgs_created += 1;
            orgs.insert(row.source_id.clone(), org);
        }
        Upsert::Renamed => report.orgs_updated += 1,
        Upsert::Unchanged => {}
        Upsert::Refused(reason) => report.refused.push(RefusedRow::new(
            file,
            row.line,
            Some(&row.source_id),
            reason,
        )),
    }
}

/// What is above a school.
enum Ancestor<'r> {
    District(DistrictId),
    /// No district anywhere above: the topmost school on the way up.
    Nothing(&'r OrgRow),
    Refused(String),
}

/// Walks up from `school` through the bundle's orgs (and the tenant's) to the first district.
fn district_of<'r>(
    school: &'r OrgRow,
    bundle: &HashMap<&str, &'r OrgRow>,
    orgs: &OrgMap,
) -> Ancestor<'r> {
    let mut root = school;
    let mut parent = school.parent.as_str();
    let mut visited = HashSet::from([school.source_id.as_str()]);
    loop {
        if parent.is_empty() {
            return Ancestor::Nothing(root);
        }
        if !visited.insert(parent) {
            return Ancestor::Refused(format!(
                "parentSourcedId {} leads round in a loop without reaching a district.",
                school.parent
            ));
        }
        match (bundle.get(parent), orgs.get(parent)) {
            (Some(p), _) if p.kind != Kind::District => {
                if p.kind == Kind::School {
                    root = p;
                }
                parent = p.parent.as_str();
            }
            (_, Some(OrgRef::District(district))) => return Ancestor::District(*district),
            (None, Some(OrgRef::School { district, .. })) => return Ancestor::District(*district),
            (Some(_), _) => {
                return Ancestor::Refused(format!(
                    "parent district {parent} was not imported (see its row)."
                ));
            }
            (None, None) => {
                return Ancestor::Refused(format!(
                    "parent org {parent} is not an org of this bundle or of this tenant."
                ));
            }
        }
    }
}

/// The first imported school above a department.
fn school_of(
    department: &OrgRow,
    bundle: &HashMap<&str, &OrgRow>,
    orgs: &OrgMap,
) -> Option<OrgRef> {
    let mut parent = department.parent.as_str();
    let mut visited = HashSet::from([department.source_id.as_str()]);
    while !parent.is_empty() && visited.insert(parent) {
        if let Some(org @ OrgRef::School { .. }) = orgs.get(parent) {
            return Some(*org);
        }
        parent = bundle.get(parent)?.parent.as_str();
    }
    None
}
