//! The mailer contract, against the outbox, the in-memory fake, SES (moto) and SMTP (aiosmtpd).
//! What was handed over is read back by someone else's parser: Python's `email` package reads
//! the outbox's files, the raw messages moto kept and those the SMTP server received.

use crate::common::{moto, parse_mime};
use app::ssr::ports::{Mail, Mailer, PortError};
use server::adapters::aws::SesMailer;
use server::adapters::memory::{Failure, MemoryMailer};
use server::adapters::{OutboxMailer, SmtpMailer};
use std::time::Duration;

/// Non-ASCII in every part, a line longer than a mail line, markup in the HTML.
fn sample(to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Kiro Pro: granted — Zoë".into(),
        text: format!(
            "Grüße, {to}.\n\n{}\n",
            "A long line of words. ".repeat(8).trim_end()
        ),
        html: "<p>Zoë &amp; co</p>\n<p>Second</p>".into(),
    }
}

fn unique(name: &str) -> String {
    format!("{name}.{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Sends the sample to a new address and checks that exactly it was handed over to that
/// address (`handed_over` reads back every message to an address); then that an address no
/// mail system can use is an error and hands nothing over.
async fn mailer_contract(mailer: &dyn Mailer, handed_over: impl Fn(&str) -> Vec<Mail>) {
    let to = unique("zoe");
    let mail = sample(&to);
    mailer.send(&mail).await.expect("sent");
    assert_eq!(handed_over(&to), [mail]);

    for unusable in [
        "",
        "not an address",
        "a@b@example.com",
        "ada@example.com\r\nBcc: x@example.com",
    ] {
        let odd = Mail {
            to: unusable.into(),
            ..sample(unusable)
        };
        let refused = mailer.send(&odd).await;
        assert!(
            matches!(refused, Err(PortError::Upstream { .. })),
            "{unusable:?}: {refused:?}"
        );
    }
    assert!(handed_over("x@example.com").is_empty());
}

/// A mailer told (or made) to fail says so, and hands nothing over.
async fn refuses_when_broken(mailer: &dyn Mailer, handed_over: impl Fn(&str) -> Vec<Mail>) {
    let to = unique("broken");
    let refused = mailer.send(&sample(&to)).await;
    assert!(
        matches!(
            refused,
            Err(PortError::Unavailable { .. } | PortError::Upstream { .. })
        ),
        "{refused:?}"
    );
    assert!(handed_over(&to).is_empty());
}

fn outbox_to(dir: &std::path::Path, to: &str) -> Vec<Mail> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .map(|raw| parse_mime(&raw))
                .filter(|m| m.to == to)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_outbox_keeps_the_mailer_contract_in_private_files() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("outbox");
    let from = "Kiro Access <access@example.com>".parse().unwrap();
    let outbox = OutboxMailer::open(&dir, from).unwrap();
    mailer_contract(&outbox, |to| outbox_to(&dir, to)).await;

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one message, no temporary left: {files:?}");
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    assert_eq!(mode(&files[0]), 0o600);

    // The outbox is gone and a file is where it was: nothing can be written.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"in the way").unwrap();
    refuses_when_broken(&outbox, |to| outbox_to(&dir, to)).await;
}

#[tokio::test]
async fn the_in_memory_fake_keeps_the_mailer_contract() {
    let fake = MemoryMailer::default();
    let sent_to = |to: &str| fake.sent().into_iter().filter(|m| m.to == to).collect();
    mailer_contract(&fake, sent_to).await;
    fake.fail(Some(Failure::Unavailable));
    refuses_when_broken(&fake, |to| {
        fake.sent().into_iter().filter(|m| m.to == to).collect()
    })
    .await;
}

#[tokio::test]
async fn ses_keeps_the_mailer_contract() {
    let sdk = crate::aws::sdk(&moto::endpoint()).await;
    let client = aws_sdk_sesv2::Client::new(&sdk);
    let sender = unique("access");
    client
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("moto verifies the sender");
    let ses = SesMailer::new(
        client.clone(),
        format!("Kiro Access <{sender}>").parse().unwrap(),
    );
    mailer_contract(&ses, moto::raw_mail_to).await;

    // A sender SES has not verified: MessageRejected.
    let unverified = SesMailer::new(client, unique("stranger").parse().unwrap());
    refuses_when_broken(&unverified, moto::raw_mail_to).await;
}

#[tokio::test]
async fn smtp_keeps_the_mailer_contract() {
    let server = crate::common::smtp::SmtpServer::start();
    let from = "Kiro Access <access@example.com>";
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let smtp = SmtpMailer::new(&url, from.parse().unwrap(), Duration::from_secs(10)).unwrap();
    // Read back from the server's maildir, by the envelope's recipient it recorded.
    let received_by = |to: &str| -> Vec<Mail> {
        let envelope_to = format!("X-RcptTo: {to}\n");
        server
            .messages()
            .iter()
            .filter(|raw| String::from_utf8_lossy(raw).contains(&envelope_to))
            .map(|raw| parse_mime(raw))
            .collect()
    };
    mailer_contract(&smtp, received_by).await;
    assert!(server
        .messages()
        .iter()
        .all(|raw| String::from_utf8_lossy(raw).contains("X-MailFrom: access@example.com\n")));

    // Nothing listens there any more: unavailable, nothing handed over.
    let port = server.port;
    drop(server);
    let gone = SmtpMailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        from.parse().unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    let refused = gone.send(&sample(&unique("late"))).await;
    assert!(
        matches!(refused, Err(PortError::Unavailable { .. })),
        "{refused:?}"
    );
}
