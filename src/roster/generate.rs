//! A generated OneRoster 1.1 bundle of any size, for tests and the benchmark
//! suite. Promises: the same `(users, seed)` always writes the same files; every
//! row is valid and imports (unique `sourcedId`s and logins, known orgs, real
//! grades); and the shape is a plausible district: one district admin, one
//! admin per school, a teacher for every 25 users, students for the rest, in
//! schools of about a thousand users.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DISTRICT: &str = "d-0001";
const USERS_PER_SCHOOL: usize = 1_000;
const USERS_PER_TEACHER: usize = 25;

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gabriel", "Hana", "Isaac", "Jalen", "Kai",
    "Leila", "Mateo", "Nia", "Oliver", "Priya", "Quinn", "Rosa", "Søren", "Tomás", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Aisha", "Bruno", "Camila", "Diego", "Emma", "Finn", "Grace",
    "Hugo", "Inés", "Jonah", "Kenji", "Lucía", "Malik",
];
const LAST: &[&str] = &[
    "Lopez",
    "Nguyễn",
    "Smith",
    "O'Brien",
    "Kowalski",
    "Haddad",
    "Okafor",
    "Müller",
    "Tanaka",
    "García",
    "Johnson",
    "Ørsted",
    "Patel",
    "Kim",
    "Rossi",
    "Dubois",
    "Novak",
    "Silva",
    "Cohen",
    "Ivanova",
    "Mensah",
    "Hernández",
    "Lee",
    "Walker",
    "Andersen",
    "Popescu",
    "Chen",
    "Yılmaz",
    "Murphy",
    "Santos",
    "Fischer",
    "Khan",
    "Brown",
    "Jensen",
];
const GRADES: &[&str] = &[
    "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

const ORG_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "name",
    "type",
    "identifier",
    "parentSourcedId",
];
const USER_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
];

fn school_id(n: usize) -> String {
    format!("s-{:04}", n + 1)
}

/// The letters and digits of `name`, lower-cased: "O'Brien" becomes "obrien".
fn login_part(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Writes `orgs.csv` and `users.csv` with `users` users into `dir` (which must exist).
pub fn write_sample_bundle(dir: &Path, users: usize, seed: u64) -> io::Result<()> {
    let schools = users.div_ceil(USERS_PER_SCHOOL).max(1);
    let mut orgs = csv::Writer::from_writer(BufWriter::new(File::create(dir.join("orgs.csv"))?));
    orgs.write_record(ORG_HEADER)?;
    orgs.write_record([
        DISTRICT,
        "active",
        "",
        "Maplewood Unified School District",
        "district",
        "MUSD",
        "",
    ])?;
    for n in 0..schools {
        let name = format!("Maplewood School No. {}", n + 1);
        orgs.write_record([
            school_id(n).as_str(),
            "active",
            "",
            &name,
            "school",
            &format!("MS{}", n + 1),
            DISTRICT,
        ])?;
    }
    orgs.flush()?;

    let mut rng = StdRng::seed_from_u64(seed);
    let teachers = users / USERS_PER_TEACHER;
    let mut out = csv::Writer::from_writer(BufWriter::new(File::create(dir.join("users.csv"))?));
    out.write_record(USER_HEADER)?;
    for i in 0..users {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        let school = school_id(i % schools);
        let (role, org, grade) = if i == 0 {
            ("administrator", DISTRICT.to_owned(), "")
        } else if i <= schools {
            ("administrator", school_id(i - 1), "")
        } else if i <= schools + teachers {
            ("teacher", school, "")
        } else {
            ("student", school, GRADES[rng.gen_range(0..GRADES.len())])
        };
        let username = format!("{}.{}{}", login_part(first), login_part(last), i + 1);
        let email = format!("{username}@maplewood.example");
        let source = format!("u-{:06}", i + 1);
        let id = format!("{:06}", i + 1);
        out.write_record([
            source.as_str(),
            "active",
            "",
            "true",
            &org,
            role,
            &username,
            "",
            first,
            last,
            "",
            &id,
            &email,
            "",
            "",
            "",
            grade,
            "",
        ])?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_bundle_and_another_seed_another() {
        let read = |seed| {
            let dir = tempfile::tempdir().unwrap();
            write_sample_bundle(dir.path(), 300, seed).unwrap();
            std::fs::read_to_string(dir.path().join("users.csv")).unwrap()
        };
        assert_eq!(read(7), read(7));
        assert_ne!(read(7), read(8));
    }

    #[test]
    fn a_bundle_has_the_users_asked_for_with_unique_ids_and_logins() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_bundle(dir.path(), 2_500, 1).unwrap();
        let mut reader = csv::Reader::from_path(dir.path().join("users.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2_500);
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| &r[0]).collect();
        let logins: std::collections::HashSet<&str> = rows.iter().map(|r| &r[6]).collect();
        assert_eq!((ids.len(), logins.len()), (2_500, 2_500));
        assert_eq!(rows.iter().filter(|r| &r[5] == "teacher").count(), 100);
        let orgs = std::fs::read_to_string(dir.path().join("orgs.csv")).unwrap();
        assert_eq!(
            orgs.lines().count(),
            1 + 1 + 3,
            "a header, the district and three schools"
        );
    }
}
