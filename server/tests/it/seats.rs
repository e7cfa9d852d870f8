//! Seats that end, through the real router over the in-memory fakes and a clock the test moves
//! (`KIRO_TEST_CLOCK=movable`): the end on the members list, the reminder, renewal with a new
//! screenshot, the sweep taking the seat back (an action by `system`, a mail), evidence used
//! once never granting again, and an administrator's extension.

use crate::common::{
    check_request, depleted, fixture, get_with_key, json_request, send, spawn_with_fakes_and,
    FakedApp, Reply, ADMIN_KEY, MEMBER_KEY,
};
use app::ssr::seats::{parse_stamp, SeatPolicy};
use chrono::{Duration, Utc};
use http::StatusCode;
use server::adapters::memory::{DirectoryOp, Failure};

const ADA: &str = "ada@example.com";

fn app_with(policy: SeatPolicy) -> FakedApp {
    spawn_with_fakes_and(depleted(ADA), |config| {
        config.policy.seat_policy = policy;
        config.policy.reminder_days = 7;
        config.test_clock = true;
    })
}

async fn asks(app: &FakedApp, image: &str) -> Reply {
    app.analyzer.answer(depleted(ADA));
    send(
        &app.router,
        check_request(Some(MEMBER_KEY), ADA, &fixture(image)),
    )
    .await
}

async fn admin_post(app: &FakedApp, path: &str, body: serde_json::Value) -> Reply {
    send(&app.router, json_request(path, Some(ADMIN_KEY), body)).await
}

async fn sweep(app: &FakedApp) -> serde_json::Value {
    let reply = admin_post(app, "/seats/sweep", serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

async fn move_clock(app: &FakedApp, by: Duration) {
    let body = serde_json::json!({ "advanceSeconds": by.num_seconds() });
    let reply = admin_post(app, "/test/clock", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

/// Ada's row on the members list, if she has one.
async fn ada_on_the_list(app: &FakedApp) -> Option<serde_json::Value> {
    let page = get_with_key(&app.router, "/members", ADMIN_KEY).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    page.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == ADA)
        .cloned()
}

fn ends_of(row: &serde_json::Value) -> chrono::DateTime<Utc> {
    parse_stamp(row["ends"].as_str().expect("an end")).unwrap()
}

fn mails_to_ada(app: &FakedApp, subject: &str) -> usize {
    let sent = app.mailer.sent();
    sent.iter()
        .filter(|m| m.to == ADA && m.subject.contains(subject))
        .count()
}

#[tokio::test]
async fn a_one_day_seat_is_reminded_renewed_and_taken_back_and_its_evidence_never_grants_again() {
    let app = app_with(SeatPolicy::Days(1));
    let granted = asks(&app, "depleted-light.png").await;
    assert_eq!(granted.body["verdict"], "granted", "{:?}", granted.body);
    let row = ada_on_the_list(&app).await.expect("a member");
    let first_end = ends_of(&row);
    let in_a_day = Utc::now() + Duration::days(1);
    assert!((first_end - in_a_day).num_minutes().abs() < 5, "{row}");
    assert_eq!(row["permanent"], false);

    // Nothing due yet; a member who is not due is Pro already.
    assert_eq!(sweep(&app).await["reminded"], 0);
    let again = asks(&app, "depleted-dark.png").await;
    assert_eq!(again.body["verdict"], "already_pro", "{:?}", again.body);

    // Half-way through one day, the reminder, once.
    move_clock(&app, Duration::hours(13)).await;
    let report = sweep(&app).await;
    assert_eq!(
        (report["reminded"].as_u64(), report["reclaimed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(mails_to_ada(&app, "renew"), 1);
    assert_eq!(sweep(&app).await["reminded"], 0, "reminded once");

    // Due: the screenshot she was granted with does not renew; a new one does, from the end.
    let reused = asks(&app, "depleted-light.png").await;
    assert_eq!(reused.body["verdict"], "denied", "{:?}", reused.body);
    assert_eq!(reused.body["reason"], "screenshot_reused");
    let renewed = asks(&app, "depleted-dark.png").await;
    assert_eq!(renewed.body["verdict"], "granted", "{:?}", renewed.body);
    assert!(renewed.body["message"]
        .as_str()
        .unwrap()
        .contains("renewed"));
    let row = ada_on_the_list(&app).await.expect("still a member");
    assert_eq!(ends_of(&row), first_end + Duration::days(1), "{row}");

    // Past the renewed end: the sweep takes the seat back; the user stays.
    move_clock(&app, Duration::days(2)).await;
    let report = sweep(&app).await;
    assert_eq!(report["reclaimed"], 1, "{report}");
    assert!(ada_on_the_list(&app).await.is_none());
    assert_eq!(app.directory.membership_count(), 0);
    assert_eq!(app.directory.user_count(), 1);
    assert_eq!(mails_to_ada(&app, "ended"), 1);
    let actions = app.audit.actions();
    let expired: Vec<_> = actions
        .iter()
        .filter(|a| a.action == app::api::AdminActionKind::Expire)
        .collect();
    assert_eq!(expired.len(), 1, "{actions:?}");
    assert_eq!(
        (expired[0].by.as_str(), expired[0].target.as_str()),
        ("system", ADA)
    );
    assert_eq!(sweep(&app).await["reclaimed"], 0, "taken back once");

    // Neither screenshot she held a seat with grants again; one never used does.
    for used in ["depleted-light.png", "depleted-dark.png"] {
        let refused = asks(&app, used).await;
        assert_eq!(
            refused.body["reason"], "screenshot_reused",
            "{used}: {:?}",
            refused.body
        );
    }
    assert_eq!(app.directory.membership_count(), 0);
    let fresh = asks(&app, "cara-depleted-dark.png").await;
    assert_eq!(fresh.body["verdict"], "granted", "{:?}", fresh.body);
    assert_eq!(app.directory.membership_count(), 1);
}

#[tokio::test]
async fn a_revoked_member_cannot_come_back_with_the_same_screenshot() {
    let app = app_with(SeatPolicy::Forever);
    assert_eq!(
        asks(&app, "depleted-light.png").await.body["verdict"],
        "granted"
    );
    assert!(ada_on_the_list(&app).await.unwrap()["permanent"] == true);
    let body = serde_json::json!({ "email": ADA });
    assert_eq!(
        admin_post(&app, "/members/revoke", body).await.status,
        StatusCode::OK
    );

    let refused = asks(&app, "depleted-light.png").await;
    assert_eq!(refused.body["verdict"], "denied", "{:?}", refused.body);
    assert_eq!(refused.body["reason"], "screenshot_reused");
    assert_eq!(app.directory.membership_count(), 0);
    assert_eq!(
        asks(&app, "depleted-dark.png").await.body["verdict"],
        "granted"
    );
}

#[tokio::test]
async fn a_grant_that_failed_is_completed_by_the_same_screenshot() {
    let app = app_with(SeatPolicy::Days(30));
    app.directory
        .fail(DirectoryOp::AddMember, Some(Failure::Unavailable));
    let failed = asks(&app, "depleted-light.png").await;
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        failed.body
    );
    app.directory.fail(DirectoryOp::AddMember, None);
    let retried = asks(&app, "depleted-light.png").await;
    assert_eq!(retried.body["verdict"], "granted", "{:?}", retried.body);
    // The retry completes the one grant: one term, not two.
    let ends = ends_of(&ada_on_the_list(&app).await.expect("a member"));
    assert!(ends < Utc::now() + Duration::days(31), "{ends}");
}

/// The same request twice at once: both grant (idempotent), and the seat has one term.
#[tokio::test]
async fn two_identical_requests_at_once_give_one_term() {
    let app = app_with(SeatPolicy::Days(30));
    // Both reach CreateGroupMembership, after their seats were written, before either acts.
    app.directory.rendezvous(DirectoryOp::AddMember, 2);
    let request = || {
        send(
            &app.router,
            check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png")),
        )
    };
    let (a, b) = tokio::join!(request(), request());
    for reply in [&a, &b] {
        assert_eq!(reply.body["verdict"], "granted", "{:?}", reply.body);
    }
    let ends = ends_of(&ada_on_the_list(&app).await.expect("a member"));
    assert!(ends < Utc::now() + Duration::days(31), "two terms: {ends}");
}

#[tokio::test]
async fn an_administrator_extends_a_seat_or_makes_it_permanent() {
    let app = app_with(SeatPolicy::Days(30));
    let created = admin_post(&app, "/create-user", serde_json::json!({ "email": ADA })).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let first_end = parse_stamp(created.body["seatEnds"].as_str().unwrap()).unwrap();
    assert!(
        (first_end - (Utc::now() + Duration::days(30)))
            .num_minutes()
            .abs()
            < 5
    );

    let extended = admin_post(&app, "/members/extend", serde_json::json!({ "email": ADA })).await;
    assert_eq!(extended.status, StatusCode::OK, "{:?}", extended.body);
    assert_eq!(
        ends_of(&ada_on_the_list(&app).await.unwrap()),
        first_end + Duration::days(30)
    );

    let body = serde_json::json!({ "email": ADA, "permanent": true, "note": "on the board" });
    let permanent = admin_post(&app, "/members/extend", body).await;
    assert_eq!(
        permanent.body["ends"],
        serde_json::Value::Null,
        "{:?}",
        permanent.body
    );
    move_clock(&app, Duration::days(400)).await;
    assert_eq!(sweep(&app).await["reclaimed"], 0);
    let row = ada_on_the_list(&app).await.expect("a permanent seat stays");
    assert_eq!(row["permanent"], true);
    let kinds: Vec<_> = app.audit.actions().iter().map(|a| a.action).collect();
    assert!(
        kinds.contains(&app::api::AdminActionKind::Extend),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&app::api::AdminActionKind::MakePermanent),
        "{kinds:?}"
    );

    let stranger = serde_json::json!({ "email": "bob@example.com" });
    let missing = admin_post(&app, "/members/extend", stranger).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{:?}", missing.body);
    let member = send(
        &app.router,
        json_request(
            "/members/extend",
            Some(MEMBER_KEY),
            serde_json::json!({ "email": ADA }),
        ),
    )
    .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN, "{:?}", member.body);
}

#[tokio::test]
async fn a_sweep_step_that_fails_is_done_by_the_next_run() {
    let app = app_with(SeatPolicy::Days(1));
    assert_eq!(
        asks(&app, "depleted-light.png").await.body["verdict"],
        "granted"
    );
    move_clock(&app, Duration::days(2)).await;
    app.directory
        .fail(DirectoryOp::RemoveMember, Some(Failure::Unavailable));
    let report = sweep(&app).await;
    assert_eq!(
        (report["reclaimed"].as_u64(), report["failed"].as_u64()),
        (Some(0), Some(1))
    );
    assert!(ada_on_the_list(&app).await.is_some());
    app.directory.fail(DirectoryOp::RemoveMember, None);
    assert_eq!(sweep(&app).await["reclaimed"], 1);
    assert!(ada_on_the_list(&app).await.is_none());
}

#[tokio::test]
async fn the_clock_moves_only_when_the_configuration_says() {
    let app = spawn_with_fakes_and(depleted(ADA), |_| {});
    let body = serde_json::json!({ "advanceSeconds": 86400 });
    let reply = admin_post(&app, "/test/clock", body).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    assert_eq!(reply.body["error"]["code"], "not_found");
}
