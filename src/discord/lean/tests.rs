//! The lean parse answers what serenity's parse and `understand` answer, for
//! the autocomplete bodies it takes, and leaves every other body to them.

use serde_json::{Value, json};

use super::autocomplete;
use crate::discord::interaction::understand;
use crate::standins::simulate::{Member, SimulatedDiscord};

fn discord() -> SimulatedDiscord {
    SimulatedDiscord::new([7; 32], 42)
}

const ANA: Member<'static> = Member {
    guild: 900_000_000_000_000_001,
    user: 800_000_000_000_000_002,
    username: "ana",
};

/// What serenity's model makes of `body`, as the endpoint understood it before.
fn by_serenity(body: &Value) -> String {
    let interaction = serde_json::from_value(body.clone()).expect("serenity parses it");
    format!("{:?}", understand(&interaction))
}

fn by_lean(body: &Value) -> Option<String> {
    autocomplete(&serde_json::to_vec(body).unwrap()).map(|i| format!("{i:?}"))
}

#[test]
fn an_autocomplete_reads_as_serenity_reads_it() {
    let d = discord();
    let bodies = [
        d.autocomplete(ANA, "whois", "user", &[("user", "lop")]),
        // The focused option between others, and an empty one.
        d.autocomplete(
            ANA,
            "move-student",
            "school",
            &[("student", "8123"), ("school", "Lin"), ("note", "")],
        ),
        d.autocomplete(ANA, "whois", "user", &[("user", "Ló pez, \"An\"\\")]),
        // Nothing focused (Discord always focuses one; the answer is the same).
        d.autocomplete(ANA, "whois", "none", &[("user", "x")]),
    ];
    for body in bodies {
        let lean = by_lean(&body).expect("the lean parse takes it");
        assert_eq!(lean, by_serenity(&body), "{body}");
        assert!(lean.contains("Autocomplete"), "{lean}");
    }
}

#[test]
fn in_a_direct_message_the_user_is_the_caller() {
    let mut body = discord().autocomplete(ANA, "whois", "user", &[("user", "a")]);
    let object = body.as_object_mut().unwrap();
    object.remove("guild_id");
    let member = object.remove("member").unwrap();
    object.insert("user".into(), member["user"].clone());
    let lean = by_lean(&body).expect("the lean parse takes it");
    assert_eq!(lean, by_serenity(&body));
    assert!(lean.contains("guild: None"), "{lean}");
}

#[test]
fn ids_sent_as_numbers_read_the_same() {
    let mut body = discord().autocomplete(ANA, "whois", "user", &[("user", "a")]);
    body["guild_id"] = json!(ANA.guild);
    body["channel_id"] = json!(1_200_000_000_000_000_001u64);
    assert_eq!(by_lean(&body).unwrap(), by_serenity(&body));
}

#[test]
fn other_bodies_are_left_to_serenity() {
    let d = discord();
    let mut integer = d.autocomplete(ANA, "whois", "user", &[("user", "a")]);
    integer["data"]["options"][0] =
        json!({ "name": "user", "type": 4, "value": 7, "focused": true });
    let mut subcommand = d.autocomplete(ANA, "whois", "user", &[]);
    subcommand["data"]["options"] = json!([{ "name": "sub", "type": 1, "options": [] }]);
    let mut no_channel = d.autocomplete(ANA, "whois", "user", &[("user", "a")]);
    no_channel.as_object_mut().unwrap().remove("channel_id");
    let mut no_caller = d.autocomplete(ANA, "whois", "user", &[("user", "a")]);
    no_caller.as_object_mut().unwrap().remove("member");
    let mut zero_id = d.autocomplete(ANA, "whois", "user", &[("user", "a")]);
    zero_id["id"] = json!("0");
    let others = [
        d.ping(),
        d.command(ANA, "whois", &[("user", "8123")]),
        d.modal_submit(ANA, "edit-user:1", &[("first", "Ana")]),
        integer,
        subcommand,
        no_channel,
        no_caller,
        zero_id,
        json!({ "type": 4 }),
    ];
    for body in others {
        assert_eq!(by_lean(&body), None, "{body}");
    }
    assert!(autocomplete(b"not json").is_none());
}
