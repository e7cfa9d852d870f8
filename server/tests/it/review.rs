//! The review queue through the real router over the in-memory fakes: an uncertain request
//! waits once, an administrator sees it with its screenshot and approves or denies it, the
//! record says who did, and a grant that fails leaves it waiting.

use crate::common::{
    check_request, fixture, json_request, send, spawn_with_fakes, used_up_counter, FakedApp, Reply,
    ADMIN_KEY, MEMBER_KEY,
};
use app::api::Evidence;
use http::StatusCode;
use server::adapters::memory::{AuditOp, DirectoryOp, Failure};

const ADA: &str = "ada@example.com";

/// A depleted Kiro page that also shows someone else's email: the rules send it to review.
fn two_emails() -> Evidence {
    Evidence {
        kiro_page: true,
        emails_seen: vec![ADA.into(), "bob@example.com".into()],
        counters: vec![used_up_counter()],
        ..Evidence::default()
    }
}

async fn ada_asks(app: &FakedApp) -> Reply {
    send(
        &app.router,
        check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png")),
    )
    .await
}

async fn get(app: &FakedApp, uri: &str, key: &str) -> Reply {
    crate::common::get_with_key(&app.router, uri, key).await
}

async fn settle(app: &FakedApp, verb: &str, key: &str, body: serde_json::Value) -> Reply {
    send(
        &app.router,
        json_request(&format!("/reviews/{verb}"), Some(key), body),
    )
    .await
}

/// Sends Ada's request to review and returns the one waiting line.
async fn ada_waits(app: &FakedApp) -> serde_json::Value {
    let reply = ada_asks(app).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "review");
    assert_eq!(reply.body["reason"], "several_emails");
    let listed = get(app, "/reviews", ADMIN_KEY).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let rows = listed.body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", listed.text);
    assert_eq!(rows[0]["email"], ADA);
    assert_eq!(rows[0]["recordKey"], reply.body["recordKey"]);
    rows[0].clone()
}

#[tokio::test]
async fn an_uncertain_request_waits_once_and_an_approval_grants_it_on_the_record() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    assert_eq!(app.directory.membership_count(), 0);

    // Asking again says it is already waiting, and queues nothing new.
    let again = ada_asks(&app).await;
    assert_eq!(again.body["verdict"], "review", "{}", again.text);
    assert_eq!(again.body["reason"], "already_waiting");
    assert_eq!(again.body["recordKey"], row["recordKey"]);
    assert_eq!(app.audit.records().len(), 1);

    // The screenshot, to an admin only.
    let shot_uri = format!("/screenshot?key={}", row["screenshotKey"].as_str().unwrap());
    let shot = get(&app, &shot_uri, ADMIN_KEY).await;
    assert_eq!(shot.status, StatusCode::OK);
    assert_eq!(shot.headers["content-type"], "image/png");
    // The body is bytes; `text` read them lossily, so the PNG signature's first byte is U+FFFD.
    assert!(shot.text.starts_with("\u{FFFD}PNG\r\n"), "not a PNG");
    assert_eq!(
        get(&app, &shot_uri, MEMBER_KEY).await.status,
        StatusCode::FORBIDDEN
    );
    let outside = get(&app, "/screenshot?key=claims/abc", ADMIN_KEY).await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST, "{}", outside.text);
    assert_eq!(outside.body["error"]["field"], "key");

    // A member key cannot settle; an admin key approves, and the record says which key.
    let body = serde_json::json!({ "recordKey": row["recordKey"], "note": "bob is a colleague in the shot" });
    let refused = settle(&app, "approve", MEMBER_KEY, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.directory.membership_count(), 0);
    let approved = settle(&app, "approve", ADMIN_KEY, body.clone()).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let by = approved.body["settlement"]["by"].as_str().unwrap();
    assert!(by.starts_with("admin-") && !by.contains(ADMIN_KEY), "{by}");
    assert_eq!(approved.body["settlement"]["approved"], true);
    assert_eq!(
        (app.directory.user_count(), app.directory.membership_count()),
        (1, 1)
    );
    let record = &app.audit.records()[row["recordKey"].as_str().unwrap()];
    assert_eq!(record.applied, Some(true));
    let settlement = record.settlement.as_ref().unwrap();
    assert_eq!(
        (settlement.by.as_str(), settlement.note.as_deref()),
        (by, Some("bob is a colleague in the shot"))
    );

    // Settled once: the queue is empty, a second ruling is a conflict, Ada is now Pro.
    let listed = get(&app, "/reviews", ADMIN_KEY).await;
    assert_eq!(listed.body, serde_json::json!([]));
    let twice = settle(&app, "deny", ADMIN_KEY, body).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert_eq!(twice.body["error"]["code"], "conflict");
    assert_eq!(app.directory.membership_count(), 1);
    assert_eq!(ada_asks(&app).await.body["verdict"], "already_pro");
}

#[tokio::test]
async fn a_denial_grants_nothing_and_the_next_request_is_decided_afresh() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    let denied = settle(
        &app,
        "deny",
        ADMIN_KEY,
        serde_json::json!({ "recordKey": row["recordKey"] }),
    )
    .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.text);
    assert_eq!(denied.body["settlement"]["approved"], false);
    assert_eq!(app.directory.membership_count(), 0);
    assert_eq!(
        get(&app, "/reviews", ADMIN_KEY).await.body,
        serde_json::json!([])
    );
    let next = ada_asks(&app).await;
    assert_eq!(next.body["reason"], "several_emails", "{}", next.text);
    assert_eq!(app.audit.records().len(), 2);
}

#[tokio::test]
async fn an_approval_whose_grant_fails_is_a_503_and_stays_waiting() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    let body = serde_json::json!({ "recordKey": row["recordKey"] });
    app.directory
        .fail(DirectoryOp::AddMember, Some(Failure::Unavailable));
    let failed = settle(&app, "approve", ADMIN_KEY, body.clone()).await;
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.text
    );
    let record = &app.audit.records()[row["recordKey"].as_str().unwrap()];
    assert!(record.settlement.is_none() && record.error.is_some());
    assert_eq!(get(&app, "/reviews", ADMIN_KEY).await.body[0]["email"], ADA);

    app.directory.fail(DirectoryOp::AddMember, None);
    let retried = settle(&app, "approve", ADMIN_KEY, body).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
    assert_eq!(app.directory.membership_count(), 1);
}

#[tokio::test]
async fn of_two_rulings_at_once_one_wins_and_the_other_gets_a_409() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    let body = serde_json::json!({ "recordKey": row["recordKey"] });
    let (approved, denied) = futures::join!(
        settle(&app, "approve", ADMIN_KEY, body.clone()),
        settle(&app, "deny", ADMIN_KEY, body.clone())
    );
    let statuses = [approved.status, denied.status];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
        "approve: {} {}; deny: {} {}",
        approved.status,
        approved.text,
        denied.status,
        denied.text
    );
    let winner_approved = approved.status == StatusCode::OK;
    let record = &app.audit.records()[row["recordKey"].as_str().unwrap()];
    assert_eq!(
        record.settlement.as_ref().map(|s| s.approved),
        Some(winner_approved)
    );
    assert_eq!(
        app.directory.membership_count(),
        usize::from(winner_approved)
    );
}

#[tokio::test]
async fn a_denial_whose_queue_entry_cannot_be_closed_does_not_lock_the_email() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    app.audit.fail(AuditOp::Reviews, Some(Failure::Unavailable));
    let denied = settle(
        &app,
        "deny",
        ADMIN_KEY,
        serde_json::json!({ "recordKey": row["recordKey"] }),
    )
    .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.text);
    app.audit.fail(AuditOp::Reviews, None);
    // The entry left behind names a settled record: it waits for nobody.
    assert_eq!(
        get(&app, "/reviews", ADMIN_KEY).await.body,
        serde_json::json!([])
    );
    let next = ada_asks(&app).await;
    assert_eq!(next.body["reason"], "several_emails", "{}", next.text);
    assert_ne!(next.body["recordKey"], row["recordKey"]);
}

#[tokio::test]
async fn only_a_waiting_review_can_be_settled() {
    let app = spawn_with_fakes(two_emails());
    let row = ada_waits(&app).await;
    let granted_key = row["recordKey"]
        .as_str()
        .unwrap()
        .replace("-review.json", ".json");
    for (record_key, status, code) in [
        (granted_key.as_str(), StatusCode::NOT_FOUND, "not_found"),
        (
            "screenshots/../keys.json",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("", StatusCode::BAD_REQUEST, "bad_request"),
    ] {
        let reply = settle(
            &app,
            "approve",
            ADMIN_KEY,
            serde_json::json!({ "recordKey": record_key }),
        )
        .await;
        assert_eq!(reply.status, status, "{record_key}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], code);
    }
    assert_eq!(app.directory.membership_count(), 0);
}

/// Bob sends Ada's granted page with his email pasted over hers: the pixels differ, so the
/// exact reuse check passes it, but it is alike (`likeness`) and goes to review beside Ada's.
#[tokio::test]
async fn an_edited_copy_of_another_accounts_granted_page_waits_beside_it() {
    const BOB: &str = "bob@example.com";
    let app = spawn_with_fakes(crate::common::depleted(ADA));
    let ada = ada_asks(&app).await;
    assert_eq!(ada.body["verdict"], "granted", "{}", ada.text);

    let mut edited = image::load_from_memory(&fixture("depleted-light.png"))
        .unwrap()
        .into_rgb8();
    let bob_page = image::load_from_memory(&fixture("bob-depleted-light.png"))
        .unwrap()
        .into_rgb8();
    image::imageops::replace(
        &mut edited,
        &*image::imageops::crop_imm(&bob_page, 375, 37, 158, 16),
        375,
        37,
    );
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(edited)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();

    app.analyzer.answer(crate::common::depleted(BOB));
    let bob = send(&app.router, check_request(Some(MEMBER_KEY), BOB, &png)).await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.text);
    assert_eq!(bob.body["verdict"], "review", "{}", bob.text);
    assert_eq!(bob.body["reason"], "similar_screenshot");
    assert!(
        !bob.text.contains(ADA),
        "the answer names the other account: {}",
        bob.text
    );
    assert_eq!(app.directory.membership_count(), 1);

    // The administrator sees both screenshots: Bob's, and the one Ada was granted with.
    let listed = get(&app, "/reviews", ADMIN_KEY).await;
    let row = &listed.body.as_array().unwrap()[0];
    assert_eq!(row["email"], BOB);
    let ada_shot = app
        .audit
        .records()
        .values()
        .find(|r| r.email == ADA)
        .unwrap()
        .screenshot_key
        .clone();
    assert_eq!(row["similarTo"], ada_shot.as_str(), "{}", listed.text);

    // A request the rules send to review anyway keeps its reason, with the other image beside.
    const DAN: &str = "dan@example.com";
    app.analyzer.answer(Evidence {
        emails_seen: vec![DAN.into(), "eve@example.com".into()],
        ..crate::common::depleted(DAN)
    });
    let dan = send(&app.router, check_request(Some(MEMBER_KEY), DAN, &png)).await;
    assert_eq!(dan.body["reason"], "several_emails", "{}", dan.text);
    let listed = get(&app, "/reviews", ADMIN_KEY).await;
    let row = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == DAN)
        .unwrap();
    assert_eq!(row["similarTo"], ada_shot.as_str(), "{}", listed.text);

    // A page of another layout is not alike: Cara's dark page is granted.
    const CARA: &str = "cara@example.com";
    app.analyzer.answer(crate::common::depleted(CARA));
    let cara = send(
        &app.router,
        check_request(Some(MEMBER_KEY), CARA, &fixture("depleted-dark.png")),
    )
    .await;
    assert_eq!(cara.body["verdict"], "granted", "{}", cara.text);
}

/// Bob's granted page, darkened, padded or moved in a larger frame (the likeness-dodge set,
/// `end2end/fixtures/likeness`), sent by Ada: each goes to review, none gets a seat.
#[tokio::test]
async fn a_darkened_padded_or_reframed_copy_of_a_granted_page_waits_for_review() {
    const BOB: &str = "bob@example.com";
    let app = spawn_with_fakes(crate::common::depleted(BOB));
    let bob_page = fixture("bob-depleted-light.png");
    let bob = send(&app.router, check_request(Some(MEMBER_KEY), BOB, &bob_page)).await;
    assert_eq!(bob.body["verdict"], "granted", "{}", bob.text);

    app.analyzer.answer(crate::common::depleted(ADA));
    for copy in [
        "darker-24",
        "flatter",
        "padded-white-right",
        "padded-left-top",
        "reframed",
    ] {
        let path =
            crate::common::fixtures_dir().join(format!("likeness/bob-depleted-light-{copy}.png"));
        let png = std::fs::read(path).unwrap();
        let ada = send(&app.router, check_request(Some(MEMBER_KEY), ADA, &png)).await;
        assert_eq!(ada.body["verdict"], "review", "{copy}: {}", ada.text);
        assert_eq!(ada.body["reason"], "similar_screenshot", "{copy}");
        // Settled as a denial, so the next copy is decided afresh (not "already waiting").
        let key = ada.body["recordKey"].as_str().unwrap().to_owned();
        let denied = send(
            &app.router,
            json_request(
                "/reviews/deny",
                Some(ADMIN_KEY),
                serde_json::json!({ "recordKey": key }),
            ),
        )
        .await;
        assert_eq!(denied.status, StatusCode::OK, "{copy}: {}", denied.text);
    }
    assert_eq!(app.directory.membership_count(), 1);
}
