use super::*;

on_both_backends!(
    autocomplete_through_the_endpoint_offers_only_visible_people,
    the_edit_modal_round_trip_goes_through_the_endpoint,
);

async fn autocomplete_through_the_endpoint_offers_only_visible_people(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    // Thirty more students at A1, so more people match than one answer may hold.
    for n in 0..30u8 {
        let login = format!(
            "{}{}.student",
            (b'a' + n / 26) as char,
            (b'a' + n % 26) as char
        );
        bot.world
            .user(
                &bot.db.store,
                &login,
                hallpass::directory::Role::Student,
                crate::helpers::World::at(&bot.world.a1),
            )
            .await;
    }
    let payload =
        server
            .discord
            .autocomplete(Server::member(&bot.tess), "whois", "user", &[("user", "")]);
    let (status, answer) = server.send(&payload).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 8);
    let values: Vec<&str> = answer["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&bot.ana.id.to_string().as_str()));
    assert!(
        !values.contains(&bot.cara.id.to_string().as_str()),
        "a teacher never sees a student of another school"
    );
    let payload =
        server
            .discord
            .autocomplete(Server::member(&bot.sam), "whois", "user", &[("user", "")]);
    let (_, answer) = server.send(&payload).await;
    let values: Vec<&str> = answer["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert!(
        !values.contains(&bot.dana.id.to_string().as_str()),
        "a school admin never sees a district admin"
    );
    assert_eq!(
        values.len(),
        25,
        "over 30 people at A1 match; Discord takes at most 25 choices"
    );
    let distinct: std::collections::BTreeSet<_> = values.iter().collect();
    assert_eq!(distinct.len(), 25, "no one is offered twice");
}

async fn the_edit_modal_round_trip_goes_through_the_endpoint(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let (answer, _) = server
        .command(&bot.sam, "edit-user", &[("user", &bot.tess.id.to_string())])
        .await;
    assert_eq!(answer["type"], 9, "{answer}");
    let custom_id = answer["data"]["custom_id"].as_str().unwrap().to_owned();
    let labels: Vec<&str> = answer["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["first_name", "last_name", "title", "login"]);
    let submit = server.discord.modal_submit(
        Server::member(&bot.sam),
        &custom_id,
        &[
            ("first_name", "Tess"),
            ("last_name", "Teach"),
            ("title", "Head of Science"),
            ("login", "tess.teach"),
        ],
    );
    let (status, answer) = server.send(&submit).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 4);
    assert_eq!(answer["data"]["flags"], 64);
    assert_eq!(
        answer["data"]["content"],
        "Updated Teach, Tess:\n• title: Staff → Head of Science"
    );
    assert_eq!(
        bot.reload(&bot.tess).await.title.unwrap().as_str(),
        "Head of Science"
    );
}
