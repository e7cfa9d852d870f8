//! The request-Pro workflow's failure branches, through the real router over the in-memory
//! fakes: each fake is told to fail one operation, and the answer, the record and the
//! directory are checked. Also: what a 5xx logs, and racing grants.

use crate::common::{
    check_request, depleted, fixture, send, spawn_with_fakes, FakedApp, MEMBER_KEY,
};
use app::api::Evidence;
use http::StatusCode;
use server::adapters::memory::{AuditOp, DirectoryOp, Failure};
use std::sync::{Arc, Mutex};

const ADA: &str = "ada@example.com";

async fn ada_asks(app: &FakedApp) -> crate::common::Reply {
    send(
        &app.router,
        check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png")),
    )
    .await
}

#[tokio::test]
async fn the_fakes_grant_a_depleted_page() {
    let app = spawn_with_fakes(depleted(ADA));
    let reply = ada_asks(&app).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");
    assert_eq!(
        (app.directory.user_count(), app.directory.membership_count()),
        (1, 1)
    );
    let records = app.audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records.values().next().unwrap().applied, Some(true));
}

#[tokio::test]
async fn a_claim_lost_to_another_email_at_grant_time_is_a_reuse_denial() {
    let app = spawn_with_fakes(depleted(ADA));
    app.audit.claim_meanwhile_by("eve@example.com");
    let reply = ada_asks(&app).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "denied");
    assert_eq!(reply.body["reason"], "screenshot_reused");
    assert_eq!(app.directory.membership_count(), 0);
    let record_key = reply.body["recordKey"].as_str().unwrap();
    assert!(record_key.ends_with("-deny.json"), "{record_key}");
}

/// Captures log lines written while it is the default subscriber (this test's thread).
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_directory_failing_after_the_record_is_a_503_with_a_record_that_says_so() {
    let logs = LogCapture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let app = spawn_with_fakes(depleted(ADA));
    app.directory
        .fail(DirectoryOp::AddMember, Some(Failure::Unavailable));
    let reply = ada_asks(&app).await;

    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    let error = &reply.body["error"];
    assert_eq!(error["code"], "unavailable");
    // The client gets plain words and the request id, never the dependency's text.
    let request_id = reply.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(error["requestId"], request_id.as_str());
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("qualifies"), "{message}");
    assert!(message.contains(&request_id), "{message}");
    assert!(!message.contains("fake failure"), "{message}");
    // The log has the whole cause and the same id.
    let log = logs.text();
    let line = log
        .lines()
        .find(|l| l.contains("request failed"))
        .unwrap_or_else(|| panic!("no 5xx log line in:\n{log}"));
    assert!(line.contains("fake failure of AddMember"), "{line}");
    assert!(line.contains(&request_id), "{line}");

    // Nothing half-done: the user exists but holds no seat, and the record says why.
    assert_eq!(app.directory.membership_count(), 0);
    let records = app.audit.records();
    let record = records.values().next().expect("the decision is on record");
    assert_eq!(record.verdict, app::api::Verdict::Granted);
    assert_eq!(record.applied, Some(false));
    let why = record.error.as_deref().unwrap_or_default();
    assert!(why.contains("fake failure of AddMember"), "{why}");
}

#[tokio::test]
async fn no_record_no_grant() {
    let app = spawn_with_fakes(depleted(ADA));
    app.audit
        .fail(AuditOp::PutRecord, Some(Failure::Unavailable));
    let reply = ada_asks(&app).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    assert_eq!(app.directory.user_count(), 0);
    assert_eq!(app.directory.membership_count(), 0);
}

#[tokio::test]
async fn a_failed_record_update_after_the_grant_still_answers_granted() {
    let app = spawn_with_fakes(depleted(ADA));
    // The decision is written; the update that marks it applied fails.
    app.audit
        .fail_after(AuditOp::PutRecord, 1, Failure::Unavailable);
    let reply = ada_asks(&app).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");
    assert_eq!(app.directory.membership_count(), 1);
    let records = app.audit.records();
    assert_eq!(records.values().next().unwrap().applied, Some(false));
}

#[tokio::test]
async fn an_analyzer_timeout_is_a_504_that_changes_nothing() {
    let app = spawn_with_fakes(depleted(ADA));
    app.analyzer.fail(Some(Failure::Timeout));
    let reply = ada_asks(&app).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "timeout");
    assert_eq!(app.directory.user_count(), 0);
    assert_eq!(app.audit.screenshot_count(), 0);
}

#[tokio::test]
async fn analyzer_garbage_is_denied_as_unreadable_and_recorded() {
    let app = spawn_with_fakes(Evidence {
        unreadable: Some("the answer was not the evidence tool".into()),
        ..depleted(ADA)
    });
    let reply = ada_asks(&app).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "denied");
    assert_eq!(reply.body["reason"], "unreadable");
    assert_eq!(app.directory.user_count(), 0);
    assert_eq!(app.audit.records().len(), 1);
}

#[tokio::test]
async fn racing_identical_grants_take_the_conflict_branches_and_make_one_seat() {
    let app = spawn_with_fakes(depleted(ADA));
    // Both requests reach CreateUser, then CreateGroupMembership, before either acts.
    app.directory.rendezvous(DirectoryOp::CreateUser, 2);
    app.directory.rendezvous(DirectoryOp::AddMember, 2);
    let (a, b) = tokio::join!(ada_asks(&app), ada_asks(&app));
    for reply in [&a, &b] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["verdict"], "granted", "{}", reply.text);
    }
    assert_eq!(app.directory.conflicts(), 2, "both conflict branches ran");
    assert_eq!(
        (app.directory.user_count(), app.directory.membership_count()),
        (1, 1)
    );
}

/// Ada and Bob send pages that differ only in the email at once: Ada's grant waits in
/// CreateGroupMembership (for a second caller, 5 s at most) before her image is remembered
/// after the grant, so Bob's check must see her reservation.
#[tokio::test]
async fn racing_near_duplicates_do_not_both_get_a_seat() {
    const BOB: &str = "bob@example.com";
    let app = spawn_with_fakes(depleted(ADA));
    let bob_page = fixture("bob-depleted-light.png");
    let bob_sha = app::ssr::normalise::normalise(&bob_page).unwrap().sha256;
    app.analyzer.answer_for(&bob_sha, depleted(BOB));
    app.directory.rendezvous(DirectoryOp::AddMember, 2);
    let bob_asks = send(&app.router, check_request(Some(MEMBER_KEY), BOB, &bob_page));
    let (ada, bob) = tokio::join!(ada_asks(&app), bob_asks);
    let verdicts = [&ada.body["verdict"], &bob.body["verdict"]];
    assert_eq!(
        verdicts.iter().filter(|v| **v == "granted").count(),
        1,
        "{}\n{}",
        ada.text,
        bob.text
    );
    let reviewed = if ada.body["verdict"] == "review" {
        &ada
    } else {
        &bob
    };
    assert_eq!(
        reviewed.body["reason"], "similar_screenshot",
        "{}",
        reviewed.text
    );
    assert_eq!(app.directory.membership_count(), 1);
}

/// A likeness is kept before the grant and let go when the grant does not happen: after Ada's
/// grant failed, Bob's page (alike to hers) is granted, not sent to review beside it.
#[tokio::test]
async fn a_grant_that_failed_keeps_no_likeness() {
    const BOB: &str = "bob@example.com";
    let app = spawn_with_fakes(depleted(ADA));
    app.directory
        .fail(DirectoryOp::AddMember, Some(Failure::Unavailable));
    let ada = ada_asks(&app).await;
    assert_eq!(ada.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ada.text);
    app.directory.fail(DirectoryOp::AddMember, None);

    app.analyzer.answer(depleted(BOB));
    let bob = send(
        &app.router,
        check_request(Some(MEMBER_KEY), BOB, &fixture("bob-depleted-light.png")),
    )
    .await;
    assert_eq!(bob.body["verdict"], "granted", "{}", bob.text);
}

/// Ada's request as Lambda hands it over: with the invocation's deadline `after` from now.
fn ada_on_lambda(after: std::time::Duration) -> http::Request<axum::body::Body> {
    let mut request = check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png"));
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut context = lambda_http::Context::default();
    context.deadline = now_ms + after.as_millis() as u64;
    request.extensions_mut().insert(context);
    request
}

/// Sends Ada's request on Lambda. A request not stopped by its deadline ends when the hung fake
/// answers (30 s), and the test's timing assertion fails.
async fn send_on_lambda(app: &FakedApp, after: std::time::Duration) -> crate::common::Reply {
    send(&app.router, ada_on_lambda(after)).await
}

#[tokio::test]
async fn a_hung_reader_is_stopped_in_time_for_the_grant_and_changes_nothing() {
    use std::time::{Duration, Instant};
    let app = spawn_with_fakes(depleted(ADA));
    app.analyzer.fail(Some(Failure::Hang));
    let started = Instant::now();
    // 8 s left, 6 s of them kept for the grant: the reader gets 2 s.
    let reply = send(&app.router, ada_on_lambda(Duration::from_secs(8))).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT, "{}", reply.text);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.directory.user_count(), 0);
    assert!(app.audit.records().is_empty());
}

#[tokio::test]
async fn a_hung_directory_is_stopped_before_the_deadline_and_the_record_says_so() {
    use std::time::{Duration, Instant};
    let app = spawn_with_fakes(depleted(ADA));
    app.directory
        .fail(DirectoryOp::AddMember, Some(Failure::Hang));
    let started = Instant::now();
    let reply = send_on_lambda(&app, Duration::from_secs(8)).await;
    // Answered before Lambda would have cut it off, with the record updated.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT, "{}", reply.text);
    let records = app.audit.records();
    let record = records.values().next().unwrap();
    assert_eq!(record.applied, Some(false));
    assert!(
        record
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("in time"),
        "{:?}",
        record.error
    );
    // Half done (the user, not the membership); asking again completes it.
    assert_eq!(
        (app.directory.user_count(), app.directory.membership_count()),
        (1, 0)
    );
    app.directory.fail(DirectoryOp::AddMember, None);
    let again = ada_asks(&app).await;
    assert_eq!(again.body["verdict"], "granted", "{}", again.text);
    assert_eq!(
        (app.directory.user_count(), app.directory.membership_count()),
        (1, 1)
    );
}

#[tokio::test]
async fn with_every_analysis_slot_taken_a_request_waits_its_bound_then_gets_a_503_to_retry() {
    use app::ssr::capacity::AnalysisLimits;
    use std::time::{Duration, Instant};
    let app = crate::common::spawn_with_fakes_and(depleted(ADA), |c| {
        c.analysis_limits = AnalysisLimits {
            max_concurrent: 1,
            wait: Duration::from_millis(300),
        }
    });
    // Ada's reading hangs and holds the one slot.
    app.analyzer.fail(Some(Failure::Hang));
    let router = app.router.clone();
    let first = tokio::spawn(async move {
        send(
            &router,
            check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png")),
        )
        .await
    });
    let waiting_since = Instant::now();
    while app.analyzer.calls() == 0 {
        assert!(
            waiting_since.elapsed() < Duration::from_secs(10),
            "never read"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let grace = || {
        check_request(
            Some(MEMBER_KEY),
            "grace@example.com",
            &fixture("depleted-dark.png"),
        )
    };
    let started = Instant::now();
    let refused = send(&app.router, grace()).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.text
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(refused.body["error"]["code"], "unavailable");
    assert_eq!(refused.headers["retry-after"], "5");
    assert_eq!(refused.body["error"]["retryAfterSecs"], 5);
    // Grace's screenshot was neither read nor kept.
    assert_eq!(app.analyzer.calls(), 1);
    assert_eq!(app.audit.screenshot_count(), 0);

    // Ada's request goes away (the client hung up): the slot is free again.
    first.abort();
    let _ = first.await;
    app.analyzer.fail(None);
    app.analyzer.answer(depleted("grace@example.com"));
    let granted = send(&app.router, grace()).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.body["verdict"], "granted");
}
