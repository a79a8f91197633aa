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
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The password is shown only inside the DM, in one inline code span.
    let dm = text
        .split("✉ DM from hallpass to Maria Rivera (teacher):")
        .nth(1)
        .unwrap();
    let password = dm.split('`').nth(1).unwrap();
    assert_eq!(
        text.matches(password).count(),
        1,
        "the password appears once, in the DM"
    );
}
