//! The email reset page in a real browser: Debian's `chromium`, headless,
//! driven over the DevTools protocol (`headless_chrome`, which downloads
//! nothing). A teacher emails a link through `/reset-password method:email`,
//! the SMTP stand-in receives it, the browser opens it and sets a password
//! through the form, and the password then signs in through `/api/v1/login`.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use hallpass::audit::Action;
use hallpass::commands::{Body, Request};
use hallpass::directory::{Grade, Login, PersonName, Role, User};
use hallpass::mail::Mailer;
use hallpass::standins::smtp::SmtpStandIn;
use hallpass::store::NewUser;
use headless_chrome::{Browser, LaunchOptions, Tab};
use secrecy::SecretString;
use url::Url;

use crate::bot::Bot;
use crate::helpers::{World, cli_audit, t0};
use crate::signin::{Api, Options};

/// Where Debian's `chromium` package puts the browser (`.ci/run` installs it).
const CHROMIUM: &str = "/usr/bin/chromium";
const EVE: &str = "eve.stone@lincoln.example";
const CHOSEN: &str = "marble kettle orbit";

pub struct Chromium {
    _browser: Browser,
    pub tab: Arc<Tab>,
}

impl Chromium {
    pub fn launch() -> Self {
        let options = LaunchOptions::default_builder()
            .path(Some(PathBuf::from(CHROMIUM)))
            .headless(true)
            // The tests run as root, where Chromium's sandbox cannot start.
            .sandbox(false)
            .args(vec![
                OsStr::new("--disable-dev-shm-usage"),
                OsStr::new("--disable-gpu"),
            ])
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let browser = Browser::new(options)
            .unwrap_or_else(|e| panic!("{CHROMIUM} did not start (apt-get install chromium): {e}"));
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));
        Self {
            _browser: browser,
            tab,
        }
    }

    /// Opens `url` and answers the text of its `<main>`.
    pub fn open(&self, url: &str) -> String {
        self.tab.navigate_to(url).unwrap();
        self.tab.wait_until_navigated().unwrap();
        self.main_text()
    }

    /// Types the password twice into the open form, submits it and answers
    /// the text of the page that comes back.
    fn choose(&self, password: &str) -> String {
        self.tab
            .wait_for_element("#password")
            .unwrap()
            .type_into(password)
            .unwrap();
        self.tab
            .wait_for_element("#repeat")
            .unwrap()
            .type_into(password)
            .unwrap();
        self.tab
            .wait_for_element("button[type=submit]")
            .unwrap()
            .click()
            .unwrap();
        // The answer page has no form; wait for the heading that replaces it.
        self.tab
            .wait_for_xpath("//h1[not(contains(., 'Choose a new password'))]")
            .unwrap();
        self.main_text()
    }

    pub fn main_text(&self) -> String {
        self.tab
            .wait_for_element("main")
            .unwrap()
            .get_inner_text()
            .unwrap()
    }
}

/// Runs a browser step off the async runtime, so the listener keeps serving.
pub async fn in_browser<T: Send + 'static>(
    browser: &Arc<Chromium>,
    step: impl FnOnce(&Chromium) -> T + Send + 'static,
) -> T {
    let browser = browser.clone();
    tokio::task::spawn_blocking(move || step(&browser))
        .await
        .unwrap()
}

/// What the sign-in page showed at each step of a first sign-in with a
/// temporary password, from a link that filled in the school and login.
pub struct FirstSignIn {
    /// The page the link opened.
    pub form: String,
    /// After the temporary password: the form asking for a new one.
    pub asked: String,
    /// After offering `blocklisted` as the new password.
    pub refused: String,
    /// After offering `chosen`.
    pub done: String,
}

/// Opens `link` in a fresh headless Chromium, signs in with `temporary`
/// (only the password is typed: the link filled in the rest), offers
/// `blocklisted` as the new password and then `chosen`.
pub async fn first_sign_in(
    link: String,
    temporary: &str,
    blocklisted: &'static str,
    chosen: &'static str,
) -> FirstSignIn {
    let browser = Arc::new(tokio::task::spawn_blocking(Chromium::launch).await.unwrap());
    let form = in_browser(&browser, move |b| b.open(&link)).await;
    let typed = temporary.to_owned();
    let asked = in_browser(&browser, move |b| {
        b.tab
            .wait_for_element("#password")
            .unwrap()
            .type_into(&typed)
            .unwrap();
        b.tab
            .wait_for_element("button[type=submit]")
            .unwrap()
            .click()
            .unwrap();
        b.tab.wait_for_element("#new_password").unwrap();
        b.main_text()
    })
    .await;
    let choose = |new: &'static str, wait_for: &'static str| {
        let current = temporary.to_owned();
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
    let refused = in_browser(&browser, choose(blocklisted, "//p[@role='alert']")).await;
    let done = in_browser(&browser, choose(chosen, "//h1[contains(., 'all set')]")).await;
    FirstSignIn {
        form,
        asked,
        refused,
        done,
    }
}

async fn with_eve() -> (Api, User, SmtpStandIn) {
    let mut bot = Bot::new().await;
    let eve = bot
        .db
        .store
        .insert_user(
            bot.world.tenant.id,
            &NewUser {
                login: Login::parse(EVE).unwrap(),
                first_name: PersonName::parse("Eve").unwrap(),
                last_name: PersonName::parse("Stone").unwrap(),
                role: Role::Student,
                place: World::at(&bot.world.a1),
                grade: Some(Grade::parse("07").unwrap()),
                title: None,
                source_id: None,
                disabled: false,
            },
            cli_audit(Action::UserCreate, t0()),
        )
        .await
        .unwrap();
    let smtp = SmtpStandIn::start().await.unwrap();
    let mailer = Mailer::new(
        &SecretString::from(smtp.url()),
        &Url::parse("http://127.0.0.1/").unwrap(),
    )
    .unwrap();
    bot.app.mailer = Some(Arc::new(mailer));
    let mut settings = (*bot.app.settings).clone();
    settings.email_configured = true;
    bot.app.settings = Arc::new(settings);
    let api = Api::around(
        bot,
        Options {
            lockout_threshold: Some(3),
            ..Options::default()
        },
    )
    .await;
    (api, eve, smtp)
}

/// Tess asks for Eve's reset link and confirms; answers the link from the
/// newest message the stand-in received.
async fn email_link(api: &Api, eve: &User, smtp: &SmtpStandIn) -> String {
    let bot = &api.bot;
    let ask = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &eve.id.to_string()), ("method", "email")],
        )
        .await;
    let Body::Modal(modal) = ask.body else {
        panic!("expected the confirmation modal, got {:?}", ask.body)
    };
    let sent = bot
        .run(
            &bot.tess,
            Request::modal_submit(&modal.custom_id, &[("confirm", "yes")]),
        )
        .await;
    assert!(
        sent.text().starts_with("I've emailed a reset link"),
        "{}",
        sent.text()
    );
    let received = smtp.received();
    let data = &received.last().expect("a message").data;
    let marker = format!("{}/reset/", api.base);
    let at = data.find(&marker).expect("a reset link in the message");
    let token: String = data[at + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{marker}{token}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_set_on_the_reset_page_in_a_browser_signs_in_and_the_used_link_is_refused() {
    let (api, eve, smtp) = with_eve().await;
    // Eve forgot her password and locked her account guessing.
    api.give_password(&eve, "the old one I forgot").await;
    for _ in 0..3 {
        assert_eq!(api.login(&eve, "was it this").await.0, 401);
    }
    assert_eq!(
        api.login(&eve, "the old one I forgot").await.0,
        401,
        "locked"
    );

    let link = email_link(&api, &eve, &smtp).await;
    let browser = Arc::new(tokio::task::spawn_blocking(Chromium::launch).await.unwrap());
    let form = {
        let link = link.clone();
        in_browser(&browser, move |b| b.open(&link)).await
    };
    assert!(form.contains("Choose a new password"), "{form}");
    assert!(
        form.contains(EVE),
        "the page says whose password it is: {form}"
    );
    let done = in_browser(&browser, |b| b.choose(CHOSEN)).await;
    assert!(done.contains("Your password is changed"), "{done}");

    // The new password signs in through the API: the link unlocked the account.
    let (status, body) = api.login(&eve, CHOSEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], eve.id.to_string());
    assert_eq!(body["must_change_password"], false);

    // The same link, opened again, is refused with a clear message.
    let again = in_browser(&browser, move |b| b.open(&link)).await;
    assert!(again.contains("This link no longer works"), "{again}");
    assert!(!again.contains("Choose a new password"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reset_link_is_refused_in_the_browser_with_a_clear_message() {
    let (api, eve, smtp) = with_eve().await;
    let link = email_link(&api, &eve, &smtp).await;
    api.bot.clock.advance(Span::minutes(61));
    let browser = Arc::new(tokio::task::spawn_blocking(Chromium::launch).await.unwrap());
    let page = in_browser(&browser, move |b| b.open(&link)).await;
    assert!(page.contains("This link no longer works"), "{page}");
    assert!(page.contains("expire"), "it says links expire: {page}");
    assert!(!page.contains("Choose a new password"), "{page}");
    assert_eq!(api.login(&eve, CHOSEN).await.0, 401);
}
