//! Proof of the address (`KIRO_VERIFY_EMAIL=on`, the default): a code mailed by
//! `POST /verify-email`, asked back by `/check-credits`, through the real router over fakes.

use crate::common::b64;
use crate::common::{
    depleted, fixture, json_request, send, spawn_with_fakes_and, FakedApp, Reply, MEMBER_KEY,
};
use http::StatusCode;
use server::adapters::memory::Failure;

const ADA: &str = "ada@example.com";

fn app() -> FakedApp {
    spawn_with_fakes_and(depleted(ADA), |c| c.policy.verify_email = true)
}

async fn ask_for_code(app: &FakedApp, email: &str) -> Reply {
    send(
        &app.router,
        json_request(
            "/verify-email",
            Some(MEMBER_KEY),
            serde_json::json!({ "email": email }),
        ),
    )
    .await
}

/// The code in the newest mail to `email` (its subject ends with it).
fn mailed_code(app: &FakedApp, email: &str) -> String {
    let mail = app
        .mailer
        .sent()
        .into_iter()
        .rfind(|m| m.to == email)
        .expect("a code mail");
    let code = mail.subject.rsplit(' ').next().unwrap().to_owned();
    assert!(
        mail.text.contains(&code) && mail.html.contains(&code),
        "{mail:?}"
    );
    code
}

async fn check_with(app: &FakedApp, email: &str, code: Option<&str>) -> Reply {
    let mut body = serde_json::json!({
        "email": email,
        "image": b64(&fixture("depleted-light.png")),
    });
    if let Some(code) = code {
        body["code"] = code.into();
    }
    send(
        &app.router,
        json_request("/check-credits", Some(MEMBER_KEY), body),
    )
    .await
}

/// A code that is not `code` (same length).
fn another(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn the_mailed_code_lets_the_request_through() {
    let app = app();
    let sent = ask_for_code(&app, "Ada@Example.com").await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.body["email"], ADA);
    assert_eq!(sent.body["expiresInSecs"], 600);
    let code = mailed_code(&app, ADA);
    assert_eq!(code.len(), 6);

    let reply = check_with(&app, ADA, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");
    // A right code keeps working while it is valid: right tries do not use up the wrong ones.
    for _ in 0..7 {
        let again = check_with(&app, ADA, Some(&code)).await;
        assert_eq!(again.body["verdict"], "already_pro", "{}", again.text);
    }
    let wrong = check_with(&app, ADA, Some(&another(&code))).await;
    assert!(wrong.text.contains("4 more tries"), "{}", wrong.text);
    // Only a hash is kept: the code itself is in no stored object.
    for (key, bytes) in app.audit.small_objects() {
        assert!(!String::from_utf8_lossy(&bytes).contains(&code), "{key}");
        assert!(!key.contains("ada"), "{key}");
    }
}

#[tokio::test]
async fn without_a_right_code_nothing_is_read_or_kept() {
    let app = app();
    let missing = check_with(&app, ADA, None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert_eq!(missing.body["error"]["field"], "code");

    let none_sent = check_with(&app, ADA, Some("123456")).await;
    assert_eq!(
        none_sent.status,
        StatusCode::FORBIDDEN,
        "{}",
        none_sent.text
    );
    assert!(
        none_sent.text.contains("No code was sent"),
        "{}",
        none_sent.text
    );

    ask_for_code(&app, ADA).await;
    let code = mailed_code(&app, ADA);
    let wrong = check_with(&app, ADA, Some(&another(&code))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);
    assert_eq!(wrong.body["error"]["code"], "forbidden");
    assert_eq!(wrong.body["error"]["field"], "code");
    assert!(wrong.text.contains("4 more tries"), "{}", wrong.text);
    let malformed = check_with(&app, ADA, Some("12 34")).await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.text
    );

    // A code proves its own address only.
    let eve = check_with(&app, "eve@example.com", Some(&code)).await;
    assert_eq!(eve.status, StatusCode::FORBIDDEN, "{}", eve.text);

    assert_eq!(app.analyzer.calls(), 0);
    assert_eq!(app.audit.screenshot_count(), 0);
    assert!(app.audit.records().is_empty());
    assert_eq!(app.directory.user_count(), 0);
}

#[tokio::test]
async fn five_tries_a_code_even_when_they_race() {
    let app = app();
    ask_for_code(&app, ADA).await;
    let code = mailed_code(&app, ADA);
    let wrong = another(&code);
    let tries = (0..8).map(|_| check_with(&app, ADA, Some(&wrong)));
    let replies = futures::future::join_all(tries).await;
    let told_wrong = replies
        .iter()
        .filter(|r| r.text.contains("not right"))
        .count();
    let told_used_up = replies
        .iter()
        .filter(|r| r.text.contains("too many times"))
        .count();
    let texts: Vec<&str> = replies.iter().map(|r| r.text.as_str()).collect();
    assert_eq!((told_wrong, told_used_up), (5, 3), "{texts:?}");
    // The right code no longer helps: ask for a new one.
    let late = check_with(&app, ADA, Some(&code)).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.text);
    assert_eq!(app.analyzer.calls(), 0);
}

#[tokio::test]
async fn one_code_a_minute_per_address() {
    let app = app();
    assert_eq!(ask_for_code(&app, ADA).await.status, StatusCode::OK);
    let again = ask_for_code(&app, ADA).await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.text
    );
    let wait: u64 = again.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        again.text.contains("less than a minute ago"),
        "{}",
        again.text
    );
    assert_eq!(app.mailer.sent().len(), 1);
    // Another address is not held up.
    assert_eq!(
        ask_for_code(&app, "bob@example.com").await.status,
        StatusCode::OK
    );
}

/// Ten codes a UTC day per address: nine more issued earlier today (their keys written as the
/// store keeps them), and the eleventh is refused until tomorrow; another address is not.
#[tokio::test]
async fn ten_codes_a_day_per_address() {
    let app = app();
    assert_eq!(ask_for_code(&app, ADA).await.status, StatusCode::OK);
    let (key, bytes) = app.audit.small_objects().into_iter().next().unwrap();
    let (folder, name) = key.rsplit_once('/').unwrap();
    let minute: i64 = name.strip_suffix(".json").unwrap().parse().unwrap();
    let day_start = minute / 1440 * 1440;
    for earlier in (day_start..).filter(|m| *m != minute).take(9) {
        app.audit
            .overwrite(&format!("{folder}/{earlier:012}.json"), &bytes);
    }
    let refused = ask_for_code(&app, ADA).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("10 codes today"), "{}", refused.text);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert_eq!(app.mailer.sent().len(), 1);
    assert_eq!(
        ask_for_code(&app, "bob@example.com").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_code_older_than_ten_minutes_is_refused() {
    let app = app();
    ask_for_code(&app, ADA).await;
    let code = mailed_code(&app, ADA);
    let (key, bytes) = app.audit.small_objects().into_iter().next().unwrap();
    let mut issued: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    issued["issued_at"] = (issued["issued_at"].as_i64().unwrap() - 601).into();
    app.audit.overwrite(&key, issued.to_string().as_bytes());
    let reply = check_with(&app, ADA, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert!(reply.text.contains("expired"), "{}", reply.text);
}

#[tokio::test]
async fn a_code_that_cannot_be_mailed_is_a_503_and_outside_domains_get_none() {
    let app = spawn_with_fakes_and(depleted(ADA), |c| {
        c.policy.verify_email = true;
        c.policy.allowed_domains = app::domain::AllowedDomains::parse("example.com").unwrap();
    });
    let outside = ask_for_code(&app, "eve@elsewhere.org").await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN, "{}", outside.text);
    app.mailer.fail(Some(Failure::Unavailable));
    let failed = ask_for_code(&app, ADA).await;
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.text
    );
    assert!(app.mailer.sent().is_empty());
}

#[tokio::test]
async fn with_codes_off_there_is_nothing_to_ask_for() {
    let app = spawn_with_fakes_and(depleted(ADA), |c| c.policy.verify_email = false);
    assert_eq!(ask_for_code(&app, ADA).await.status, StatusCode::NOT_FOUND);
    assert_eq!(check_with(&app, ADA, None).await.body["verdict"], "granted");
}
