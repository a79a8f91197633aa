//! `hallpass cards` as an operator runs it: the real binary, a real SQLite
//! file imported from a roster with classes, the PDF read back with
//! `pdftotext`, and clear refusals that change nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use hallpass::directory::User;

use crate::class_cards::{passwords_in, pdf_text};
use crate::class_world::ClassWorld;
use crate::helpers::TestDb;

const OLD: &str = "the old one still here";

fn cards(world: &ClassWorld, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("cards")
        .args(args)
        .env("DATABASE_URL", &world.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn world() -> (ClassWorld, Vec<User>) {
    let world = ClassWorld::on(TestDb::sqlite().await).await;
    let students = world.science_students().await;
    for s in &students {
        world.give_password(s, OLD).await;
    }
    (world, students)
}

async fn all_keep_the_old_password(world: &ClassWorld, students: &[User]) {
    for s in students {
        assert!(
            world.signs_in(s, OLD).await,
            "{} still has the old password",
            s.login
        );
    }
}

#[tokio::test]
async fn hallpass_cards_writes_a_private_pdf_whose_passwords_sign_in_and_prints_no_password() {
    let (world, students) = world().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("science.pdf");
    let out_arg = out.to_str().unwrap();
    let run = cards(
        &world,
        &[
            "--class", "c-sci7b", "--tenant", "lincoln", "--as", "m.rivera", "--out", out_arg,
        ],
    );
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert!(run.status.success(), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "Wrote 5 login cards for Science 7B (SCI-7B) to {out_arg} (readable only by you)."
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("Skipped 1 enrolled student(s) m.rivera may not reset."),
        "{stdout}"
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let pdf_text = pdf_text(&std::fs::read(&out).unwrap());
    let passwords = passwords_in(&pdf_text);
    assert_eq!(passwords.len(), 5, "{pdf_text}");
    for s in &students {
        let mut theirs = 0;
        for p in &passwords {
            if world.signs_in(s, p).await {
                theirs += 1;
            }
        }
        assert_eq!(theirs, 1, "one card's password is {}'s", s.login);
        assert!(world.user(s.login.as_str()).await.must_change_password);
    }
    for p in &passwords {
        assert!(
            !stdout.contains(p.as_str()) && !stderr.contains(p.as_str()),
            "a password was printed"
        );
    }

    // The file is never replaced without --force, and nothing changes.
    let again = cards(
        &world,
        &[
            "--class", "c-sci7b", "--tenant", "lincoln", "--as", "m.rivera", "--out", out_arg,
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already exists; choose another --out, or add --force"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        world
            .signs_in(
                &students[0],
                &first_password(&world, &students[0], &passwords).await
            )
            .await
    );
    let forced = cards(
        &world,
        &[
            "--class", "c-sci7b", "--tenant", "lincoln", "--as", "m.rivera", "--out", out_arg,
            "--force",
        ],
    );
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    let renewed = passwords_in(&pdf_text_of(&out));
    assert_eq!(renewed.len(), 5);
    assert!(
        renewed.iter().all(|p| !passwords.contains(p)),
        "new passwords"
    );
}

async fn first_password(world: &ClassWorld, who: &User, passwords: &[String]) -> String {
    for p in passwords {
        if world.signs_in(who, p).await {
            return p.clone();
        }
    }
    panic!("no password of {}", who.login)
}

fn pdf_text_of(path: &std::path::Path) -> String {
    pdf_text(&std::fs::read(path).unwrap())
}

#[tokio::test]
async fn hallpass_cards_refuses_unknown_or_forbidden_inputs_clearly_and_changes_nothing() {
    let (world, students) = world().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cards.pdf");
    let out_arg = out.to_str().unwrap();
    for (class, tenant, login, expected) in [
        ("c-sci7b", "nowhere", "m.rivera", "No tenant named nowhere."),
        (
            "c-sci7b",
            "lincoln",
            "nobody",
            "No user nobody in tenant lincoln.",
        ),
        (
            "c-nope",
            "lincoln",
            "m.rivera",
            "No class you can print cards for matches that.",
        ),
        (
            "c-sci7b",
            "lincoln",
            "j.okafor",
            "No class you can print cards for matches that.",
        ),
        (
            "c-sci7b",
            "lincoln",
            "ada.lovelace",
            "No class you can print cards for matches that.",
        ),
        (
            "c-sci7b",
            "lincoln",
            "k.adams",
            "No class you can print cards for matches that.",
        ),
    ] {
        let run = cards(
            &world,
            &[
                "--class", class, "--tenant", tenant, "--as", login, "--out", out_arg,
            ],
        );
        let stderr = text(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{class} {tenant} {login}: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "{class} {tenant} {login}: {stderr}"
        );
        assert!(!out.exists(), "no file is left behind");
    }
    let missing_dir = dir.path().join("no/such/dir/cards.pdf");
    let run = cards(
        &world,
        &[
            "--class",
            "c-sci7b",
            "--tenant",
            "lincoln",
            "--as",
            "m.rivera",
            "--out",
            missing_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("Failed to create"),
        "{}",
        text(&run.stderr)
    );
    all_keep_the_old_password(&world, &students).await;
}

#[tokio::test]
async fn when_hallpass_cards_cannot_write_the_pdf_every_new_password_is_taken_back() {
    let (world, students) = world().await;
    // /dev/full takes the open and refuses every write (ENOSPC).
    let run = cards(
        &world,
        &[
            "--class",
            "c-sci7b",
            "--tenant",
            "lincoln",
            "--as",
            "s.patel",
            "--out",
            "/dev/full",
            "--force",
        ],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Failed to write /dev/full; the 5 new passwords were taken back and the old ones work again"),
        "{stderr}"
    );
    all_keep_the_old_password(&world, &students).await;
    for s in &students {
        assert!(!world.user(s.login.as_str()).await.must_change_password);
    }
}
