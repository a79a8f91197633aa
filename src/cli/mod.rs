//! The operator's command line: argument definitions (clap) here, one short
//! handler per subcommand in `run.rs`.

mod cards;
mod output;
mod promotions;
mod run;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use run::{RowsRefused, run};

/// hallpass: school directory management from Discord.
///
/// Educators reset passwords, fix records, move students and ask for promotions
/// from slash commands; every request is decided against the school hierarchy.
/// Configuration comes from the environment (DATABASE_URL, DISCORD_TOKEN, …;
/// see the README), optionally mirrored by a TOML file given with --config.
#[derive(Debug, Parser)]
#[command(name = "hallpass", version, propagate_version = true)]
pub struct Cli {
    /// A TOML file with the same keys as the environment (the environment wins).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// See hallpass work, on this machine, with no accounts anywhere.
    ///
    /// Creates a sample district in a new SQLite file, starts the real service
    /// on loopback with local stand-ins for Discord's REST API, and plays a
    /// scripted session of signed interactions through it, printing what each
    /// person sees in chat and in their DMs.
    Demo,
    /// Run the service: the HTTP listener (interactions endpoint, health,
    /// metrics) and, when DISCORD_TOKEN is set, the Discord gateway client.
    Serve,
    /// Apply the database migrations for DATABASE_URL (SQLite or PostgreSQL).
    Migrate,
    /// Import users from a roster.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage Discord servers (guilds).
    #[command(subcommand)]
    Guild(GuildCommand),
    /// Tenant settings.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Link a Discord account to a directory user.
    Link(LinkArgs),
    /// Look at directory records.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the audit log, newest last.
    Audit(AuditArgs),
    /// Run slash commands at a prompt, as a directory user, with no Discord account.
    ///
    /// Answers are exactly what the bot would answer; what it would send by DM
    /// or show privately is printed with a label. Tab completes names.
    Console {
        #[arg(long)]
        tenant: String,
        /// The login of the user to act as.
        #[arg(long = "as", value_name = "LOGIN")]
        login: String,
    },
    /// Print login cards for a class: new temporary passwords for its students, as a PDF.
    ///
    /// Does what the /class-cards command's Confirm does, as the user given
    /// with --as and under the same rules: each student enrolled in the class
    /// that this user may reset gets a new temporary password (must be
    /// changed at the first sign-in; it expires after 72 hours); the others
    /// are skipped and counted. The cards (8 per US Letter page: name, school,
    /// class, login, temporary password, expiry, sign-in URL and its QR code)
    /// are written to --out, readable only by you (mode 0600). An existing
    /// file is never replaced unless --force is given. If the file cannot be
    /// written, every new password is taken back and the old ones work again.
    /// Nothing printed on the terminal holds a password; each reset is in the
    /// audit log, with one summary entry for the class.
    ///
    /// Exit status: 0 when the cards were written; 1 (with the reason) for an
    /// unknown tenant, user or class, a class this user may not act on, a
    /// class with nobody to reset, or a file that exists or cannot be written.
    Cards(CardsArgs),
    /// Promotion requests (teacher -> school admin) on their way to the support desk.
    #[command(subcommand)]
    Promotions(PromotionsCommand),
    /// Measure hallpass on this machine: imports, autocomplete, edits, resets, the outbox.
    ///
    /// Generates a 100,000-user OneRoster bundle, imports it into a fresh SQLite
    /// file and a fresh PostgreSQL database (created and dropped on the server
    /// given), then drives the same command handlers the bot uses: 32 clients
    /// typing autocomplete prefixes, /edit-user modal submits, /reset-password
    /// with production argon2id, autocomplete while resets run, and an outbox
    /// drain against the local Zendesk stand-in. Each figure is set beside a
    /// floor (the cheapest round trip, a bare insert, a raw hash); the docs of
    /// src/bench/ say what each measures. Takes a few minutes; the machine
    /// should be otherwise idle. Nothing touches DATABASE_URL.
    ///
    /// Prints one line per scenario as it ends. With --json the last line of
    /// standard output is also the summary object of interfaces.md (a scenario
    /// that could not run carries "error": "why"). For outbox_drain the
    /// stand-in enforces allowed_per_s API requests a second (429 with
    /// Retry-After beyond it); ratio is achieved_per_s / allowed_per_s.
    Bench {
        /// Also print the summary as one JSON object, the last line of standard output.
        #[arg(long)]
        json: bool,
        /// The PostgreSQL server to create the benchmark databases on.
        #[arg(
            long,
            env = "HALLPASS_BENCH_POSTGRES_URL",
            default_value = crate::bench::DEFAULT_POSTGRES_URL
        )]
        postgres_url: String,
        /// A small world (a few hundred users, a handful of requests): every
        /// scenario runs in seconds and the figures mean nothing. A smoke test.
        #[arg(long)]
        quick: bool,
        /// Users in the generated directory (default 100,000).
        #[arg(long)]
        users: Option<usize>,
        /// Run only these scenarios (comma-separated summary names, such as
        /// autocomplete_sqlite,import_postgres); a scenario that needs an
        /// imported directory still imports it. For profiling one path.
        #[arg(long, value_delimiter = ',', value_name = "SCENARIO")]
        only: Vec<String>,
    },
    /// Upload the slash-command definitions (commands/*.json, built into the binary) to Discord.
    ///
    /// Replaces the application's whole command set (a bulk overwrite), so a
    /// command removed from commands/ disappears from Discord too. Without
    /// --guild the commands are registered for every server the bot is in;
    /// with --guild only in that server, where changes show at once (handy
    /// for trying a change out). Needs DISCORD_TOKEN and DISCORD_APPLICATION_ID
    /// (Developer Portal → your application); no database is opened.
    RegisterCommands {
        /// Register in this server only (Server Settings → Widget, or
        /// right-click the server → Copy Server ID).
        #[arg(long, value_name = "GUILD_ID")]
        guild: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a OneRoster 1.1 CSV bundle (orgs.csv and users.csv in DIR, classes.csv and enrollments.csv when there).
    ///
    /// Columns are found by header name. Re-importing the same bundle changes
    /// nothing. A re-import keeps what was changed in hallpass (an approved
    /// promotion, a move, a corrected name) unless the roster changed that
    /// same field since the last import: then the roster's value is applied
    /// and the conflict is listed with who made the local change. Rows that
    /// cannot be imported are listed with file, line and reason; the other
    /// rows are imported. Users the roster no longer lists are listed, never
    /// deleted.
    ///
    /// Exit status: 0 when every row was imported, 3 when the import ran but
    /// refused one or more rows (so a nightly job can alert on it), 1 when it
    /// could not run at all, 2 on a usage error.
    Oneroster {
        /// The folder holding orgs.csv and users.csv (and classes.csv, enrollments.csv when there).
        dir: PathBuf,
        /// The tenant to import into (created if it does not exist).
        #[arg(long)]
        tenant: String,
        /// Show what the import would do, and write nothing (no records, no audit entries).
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per line: each refused row, conflict, missing user
        /// and implicit district (with a "type"), then the summary.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GuildCommand {
    /// Bind a Discord server to a tenant: its members' commands act in that tenant.
    Bind {
        /// The server's id (Discord: Server Settings → Widget, or right-click → Copy Server ID).
        guild_id: String,
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Set the Discord channel where the tenant's burst alerts go.
    ///
    /// When one educator resets more passwords in ten minutes than
    /// HALLPASS_BURST_ALERT_RESETS (10 by default), `hallpass serve` posts one
    /// message there (naming the educator and the count, never a password)
    /// and writes it to the audit log. The bot needs to see the channel and
    /// send messages in it.
    SetAuditChannel {
        /// The channel's id (right-click the channel → Copy Channel ID, with Developer Mode on).
        channel_id: String,
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The directory user's login (email or username).
    #[arg(long = "user", value_name = "LOGIN")]
    pub login: String,
    /// The Discord account's user id (right-click → Copy User ID with Developer Mode on).
    #[arg(long = "discord", value_name = "DISCORD_USER_ID")]
    pub discord: String,
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print one directory record (never a password hash).
    Show {
        /// The login (email or username) or the user's id.
        login: String,
        #[arg(long)]
        tenant: String,
        /// One JSON object with stable field names.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CardsArgs {
    /// The class: its OneRoster sourcedId, or its id (as autocomplete offers it).
    #[arg(long, value_name = "ID")]
    pub class: String,
    #[arg(long)]
    pub tenant: String,
    /// The login (or id) of the teacher or admin whose authority the batch uses.
    #[arg(long = "as", value_name = "LOGIN")]
    pub login: String,
    /// Where to write the PDF (created with mode 0600).
    #[arg(long, value_name = "FILE.pdf")]
    pub out: PathBuf,
    /// Replace --out if it already exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum PromotionsCommand {
    /// List promotion requests, oldest first.
    ///
    /// States: queued (waiting for its Zendesk ticket), ticket_open (with
    /// support), approved, rejected, failed (the reason says what to do next).
    List {
        /// Only requests in this state.
        #[arg(long, value_name = "STATE", value_parser = ["queued", "ticket_open", "approved", "rejected", "failed"])]
        state: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed request for Zendesk again.
    ///
    /// Only a request that failed before it had a ticket can be retried (the
    /// outbox gave up, or Zendesk refused the ticket); fix what its failure
    /// reason names first. It goes back to queued and the outbox worker of a
    /// running `hallpass serve` delivers it; a ticket an earlier attempt may
    /// have created is found, not duplicated.
    Retry {
        /// The request number (12, as in "request #12") or the request's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this tenant's events.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-11-28T09:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
