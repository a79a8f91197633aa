use chrono::TimeZone;

use super::*;

const PASSWORD: &str = "maple-river-quiet-472";

fn card(n: usize) -> Card {
    let sign_in = Url::parse("https://hallpass.example/signin").unwrap();
    let login = format!("student{n}");
    Card {
        name: format!("Student Number{n}"),
        school: "Lincoln Middle School".into(),
        class: "Science 7B (SCI-7B)".into(),
        qr_url: qr_url(&sign_in, "lincoln", &login),
        login,
        password: SecretString::from(PASSWORD),
        expires: Utc.with_ymd_and_hms(2026, 12, 3, 15, 4, 0).unwrap(),
        sign_in_url: sign_in,
    }
}

#[test]
fn a_cards_debug_shows_who_it_is_for_but_not_the_password() {
    let shown = format!("{:?}", card(1));
    assert!(shown.contains("student1"), "{shown}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains("maple"), "{shown}");
}

#[test]
fn no_cards_is_an_error_not_an_empty_pdf() {
    assert!(matches!(
        render("Science 7B", &[]),
        Err(CardsError::NoCards)
    ));
}

#[test]
fn nine_cards_make_a_pdf_of_two_pages() {
    let cards: Vec<Card> = (1..=9).map(card).collect();
    let pdf = render("Science 7B", &cards).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Count 2"), "the page tree counts two pages");
}

#[test]
fn the_password_is_not_in_the_pdf_as_plain_text() {
    // Page contents are compressed glyph ids; the password is never written as
    // a string (not in the document info, not in a QR payload).
    let pdf = render("Science 7B", &[card(1)]).unwrap();
    let haystack = String::from_utf8_lossy(&pdf);
    assert!(!haystack.contains(PASSWORD));
}

#[test]
fn a_url_too_long_for_any_qr_code_is_an_error_naming_the_card() {
    let mut long = card(2);
    let path = "x".repeat(3000);
    long.qr_url = Url::parse(&format!("https://hallpass.example/{path}")).unwrap();
    let err = render("Science 7B", &[card(1), long]).unwrap_err();
    assert!(matches!(err, CardsError::QrCode { card: 2, .. }), "{err}");
}
