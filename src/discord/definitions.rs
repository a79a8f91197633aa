//! The slash-command definitions, as reviewed in `commands/*.json` (Discord's
//! own application-command format), compiled into the binary.
//!
//! Promise: what `register-commands` uploads is byte for byte what sits in
//! `commands/`; every file there is embedded, parses, keeps within Discord's
//! limits and offers exactly the options `docs/interfaces.md` lists
//! (the tests below fail otherwise).

use thiserror::Error;

use crate::commands::{COMMANDS, Command};

/// Every slash command's name, in the order of [`crate::commands::COMMANDS`].
pub fn command_names() -> Vec<&'static str> {
    COMMANDS.iter().map(|c| c.name).collect()
}

#[derive(Debug, Error)]
pub enum DefinitionError {
    #[error("commands/{file}.json is not valid JSON: {source}")]
    Invalid {
        file: &'static str,
        source: serde_json::Error,
    },
}

/// The definitions, parsed, in the order of [`crate::commands::COMMANDS`].
pub fn command_definitions() -> Result<Vec<serde_json::Value>, DefinitionError> {
    COMMANDS.iter().map(|c| parse(c)).collect()
}

fn parse(command: &Command) -> Result<serde_json::Value, DefinitionError> {
    serde_json::from_str(command.json).map_err(|source| DefinitionError::Invalid {
        file: command.name,
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    /// Discord: `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lower case where
    /// the script has case. (`is_alphanumeric` is letters and numbers.)
    fn valid_name(name: &str) -> bool {
        let length = name.chars().count();
        (1..=32).contains(&length)
            && name
                .chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && name == name.to_lowercase()
    }

    fn text(value: &Value, key: &str) -> String {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
            .to_owned()
    }

    fn options(command: &Value) -> Vec<Value> {
        command["options"].as_array().cloned().unwrap_or_default()
    }

    fn flag(option: &Value, key: &str) -> bool {
        option[key].as_bool().unwrap_or(false)
    }

    #[test]
    fn every_definition_keeps_within_discords_limits() {
        let definitions = command_definitions().unwrap();
        for (definition, command) in COMMANDS.iter().zip(&definitions) {
            let file = definition.file();
            let name = text(command, "name");
            assert!(valid_name(&name), "{file}: bad command name {name:?}");
            assert_eq!(file, format!("{name}.json"), "file named after command");
            assert_eq!(command["type"], 1, "{file}: CHAT_INPUT");
            let description = text(command, "description");
            assert!(
                (1..=100).contains(&description.chars().count()),
                "{file}: description of {} chars",
                description.chars().count()
            );
            let mut total = name.chars().count() + description.chars().count();
            let options = options(command);
            assert!(options.len() <= 25, "{file}: more than 25 options");
            let mut optional_seen = false;
            for option in &options {
                let option_name = text(option, "name");
                assert!(
                    valid_name(&option_name),
                    "{file}: bad option {option_name:?}"
                );
                let option_description = text(option, "description");
                assert!(
                    (1..=100).contains(&option_description.chars().count()),
                    "{file}: {option_name} description length"
                );
                total += option_name.chars().count() + option_description.chars().count();
                if flag(option, "required") {
                    assert!(
                        !optional_seen,
                        "{file}: required {option_name} after an optional option"
                    );
                } else {
                    optional_seen = true;
                }
                let choices = option["choices"].as_array().cloned().unwrap_or_default();
                assert!(
                    choices.len() <= 25,
                    "{file}: {option_name} has over 25 choices"
                );
                assert!(
                    choices.is_empty() || !flag(option, "autocomplete"),
                    "{file}: {option_name} cannot have both choices and autocomplete"
                );
                for choice in &choices {
                    let choice_name = text(choice, "name");
                    assert!(
                        (1..=100).contains(&choice_name.chars().count()),
                        "{file}: choice name {choice_name:?}"
                    );
                    let value = text(choice, "value");
                    assert!((1..=100).contains(&value.chars().count()));
                    total += choice_name.chars().count() + value.chars().count();
                }
            }
            assert!(
                total < 4000,
                "{file}: {total} characters (Discord allows 4,000)"
            );
        }
    }

    #[test]
    fn every_command_is_guild_only() {
        for command in command_definitions().unwrap() {
            let name = text(&command, "name");
            assert_eq!(
                command["contexts"],
                serde_json::json!([0]),
                "{name}: GUILD context only"
            );
            assert_eq!(
                command["integration_types"],
                serde_json::json!([0]),
                "{name}: guild install"
            );
            assert_eq!(command["dm_permission"], false, "{name}");
        }
    }

    #[test]
    fn the_files_in_commands_are_exactly_the_embedded_ones_and_the_command_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
        let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let embedded: BTreeSet<String> = COMMANDS.iter().map(|c| c.file()).collect();
        assert_eq!(embedded.len(), COMMANDS.len(), "a command is listed twice");
        assert_eq!(on_disk, embedded);
        for command in COMMANDS {
            let on_disk = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("commands")
                    .join(command.file()),
            )
            .unwrap();
            assert_eq!(
                on_disk, command.json,
                "{} embeds its own file",
                command.name
            );
        }
        let parsed: Vec<String> = command_definitions()
            .unwrap()
            .iter()
            .map(|c| text(c, "name"))
            .collect();
        assert_eq!(parsed, command_names());
    }

    /// The options a definition parses are the options its JSON offers, in
    /// both directions: same names, order, required flags, autocomplete and choices.
    #[test]
    fn every_json_file_and_its_definition_agree_on_the_options() {
        for command in COMMANDS {
            let json: Value = serde_json::from_str(command.json).unwrap();
            let in_json: Vec<(String, bool, bool, Vec<String>)> = options(&json)
                .iter()
                .map(|option| {
                    let choices = option["choices"].as_array().cloned().unwrap_or_default();
                    (
                        text(option, "name"),
                        flag(option, "required"),
                        flag(option, "autocomplete"),
                        choices.iter().map(|c| text(c, "value")).collect(),
                    )
                })
                .collect();
            let defined: Vec<(String, bool, bool, Vec<String>)> = command
                .options
                .iter()
                .map(|o| {
                    (
                        o.name.to_owned(),
                        o.required,
                        o.autocomplete,
                        o.choices.iter().map(|c| (*c).to_owned()).collect(),
                    )
                })
                .collect();
            assert_eq!(in_json, defined, "/{}", command.name);
        }
    }

    /// (option name, required, autocomplete, choice values); every option is a string (type 3).
    type Expected = (&'static str, bool, bool, &'static [&'static str]);

    #[test]
    fn the_options_are_the_ones_the_interface_lists() {
        let interface: &[(&str, &[Expected])] = &[
            (
                "reset-password",
                &[
                    ("user", false, true, &[]),
                    ("method", false, false, &["temporary", "email"]),
                ],
            ),
            (
                "edit-user",
                &[
                    ("user", true, true, &[]),
                    ("school", false, true, &[]),
                    ("district", false, true, &[]),
                    ("role", false, false, &["school_admin", "district_admin"]),
                ],
            ),
            (
                "promote-request",
                &[("teacher", true, true, &[]), ("reason", true, false, &[])],
            ),
            ("link", &[("code", true, false, &[])]),
            ("link-code", &[("user", true, true, &[])]),
            ("whois", &[("user", true, true, &[])]),
            ("audit", &[("user", true, true, &[])]),
            ("class-cards", &[("class", true, true, &[])]),
        ];
        let definitions = command_definitions().unwrap();
        assert_eq!(definitions.len(), interface.len());
        for (command, (name, expected)) in definitions.iter().zip(interface) {
            assert_eq!(text(command, "name"), *name);
            let actual: Vec<(String, bool, bool, Vec<String>)> = options(command)
                .iter()
                .map(|option| {
                    assert_eq!(option["type"], 3, "{name}: {option} is a string option");
                    let choices = option["choices"].as_array().cloned().unwrap_or_default();
                    (
                        text(option, "name"),
                        flag(option, "required"),
                        flag(option, "autocomplete"),
                        choices.iter().map(|c| text(c, "value")).collect(),
                    )
                })
                .collect();
            let expected: Vec<(String, bool, bool, Vec<String>)> = expected
                .iter()
                .map(|(option, required, autocomplete, choices)| {
                    (
                        (*option).to_owned(),
                        *required,
                        *autocomplete,
                        choices.iter().map(|c| (*c).to_owned()).collect(),
                    )
                })
                .collect();
            assert_eq!(actual, expected, "/{name}");
        }
    }

    #[test]
    fn the_reset_password_user_option_says_that_empty_means_yourself() {
        let reset = &command_definitions().unwrap()[0];
        let user = &options(reset)[0];
        assert_eq!(text(user, "name"), "user");
        assert!(text(user, "description").contains("your own"));
        let method = &options(reset)[1];
        assert!(text(method, "description").contains("default"));
    }

    #[test]
    fn the_promotion_reason_is_bounded() {
        let promote = &command_definitions().unwrap()[2];
        let reason = &options(promote)[1];
        assert_eq!(text(reason, "name"), "reason");
        assert_eq!(reason["max_length"], 1000);
    }
}
