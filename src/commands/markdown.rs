//! Putting outside text into a chat message without letting it format the
//! message: the one escaping function every message builder uses for a value
//! it did not write itself (names, logins, titles, school names, reasons,
//! audit labels, agents' emails).
//!
//! Promises:
//!
//! * Every character Discord's markdown gives a meaning to anywhere in a line
//!   (`\ * _ ~ ` | < > [ ] @`) is escaped with a backslash, which Discord
//!   renders as the character itself. So a value cannot open bold, italics,
//!   strike-through, a spoiler, a code span (or close the one a password sits
//!   in), a masked link, a mention (`<@id>`, `@everyone`) or a custom emoji.
//!   Two of them are left alone where they cannot format: `_` inside a word
//!   (`SMTP_URL`, `ana_lopez`) and `@` not followed by `everyone` or `here`
//!   (an email address), so ordinary text stays readable everywhere.
//! * Characters that mean something only at the start of a line (`#` headings,
//!   `-`/`+`/`*` lists, `>` quotes) are escaped there, and `://` is broken so a
//!   value never becomes a link. Nothing else changes: "O'Brien", "Jean-Luc",
//!   "Lopez, Ana" read as they are.
//! * Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
//!   which could make a value display as something else, are dropped. Names
//!   refuse them already; this covers every other value.
//!
//! serenity's `MessageBuilder::push_safe` was the first choice, but it escapes
//! only `*`, `` ` `` and `_` (not `~`, `|`, `[`, `<`, `>`) and replaces
//! zero-width joiners, which some scripts need in names; hence this function.
//! Mentions are also suppressed where messages are sent (`allowed_mentions`),
//! so an escape missed here still pings nobody.

use crate::directory::{User, is_bidi_control};

/// `text` with Discord markdown escaped; see the module's promises.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    let mut previous = ' ';
    let mut rest = text.chars().filter(|c| !is_bidi_control(*c)).peekable();
    while let Some(c) = rest.next() {
        let next = rest.peek().copied().unwrap_or(' ');
        match c {
            '\\' | '*' | '~' | '`' | '|' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word ("SMTP_URL", "ana_lopez") an underscore formats nothing.
            '_' if previous.is_alphanumeric() && next.is_alphanumeric() => out.push(c),
            '_' => out.push_str("\\_"),
            // A bare "@" is an email's; "@everyone" and "@here" would mention.
            '@' if starts_mention(rest.clone()) => out.push_str("\\@"),
            '#' | '-' | '+' if line_start => {
                out.push('\\');
                out.push(c);
            }
            ':' if next == '/' => out.push_str("\\:"),
            _ => out.push(c),
        }
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
        previous = c;
    }
    out
}

fn starts_mention(rest: impl Iterator<Item = char>) -> bool {
    let word: String = rest.take(8).collect();
    word.starts_with("everyone") || word.starts_with("here")
}

/// A person's name as a message shows it: "Lopez, Ana", escaped.
pub fn name(user: &User) -> String {
    escape(&user.display_name())
}

/// A person's name and login as a message shows them: "Lopez, Ana (alopez)", escaped.
pub fn person(user: &User) -> String {
    format!("{} ({})", name(user), escape(user.login.as_str()))
}

/// Discord's limits on text, in characters.
pub mod limits {
    /// A message's content (a reply, a DM, an edit, a follow-up).
    pub const CONTENT: usize = 2000;
    /// An autocomplete choice's name.
    pub const CHOICE_NAME: usize = 100;
    /// A modal's title.
    pub const MODAL_TITLE: usize = 45;
}

/// [`clip`] of a string the caller owns: returned as it is when it fits.
pub fn clip_owned(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    clip(&text, max)
}

/// `text` cut to at most `max` characters, ending in `…` when cut: the one
/// clipper for every text that meets one of Discord's [`limits`].
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ordinary_names_are_left_as_they_are() {
        for plain in [
            "Lopez, Ana",
            "O'Brien",
            "Jean-Luc",
            "Nguyễn",
            "ana.lopez",
            "ana_lopez",
            "SMTP_URL",
            "e…@…",
            "ana@school.example",
            "Mx. Ray",
            "فرزانه\u{200C}ای",
        ] {
            assert_eq!(escape(plain), plain);
        }
    }

    #[test]
    fn every_inline_markdown_character_is_escaped() {
        assert_eq!(
            escape("`*_~|\\<>[]@here"),
            "\\`\\*\\_\\~\\|\\\\\\<\\>\\[\\]\\@here"
        );
        assert_eq!(escape("_x_ __y__"), "\\_x\\_ \\_\\_y\\_\\_");
        assert_eq!(escape("[x](y)"), "\\[x\\](y)");
        assert_eq!(escape("@everyone"), "\\@everyone");
        assert_eq!(escape("<@123>"), "\\<@123\\>");
        assert_eq!(escape("||spoiler||"), "\\|\\|spoiler\\|\\|");
    }

    #[test]
    fn line_start_markers_are_escaped_only_at_the_start_of_a_line() {
        assert_eq!(escape("# Big"), "\\# Big");
        assert_eq!(escape("- item"), "\\- item");
        assert_eq!(escape("Runs it.\n  > quoted"), "Runs it.\n  \\> quoted");
        assert_eq!(escape("Room #4 - east"), "Room #4 - east");
        assert_eq!(escape("a\n# b"), "a\n\\# b");
    }

    #[test]
    fn links_are_broken() {
        assert_eq!(escape("https://evil.example"), "https\\://evil.example");
    }

    #[test]
    fn bidi_overrides_are_dropped() {
        assert_eq!(escape("Ana\u{202E}gpj.exe"), "Anagpj.exe");
        assert_eq!(escape("\u{2066}x\u{2069}"), "x");
    }

    #[test]
    fn an_escaped_value_cannot_close_a_code_span() {
        let message = format!("Password for {}: `{}`", escape("Ana`"), "maple-river-472");
        let unescaped: Vec<usize> = message
            .char_indices()
            .filter(|(i, c)| *c == '`' && !message[..*i].ends_with('\\'))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(unescaped.len(), 2);
        assert_eq!(&message[unescaped[0] + 1..unescaped[1]], "maple-river-472");
    }
}
