//! What one active users.csv row says about its user, parsed into the
//! directory's types; any bad value refuses the row with a reason naming the column.

use super::UserColumns;
use crate::directory::{Grade, Login, PersonName, Place, Role};
use crate::roster::orgs::{OrgMap, OrgRef};
use crate::roster::table::Record;
use crate::store::RosterValues;

/// The row's values. `TRUE`/`FALSE` are read in any letter case.
pub(super) fn roster_values(
    record: &Record,
    cols: &UserColumns,
    orgs: &OrgMap,
) -> Result<RosterValues, String> {
    let disabled = match record
        .text(cols.enabled, "enabledUser")?
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "true" => false,
        "false" => true,
        other => return Err(format!("enabledUser \"{other}\" is not true or false.")),
    };
    let role_text = record.text(Some(cols.role), "role")?.to_ascii_lowercase();
    let (role, place) = place(
        orgs,
        &role_text,
        record.text(Some(cols.orgs), "orgSourcedIds")?,
    )?;
    let first_name = PersonName::parse(record.text(Some(cols.given), "givenName")?)
        .map_err(|e| format!("givenName: {e}"))?;
    let last_name = PersonName::parse(record.text(Some(cols.family), "familyName")?)
        .map_err(|e| format!("familyName: {e}"))?;
    let login = login(
        record.text(cols.username, "username")?,
        record.text(cols.email, "email")?,
    )?;
    let grade = match role {
        // Teachers' grades are the grades they teach: not part of their record.
        Role::Student => grade(record.text(cols.grades, "grades")?)?,
        _ => None,
    };
    Ok(RosterValues {
        login,
        first_name,
        last_name,
        role,
        place,
        grade,
        disabled,
    })
}

/// The role and place a row asks for, from `role` and `orgSourcedIds`.
fn place(orgs: &OrgMap, role: &str, listed: &str) -> Result<(Role, Place), String> {
    let wanted: Vec<&str> = listed
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err("orgSourcedIds is empty.".into());
    }
    let known: Vec<(&str, OrgRef)> = wanted
        .iter()
        .filter_map(|id| orgs.get(*id).map(|o| (*id, *o)))
        .collect();
    let Some((first_id, first)) = known.first().copied() else {
        return Err(format!(
            "org {} is not a district, school or department of orgs.csv or this tenant.",
            wanted.join(", ")
        ));
    };
    match role {
        "administrator" => Ok(match first {
            OrgRef::District(_) => (Role::DistrictAdmin, first.place()),
            OrgRef::School { .. } => (Role::SchoolAdmin, first.place()),
        }),
        "student" | "teacher" => {
            let role = if role == "student" {
                Role::Student
            } else {
                Role::Teacher
            };
            let school = known
                .iter()
                .find(|(_, o)| matches!(o, OrgRef::School { .. }));
            match school {
                Some((_, org)) => Ok((role, org.place())),
                None => Err(format!(
                    "a {role} belongs to a school, but org {first_id} is a district."
                )),
            }
        }
        "" => Err("role is empty.".into()),
        other => Err(format!(
            "role \"{other}\" is not imported: hallpass imports student, teacher and administrator."
        )),
    }
}

/// `username`, or `email` when the username is empty.
fn login(username: &str, email: &str) -> Result<Login, String> {
    match (username, email) {
        ("", "") => Err("username and email are both empty: one of them is the login.".into()),
        ("", email) => Login::parse(email).map_err(|e| format!("email: {e}")),
        (username, _) => Login::parse(username).map_err(|e| format!("username: {e}")),
    }
}

/// The first of the row's `grades`; none when the cell is empty.
fn grade(grades: &str) -> Result<Option<Grade>, String> {
    match grades.split(',').map(str::trim).find(|g| !g.is_empty()) {
        None => Ok(None),
        Some(g) => Grade::parse(g)
            .map(Some)
            .map_err(|e| format!("grades: {e}")),
    }
}
