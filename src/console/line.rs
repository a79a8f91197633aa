//! Reading `/command key:value key:value with spaces` the way Discord's
//! client shows a slash command.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    pub name: String,
    pub options: BTreeMap<String, String>,
}

/// A word like `key:` or `key:value` starts an option; other words continue
/// the current option's value.
pub fn parse_line(line: &str) -> Result<ParsedLine, String> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('/') else {
        return Err(
            "Type a slash command, such as /whois user:ana (Tab completes, /help lists them)."
                .into(),
        );
    };
    let mut words = rest.split_whitespace();
    let name = words.next().unwrap_or_default().to_lowercase();
    if name.is_empty() {
        return Err("Type a command name after the slash.".into());
    }
    let mut options: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for word in words {
        match option_start(word) {
            Some((key, value)) => {
                options.insert(key.to_owned(), value.to_owned());
                current = Some(key.to_owned());
            }
            None => match &current {
                Some(key) => {
                    let value = options.entry(key.clone()).or_default();
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(word);
                }
                None => {
                    return Err(format!(
                        "\"{word}\" is not an option; write options as name:value."
                    ));
                }
            },
        }
    }
    options.retain(|_, v| !v.is_empty());
    Ok(ParsedLine { name, options })
}

/// Every option name the slash commands use; anything else with a colon is
/// part of a value ("reason:note: urgent").
pub const OPTION_NAMES: &[&str] = &[
    "user", "method", "school", "district", "role", "teacher", "reason", "code",
];

fn option_start(word: &str) -> Option<(&str, &str)> {
    let (key, value) = word.split_once(':')?;
    OPTION_NAMES.contains(&key).then_some((key, value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn options_are_read_as_discord_shows_them() {
        let parsed =
            parse_line("/promote-request teacher:tess reason:runs the science fair, every year")
                .unwrap();
        assert_eq!(parsed.name, "promote-request");
        assert_eq!(parsed.options["teacher"], "tess");
        assert_eq!(
            parsed.options["reason"],
            "runs the science fair, every year"
        );
    }

    #[test]
    fn a_value_may_hold_a_colon_and_an_email() {
        let parsed = parse_line("/whois user:ana.lopez@lincoln.example").unwrap();
        assert_eq!(parsed.options["user"], "ana.lopez@lincoln.example");
        let parsed = parse_line("/promote-request teacher:x reason:note: urgent").unwrap();
        assert_eq!(parsed.options["reason"], "note: urgent");
    }

    #[test]
    fn lines_without_a_slash_or_with_stray_words_are_explained() {
        assert!(parse_line("whois").unwrap_err().contains("slash command"));
        assert!(parse_line("/whois ana").unwrap_err().contains("name:value"));
    }
}
