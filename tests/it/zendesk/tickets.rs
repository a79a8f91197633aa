use super::*;

#[tokio::test]
async fn a_ticket_is_created_with_exactly_the_body_and_headers_zendesk_documents() {
    let zendesk = standin().await;
    let ticket = promotion(7);

    let created = oauth_client(&zendesk)
        .create_ticket(&ticket, "promotion-7")
        .await
        .unwrap();

    let posts = zendesk.requests_to("POST", "/api/v2/tickets");
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(
        post.json().unwrap(),
        json!({"ticket": {
            "subject": "Promotion request #7: Ana Lopez to school admin at Lincoln MS",
            "comment": {
                "body": "Maria Chen asks that Ana Lopez become a school admin. Reason: runs the timetable.",
                "public": false
            },
            "requester": {"name": "Maria Chen", "email": "m.chen@lincoln.example.org"},
            "external_id": "hallpass-promotion-7",
            "tags": ["hallpass", "promotion_request"]
        }})
    );
    assert_eq!(post.header("Idempotency-Key"), Some("promotion-7"));
    assert_eq!(post.header("Content-Type"), Some("application/json"));
    assert_eq!(
        post.header("Authorization"),
        Some(bearer_of(&zendesk, 0).as_str())
    );

    let stored = zendesk.tickets();
    assert_eq!(stored.len(), 1);
    assert_eq!(created.id, stored[0].id);
    assert_eq!(
        stored[0].comments,
        vec![StoredComment {
            body: ticket.body.clone(),
            public: false
        }]
    );
}

#[tokio::test]
async fn the_same_idempotency_key_twice_creates_one_ticket() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);

    let first = client
        .create_ticket(&promotion(13), "same-key")
        .await
        .unwrap();
    let second = client
        .create_ticket(&promotion(13), "same-key")
        .await
        .unwrap();
    let other = client
        .create_ticket(&promotion(13), "other-key")
        .await
        .unwrap();

    assert_eq!(first, second);
    assert_ne!(first, other, "a new key is a new ticket");
    assert_eq!(zendesk.requests_to("POST", "/api/v2/tickets").len(), 3);
    assert_eq!(zendesk.tickets().len(), 2);
}

#[tokio::test]
async fn reusing_a_key_for_a_different_ticket_is_rejected() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    client
        .create_ticket(&promotion(14), "reused")
        .await
        .unwrap();

    let error = client
        .create_ticket(&promotion(15), "reused")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ZendeskError::Rejected { status: 400, message } if message.contains("IdempotentRequestError")),
        "{error:?}"
    );
    assert_eq!(zendesk.tickets().len(), 1);
}

#[tokio::test]
async fn find_by_external_id_finds_the_ticket_and_nothing_for_an_unknown_id() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    let sixteen = client.create_ticket(&promotion(16), "k16").await.unwrap();
    let seventeen = client.create_ticket(&promotion(17), "k17").await.unwrap();

    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-16")
            .await
            .unwrap(),
        Some(sixteen)
    );
    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-17")
            .await
            .unwrap(),
        Some(seventeen)
    );
    assert_eq!(
        client
            .find_by_external_id("hallpass-promotion-99")
            .await
            .unwrap(),
        None
    );
    let lookup = &zendesk.requests_to("GET", "/api/v2/tickets")[0];
    assert_eq!(
        lookup.query.as_deref(),
        Some("external_id=hallpass-promotion-16")
    );
}

#[tokio::test]
async fn add_internal_note_appends_a_private_comment() {
    let zendesk = standin().await;
    let client = oauth_client(&zendesk);
    let ticket = promotion(18);
    let created = client.create_ticket(&ticket, "k18").await.unwrap();

    client
        .add_internal_note(created.id, "The teacher's principal confirmed by phone.")
        .await
        .unwrap();

    let path = format!("/api/v2/tickets/{}", created.id);
    let put = &zendesk.requests_to("PUT", &path)[0];
    assert_eq!(
        put.json().unwrap(),
        json!({"ticket": {"comment": {"body": "The teacher's principal confirmed by phone.", "public": false}}})
    );
    assert_eq!(
        zendesk.ticket(created.id).unwrap().comments,
        vec![
            StoredComment {
                body: ticket.body,
                public: false
            },
            StoredComment {
                body: "The teacher's principal confirmed by phone.".into(),
                public: false
            },
        ]
    );
}

#[tokio::test]
async fn a_note_on_a_ticket_zendesk_does_not_have_is_rejected_with_404() {
    let zendesk = standin().await;

    let error = oauth_client(&zendesk)
        .add_internal_note(4242, "hello?")
        .await
        .unwrap_err();

    assert!(
        matches!(error, ZendeskError::Rejected { status: 404, .. }),
        "{error:?}"
    );
}
