//! A login card in Debian's headless Chromium: the QR code of a card printed
//! by `/class-cards` (decoded from the rendered PDF) opens the sign-in page
//! with the school and login filled in; the card's temporary password signs
//! in; a blocklisted new password is refused with the reason; a good one is
//! set; and it then signs in through `POST /api/v1/login`.

use crate::class_cards::{passwords_in, pdf_text};
use crate::class_cards_delivery::{confirm, qr_codes, start};
use crate::helpers::TestDb;
use crate::signin_browser::first_sign_in;

const BLOCKLISTED: &str = "password1234";
const BLOCKLISTED_REASON: &str =
    "That password is on a list of commonly used passwords; choose something less common.";
const CHOSEN: &str = "lantern meadow copper";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cards_qr_code_opens_the_sign_in_page_where_its_password_signs_in_and_a_good_new_one_is_set()
 {
    let (l, _) = start(TestDb::sqlite().await).await;
    confirm(&l).await;
    let pdf = l.standin.dm_files()[0].1.bytes.clone();
    let ada = l.world.user("ada.lovelace").await;
    let link = qr_codes(&pdf)
        .into_iter()
        .find(|url| url.ends_with("login=ada.lovelace"))
        .expect("Ada's card has a QR code");
    let mut temporary = None;
    for p in passwords_in(&pdf_text(&pdf)) {
        if l.world.signs_in(&ada, &p).await {
            temporary = Some(p);
        }
    }
    let temporary = temporary.expect("Ada's password is on a card");

    let page = first_sign_in(link, &temporary, BLOCKLISTED, CHOSEN).await;
    assert!(page.form.contains("Sign in"), "{}", page.form);
    assert!(
        page.asked.contains("Choose a new password"),
        "{}",
        page.asked
    );
    assert!(
        page.refused.contains(BLOCKLISTED_REASON),
        "{}",
        page.refused
    );
    assert!(page.done.contains("You're all set"), "{}", page.done);

    let (status, body) = l.login("ada.lovelace", CHOSEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);
    let (old, _) = l.login("ada.lovelace", &temporary).await;
    assert_eq!(old, 401, "the card's password is spent");
}
