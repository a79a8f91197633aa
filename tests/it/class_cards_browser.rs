//! A login card in Debian's headless Chromium: the QR code of a card printed
//! by `/class-cards` (decoded from the rendered PDF) opens the sign-in page
//! with the school and login filled in; the card's temporary password signs
//! in; a blocklisted new password is refused with the reason; a good one is
//! set; and it then signs in through `POST /api/v1/login`.

use std::sync::Arc;

use crate::class_cards::{passwords_in, pdf_text};
use crate::class_cards_delivery::{confirm, qr_codes, start};
use crate::helpers::TestDb;
use crate::signin_browser::{Chromium, in_browser};

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

    let browser = Arc::new(tokio::task::spawn_blocking(Chromium::launch).await.unwrap());
    let form = in_browser(&browser, move |b| b.open(&link)).await;
    assert!(form.contains("Sign in"), "{form}");
    let asked = {
        let temporary = temporary.clone();
        in_browser(&browser, move |b| {
            // The QR code filled in the school and the login: only the password is left.
            b.tab
                .wait_for_element("#password")
                .unwrap()
                .type_into(&temporary)
                .unwrap();
            b.tab
                .wait_for_element("button[type=submit]")
                .unwrap()
                .click()
                .unwrap();
            b.tab.wait_for_element("#new_password").unwrap();
            b.main_text()
        })
        .await
    };
    assert!(asked.contains("Choose a new password"), "{asked}");

    let choose = |current: String, new: &'static str, wait_for: &'static str| {
        move |b: &Chromium| {
            for (field, value) in [
                ("#password", current.as_str()),
                ("#new_password", new),
                ("#repeat", new),
            ] {
                b.tab
                    .wait_for_element(field)
                    .unwrap()
                    .type_into(value)
                    .unwrap();
            }
            b.tab
                .wait_for_element("button[type=submit]")
                .unwrap()
                .click()
                .unwrap();
            b.tab.wait_for_xpath(wait_for).unwrap();
            b.main_text()
        }
    };
    let refused = in_browser(
        &browser,
        choose(temporary.clone(), BLOCKLISTED, "//p[@role='alert']"),
    )
    .await;
    assert!(refused.contains(BLOCKLISTED_REASON), "{refused}");
    let done = in_browser(
        &browser,
        choose(temporary.clone(), CHOSEN, "//h1[contains(., 'all set')]"),
    )
    .await;
    assert!(done.contains("You're all set"), "{done}");

    let (status, body) = l.login("ada.lovelace", CHOSEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);
    let (old, _) = l.login("ada.lovelace", &temporary).await;
    assert_eq!(old, 401, "the card's password is spent");
}
