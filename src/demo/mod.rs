//! `hallpass demo`: the whole product on a fresh machine, with no accounts
//! anywhere. A sample district goes into a new SQLite file; the real HTTP
//! listener starts on loopback with local stand-ins for Discord's REST API
//! (and Zendesk's); a scripted session of real, signed interactions goes
//! through `/interactions`; and the session is printed the way the people in
//! it would see it: their commands, the private answers, the DMs.
//!
//! `anyhow` is used here as in the binary's wiring: the demo is a script.

mod seed;
mod show;

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use secrecy::SecretString;
use url::Url;

use crate::app::{App, Settings};
use crate::credentials::{HashParams, PasswordHasher};
use crate::directory::User;
use crate::discord::{DiscordRest, InteractionVerifier};
use crate::standins::discord::{self as standin, DiscordStandIn};
use crate::standins::simulate::{Member, SimulatedDiscord};
use crate::standins::{StandInOptions, ZendeskStandIn};
use crate::store::Store;
use crate::support::{OutboxSettings, OutboxWorker, ZendeskClient};
use crate::web::WebState;

use show::Show;

const APPLICATION_ID: u64 = 1_300_000_000_000_000_042;

/// Everything the script drives.
struct Stage {
    discord: SimulatedDiscord,
    standin: DiscordStandIn,
    zendesk: ZendeskStandIn,
    outbox: OutboxWorker,
    webhook: Url,
    webhook_secret: SecretString,
    endpoint: Url,
    client: reqwest::Client,
    app: App,
    cast: seed::Cast,
    /// Where the class-cards scene saves the PDF that came by DM.
    cards_dir: std::path::PathBuf,
}

impl Stage {
    fn member(user: &User) -> Member<'static> {
        Member {
            guild: seed::GUILD,
            user: user.discord_user_id.map(|d| d.get()).unwrap_or(1),
            username: "member",
        }
    }
}

/// Runs the demo, printing to `out`. `dir` holds the demo's database and
/// the login cards its last scene prints.
pub async fn run(dir: &std::path::Path, out: &mut (dyn Write + Send)) -> Result<()> {
    run_with_cards_in(dir, dir, out).await
}

/// [`run`], saving the login cards in `cards_dir` (`hallpass demo`: the
/// current directory, so they outlive the demo's throwaway database).
pub async fn run_with_cards_in(
    dir: &std::path::Path,
    cards_dir: &std::path::Path,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let url = format!("sqlite://{}", dir.join("hallpass-demo.db").display());
    let store = Store::connect(&url)
        .await
        .context("Failed to create the demo database")?;
    store.migrate().await?;
    let cast = seed::seed(&store)
        .await
        .context("Failed to create the sample district")?;
    let settings = Settings {
        zendesk_configured: true,
        ..Settings::default()
    };
    let app = App::new(store, PasswordHasher::new(HashParams::owasp())?, settings);
    let standin = standin::start()
        .await
        .context("Failed to start the Discord stand-in")?;
    let zendesk = ZendeskStandIn::start(StandInOptions::default())
        .await
        .context("Failed to start the Zendesk stand-in")?;
    let zendesk_client = Arc::new(ZendeskClient::new(
        zendesk.client_config(std::time::Duration::from_secs(5)),
    )?);
    let discord = SimulatedDiscord::new(rand::random(), APPLICATION_ID);
    let rest = Arc::new(DiscordRest::new(
        &standin.url(),
        Some(&SecretString::from("demo-bot-token")),
        Some(APPLICATION_ID),
    )?);
    let webhook_secret = SecretString::from(hex::encode(rand::random::<[u8; 32]>()));
    let state = WebState {
        verifier: Some(Arc::new(InteractionVerifier::from_hex(
            &discord.public_key_hex(),
        )?)),
        discord: Some(rest.clone()),
        zendesk: Some(zendesk_client.clone()),
        zendesk_webhook_secret: Some(Arc::new(webhook_secret.clone())),
        ..WebState::new(app.clone())
    };
    let outbox = OutboxWorker::new(app.clone(), zendesk_client, rest, OutboxSettings::default());
    let listening = crate::web::listen("127.0.0.1:0", state).await?;
    let address = listening.addr();
    let endpoint = Url::parse(&listening.url("/interactions"))?;
    let webhook = Url::parse(&listening.url("/webhooks/zendesk"))?;
    let stage = Stage {
        discord,
        standin,
        zendesk,
        outbox,
        webhook,
        webhook_secret,
        endpoint,
        client: reqwest::Client::new(),
        app,
        cast,
        cards_dir: cards_dir.to_owned(),
    };
    let mut show = Show::new(out);
    show.intro(&url, address, &stage.standin.url(), &stage.zendesk.url())?;
    script(&stage, &mut show).await?;
    show.outro()?;
    drop(stage);
    listening.shutdown().await?;
    Ok(())
}

async fn script(stage: &Stage, show: &mut Show<'_>) -> Result<()> {
    let c = &stage.cast;
    show.scene("A teacher resets a student's password")?;
    let ana = show
        .pick(stage, &c.rivera, "reset-password", "user", "lop")
        .await?;
    show.command(
        stage,
        &c.rivera,
        "reset-password",
        &[("user", &ana)],
        "user:Lopez, Ana",
    )
    .await?;

    show.scene("A teacher tries to edit another teacher")?;
    show.command(
        stage,
        &c.rivera,
        "edit-user",
        &[("user", c.okafor.login.as_str())],
        "user:j.okafor@lincoln.example",
    )
    .await?;
    show.narrate("Teachers manage students only; to a teacher, other teachers' records don't exist in hallpass.")?;

    show.scene("A school admin edits a teacher through the form")?;
    let okafor = c.okafor.id.to_string();
    show.modal(
        stage,
        &c.patel,
        &okafor,
        "user:Okafor, James",
        &[("title", "Math Department Lead")],
    )
    .await?;

    show.scene("A district admin moves a student to another school")?;
    let ben = c.ben.id.to_string();
    let adams = c.adams.id.to_string();
    show.command(
        stage,
        &c.whitfield,
        "edit-user",
        &[("user", &ben), ("school", &adams)],
        "user:Ng, Ben school:Adams Elementary",
    )
    .await?;

    self_service_and_support(stage, show).await
}

/// A student links their account and resets their own password; a teacher's
/// promotion goes to support and comes back approved.
async fn self_service_and_support(stage: &Stage, show: &mut Show<'_>) -> Result<()> {
    let c = &stage.cast;
    show.scene("A student resets their own password")?;
    show.narrate(&format!(
        "{} has no Discord account linked yet, so a teacher first issues a link code.",
        c.ana.display_name()
    ))?;
    let code = show.link_code(stage, &c.rivera, &c.ana).await?;
    let ana_discord = Member {
        guild: seed::GUILD,
        user: 2100,
        username: "ana",
    };
    show.raw(
        stage,
        ana_discord,
        "Ana",
        "link",
        &[("code", &code)],
        &format!("code:{code}"),
    )
    .await?;
    show.raw(stage, ana_discord, "Ana", "reset-password", &[], "")
        .await?;

    show.scene("A teacher asks to become a school admin; support approves")?;
    let rivera = c.rivera.id.to_string();
    let reason = "I coordinate the science fair and mentor our two new teachers.";
    let shown = format!("teacher:Rivera, Maria reason:{reason}");
    show.command(
        stage,
        &c.rivera,
        "promote-request",
        &[("teacher", &rivera), ("reason", reason)],
        &shown,
    )
    .await?;
    let ticket = show.deliver_tickets(stage).await?;
    show.support_decides(stage, ticket, &c.rivera, &c.lincoln_ms.name)
        .await?;
    class_cards(stage, show).await
}

/// A teacher prints login cards for a class.
async fn class_cards(stage: &Stage, show: &mut Show<'_>) -> Result<()> {
    let c = &stage.cast;
    show.scene("A teacher prints login cards for a class")?;
    let math7 = show
        .pick(stage, &c.okafor, "class-cards", "class", "math")
        .await?;
    let shown = format!("class:{}", c.math7.label());
    let saved = show
        .class_cards(stage, &c.okafor, &math7, &shown, "Confirm")
        .await?;
    match saved {
        Some(path) => show.narrate(&format!(
            "Ben moved to Adams Elementary earlier, so his teacher at Lincoln can't reset him: he was skipped. Open {} to see the cards (8 to a US Letter page); each QR code opens the sign-in page with the school and login filled in.",
            path.display()
        )),
        None => Err(anyhow::anyhow!("the login cards never arrived")),
    }
}
