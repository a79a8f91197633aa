//! The sign-in page, `GET/POST /signin`, through the real listener: a
//! temporary password handed out by `/reset-password` (its DM captured by the
//! Discord stand-in) signs in on the page, which asks for a new password with
//! the API's checks; then the new one signs in through `/api/v1/login`. Last,
//! the same in Debian's headless Chromium, from a card's prefilled link.

use hallpass::signin::GENERIC;
use reqwest::header;

use crate::signin::{Api, Options};
use crate::signin_browser::first_sign_in;

const CHOSEN: &str = "marble kettle orbit";
const BLOCKLISTED: &str = "password1234";
const BLOCKLISTED_REASON: &str =
    "That password is on a list of commonly used passwords; choose something less common.";

/// A page's status, headers and body.
struct Page {
    status: u16,
    headers: header::HeaderMap,
    body: String,
}

async fn get(api: &Api, path: &str) -> Page {
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .send()
        .await
        .unwrap();
    read(response).await
}

async fn post(api: &Api, fields: &[(&str, &str)]) -> Page {
    let response = api
        .client
        .post(format!("{}/signin", api.base))
        .form(fields)
        .send()
        .await
        .unwrap();
    read(response).await
}

async fn read(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

fn sign_in<'a>(login: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tenant", "lincoln"),
        ("login", login),
        ("password", password),
    ]
}

fn change<'a>(login: &'a str, current: &'a str, new: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = sign_in(login, current);
    fields.extend([("new_password", new), ("repeat", new)]);
    fields
}

#[tokio::test]
async fn the_page_opens_prefilled_from_its_link_without_scripts_or_outside_assets() {
    let api = Api::start().await;
    let page = get(&api, "/signin?tenant=lincoln&login=ana.lopez%22%3E").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html lang=\"en\">"), "{}", page.body);
    assert!(page.body.contains("value=\"lincoln\""), "{}", page.body);
    assert!(
        page.body.contains("value=\"ana.lopez&quot;&gt;\""),
        "the login is filled in, escaped: {}",
        page.body
    );
    for (label, field) in [("tenant", "organization"), ("login", "username")] {
        assert!(
            page.body.contains(&format!("<label for=\"{label}\">")),
            "{}",
            page.body
        );
        assert!(
            page.body.contains(&format!("autocomplete=\"{field}\"")),
            "{}",
            page.body
        );
    }
    assert!(
        page.body.contains("autocomplete=\"current-password\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(!page.body.contains("src="), "{}", page.body);
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");

    let empty = get(&api, "/signin").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("value=\"\""), "{}", empty.body);
}

#[tokio::test]
async fn a_temporary_password_signs_in_on_the_page_and_is_replaced_by_one_that_then_signs_in_through_the_api()
 {
    let api = Api::start().await;
    let bot = &api.bot;
    let ana = bot.ana.login.as_str();
    let temporary = api.reset_through_discord(&bot.tess, &bot.ana).await;
    let dms = api.standin.dms();
    let dm = &dms.last().unwrap().1;
    assert!(
        dm.ends_with(&format!("Sign in at {}/signin", api.base)),
        "the DM names the sign-in page: {dm}"
    );

    // A form without a password is answered with the form again, not an error.
    let incomplete = post(&api, &[("tenant", "lincoln"), ("login", ana)]).await;
    assert_eq!(incomplete.status, 400);
    assert!(incomplete.body.contains("Fill in"), "{}", incomplete.body);

    // A wrong password gets the API's one generic sentence, on a 401 page.
    let wrong = post(&api, &sign_in(ana, "not the password")).await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains(GENERIC.replace('\'', "&#39;").as_str()),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
    assert!(!wrong.body.contains("not the password"), "{}", wrong.body);

    // The temporary password signs in and asks for a new one.
    let asked = post(&api, &sign_in(ana, &temporary)).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains("Choose a new password"),
        "{}",
        asked.body
    );
    assert!(
        asked.body.contains("name=\"new_password\""),
        "{}",
        asked.body
    );
    assert!(
        !asked.body.contains(&temporary),
        "the page never holds the password: {}",
        asked.body
    );

    // A blocklisted one is refused with the reason in plain words.
    let refused = post(&api, &change(ana, &temporary, BLOCKLISTED)).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .body
            .contains(&BLOCKLISTED_REASON.replace('\'', "&#39;")),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("name=\"new_password\""),
        "{}",
        refused.body
    );
    let mismatch = post(
        &api,
        &[
            ("tenant", "lincoln"),
            ("login", ana),
            ("password", &temporary),
            ("new_password", CHOSEN),
            ("repeat", "marble kettle orbits"),
        ],
    )
    .await;
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.body.contains("different"), "{}", mismatch.body);
    assert_eq!(
        api.login(&bot.ana, CHOSEN).await.0,
        401,
        "nothing changed yet"
    );

    // A good one: "You're all set"; the temporary one is over, the new one signs in.
    let done = post(&api, &change(ana, &temporary, CHOSEN)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("You&#39;re all set") || done.body.contains("You're all set"),
        "{}",
        done.body
    );
    let log = api.audit_log().await;
    assert!(
        log.contains("sign-in page 127.0.0.1"),
        "the change is audited: {log}"
    );
    assert!(!log.contains(CHOSEN) && !log.contains(&temporary), "{log}");
    assert_eq!(api.login(&bot.ana, &temporary).await.0, 401);
    let (status, body) = api.login(&bot.ana, CHOSEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);

    // And on the page, with no change due, it just says so.
    let signed_in = post(&api, &sign_in(ana, CHOSEN)).await;
    assert_eq!(signed_in.status, 200);
    assert!(signed_in.body.contains("signed in"), "{}", signed_in.body);
    assert!(
        !signed_in.body.contains("new_password"),
        "{}",
        signed_in.body
    );
}

#[tokio::test]
async fn the_page_shares_the_api_budget_of_one_address_and_says_when_to_retry() {
    let api = Api::with(Options {
        signins_per_minute: Some(3),
        ..Options::default()
    })
    .await;
    let ana = api.bot.ana.login.as_str();
    api.give_password(&api.bot.ana, CHOSEN).await;
    assert_eq!(api.login(&api.bot.ana, "wrong guess").await.0, 401);
    for _ in 0..2 {
        assert_eq!(post(&api, &sign_in(ana, "wrong guess")).await.status, 401);
    }
    let before = api.verifications();
    let limited = post(&api, &sign_in(ana, CHOSEN)).await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert!(limited.body.contains("try again in"), "{}", limited.body);
    assert_eq!(
        api.verifications(),
        before,
        "a limited attempt costs no hash"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_card_link_signs_in_with_the_temporary_password_refuses_a_blocklisted_one_and_sets_a_new_one()
 {
    let api = Api::start().await;
    let bot = &api.bot;
    let temporary = api.reset_through_discord(&bot.tess, &bot.ana).await;
    let link = format!(
        "{}/signin?tenant=lincoln&login={}",
        api.base,
        bot.ana.login.as_str()
    );
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

    let (status, body) = api.login(&bot.ana, CHOSEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);
}
