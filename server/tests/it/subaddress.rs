//! One person, one address (`KIRO_SUBADDRESSES`): `ada+1@example.com` is Ada for her code, her
//! seat and her place in the queue; a domain can refuse tags or keep them as other people. And one
//! person's share: `KIRO_REQUESTS_PER_ADDRESS` screenshots a day, whatever tag or key they use.

use crate::common::{
    b64, check_request, depleted, fixture, get_with_key, json_request, send, spawn_with_fakes_and,
    FakedApp, Reply, ADMIN_KEY, MEMBER_KEY,
};
use app::ssr::subaddress::SubAddresses;
use http::StatusCode;

const ADA: &str = "ada@example.com";

fn app_with(rules: &str, page_account: &str) -> FakedApp {
    let rules = SubAddresses::parse(rules).unwrap();
    spawn_with_fakes_and(depleted(page_account), |c| {
        c.policy.verify_email = true;
        c.policy.subaddresses = rules;
    })
}

async fn post(app: &FakedApp, path: &str, body: serde_json::Value) -> Reply {
    send(&app.router, json_request(path, Some(MEMBER_KEY), body)).await
}

async fn ask_for_code(app: &FakedApp, email: &str) -> Reply {
    post(app, "/verify-email", serde_json::json!({ "email": email })).await
}

/// The code in the newest mail to `to`.
fn code_mailed_to(app: &FakedApp, to: &str) -> Option<String> {
    let mail = app.mailer.sent().into_iter().rfind(|m| m.to == to)?;
    mail.subject.rsplit(' ').next().map(str::to_owned)
}

async fn check(app: &FakedApp, email: &str, code: &str, image: &str) -> Reply {
    let body = serde_json::json!({ "email": email, "code": code, "image": b64(&fixture(image)) });
    post(app, "/check-credits", body).await
}

async fn members(app: &FakedApp) -> Vec<String> {
    let page = get_with_key(&app.router, "/members", ADMIN_KEY).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let list = page.body["members"].as_array().unwrap();
    list.iter()
        .map(|m| m["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn by_default_every_tag_is_the_same_person_with_one_code_and_one_seat() {
    // Her Kiro account is a tagged address too: the page is still hers.
    let app = app_with("", "ada+kiro@example.com");
    let sent = ask_for_code(&app, "Ada+1@example.com").await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.body["email"], ADA);
    assert!(code_mailed_to(&app, "ada+1@example.com").is_none());
    let code = code_mailed_to(&app, ADA).expect("a code mailed to Ada");

    let granted = check(&app, "ada+2@example.com", &code, "depleted-light.png").await;
    assert_eq!(granted.body["verdict"], "granted", "{}", granted.text);
    assert_eq!(granted.body["email"], ADA);
    // Another tag, another screenshot: the same person, who holds a seat already.
    let again = check(&app, "ada+3@example.com", &code, "depleted-dark.png").await;
    assert_eq!(again.body["verdict"], "already_pro", "{}", again.text);
    assert_eq!(members(&app).await, vec![ADA.to_owned()]);
    assert_eq!(app.directory.user_count(), 1);

    // An administrator's creation folds too: no second user for a tag.
    let created = send(
        &app.router,
        json_request(
            "/create-user",
            Some(ADMIN_KEY),
            serde_json::json!({ "email": "ada+admin@example.com" }),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(app.directory.user_count(), 1);
}

#[tokio::test]
async fn a_domain_that_refuses_tags_says_which_address_to_use_and_changes_nothing() {
    let app = app_with("refuse", ADA);
    let refused = ask_for_code(&app, "ada+1@example.com").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.body["error"]["field"], "email");
    assert!(
        refused.text.contains("ask as ada@example.com"),
        "{}",
        refused.text
    );
    assert!(app.mailer.sent().is_empty());

    let request = check(&app, "ada+1@example.com", "123456", "depleted-light.png").await;
    assert_eq!(request.status, StatusCode::BAD_REQUEST, "{}", request.text);
    assert_eq!(app.directory.user_count(), 0);
    assert!(app.audit.small_objects().is_empty());

    // Untagged, she asks as usual; a page showing her tagged account is still hers.
    let app = app_with("refuse", "ada+kiro@example.com");
    assert_eq!(ask_for_code(&app, ADA).await.status, StatusCode::OK);
    let code = code_mailed_to(&app, ADA).unwrap();
    let granted = check(&app, ADA, &code, "depleted-light.png").await;
    assert_eq!(granted.body["verdict"], "granted", "{}", granted.text);
}

#[tokio::test]
async fn a_domain_that_keeps_tags_treats_them_as_other_mailboxes() {
    let app = app_with("example.com=keep", "ada+1@example.com");
    assert_eq!(
        ask_for_code(&app, "ada+1@example.com").await.status,
        StatusCode::OK
    );
    let code = code_mailed_to(&app, "ada+1@example.com").expect("mailed as typed");
    let granted = check(&app, "ada+1@example.com", &code, "depleted-light.png").await;
    assert_eq!(granted.body["verdict"], "granted", "{}", granted.text);
    assert_eq!(members(&app).await, vec!["ada+1@example.com".to_owned()]);
}

#[tokio::test]
async fn one_address_sends_its_share_of_screenshots_a_day_and_then_nothing_is_read() {
    // Every page shows another account: each request is read, denied and recorded.
    let app = spawn_with_fakes_and(depleted("someone@example.com"), |c| {
        c.policy.requests_per_address = Some(3);
    });
    let check = |email: &'static str, key: &'static str| {
        let request = check_request(Some(key), email, &fixture("depleted-light.png"));
        send(&app.router, request)
    };
    // Three, under three tags (the fold makes them Ada) and two keys.
    for (email, key) in [
        (ADA, MEMBER_KEY),
        ("ada+1@example.com", ADMIN_KEY),
        ("ada+2@example.com", MEMBER_KEY),
    ] {
        let reply = check(email, key).await;
        assert_eq!(reply.body["verdict"], "denied", "{}", reply.text);
    }
    let analysed = app.analyzer.calls();
    let refused = check("ada+3@example.com", ADMIN_KEY).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    assert!(
        refused.text.contains("sent 3 screenshots today"),
        "{}",
        refused.text
    );
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert_eq!(app.analyzer.calls(), analysed, "nothing was read");
    // Another person is not held up.
    let bob = check("bob@example.com", MEMBER_KEY).await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.text);
}
