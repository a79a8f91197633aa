//! `/reset-password method:email` end to end: the confirmation modal, the
//! message the SMTP stand-in receives, and the reset page its link opens.

use std::sync::Arc;

use chrono::Duration;
use hallpass::audit::AuditQuery;
use hallpass::commands::{Body, Reply, Request};
use hallpass::credentials::{OneTimeToken, PasswordHash};
use hallpass::directory::{Grade, Login, PersonName, Role, User};
use hallpass::mail::Mailer;
use hallpass::standins::smtp::SmtpStandIn;
use hallpass::store::NewUser;
use hallpass::web::WebState;
use secrecy::SecretString;
use sqlx::Row;
use url::Url;

use crate::bot::Bot;
use crate::helpers::{TestDb, World, cli_audit, t0};
use crate::unchanged::Snapshot;

const EVE: &str = "eve.stone@lincoln.example";

pub struct Setup {
    pub bot: Bot,
    pub smtp: SmtpStandIn,
    pub eve: User,
    pub base: String,
    client: reqwest::Client,
}

impl Setup {
    /// The bot world plus Eve, a student at A1 whose login is an email
    /// address, a mailer pointed at the stand-in, and the listener.
    pub async fn start() -> Self {
        Self::on(TestDb::sqlite().await, true).await
    }

    async fn with_mailer(configured: bool) -> Self {
        Self::on(TestDb::sqlite().await, configured).await
    }

    async fn on(db: TestDb, configured: bool) -> Self {
        let smtp = SmtpStandIn::start().await.unwrap();
        Self::serve(db, smtp, move |smtp, base| {
            configured.then(|| Mailer::new(&SecretString::from(smtp.url()), base).unwrap())
        })
        .await
    }

    /// The bot world and the listener, with the mail stand-in `smtp` and the
    /// mailer `mailer` builds for it (none: SMTP_URL unset).
    pub async fn serve(
        db: TestDb,
        smtp: SmtpStandIn,
        mailer: impl FnOnce(&SmtpStandIn, &Url) -> Option<Mailer>,
    ) -> Self {
        let mut bot = Bot::on(db).await;
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
                cli_audit(hallpass::audit::Action::UserCreate, t0()),
            )
            .await
            .unwrap();
        let bound = hallpass::web::bind("127.0.0.1:0").await.unwrap();
        let base = bound.url("");
        let mailer = mailer(&smtp, &Url::parse(&base).unwrap());
        let mut settings = (*bot.app.settings).clone();
        settings.public_url = base.clone();
        settings.email_configured = mailer.is_some();
        bot.app.settings = Arc::new(settings);
        bot.app.mailer = mailer.map(Arc::new);
        let state = WebState::new(bot.app.clone());
        bound.serve(state);
        Self {
            bot,
            smtp,
            eve,
            base,
            client: reqwest::Client::new(),
        }
    }

    async fn ask(&self, user: &User) -> Reply {
        self.bot
            .command(
                &self.bot.tess,
                "reset-password",
                &[("user", &user.id.to_string()), ("method", "email")],
            )
            .await
    }

    /// Asks for Eve's link, confirms, and returns the answer.
    pub async fn send_link(&self, confirm: &str) -> Reply {
        let modal = match self.ask(&self.eve).await.body {
            Body::Modal(modal) => modal,
            other => panic!("expected the confirmation modal, got {other:?}"),
        };
        assert_eq!(
            modal.custom_id,
            format!("reset-email:{}:{}", self.eve.id, self.eve.version)
        );
        self.bot
            .run(
                &self.bot.tess,
                Request::modal_submit(&modal.custom_id, &[("confirm", confirm)]),
            )
            .await
    }

    /// The token in the one message the stand-in received.
    pub fn token(&self) -> String {
        let received = self.smtp.received();
        assert_eq!(received.len(), 1, "exactly one message");
        let data = &received[0].data;
        let marker = format!("{}/reset/", self.base);
        let at = data.find(&marker).expect("a reset link in the message") + marker.len();
        data[at..at + 43].to_owned()
    }

    pub async fn get(&self, token: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let response = self
            .client
            .get(format!("{}/reset/{token}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, response.text().await.unwrap(), headers)
    }

    pub async fn post(&self, token: &str, password: &str, repeat: &str) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}/reset/{token}", self.base))
            .form(&[("password", password), ("repeat", repeat)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    async fn audit_log(&self) -> String {
        serde_json::to_string(
            &self
                .bot
                .db
                .store
                .audit_events(&AuditQuery::default())
                .await
                .unwrap(),
        )
        .unwrap()
    }

    pub async fn usable_tokens(&self) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM reset_tokens WHERE used_at IS NULL")
            .fetch_one(self.bot.db.store.pool())
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
    }
}

const GOOD: &str = "marble kettle orbit";

#[tokio::test]
async fn a_teacher_emails_a_link_and_the_student_chooses_a_new_password_with_it_once() {
    let s = Setup::start().await;
    let reply = s.send_link("yes").await;
    assert_eq!(
        reply.text(),
        "I've emailed a reset link to e…@… (expires in 1 hour). It works once; Stone, Eve's password stays as it is until they use it."
    );
    assert!(matches!(
        reply.body,
        Body::Text {
            ephemeral: true,
            ..
        }
    ));
    let received = s.smtp.received();
    assert_eq!(received[0].recipients, vec![EVE.to_owned()]);
    assert!(
        received[0]
            .data
            .contains("Subject: Reset your hallpass password")
    );
    assert!(
        received[0].data.contains("Teach, Tess asked hallpass"),
        "{}",
        received[0].data
    );
    assert!(
        received[0]
            .data
            .contains("2026-11-28 10:00 UTC (in 1 hour)")
    );
    assert!(
        received[0]
            .data
            .contains("If you didn't expect this email, ignore it")
    );
    let token = s.token();

    let (status, page, headers) = s.get(&token).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<form method=\"post\">") && page.contains("at least 8 characters"),
        "{page}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    for (password, repeat, reason) in [
        ("short", "short", "Use at least 8 characters."),
        ("password123", "password123", "commonly used passwords"),
        (
            GOOD,
            "marble kettle orbis",
            "The two passwords are different",
        ),
    ] {
        let (status, page) = s.post(&token, password, repeat).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains(reason), "{reason} in {page}");
        assert!(page.contains("<form method=\"post\">"));
        assert_eq!(
            s.usable_tokens().await,
            1,
            "a refused password leaves the link usable"
        );
    }

    let (status, page) = s.post(&token, GOOD, GOOD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your password is changed"));
    let stored = s
        .bot
        .db
        .store
        .password_hash(s.bot.world.tenant.id, s.eve.id)
        .await
        .unwrap()
        .unwrap();
    let hash = PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        s.bot
            .app
            .hasher
            .verify(&SecretString::from(GOOD), &hash)
            .await
            .unwrap()
    );
    assert!(!stored.must_change && stored.expires_at.is_none());
    assert!(!s.bot.reload(&s.eve).await.must_change_password);

    for (status, page) in [
        (s.get(&token).await.0, s.get(&token).await.1),
        s.post(&token, "another good one", "another good one").await,
    ] {
        assert_eq!(status, 404);
        assert!(page.contains("This link no longer works"), "{page}");
    }

    let audit = s.audit_log().await;
    assert!(!audit.contains(&token) && !audit.contains(GOOD) && !audit.contains(&stored.phc));
    assert!(audit.contains("password.reset") && audit.contains("\"method\":\"email\""));
    assert!(audit.contains("password.change") && audit.contains("reset page"));
}

#[tokio::test]
async fn the_token_is_stored_only_as_its_keyed_hash() {
    let s = Setup::start().await;
    s.send_link("YES").await;
    let token = s.token();
    let stored: Vec<String> = sqlx::query("SELECT token_hash FROM reset_tokens")
        .fetch_all(s.bot.db.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("token_hash").unwrap())
        .collect();
    let hash = OneTimeToken::parse(&token)
        .unwrap()
        .token_hash(&s.bot.app.secret_key);
    assert_eq!(stored, vec![hash.as_str().to_owned()]);
    assert!(!stored[0].contains(&token));
    // Not the plain SHA-256 either: without the server key the row says nothing.
    let plain = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
    assert_ne!(stored[0], plain);
}

#[tokio::test]
async fn a_link_still_works_one_second_before_its_hour_is_up() {
    let s = Setup::start().await;
    s.send_link("yes").await;
    let token = s.token();
    s.bot
        .clock
        .advance(Duration::hours(1) - Duration::seconds(1));
    let (status, page, _) = s.get(&token).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = s.post(&token, GOOD, GOOD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your password is changed"), "{page}");
}

#[tokio::test]
async fn a_link_no_longer_works_one_second_after_its_hour() {
    let s = Setup::start().await;
    s.send_link("yes").await;
    let token = s.token();
    s.bot
        .clock
        .advance(Duration::hours(1) + Duration::seconds(1));
    let (status, page, _) = s.get(&token).await;
    assert_eq!(status, 404);
    assert!(page.contains("This link no longer works"));
    let (status, page) = s.post(&token, GOOD, GOOD).await;
    assert_eq!(status, 404);
    assert!(page.contains("This link no longer works"));
    assert_eq!(
        s.bot
            .db
            .store
            .password_hash(s.bot.world.tenant.id, s.eve.id)
            .await
            .unwrap(),
        None,
        "an expired link sets no password"
    );
}

#[tokio::test]
async fn an_unknown_link_gets_the_same_page_as_a_used_one() {
    let s = Setup::start().await;
    for token in ["nonsense", &"A".repeat(43)] {
        let (status, page, _) = s.get(token).await;
        assert_eq!(status, 404);
        assert!(page.contains("This link no longer works"));
    }
}

#[tokio::test]
async fn nothing_is_sent_unless_the_actor_types_yes() {
    let s = Setup::start().await;
    let reply = s.send_link("no").await;
    assert!(
        reply.text().starts_with("Nothing was sent"),
        "{}",
        reply.text()
    );
    assert!(s.smtp.received().is_empty());
    assert_eq!(s.usable_tokens().await, 0);
}

#[tokio::test]
async fn a_login_that_is_not_an_email_is_refused_with_the_reason() {
    let s = Setup::start().await;
    let reply = s.ask(&s.bot.ana).await;
    assert!(
        reply.text().contains("isn't an email address")
            && reply.text().contains("temporary password"),
        "{}",
        reply.text()
    );
    assert!(s.smtp.received().is_empty());
}

#[tokio::test]
async fn without_smtp_an_email_reset_is_refused_with_the_reason() {
    let s = Setup::with_mailer(false).await;
    let reply = s.ask(&s.eve).await;
    assert!(
        reply.text().contains("SMTP_URL is not configured"),
        "{}",
        reply.text()
    );
    let forged = s
        .bot
        .run(
            &s.bot.tess,
            Request::modal_submit(
                &format!("reset-email:{}:{}", s.eve.id, s.eve.version),
                &[("confirm", "YES")],
            ),
        )
        .await;
    assert!(
        forged.text().contains("SMTP_URL is not configured"),
        "{}",
        forged.text()
    );
    assert_eq!(s.usable_tokens().await, 0);
}

#[tokio::test]
async fn when_the_mail_server_refuses_the_answer_says_so_and_no_link_is_left_usable() {
    let s = Setup::start().await;
    s.smtp.refuse_mail(true);
    let reply = s.send_link("yes").await;
    assert!(
        reply.text().starts_with("I couldn't send the reset link"),
        "{}",
        reply.text()
    );
    assert!(s.smtp.received().is_empty());
    assert_eq!(s.usable_tokens().await, 0);
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reset_tokens")
        .fetch_one(s.bot.db.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(count, 0, "the unsent token is withdrawn");
}

impl Setup {
    /// Submits a confirmation form as `actor` built by hand (a forged or stale
    /// one), and proves from the database that it was refused with `reason`
    /// and changed nothing: no reset_tokens row, no mail, one refusal audited.
    async fn forged_submit(&self, actor: &User, custom_id: &str, reason: &str) {
        let before = Snapshot::of(&self.bot).await;
        let reply = self
            .bot
            .run(
                actor,
                Request::modal_submit(custom_id, &[("confirm", "YES")]),
            )
            .await;
        assert_eq!(reply.text(), reason);
        assert!(self.smtp.received().is_empty(), "no mail was sent");
        let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reset_tokens")
            .fetch_one(self.bot.db.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(rows, 0, "no reset token was written");
        before.assert_only_refusals(&self.bot, &[reason]).await;
    }
}

#[tokio::test]
async fn a_student_cannot_email_a_link_for_someone_else() {
    let s = Setup::start().await;
    let form = format!("reset-email:{}:{}", s.eve.id, s.eve.version);
    s.forged_submit(&s.bot.ana, &form, "No user you can manage matches that.")
        .await;
}

#[tokio::test]
async fn a_forged_email_reset_form_for_a_login_that_is_not_an_email_is_refused() {
    let s = Setup::start().await;
    let ana = &s.bot.ana;
    let form = format!("reset-email:{}:{}", ana.id, ana.version);
    s.forged_submit(
        &s.bot.tess,
        &form,
        "Lopez, Ana's login (ana.lopez) isn't an email address, so there's no mailbox to send a link to. Use a temporary password instead.",
    )
    .await;
}

#[tokio::test]
async fn an_email_reset_form_opened_before_the_record_changed_sends_nothing() {
    let s = Setup::start().await;
    let form = format!("reset-email:{}:{}", s.eve.id, s.eve.version);
    let renamed = s
        .bot
        .db
        .store
        .update_user(
            &s.eve,
            &hallpass::store::UserChanges {
                first_name: Some(PersonName::parse("Evelyn").unwrap()),
                ..Default::default()
            },
            cli_audit(hallpass::audit::Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    assert_eq!(renamed.version, s.eve.version + 1);
    s.forged_submit(
        &s.bot.tess,
        &form,
        "Stone, Evelyn's record changed since you opened the form, so nothing was sent. Run /reset-password again.",
    )
    .await;
}

#[tokio::test]
async fn two_simultaneous_submits_of_one_link_change_the_password_once_on_postgres() {
    let s = Setup::on(TestDb::postgres().await, true).await;
    s.send_link("yes").await;
    let token = s.token();
    let (a, b) = tokio::join!(
        s.post(&token, GOOD, GOOD),
        s.post(&token, "quartz lantern meadow", "quartz lantern meadow")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 404], "{a:?} {b:?}");
    let changes = s.audit_log().await.matches("password.change").count();
    assert_eq!(changes, 1);
}
