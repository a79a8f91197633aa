//! `hallpass demo` plays its whole script through the real endpoint.

#[tokio::test]
async fn the_demo_plays_every_scene_and_shows_what_people_see() {
    let dir = tempfile::tempdir().unwrap();
    let mut out: Vec<u8> = Vec::new();
    hallpass::demo::run(dir.path(), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    for expected in [
        "1. A teacher resets a student's password",
        "suggestion: Lopez, Ana · grade 7 · Lincoln Middle School",
        "Done: Lopez, Ana (ana.lopez) has a new temporary password",
        "✉ DM from hallpass to Maria Rivera (teacher):",
        "Temporary password for Lopez, Ana (ana.lopez): `",
        "No user you can manage matches that.",
        "hallpass opens a form \"Edit Okafor, James\":",
        "• title: Math → Math Department Lead",
        "Moved Ng, Ben: student at Lincoln Middle School → student at Adams Elementary.",
        "You're linked: this Discord account is now Lopez, Ana (ana.lopez).",
        "Self-service resets left today: 2.",
        "6. A teacher asks to become a school admin; support approves",
        "🎫 Zendesk ticket #1: Promotion request #1",
        "tags: hallpass promotion_request",
        "calls POST /webhooks/zendesk, signed; hallpass answers 200",
        "Maria Rivera is now a school admin at Lincoln Middle School.",
        "7. A teacher prints login cards for a class",
        "suggestion: Math 7 (MATH-7) · Lincoln Middle School",
        "Print login cards for **Math 7 (MATH-7)** at Lincoln Middle School: 5 students will get a new temporary password; their current passwords stop working. (1 student you may not reset will be skipped.)",
        "[Confirm: print 5 cards]  [Cancel]",
        "Done: 5 new temporary passwords for **Math 7 (MATH-7)**; the cards are in your DMs. Skipped 1 you may not reset.",
        "📎 login-cards-math-7-math-7.pdf",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The password is shown only inside the DM, in one inline code span.
    let dm = text
        .split("✉ DM from hallpass to Maria Rivera (teacher):")
        .nth(1)
        .unwrap();
    let password = dm.split('`').nth(1).unwrap();
    // The cards were saved where the demo said, as a PDF only their owner reads.
    let saved = dir.path().join("login-cards-math-7-math-7.pdf");
    assert!(
        text.contains(&format!("saved to {}", saved.display())),
        "{text}"
    );
    let pdf = std::fs::read(&saved).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&saved).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        text.matches(password).count(),
        1,
        "the password appears once, in the DM"
    );
}
