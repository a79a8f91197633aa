//! No secret reaches the logs: every line hallpass writes, at TRACE, while it
//! hands out a temporary password through `/interactions`, issues and redeems
//! a link code, emails a reset link and takes a new password on the reset
//! page, searched for every secret the people involved legitimately saw (in
//! the DM, the mail, the page they typed into).
//!
//! How the capture sees everything: the test runs on tokio's current-thread
//! runtime, and the capturing subscriber is this thread's default for the
//! whole test. The listeners, the Discord and SMTP stand-ins, the deferred
//! work of `/interactions` and the HTTP clients are all tasks of that one
//! runtime, so every event they emit is captured. The only other threads are
//! the blocking pool's, which run argon2id and DNS look-ups and log nothing.
//! The capture proves it caught the work: it must hold the handlers' and the
//! stores' spans, not just be empty.

use tracing_subscriber::fmt::format::FmtSpan;

use crate::capture::Captured;
use crate::email_reset;
use crate::helpers::TestDb;
use crate::interactions::Server;
use crate::signin::code_span;

#[tokio::test(flavor = "current_thread")]
async fn no_password_token_or_link_code_appears_in_any_log_line_at_trace_level() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        // Every span as it opens, with all its fields, not only those that
        // happen to hold an event.
        .with_span_events(FmtSpan::NEW)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut secrets: Vec<(&str, String)> = Vec::new();

    // A full reset through `/interactions`: signed request, deferred answer,
    // the password by DM through the Discord stand-in.
    let server = Server::on(TestDb::sqlite().await).await;
    let bot = &server.bot;
    let (_, token) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    assert!(server.edited(&token).await.starts_with("Done:"));
    let dms = server.standin.dms();
    assert_eq!(dms.len(), 1, "{dms:?}");
    secrets.push(("temporary password", code_span(&dms[0].1)));

    // A link code issued by DM, then redeemed.
    let (_, token) = server
        .command(
            &bot.dana,
            "link-code",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    assert!(
        server
            .edited(&token)
            .await
            .contains("link code for Diaz, Cara")
    );
    let code = code_span(&server.standin.dms().last().unwrap().1);
    let stranger = hallpass::standins::simulate::Member {
        guild: crate::bot::GUILD,
        user: 777_000,
        username: "cara",
    };
    let (_, linked) = server
        .send(&server.discord.command(stranger, "link", &[("code", &code)]))
        .await;
    assert!(
        linked["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("You're linked"),
        "{linked}"
    );
    secrets.push(("link code without its dashes", code.replace('-', "")));
    secrets.push(("link code", code));

    // An email reset: the link through the SMTP stand-in, then the page,
    // once refused and once accepted.
    let mail = email_reset::Setup::start().await;
    let reply = mail.send_link("yes").await;
    assert!(reply.text().starts_with("I've emailed a reset link"));
    let link = mail.token();
    assert_eq!(mail.get(&link).await.0, 200);
    let refused = "marble kettle orbit";
    let (status, _) = mail.post(&link, refused, "marble kettle orbis").await;
    assert_eq!(status, 400);
    let chosen = "quiet lantern harbour";
    let (status, page) = mail.post(&link, chosen, chosen).await;
    assert_eq!(status, 200, "{page}");
    secrets.push(("reset token", link));
    secrets.push(("refused new password", refused.to_owned()));
    secrets.push(("new password", chosen.to_owned()));

    let log = captured.text();
    // The capture saw the work: the spans of each step, as they opened.
    let opened = |span: &str| log.matches(&format!("{span}: new")).count();
    let dms_sent = log
        .lines()
        .filter(|l| l.contains(" send_dm{") && !l.contains(":send{") && l.ends_with(": new"))
        .count();
    let steps = [
        (
            "three signed interactions",
            opened("hallpass::store::replay"),
            3,
        ),
        ("two DMs", dms_sent, 2),
        ("the mail", opened("hallpass::mail::smtp"), 1),
        (
            "the link stored",
            log.matches("insert_reset_token").count().min(1),
            1,
        ),
        (
            "the page's POST",
            log.matches("use_reset_token").count().min(1),
            1,
        ),
    ];
    for (step, seen, wanted) in steps {
        assert!(
            seen >= wanted,
            "the capture missed {step}; it holds {} bytes",
            log.len()
        );
    }
    for (what, secret) in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !log.contains(secret.as_str()),
            "the {what} appears in the logs"
        );
    }
    // The values searched for are the real ones: the mail held the token.
    let mailed = &mail.smtp.received()[0].data;
    assert!(mailed.contains(secrets[3].1.as_str()));
}
