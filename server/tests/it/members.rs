//! Who may ask and what it costs, through the real router over the in-memory fakes: allowed
//! domains, the seat cap, the members list, revoking a seat, and the record of every
//! administrator action.

use crate::common::{
    check_request, depleted, fixture, json_request, send, spawn_with_fakes, spawn_with_fakes_and,
    FakedApp, Reply, ADMIN_KEY, MEMBER_KEY,
};
use app::domain::AllowedDomains;
use http::StatusCode;

/// `email` asks with a page the fake reads as theirs, used up; each asks with another image.
async fn asks(app: &FakedApp, email: &str, image: &str) -> Reply {
    app.analyzer.answer(depleted(email));
    send(
        &app.router,
        check_request(Some(MEMBER_KEY), email, &fixture(image)),
    )
    .await
}

async fn create(app: &FakedApp, email: &str) -> Reply {
    send(
        &app.router,
        json_request(
            "/create-user",
            Some(ADMIN_KEY),
            serde_json::json!({ "email": email }),
        ),
    )
    .await
}

async fn get(app: &FakedApp, uri: &str, key: &str) -> Reply {
    crate::common::get_with_key(&app.router, uri, key).await
}

async fn approve(app: &FakedApp, record_key: &serde_json::Value) -> Reply {
    let body = serde_json::json!({ "recordKey": record_key });
    send(
        &app.router,
        json_request("/reviews/approve", Some(ADMIN_KEY), body),
    )
    .await
}

async fn revoke(app: &FakedApp, key: &str, email: &str, note: &str) -> Reply {
    send(
        &app.router,
        json_request(
            "/members/revoke",
            Some(key),
            serde_json::json!({ "email": email, "note": note }),
        ),
    )
    .await
}

fn member_emails(page: &Reply) -> Vec<String> {
    page.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn addresses_outside_the_allowed_domains_are_refused_and_change_nothing() {
    let app = spawn_with_fakes_and(depleted("eve@evil.io"), |c| {
        c.policy.allowed_domains = AllowedDomains::parse("example.com").unwrap();
    });
    let asked = asks(&app, "eve@evil.io", "depleted-light.png").await;
    assert_eq!(asked.status, StatusCode::FORBIDDEN, "{}", asked.text);
    assert_eq!(asked.body["error"]["code"], "forbidden");
    assert_eq!(asked.body["error"]["field"], "email");
    let message = asked.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("example.com") && message.contains("eve@evil.io"),
        "{message}"
    );
    // Refused before the screenshot was read or kept.
    assert_eq!(app.analyzer.calls(), 0);
    assert_eq!(app.audit.screenshot_count(), 0);

    let created = create(&app, "eve@eng.example.com").await;
    assert_eq!(created.status, StatusCode::FORBIDDEN, "{}", created.text);
    assert_eq!(app.directory.user_count(), 0);

    // Inside the domain, in any letter case, all goes on as before.
    assert_eq!(create(&app, "Ada@EXAMPLE.com").await.status, StatusCode::OK);
    let ok = asks(&app, "bob@example.com", "depleted-light.png").await;
    assert_eq!(ok.body["verdict"], "granted", "{}", ok.text);
}

#[tokio::test]
async fn with_every_seat_taken_a_qualifying_request_waits_and_a_creation_is_refused() {
    let app = spawn_with_fakes_and(depleted("ada@example.com"), |c| {
        c.policy.max_seats = Some(1)
    });
    let first = asks(&app, "ada@example.com", "depleted-light.png").await;
    assert_eq!(first.body["verdict"], "granted", "{}", first.text);

    // The group is full: Bob qualifies, but waits for an administrator.
    let bob = asks(&app, "bob@example.com", "depleted-dark.png").await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.text);
    assert_eq!(bob.body["verdict"], "review");
    assert_eq!(bob.body["reason"], "no_seat_left");
    assert_eq!(app.directory.membership_count(), 1);
    let waiting = get(&app, "/reviews", ADMIN_KEY).await;
    assert_eq!(
        waiting.body[0]["email"], "bob@example.com",
        "{}",
        waiting.text
    );
    assert_eq!(waiting.body[0]["reason"], "no_seat_left");

    // An administrator cannot go past the cap either; an existing member is no new seat.
    let refused = create(&app, "cy@example.com").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("KIRO_MAX_SEATS"));
    assert_eq!(app.directory.user_count(), 1, "nothing was created");
    assert_eq!(create(&app, "ada@example.com").await.status, StatusCode::OK);
    let approved = approve(&app, &bob.body["recordKey"]).await;
    assert_eq!(approved.status, StatusCode::CONFLICT, "{}", approved.text);

    // A seat freed is a seat Bob's approval can take.
    assert_eq!(
        revoke(&app, ADMIN_KEY, "ada@example.com", "").await.status,
        StatusCode::OK
    );
    let approved = approve(&app, &bob.body["recordKey"]).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let members = get(&app, "/members", ADMIN_KEY).await;
    assert_eq!(member_emails(&members), ["bob@example.com"]);
    assert_eq!(members.body["seats"]["used"], 1);
    assert_eq!(members.body["seats"]["allowed"], 1);
}

#[tokio::test]
async fn an_admin_lists_members_revokes_one_and_every_action_is_on_the_record() {
    let app = spawn_with_fakes(depleted("ada@example.com"));
    assert_eq!(
        asks(&app, "ada@example.com", "depleted-light.png")
            .await
            .body["verdict"],
        "granted"
    );
    assert_eq!(
        create(&app, "grace@example.com").await.status,
        StatusCode::OK
    );

    let members = get(&app, "/members", ADMIN_KEY).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    assert_eq!(
        member_emails(&members),
        ["ada@example.com", "grace@example.com"]
    );
    assert_eq!(members.body["seats"]["used"], 2);
    assert_eq!(members.body["seats"]["allowed"], serde_json::Value::Null);
    let joined: Vec<&str> = members.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["joined"].as_str().unwrap_or_default())
        .collect();
    assert!(
        joined[0].starts_with("granted automatically at "),
        "{joined:?}"
    );
    assert!(joined[1].starts_with("created by admin-"), "{joined:?}");

    // Members cannot list or revoke.
    assert_eq!(
        get(&app, "/members", MEMBER_KEY).await.status,
        StatusCode::FORBIDDEN
    );
    let by_member = revoke(&app, MEMBER_KEY, "ada@example.com", "").await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    assert_eq!(app.directory.membership_count(), 2);

    let revoked = revoke(&app, ADMIN_KEY, "Ada@Example.com", "left the team").await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body["email"], "ada@example.com");
    let members = get(&app, "/members", ADMIN_KEY).await;
    assert_eq!(member_emails(&members), ["grace@example.com"]);
    assert_eq!(app.directory.user_count(), 2, "the user stays");

    // Twice, or someone who never had a seat: 404, nothing changes.
    for email in ["ada@example.com", "nobody@example.com"] {
        let again = revoke(&app, ADMIN_KEY, email, "").await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
    }
    assert_eq!(
        revoke(&app, ADMIN_KEY, "not an email", "").await.status,
        StatusCode::BAD_REQUEST
    );

    // The record: newest first, who (an id, never the key), what, the note.
    let actions = app.audit.actions();
    let kinds: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| (a.action.as_str(), a.target.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("revoke", "ada@example.com"),
            ("create_user", "grace@example.com")
        ]
    );
    assert!(actions[0].by.starts_with("admin-") && !actions[0].by.contains(ADMIN_KEY));
    assert_eq!(actions[0].note.as_deref(), Some("left the team"));

    // A revoked member's next request is decided like anyone's.
    let back = asks(&app, "ada@example.com", "depleted-dark.png").await;
    assert_eq!(back.body["verdict"], "granted", "{}", back.text);
}

#[tokio::test]
async fn a_bad_page_number_is_a_400() {
    let app = spawn_with_fakes(depleted("ada@example.com"));
    let reply = get(&app, "/members?page=minus-one", ADMIN_KEY).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.body["error"]["field"], "page");
    // Past the end: the last page.
    let reply = get(&app, "/members?page=99", ADMIN_KEY).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["page"], 0);
}
