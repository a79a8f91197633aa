//! `hallpass cards --class ID --tenant NAME --as LOGIN --out FILE.pdf`: a
//! class's login cards for an operator, through the same batch as the
//! `/class-cards` Confirm button and under the same policy, as that user.
//!
//! Promises: the file is created readable by its owner only (0600) before
//! any password changes, and an existing file is replaced only with
//! `--force`; if the PDF cannot be written, every reset of the batch is
//! rolled back; nothing printed holds a password.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use secrecy::ExposeSecret;

use super::CardsArgs;
use crate::app::App;
use crate::commands::class_cards::{Roster, class_or_refuse, print_cards};
use crate::commands::roll_back_batch;
use crate::commands::{Actor, Invocation};
use crate::directory::{Login, TenantName, UserId};

pub async fn run(app: &App, args: &CardsArgs) -> Result<()> {
    let actor = actor(app, &args.tenant, &args.login).await?;
    let inv = Invocation {
        guild: None,
        channel: None,
        interaction_id: None,
        user: None,
        api_caller: Some("cli".into()),
    };
    let class = class_or_refuse(app, &actor, &inv, &args.class)
        .await
        .map_err(|refused| {
            anyhow!(
                "{} (class {:?}, as {} in tenant {})",
                refused.text(),
                args.class,
                actor.user.login,
                actor.tenant.name
            )
        })?;
    let roster = Roster::of(app, &actor, &class).await?;
    if roster.eligible.is_empty() {
        bail!(
            "{} has no students {} may reset ({} enrolled skipped); nothing was changed.",
            class.label(),
            actor.user.login,
            roster.skipped
        );
    }
    let (mut file, created) = open(&args.out, args.force)?;
    let printed = match print_cards(app, &actor, &inv, &class, roster).await {
        Ok(printed) => printed,
        Err(e) => {
            forget(&args.out, created);
            return Err(e.context("Failed to print the cards; nothing was changed"));
        }
    };
    let written = write(&mut file, printed.pdf.expose_secret());
    if let Err(e) = written {
        let restored = roll_back_batch(app, &printed.issued).await;
        forget(&args.out, created);
        return Err(e.context(format!(
            "Failed to write {}; the {restored} new passwords were taken back and the old ones work again",
            args.out.display()
        )));
    }
    for (who, handoff) in &printed.issued {
        if let Err(e) = app.store.finish_handoff(handoff, app.now()).await {
            tracing::error!(error = %e, user = %who.id, "could not close a delivered hand-off");
        }
    }
    println!(
        "Wrote {} login cards for {} to {} (readable only by you).",
        printed.issued.len(),
        class.label(),
        args.out.display()
    );
    println!(
        "The temporary passwords stop working {} if unused; each student chooses their own at the first sign-in ({}).",
        printed.expires.format("%Y-%m-%d %H:%M UTC"),
        app.settings.sign_in_url()
    );
    if printed.skipped > 0 {
        println!(
            "Skipped {} enrolled student(s) {} may not reset.",
            printed.skipped, actor.user.login
        );
    }
    Ok(())
}

/// The user to act as, by login or id, in the tenant named.
async fn actor(app: &App, tenant: &str, login: &str) -> Result<Actor> {
    let name = TenantName::parse(tenant)?;
    let tenant = app
        .store
        .tenant_by_name(&name)
        .await?
        .ok_or_else(|| anyhow!("No tenant named {name}."))?;
    let user = match UserId::parse(login) {
        Ok(id) => app.store.user(tenant.id, id).await?,
        Err(_) => {
            let login = Login::parse(login)?;
            app.store.user_by_login(tenant.id, &login).await?
        }
    };
    let user = user.ok_or_else(|| anyhow!("No user {login} in tenant {}.", tenant.name))?;
    Ok(Actor {
        tenant,
        user,
        directory: None,
    })
}

/// Opens the output file before anything changes: a new file (mode 0600),
/// or with `force` an existing one, left as it is until the PDF is ready.
/// Answers whether this created it.
fn open(path: &Path, force: bool) -> Result<(File, bool)> {
    let existed = path.exists();
    if existed && !force {
        bail!(
            "{} already exists; choose another --out, or add --force to replace it. Nothing was changed.",
            path.display()
        );
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        // Not truncated here: an existing file stays as it was until the PDF is ready.
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("Failed to create {}; nothing was changed", path.display()))?;
    // A regular file is made private even when it existed; a device (an
    // operator writing to /dev/stdout, say) is left as it is.
    if file.metadata()?.is_file() {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| {
                format!(
                    "Failed to make {} private; nothing was changed",
                    path.display()
                )
            })?;
    }
    Ok((file, !existed))
}

fn write(file: &mut File, pdf: &[u8]) -> Result<()> {
    if file.metadata()?.is_file() {
        file.set_len(0)?;
    }
    file.write_all(pdf)?;
    file.sync_all()?;
    Ok(())
}

/// Removes a file this run created and could not fill.
fn forget(path: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_file(path);
    }
}
