//! The prompt's buttons. Cancel changes nothing. Confirm checks everything
//! again (the actor's authority and the class may have changed since the
//! prompt), refuses a roster that changed and a prompt already used, then
//! prints the cards and hands the PDF to `deliver` with an undo of the whole
//! batch.

use chrono::Duration;

use crate::app::App;
use crate::audit::Action;
use crate::directory::Class;

use super::super::context::{Actor, refuse, trouble};
use super::super::definition::Form;
use super::super::markdown;
use super::super::reply::{Attachment, Invocation, Reply, SecretDelivery, Undo};
use super::batch::{Printed, Roster, print_cards};
use super::id::{ButtonAction, ClassCardsId};
use super::{CLASS_CARDS, class_or_refuse, students};

pub const CLASS_CARDS_FORM: Form = Form {
    prefix: CLASS_CARDS.name,
    command: CLASS_CARDS.name,
    // Confirm hashes a class's passwords and sends a PDF.
    slow: true,
    submit: |app, actor, inv, custom_id, _| {
        let id = ClassCardsId::parse(&CLASS_CARDS_FORM, custom_id);
        Box::pin(clicked(app, actor, inv, id))
    },
};

pub const CANCELLED: &str = "Cancelled; nothing was changed.";
pub const CHANGED: &str =
    "The class changed since you asked; nothing was changed. Run /class-cards again.";
pub const USED: &str = "These cards were already printed from this prompt; nothing else was changed. Run /class-cards again for new ones.";

/// The quota that makes one prompt's Confirm act once.
const PROMPT_USE: &str = "class_cards_prompt";

async fn clicked(app: &App, actor: &Actor, inv: &Invocation, id: Option<ClassCardsId>) -> Reply {
    let Some(id) = id else {
        return Reply::private(
            "That button is not one hallpass recognises; run /class-cards again.",
        );
    };
    if id.action == ButtonAction::Cancel {
        return Reply::private(CANCELLED);
    }
    let class = match class_or_refuse(app, actor, inv, &id.class.to_string()).await {
        Ok(class) => class,
        Err(reply) => return reply,
    };
    let roster = match Roster::of(app, actor, &class).await {
        Ok(roster) => roster,
        Err(e) => return trouble(e),
    };
    if roster.digest() != id.roster || roster.eligible.is_empty() {
        return refuse(
            app,
            actor,
            inv,
            Action::ClassCards,
            None,
            &class.label(),
            CHANGED,
        )
        .await;
    }
    let subject = format!("prompt:{}:{}", class.id, id.prompt);
    let window = Duration::hours(24);
    let taken = match app
        .store
        .take_quota(actor.tenant.id, &subject, PROMPT_USE, 1, window, app.now())
        .await
    {
        Ok(decision) => decision.taken,
        Err(e) => return trouble(e),
    };
    let Some(use_id) = taken else {
        return refuse(
            app,
            actor,
            inv,
            Action::ClassCards,
            None,
            &class.label(),
            USED,
        )
        .await;
    };
    match print_cards(app, actor, inv, &class, roster).await {
        Ok(printed) => delivery(app, inv, &class, printed),
        Err(e) => {
            // Nothing was printed: the prompt may be used again.
            let _ = app.store.refund_quota(&use_id).await;
            trouble(format!("{e:#}"))
        }
    }
}

/// The answer, and the PDF on its way to the invoker with the batch's undo.
fn delivery(app: &App, inv: &Invocation, class: &Class, printed: Printed) -> Reply {
    let label = class.label();
    let n = printed.issued.len();
    let mut content = format!(
        "Done: {n} new temporary {} for **{}**; the cards are in your DMs.",
        if n == 1 { "password" } else { "passwords" },
        markdown::escape(&label)
    );
    if printed.skipped > 0 {
        content.push_str(&format!(" Skipped {} you may not reset.", printed.skipped));
    }
    let text = format!(
        "Login cards for {label}: {n} {}. Print, cut and hand them out; the passwords stop working {} if unused, and each student chooses their own at the first sign-in ({}).",
        students(n),
        printed.expires.format("%Y-%m-%d %H:%M UTC"),
        app.settings.sign_in_url()
    );
    Reply::private(content).with_secret(SecretDelivery {
        to: inv.user,
        text: text.into(),
        attachment: Some(Attachment {
            filename: file_name(&label),
            content_type: "application/pdf",
            bytes: printed.pdf,
        }),
        undo: Some(Undo::Passwords(printed.issued)),
    })
}

/// "login-cards-science-7b-sci-7b.pdf": the class label in lower-case ASCII.
pub fn file_name(label: &str) -> String {
    let mut slug = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    if slug.is_empty() {
        "login-cards.pdf".to_owned()
    } else {
        format!("login-cards-{slug}.pdf")
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn the_file_name_is_the_class_label_in_plain_lower_case() {
        assert_eq!(
            file_name("Science 7B (SCI-7B)"),
            "login-cards-science-7b-sci-7b.pdf"
        );
        assert_eq!(file_name("Ñandú ../../etc"), "login-cards-and-etc.pdf");
        assert_eq!(file_name("///"), "login-cards.pdf");
    }
}
