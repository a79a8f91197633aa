//! A secret with a file (a class's login cards) goes the way a secret goes:
//! by DM, as Discord takes uploads (multipart, `payload_json` and
//! `files[0]`), else in the ephemeral follow-up with the file; and when
//! neither takes it, every reset of the batch is rolled back so the old
//! passwords sign in again. A retried upload is sent whole again.

use std::time::Duration;

use chrono::Duration as Days;
use hallpass::audit::Action;
use hallpass::commands::{Attachment, Body, Reply, Route, SecretDelivery, Undo, deliver};
use hallpass::directory::User;
use hallpass::discord::{DiscordRest, InteractionCourier, RetryPolicy};
use hallpass::signin::{Attempt, SignIn, sign_in};
use hallpass::standins::discord::{self as standin, DiscordStandIn, Fault, MESSAGES};
use hallpass::store::{HandoffId, NewPassword, RollBack};
use secrecy::SecretString;
use serde_json::json;

use crate::bot::Bot;
use crate::helpers::{TestDb, cli_audit, on_both_backends};
use crate::interactions::APPLICATION_ID;

on_both_backends!(
    when_neither_dm_nor_follow_up_takes_the_file_every_reset_of_the_batch_is_rolled_back,
    a_delivered_batch_finishes_every_hand_off_so_none_can_be_rolled_back,
);

const TOKEN: &str = "interaction-token-cards";
const PDF: &[u8] = b"%PDF-1.7\n\x00\x01\x02 cards \xff\xfe binary\n%%EOF\n";
const FAST: RetryPolicy = RetryPolicy {
    request_timeout: Duration::from_millis(500),
    attempts: 3,
    first_backoff: Duration::from_millis(20),
    max_backoff: Duration::from_millis(50),
    budget: Duration::from_secs(10),
};

struct Batch {
    bot: Bot,
    standin: DiscordStandIn,
    rest: DiscordRest,
    /// (student, their password before the batch, the batch's temporary one).
    students: Vec<(User, &'static str, &'static str)>,
    handoffs: Vec<HandoffId>,
}

impl Batch {
    /// Ana and Ben with passwords of their own, then reset in one batch.
    async fn on(db: TestDb) -> Self {
        let bot = Bot::on(db).await;
        let standin = standin::start().await.unwrap();
        let rest = DiscordRest::new(
            &standin.url(),
            Some(&SecretString::from("test-bot-token")),
            Some(APPLICATION_ID),
        )
        .unwrap()
        .with_retry(FAST);
        let students = vec![
            (
                bot.ana.clone(),
                "ana's own passphrase",
                "temporary ana 1234",
            ),
            (
                bot.ben.clone(),
                "ben's own passphrase",
                "temporary ben 5678",
            ),
        ];
        let mut handoffs = Vec::new();
        for (user, own, temporary) in &students {
            let audit = || cli_audit(Action::PasswordReset, bot.app.now());
            let own = bot
                .app
                .hasher
                .hash(&SecretString::from(*own))
                .await
                .unwrap();
            let store = &bot.app.store;
            store
                .set_password(user, own.as_str(), false, None, audit())
                .await
                .unwrap();
            let new = bot
                .app
                .hasher
                .hash(&SecretString::from(*temporary))
                .await
                .unwrap();
            let password = NewPassword {
                phc: new.as_str(),
                expires_at: bot.app.now() + Days::hours(72),
                quota_use: None,
            };
            handoffs.push(store.start_handoff(user, &password, audit()).await.unwrap());
        }
        Self {
            bot,
            standin,
            rest,
            students,
            handoffs,
        }
    }

    fn reply(&self) -> Reply {
        let batch = self
            .students
            .iter()
            .zip(&self.handoffs)
            .map(|((user, _, _), handoff)| (user.clone(), handoff.clone()))
            .collect();
        Reply::private("Cards for 2 students are on their way.").with_secret(SecretDelivery {
            to: self.bot.tess.discord_user_id,
            text: SecretString::from("Your class's login cards (2 students)."),
            attachment: Some(Attachment::new(
                "cards-7B.pdf",
                "application/pdf",
                PDF.to_vec(),
            )),
            undo: Some(Undo::Passwords(batch)),
        })
    }

    async fn deliver(&self) -> (Body, Option<Route>) {
        let courier = InteractionCourier {
            rest: &self.rest,
            token: TOKEN,
        };
        deliver(&self.bot.app, &courier, self.reply()).await
    }

    async fn signs_in(&self, user: &User, password: &str) -> bool {
        let tenant = self.bot.world.tenant.name.to_string();
        let password = SecretString::from(password);
        let attempt = Attempt {
            tenant: &tenant,
            login: user.login.as_str(),
            password: &password,
            caller: "test",
        };
        matches!(
            sign_in(&self.bot.app, &attempt).await.unwrap(),
            SignIn::Accepted { .. }
        )
    }
}

#[tokio::test]
async fn a_file_with_a_secret_arrives_by_dm_as_multipart_with_the_exact_bytes() {
    let batch = Batch::on(TestDb::sqlite().await).await;
    let (_, route) = batch.deliver().await;
    assert_eq!(route, Some(Route::DirectMessage));
    let files = batch.standin.dm_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let (to, file) = &files[0];
    assert_eq!(Some(*to), batch.bot.tess.discord_user_id.map(|d| d.get()));
    assert_eq!(file.filename, "cards-7B.pdf");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(file.bytes, PDF, "the exact bytes");
    assert_eq!(file.index, 0, "sent as files[0]");
    let message = batch
        .standin
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/messages") && !r.files.is_empty())
        .unwrap();
    let payload = message.body.unwrap();
    assert_eq!(payload["content"], "Your class's login cards (2 students).");
    assert_eq!(
        payload["attachments"],
        json!([{ "id": 0, "filename": "cards-7B.pdf" }])
    );
    assert!(batch.standin.followup_files().is_empty());
}

#[tokio::test]
async fn with_dms_closed_the_file_comes_in_the_ephemeral_follow_up() {
    let batch = Batch::on(TestDb::sqlite().await).await;
    batch.standin.fail_dms_with(50007);
    let (body, route) = batch.deliver().await;
    assert_eq!(route, Some(Route::PrivateReply));
    let Body::Text { content, .. } = body else {
        panic!("a text answer")
    };
    assert!(content.contains("Your DMs are closed"), "{content}");
    assert!(batch.standin.dm_files().is_empty());
    let files = batch.standin.followup_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, TOKEN);
    assert_eq!(files[0].1.bytes, PDF);
    let followup = batch
        .standin
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/api/v10/webhooks/{APPLICATION_ID}/{TOKEN}"))
        .unwrap();
    let payload = followup.body.unwrap();
    assert_eq!(payload["flags"], 64, "only the teacher sees it");
    assert_eq!(payload["attachments"][0]["filename"], "cards-7B.pdf");
    for (student, _, temporary) in &batch.students {
        assert!(batch.signs_in(student, temporary).await, "the cards hold");
    }
}

async fn when_neither_dm_nor_follow_up_takes_the_file_every_reset_of_the_batch_is_rolled_back(
    db: TestDb,
) {
    let batch = Batch::on(db).await;
    for (student, _, temporary) in &batch.students {
        assert!(batch.signs_in(student, temporary).await, "reset before");
    }
    batch.standin.fail_dms_with(50007);
    batch.standin.fail_followups();
    let (body, route) = batch.deliver().await;
    assert_eq!(route, Some(Route::Undone));
    let Body::Text { content, .. } = body else {
        panic!("a text answer")
    };
    assert!(
        content.contains("so the 2 new passwords were taken back and the old ones work again"),
        "{content}"
    );
    for (student, own, temporary) in &batch.students {
        assert!(batch.signs_in(student, own).await, "the old password works");
        assert!(
            !batch.signs_in(student, temporary).await,
            "the card's does not"
        );
    }
}

async fn a_delivered_batch_finishes_every_hand_off_so_none_can_be_rolled_back(db: TestDb) {
    let batch = Batch::on(db).await;
    let (_, route) = batch.deliver().await;
    assert_eq!(route, Some(Route::DirectMessage));
    let store = &batch.bot.app.store;
    for handoff in &batch.handoffs {
        let rolled = store
            .roll_back_handoff(handoff, batch.bot.app.now())
            .await
            .unwrap();
        assert_eq!(rolled, RollBack::AlreadyFinished);
    }
    for (student, _, temporary) in &batch.students {
        assert!(batch.signs_in(student, temporary).await);
    }
}

#[tokio::test]
async fn a_500_then_success_sends_the_whole_file_again() {
    let batch = Batch::on(TestDb::sqlite().await).await;
    batch.standin.script(MESSAGES, &[Fault::ServerError]);
    let (_, route) = batch.deliver().await;
    assert_eq!(route, Some(Route::DirectMessage));
    let tries: Vec<_> = batch
        .standin
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/v10/channels/"))
        .collect();
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert_eq!(tries[0].status, 500);
    assert_eq!(tries[1].status, 200);
    for (n, tried) in tries.iter().enumerate() {
        assert_eq!(tried.files.len(), 1, "try {n} carried the file");
        assert_eq!(tried.files[0].bytes, PDF, "try {n} carried all of it");
    }
    let delivered = batch.standin.dm_files();
    assert_eq!(delivered.len(), 1, "delivered once");
    assert_eq!(delivered[0].1.bytes, PDF, "the whole file, again");
}

#[test]
fn debug_of_an_attachment_or_a_secret_shows_neither_bytes_nor_text() {
    let file = Attachment::new("cards.pdf", "application/pdf", b"SECRETBYTES".to_vec());
    let shown = format!("{file:?}");
    assert!(
        shown.contains("cards.pdf") && shown.contains("11"),
        "{shown}"
    );
    assert!(
        !shown.contains("SECRETBYTES") && !shown.contains("83, 69"),
        "{shown}"
    );
    let secret = SecretDelivery {
        to: None,
        text: SecretString::from("pw: marble-kettle"),
        attachment: Some(file),
        undo: None,
    };
    let shown = format!("{secret:?}");
    assert!(!shown.contains("marble-kettle"), "{shown}");
    assert!(
        !shown.contains("SECRETBYTES") && !shown.contains("83, 69"),
        "{shown}"
    );
}
