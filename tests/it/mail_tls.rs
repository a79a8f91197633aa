//! Email reset links over the modes a real school's mail server uses:
//! implicit TLS (`smtps://`) and STARTTLS (`smtp://…?tls=required`), with
//! AUTH. The stand-in presents a certificate from an authority generated for
//! the test; the production `Mailer` is told to trust that authority and is
//! otherwise unchanged.

use hallpass::commands::Reply;
use hallpass::mail::{Mailer, OutgoingEmail};
use hallpass::standins::smtp::{Security, SmtpStandIn, StandInOptions};
use secrecy::SecretString;
use url::Url;

use crate::email_reset::Setup;
use crate::helpers::TestDb;

const USER: &str = "hallpass-mailer";
const PASSWORD: &str = "correct-horse-mail";

async fn stand_in(security: Security, mechanisms: Vec<&'static str>) -> SmtpStandIn {
    SmtpStandIn::start_with(StandInOptions {
        security,
        credentials: Some((USER.to_owned(), PASSWORD.to_owned())),
        mechanisms,
    })
    .await
    .unwrap()
}

fn trusting_mailer(smtp: &SmtpStandIn, public: &Url, password: &str) -> Mailer {
    Mailer::with_root_certificate(
        &SecretString::from(smtp.url_with_credentials(USER, password)),
        public,
        smtp.root_certificate_pem().unwrap().as_bytes(),
    )
    .unwrap()
}

/// Sends Eve's link and follows it: the message arrived inside TLS, as the
/// authenticated user, and its link opens the reset page.
async fn delivered(setup: &Setup) {
    let reply: Reply = setup.send_link("yes").await;
    assert!(
        reply.text().starts_with("I've emailed a reset link"),
        "{}",
        reply.text()
    );
    let received = setup.smtp.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].over_tls, "the message came inside TLS");
    assert_eq!(received[0].authenticated_as.as_deref(), Some(USER));
    assert_eq!(received[0].recipients, vec![setup.eve.login.to_string()]);
    let (status, page, _) = setup.get(&setup.token()).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn an_email_reset_link_is_delivered_over_smtps_with_the_right_credentials() {
    let smtp = stand_in(Security::ImplicitTls, vec!["PLAIN", "LOGIN"]).await;
    let setup = Setup::serve(TestDb::sqlite().await, smtp, |smtp, base| {
        Some(trusting_mailer(smtp, base, PASSWORD))
    })
    .await;
    delivered(&setup).await;
}

#[tokio::test]
async fn an_email_reset_link_is_delivered_over_starttls_with_auth_login() {
    // Only LOGIN offered, so the client must use it.
    let smtp = stand_in(Security::StartTls, vec!["LOGIN"]).await;
    let setup = Setup::serve(TestDb::sqlite().await, smtp, |smtp, base| {
        Some(trusting_mailer(smtp, base, PASSWORD))
    })
    .await;
    delivered(&setup).await;
}

#[tokio::test]
async fn wrong_smtp_credentials_fail_with_a_clear_error_and_no_mail_is_accepted() {
    for security in [Security::ImplicitTls, Security::StartTls] {
        let smtp = stand_in(security, vec!["PLAIN", "LOGIN"]).await;
        let public = Url::parse("http://127.0.0.1:8080").unwrap();
        let mailer = trusting_mailer(&smtp, &public, "wrong-password");
        let err = mailer
            .send(&OutgoingEmail {
                to: "eve.stone@lincoln.example".into(),
                subject: "Reset your hallpass password".into(),
                body: SecretString::from("a link"),
            })
            .await
            .expect_err("wrong credentials are refused");
        let text = err.to_string();
        assert!(
            text.starts_with("The mail server did not take the message") && text.contains("535"),
            "{security:?}: {text}"
        );
        assert!(!text.contains("wrong-password"), "{text}");
        assert!(smtp.received().is_empty(), "{security:?}: no mail accepted");
    }
    // Through the command: the actor hears it failed, and no link is left usable.
    let smtp = stand_in(Security::ImplicitTls, vec!["PLAIN"]).await;
    let setup = Setup::serve(TestDb::sqlite().await, smtp, |smtp, base| {
        Some(trusting_mailer(smtp, base, "wrong-password"))
    })
    .await;
    let reply = setup.send_link("yes").await;
    assert!(
        reply.text().starts_with("I couldn't send the reset link"),
        "{}",
        reply.text()
    );
    assert!(setup.smtp.received().is_empty());
    assert_eq!(setup.usable_tokens().await, 0);
}

#[tokio::test]
async fn a_mailer_that_does_not_trust_the_servers_certificate_sends_nothing() {
    let smtp = stand_in(Security::ImplicitTls, vec!["PLAIN"]).await;
    let public = Url::parse("http://127.0.0.1:8080").unwrap();
    // The production constructor: public roots only.
    let mailer = Mailer::new(
        &SecretString::from(smtp.url_with_credentials(USER, PASSWORD)),
        &public,
    )
    .unwrap();
    let err = mailer
        .send(&OutgoingEmail {
            to: "eve.stone@lincoln.example".into(),
            subject: "Reset your hallpass password".into(),
            body: SecretString::from("a link"),
        })
        .await
        .expect_err("an unknown authority is not trusted");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn the_plain_stand_in_offers_no_tls_and_no_auth_without_credentials() {
    let smtp = SmtpStandIn::start().await.unwrap();
    assert!(smtp.url().starts_with("smtp://127.0.0.1:"));
    assert_eq!(smtp.root_certificate_pem(), None);
    let setup = Setup::serve(TestDb::sqlite().await, smtp, |smtp, base| {
        Some(Mailer::new(&SecretString::from(smtp.url()), base).unwrap())
    })
    .await;
    setup.send_link("yes").await;
    let received = setup.smtp.received();
    assert_eq!(received.len(), 1);
    assert!(!received[0].over_tls);
    assert_eq!(received[0].authenticated_as, None);
}
