//! Who is told what by mail, through the real router: over the fakes (the mailer keeps what it
//! is given, or fails), and on the embedded default, whose outbox is read back by Python's
//! `email` package.

use crate::common::{
    check_request, depleted, fixture, json_request, parse_mime, send, spawn_app,
    spawn_with_fakes_and, used_up_counter, FakedApp, Reply, ADMIN_KEY, MEMBER_KEY,
};
use app::api::Evidence;
use app::ssr::ports::Mail;
use http::StatusCode;
use server::adapters::memory::Failure;

const ADA: &str = "ada@example.com";
const OPS: [&str; 2] = ["ops@example.com", "lead@example.com"];

/// The fakes, with two administrators to tell and the public address for the link.
fn app_with(evidence: Evidence) -> FakedApp {
    spawn_with_fakes_and(evidence, |c| {
        c.mail.notices.admin_emails = OPS.map(String::from).to_vec();
        c.mail.notices.public_url = Some("https://access.example.com/".into());
    })
}

async fn ada_asks(app: &FakedApp) -> Reply {
    let reply = send(
        &app.router,
        check_request(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply
}

fn to(app: &FakedApp, address: &str) -> Vec<Mail> {
    app.mailer
        .sent()
        .into_iter()
        .filter(|m| m.to == address)
        .collect()
}

/// An administrator approves or denies; returns Ada's mails, the ruling's the second.
async fn rule(app: &FakedApp, verb: &str, body: serde_json::Value) -> Vec<Mail> {
    let ruled = send(
        &app.router,
        json_request(&format!("/reviews/{verb}"), Some(ADMIN_KEY), body),
    )
    .await;
    assert_eq!(ruled.status, StatusCode::OK, "{}", ruled.text);
    let mails = to(app, ADA);
    assert_eq!(mails.len(), 2, "{mails:?}");
    mails
}

#[tokio::test]
async fn a_grant_tells_the_member_how_to_start_and_nobody_else() {
    let app = app_with(depleted(ADA));
    assert_eq!(ada_asks(&app).await.body["verdict"], "granted");
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = &sent[0];
    assert_eq!(
        (mail.to.as_str(), mail.subject.as_str()),
        (ADA, "Kiro Pro: granted")
    );
    for words in [
        "IAM Identity Center",
        "up to 24 hours",
        ADA,
        "Kiro Pro group",
    ] {
        assert!(mail.text.contains(words), "{words}: {}", mail.text);
        assert!(mail.html.contains(words), "{words}: {}", mail.html);
    }

    // Already Pro: nothing new to tell.
    ada_asks(&app).await;
    assert_eq!(app.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_person_an_administrator_adds_is_told_how_to_start_once() {
    let app = app_with(depleted(ADA));
    let create = || {
        send(
            &app.router,
            json_request(
                "/create-user",
                Some(ADMIN_KEY),
                serde_json::json!({ "email": ADA }),
            ),
        )
    };
    assert_eq!(create().await.status, StatusCode::OK);
    let [mail] = to(&app, ADA).try_into().expect("one mail to Ada");
    assert_eq!(mail.subject, "Kiro Pro: granted");
    for words in [
        "An administrator gave you Kiro Pro",
        "IAM Identity Center",
        "up to 24 hours",
    ] {
        assert!(mail.text.contains(words), "{words}: {}", mail.text);
    }
    // Already in the group: nothing new to tell.
    assert_eq!(create().await.status, StatusCode::OK);
    assert_eq!(to(&app, ADA).len(), 1);
    assert!(OPS.iter().all(|admin| to(&app, admin).is_empty()));
}

#[tokio::test]
async fn a_denial_says_why_and_what_to_do() {
    let available = Evidence {
        counters: vec![app::api::UsageCounter {
            used: 12.0,
            ..used_up_counter()
        }],
        ..depleted(ADA)
    };
    let app = app_with(available);
    let reply = ada_asks(&app).await;
    assert_eq!(reply.body["verdict"], "denied");
    let [mail] = to(&app, ADA).try_into().expect("one mail to Ada");
    assert_eq!(mail.subject, "Kiro Pro: not granted");
    assert!(
        mail.text.contains(reply.body["message"].as_str().unwrap()),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("What to do"), "{}", mail.text);
    assert!(OPS.iter().all(|admin| to(&app, admin).is_empty()));
}

#[tokio::test]
async fn a_request_that_waits_tells_the_member_and_each_administrator_and_the_ruling_follows() {
    let app = app_with(Evidence {
        emails_seen: vec![ADA.into(), "bob@example.com".into()],
        ..depleted(ADA)
    });
    let reply = ada_asks(&app).await;
    assert_eq!(reply.body["verdict"], "review");
    let [waiting] = to(&app, ADA).try_into().expect("one mail to Ada");
    assert!(
        waiting.subject.contains("waiting for an administrator"),
        "{}",
        waiting.subject
    );
    assert!(
        waiting.text.contains("You will get another mail"),
        "{}",
        waiting.text
    );
    for admin in OPS {
        let [told] = to(&app, admin)
            .try_into()
            .expect("one mail to each administrator");
        assert!(told.subject.contains(ADA), "{}", told.subject);
        assert!(
            told.text.contains("https://access.example.com/admin"),
            "{}",
            told.text
        );
    }

    let body =
        serde_json::json!({ "recordKey": reply.body["recordKey"], "note": "not a <Kiro> page" });
    let mails = rule(&app, "deny", body).await;
    assert_eq!(mails[1].subject, "Kiro Pro: not granted");
    assert!(
        mails[1].text.contains("Their note: not a <Kiro> page"),
        "{}",
        mails[1].text
    );
    assert!(
        mails[1].html.contains("not a &lt;Kiro&gt; page"),
        "{}",
        mails[1].html
    );
    // The administrators hear of waiting requests only.
    assert!(OPS.iter().all(|admin| to(&app, admin).len() == 1));
}

#[tokio::test]
async fn an_approval_tells_the_member_they_are_granted() {
    let app = app_with(Evidence {
        emails_seen: vec![ADA.into(), "bob@example.com".into()],
        ..depleted(ADA)
    });
    let reply = ada_asks(&app).await;
    let body = serde_json::json!({ "recordKey": reply.body["recordKey"] });
    let mails = rule(&app, "approve", body).await;
    assert_eq!(mails[1].subject, "Kiro Pro: granted");
    assert!(
        mails[1].text.contains("up to 24 hours"),
        "{}",
        mails[1].text
    );
}

#[tokio::test]
async fn mail_that_cannot_be_sent_changes_no_decision_and_is_noted_on_the_record() {
    let app = app_with(depleted(ADA));
    app.mailer.fail(Some(Failure::Unavailable));
    let reply = ada_asks(&app).await;
    assert_eq!(reply.body["verdict"], "granted");
    assert_eq!(app.directory.membership_count(), 1);
    let records = app.audit.records();
    let record = records.values().next().unwrap();
    assert_eq!(record.applied, Some(true));
    assert_eq!(
        record.mail_error.as_deref(),
        Some("not sent to ada@example.com")
    );
}

#[tokio::test]
async fn the_embedded_default_writes_the_mail_to_its_private_outbox() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("depleted-dark.png"))
        .await;
    assert_eq!(reply.body["verdict"], "granted", "{}", reply.text);
    let outbox = app.data.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mail = parse_mime(&std::fs::read(&files[0]).unwrap());
    assert_eq!(
        (mail.to.as_str(), mail.subject.as_str()),
        (ADA, "Kiro Pro: granted")
    );
    assert!(mail.text.contains("IAM Identity Center"), "{}", mail.text);
}
