//! A generated OneRoster 1.1 bundle of any size, for tests and the benchmark
//! suite. Promises: the same `(users, seed)` always writes the same files; every
//! row is valid and imports (unique `sourcedId`s and logins, known orgs, real
//! grades); and the shape is a plausible district: a district admin for every
//! 20,000 users (at least one), one admin per school, a teacher for every 25
//! users, students for the rest, in schools of about a thousand users, each school's students in classes of 28
//! (the last one smaller), each class taught by one of the school's teachers.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DISTRICT: &str = "d-0001";
const USERS_PER_SCHOOL: usize = 1_000;
const USERS_PER_TEACHER: usize = 25;
/// One district admin per this many users, and at least one: a large
/// district's office has several (and the benchmark's load clients need
/// several accounts of each role to stay within the per-account limits).
const USERS_PER_DISTRICT_ADMIN: usize = 20_000;

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

/// OneRoster 1.1 classes.csv.
const CLASS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
];
/// OneRoster 1.1 enrollments.csv.
const ENROLLMENT_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
];
const STUDENTS_PER_CLASS: usize = 28;
const SUBJECTS: &[&str] = &[
    "Homeroom",
    "Science",
    "Mathematics",
    "English",
    "History",
    "Art",
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

/// Writes `orgs.csv`, `users.csv`, `classes.csv` and `enrollments.csv` with
/// `users` users into `dir` (which must exist).
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
    let staff = Staff::of(users, schools);
    let mut out = csv::Writer::from_writer(BufWriter::new(File::create(dir.join("users.csv"))?));
    out.write_record(USER_HEADER)?;
    for i in 0..users {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        let school = school_id(i % schools);
        let (role, org, grade) = if i < staff.district_admins {
            ("administrator", DISTRICT.to_owned(), "")
        } else if i < staff.school_admins_end {
            ("administrator", school_id(i - staff.district_admins), "")
        } else if i < staff.teachers_end {
            ("teacher", school, "")
        } else {
            ("student", school, GRADES[rng.gen_range(0..GRADES.len())])
        };
        let username = format!("{}.{}{}", login_part(first), login_part(last), i + 1);
        let email = format!("{username}@maplewood.example");
        let source = user_source(i);
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
    write_classes(dir, users, schools)?;
    Ok(())
}

/// Where each role's rows end in `users.csv`: district admins first, then one
/// admin per school, then the teachers, then the students.
struct Staff {
    district_admins: usize,
    school_admins_end: usize,
    teachers_end: usize,
}

impl Staff {
    fn of(users: usize, schools: usize) -> Self {
        let district_admins = (users / USERS_PER_DISTRICT_ADMIN).max(1);
        let school_admins_end = district_admins + schools;
        Self {
            district_admins,
            school_admins_end,
            teachers_end: school_admins_end + users / USERS_PER_TEACHER,
        }
    }
}

/// The users of each school, as [`write_sample_bundle`] places them:
/// (teachers, students), by index.
fn school_rosters(users: usize, schools: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    let staff = Staff::of(users, schools);
    let mut rosters = vec![(Vec::new(), Vec::new()); schools];
    for i in staff.school_admins_end..users {
        let Some((taught, students)) = rosters.get_mut(i % schools) else {
            continue;
        };
        if i < staff.teachers_end {
            taught.push(i);
        } else {
            students.push(i);
        }
    }
    rosters
}

fn user_source(i: usize) -> String {
    format!("u-{:06}", i + 1)
}

/// Writes `classes.csv` and `enrollments.csv`: each school's students in
/// classes of [`STUDENTS_PER_CLASS`] (the last one smaller), each class with
/// one of the school's teachers, in turn.
fn write_classes(dir: &Path, users: usize, schools: usize) -> io::Result<()> {
    let file = |name: &str| -> io::Result<_> {
        Ok(csv::Writer::from_writer(BufWriter::new(File::create(
            dir.join(name),
        )?)))
    };
    let (mut classes, mut enrollments) = (file("classes.csv")?, file("enrollments.csv")?);
    classes.write_record(CLASS_HEADER)?;
    enrollments.write_record(ENROLLMENT_HEADER)?;
    let mut enrolment = 0_usize;
    let mut enrol =
        |out: &mut csv::Writer<_>, class: &str, school: &str, user: usize, role: &str| {
            enrolment += 1;
            let id = format!("e-{enrolment:07}");
            let primary = if role == "teacher" { "true" } else { "false" };
            let source = user_source(user);
            out.write_record([
                &id, "active", "", class, school, &source, role, primary, "", "",
            ])
        };
    for (n, (teachers, students)) in school_rosters(users, schools).iter().enumerate() {
        let school = school_id(n);
        for (k, group) in students.chunks(STUDENTS_PER_CLASS).enumerate() {
            let subject = SUBJECTS[k % SUBJECTS.len()];
            let class = format!("c-{:04}-{:04}", n + 1, k + 1);
            let title = format!("{subject} {}", k + 1);
            let code = format!("MS{}-{:03}", n + 1, k + 1);
            let course = format!("crs-{}", subject.to_lowercase());
            classes.write_record([
                &class,
                "active",
                "",
                &title,
                "",
                &course,
                &code,
                "scheduled",
                "",
                &school,
                "t-2026",
                subject,
                "",
                "1",
            ])?;
            if let Some(&teacher) = teachers.get(k % teachers.len().max(1)) {
                enrol(&mut enrollments, &class, &school, teacher, "teacher")?;
            }
            for &student in group {
                enrol(&mut enrollments, &class, &school, student, "student")?;
            }
        }
    }
    classes.flush()?;
    enrollments.flush()
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
    fn every_student_is_in_one_class_of_at_most_28_and_every_class_has_one_teacher() {
        let dir = tempfile::tempdir().unwrap();
        write_sample_bundle(dir.path(), 2_500, 1).unwrap();
        let mut reader = csv::Reader::from_path(dir.path().join("enrollments.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let mut per_class: std::collections::HashMap<&str, (usize, usize)> = Default::default();
        let mut students = std::collections::HashSet::new();
        for row in &rows {
            let entry = per_class.entry(&row[3]).or_default();
            match &row[6] {
                "teacher" => entry.0 += 1,
                _ => {
                    entry.1 += 1;
                    assert!(students.insert(&row[5]), "{} twice", &row[5]);
                }
            }
        }
        assert_eq!(students.len(), 2_500 - 1 - 3 - 100, "every student, once");
        assert!(
            per_class
                .values()
                .all(|&(t, s)| t == 1 && (1..=28).contains(&s))
        );
        let classes = std::fs::read_to_string(dir.path().join("classes.csv")).unwrap();
        assert_eq!(classes.lines().count() - 1, per_class.len());
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
