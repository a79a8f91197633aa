//! Outstanding secrets are ended, not left to expire: a new reset of any kind
//! ends earlier reset links, an email link ends a pending temporary password,
//! a login change ends links sent to the old address. And an email reset you
//! ask for yourself counts against the self-service quota.

use std::sync::Arc;

use chrono::Duration;
use hallpass::audit::Action;
use hallpass::commands::{Body, Reply, Request};
use hallpass::directory::{DiscordUserId, Grade, Login, PersonName, Role, User};
use hallpass::mail::Mailer;
use hallpass::standins::smtp::SmtpStandIn;
use hallpass::store::{NewUser, UserChanges};
use hallpass::web::WebState;
use secrecy::SecretString;
use url::Url;

use crate::bot::Bot;
use crate::helpers::{World, cli_audit, t0};

/// The bot world plus Eve, a student at A1 whose login is an email address
/// and whose chat account is linked, a mailer at the SMTP stand-in, and the
/// listener serving the reset page.
struct Mailroom {
    bot: Bot,
    smtp: SmtpStandIn,
    eve: User,
    base: String,
}

impl Mailroom {
    async fn start() -> Self {
        let mut bot = Bot::new().await;
        let store = &bot.db.store;
        let eve = store
            .insert_user(
                bot.world.tenant.id,
                &NewUser {
                    login: Login::parse("eve.stone@lincoln.example").unwrap(),
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
        let eve = store
            .link_discord(
                &eve,
                DiscordUserId::new(2000),
                cli_audit(Action::ChatLink, t0()),
            )
            .await
            .unwrap();
        let smtp = SmtpStandIn::start().await.unwrap();
        let bound = hallpass::web::bind("127.0.0.1:0").await.unwrap();
        let base = bound.url("");
        let mut settings = (*bot.app.settings).clone();
        settings.public_url = base.clone();
        settings.email_configured = true;
        bot.app.settings = Arc::new(settings);
        let mailer =
            Mailer::new(&SecretString::from(smtp.url()), &Url::parse(&base).unwrap()).unwrap();
        bot.app.mailer = Some(Arc::new(mailer));
        let state = WebState::new(bot.app.clone());
        bound.serve(state);
        Self {
            bot,
            smtp,
            eve,
            base,
        }
    }

    /// `actor` asks for an email link for Eve (themselves when it is Eve) and confirms.
    async fn email_link(&self, actor: &User) -> Reply {
        let eve = self.eve.id.to_string();
        let options: Vec<(&str, &str)> = if actor.id == self.eve.id {
            vec![("method", "email")]
        } else {
            vec![("method", "email"), ("user", &eve)]
        };
        let modal = match self
            .bot
            .command(actor, "reset-password", &options)
            .await
            .body
        {
            Body::Modal(modal) => modal,
            other => panic!("expected the confirmation modal, got {other:?}"),
        };
        self.bot
            .run(
                actor,
                Request::modal_submit(&modal.custom_id, &[("confirm", "YES")]),
            )
            .await
    }

    /// The token of the newest message the stand-in received.
    fn newest_token(&self) -> String {
        let received = self.smtp.received();
        let data = &received.last().expect("a message").data;
        let marker = format!("{}/reset/", self.base);
        let at = data.find(&marker).expect("a reset link") + marker.len();
        data[at..at + 43].to_owned()
    }

    /// The status of the reset page for `token`: 200 while it works, 404 after.
    async fn page(&self, token: &str) -> u16 {
        reqwest::get(format!("{}/reset/{token}", self.base))
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn temporary_reset_by_tess(&self) {
        let reply = self
            .bot
            .command(
                &self.bot.tess,
                "reset-password",
                &[("user", &self.eve.id.to_string())],
            )
            .await;
        assert!(reply.text().starts_with("Done:"), "{}", reply.text());
    }
}

#[tokio::test]
async fn a_temporary_password_reset_ends_earlier_email_reset_links() {
    let m = Mailroom::start().await;
    m.email_link(&m.bot.tess).await;
    let token = m.newest_token();
    assert_eq!(m.page(&token).await, 200);
    m.temporary_reset_by_tess().await;
    assert_eq!(m.page(&token).await, 404, "the earlier link is ended");
}

#[tokio::test]
async fn an_email_reset_link_ends_a_pending_temporary_password() {
    let m = Mailroom::start().await;
    m.temporary_reset_by_tess().await;
    let tenant = m.bot.world.tenant.id;
    let before = m
        .bot
        .db
        .store
        .password_hash(tenant, m.eve.id)
        .await
        .unwrap();
    assert_eq!(before.unwrap().expires_at, Some(t0() + Duration::hours(72)));
    m.bot.clock.advance(Duration::minutes(5));
    let reply = m.email_link(&m.bot.tess).await;
    assert!(reply.text().starts_with("I've emailed a reset link"));
    let after = m
        .bot
        .db
        .store
        .password_hash(tenant, m.eve.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.expires_at,
        Some(t0() + Duration::minutes(5)),
        "the temporary password is expired"
    );
    assert_eq!(m.page(&m.newest_token()).await, 200, "the new link works");
}

#[tokio::test]
async fn a_new_email_reset_link_ends_the_earlier_one() {
    let m = Mailroom::start().await;
    m.email_link(&m.bot.tess).await;
    let first = m.newest_token();
    m.email_link(&m.bot.tess).await;
    let second = m.newest_token();
    assert_ne!(first, second);
    assert_eq!(m.page(&first).await, 404);
    assert_eq!(m.page(&second).await, 200);
}

#[tokio::test]
async fn a_login_change_ends_reset_links_sent_to_the_old_address() {
    let m = Mailroom::start().await;
    m.email_link(&m.bot.tess).await;
    let token = m.newest_token();
    let store = &m.bot.db.store;
    // A change of name leaves the link alone: it still goes to the same mailbox.
    let renamed = store
        .update_user(
            &m.bot.reload(&m.eve).await,
            &UserChanges {
                first_name: Some(PersonName::parse("Evelyn").unwrap()),
                ..UserChanges::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    assert_eq!(m.page(&token).await, 200);
    store
        .update_user(
            &renamed,
            &UserChanges {
                login: Some(Login::parse("eve.new@lincoln.example").unwrap()),
                ..UserChanges::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    assert_eq!(
        m.page(&token).await,
        404,
        "the link to the old address is ended"
    );
}

#[tokio::test]
async fn an_email_reset_you_ask_for_yourself_counts_against_the_daily_self_service_quota() {
    let m = Mailroom::start().await;
    let first = m.bot.command(&m.eve, "reset-password", &[]).await;
    assert!(first.text().contains("left today: 2"), "{}", first.text());
    let by_email = m.email_link(&m.eve).await;
    assert!(
        by_email.text().starts_with("I've emailed a reset link")
            && by_email
                .text()
                .ends_with("Self-service resets left today: 1."),
        "{}",
        by_email.text()
    );
    m.email_link(&m.eve).await;
    let refused = m.email_link(&m.eve).await;
    assert!(
        refused
            .text()
            .starts_with("You've used all 3 self-service password resets for today."),
        "{}",
        refused.text()
    );
    assert_eq!(m.smtp.received().len(), 2, "no mail for the refused one");
    // An educator's email reset for Eve is not hers to count.
    let by_tess = m.email_link(&m.bot.tess).await;
    assert!(by_tess.text().starts_with("I've emailed a reset link"));
}

#[tokio::test]
async fn a_self_service_email_reset_is_given_back_when_the_mail_cannot_be_sent() {
    let m = Mailroom::start().await;
    m.smtp.refuse_mail(true);
    for _ in 0..3 {
        let reply = m.email_link(&m.eve).await;
        assert!(
            reply.text().starts_with("I couldn't send the reset link"),
            "{}",
            reply.text()
        );
    }
    m.smtp.refuse_mail(false);
    let sent = m.email_link(&m.eve).await;
    assert!(
        sent.text().ends_with("Self-service resets left today: 2."),
        "the three unsent ones were given back: {}",
        sent.text()
    );
}
