//! An older data directory, whose records were files, moves to the record index on the first
//! start: its admin page shows its history and its queue, once, and no file is deleted.

use crate::common::{send, test_config, test_leptos_options, ADMIN_KEY};
use app::api::{AdminAction, AdminActionKind, DecisionRecord, Reason, Verdict};
use app::ssr::ports::{AuditStore, Claim, RecordIndex};
use server::adapters::{FileAuditStore, SqliteIndex};
use std::path::Path;

fn old_record(i: usize, email: &str, verdict: Verdict, reason: Option<Reason>) -> DecisionRecord {
    let at = format!("2026-03-0{i}T10:00:00.000Z");
    let key = format!("screenshots/2026030{i}-100000-old{i}.png");
    DecisionRecord {
        reason,
        message: format!("old record {i}"),
        analyzer: "tesseract".into(),
        image_sha256: format!("sha-{i}"),
        ..crate::common::decision_record(email, verdict, &at, &key)
    }
}

/// What the file store of an earlier version left: three decisions (one waiting in its queue),
/// an administrator's action, a claim, a claim whose writer stopped before naming its owner,
/// and a file that is not a record.
async fn old_data_dir(root: &Path) -> Vec<DecisionRecord> {
    let files = FileAuditStore::open(root).unwrap();
    let records = vec![
        old_record(1, "ada@example.com", Verdict::Granted, None),
        old_record(
            2,
            "bob@example.com",
            Verdict::Denied,
            Some(Reason::Unreadable),
        ),
        old_record(
            3,
            "cy@example.com",
            Verdict::Review,
            Some(Reason::SeveralEmails),
        ),
    ];
    for r in &records {
        files.put_record(&r.record_key(), r).await.unwrap();
    }
    // Ada's granted screenshot, as a request stored it (normalised PNG).
    let png = app::ssr::normalise::normalise(&crate::common::fixture("depleted-light.png"))
        .unwrap()
        .png;
    files
        .put_screenshot(&records[0].screenshot_key, &png, "image/png")
        .await
        .unwrap();
    assert!(files
        .open_review("cy@example.com", &records[2].record_key())
        .await
        .unwrap());
    let action = AdminAction {
        at: "2026-03-04T10:00:00.000Z".into(),
        action: AdminActionKind::Revoke,
        target: "dan@example.com".into(),
        by: "admin-1a2b3c4d".into(),
        note: None,
        outcome: "removed from the group".into(),
    };
    files
        .put_action("actions/20260304-100000-revoke.json", &action)
        .await
        .unwrap();
    assert_eq!(
        files.claim_image("sha-1", "ada@example.com").await.unwrap(),
        Claim::Fresh
    );
    std::fs::write(root.join("claims/sha-half"), b"").unwrap();
    // A granted image's likeness as the earlier version wrote it, and one cut short.
    use base64::Engine;
    let cells = base64::engine::general_purpose::STANDARD.encode(old_cells());
    std::fs::create_dir_all(root.join("similar")).unwrap();
    std::fs::write(
        root.join("similar/001600-sha-1.json"),
        format!(
            r#"{{"email":"ada@example.com","screenshotKey":"{}","aspect":1600,"cells":"{cells}"}}"#,
            records[0].screenshot_key
        ),
    )
    .unwrap();
    std::fs::write(root.join("similar/001600-sha-cut.json"), b"{\"email\":").unwrap();
    std::fs::write(root.join("screenshots/20260305-100000-broken.json"), b"{").unwrap();
    records
}

/// The old likeness's grid: a gradient.
fn old_cells() -> Vec<u8> {
    (0..1024).map(|i| (i / 4) as u8).collect()
}

async fn admin_page(root: &Path) -> serde_json::Value {
    let app = server::Application::build(&test_config(root), test_leptos_options())
        .await
        .expect("the app builds");
    let reply = send(
        &app.router,
        crate::common::json_request(
            "/api/load_admin_page",
            Some(ADMIN_KEY),
            serde_json::json!({}),
        ),
    )
    .await;
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text);
    reply.body
}

fn emails(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|row| row["email"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn an_old_data_directory_is_indexed_once_and_its_admin_page_shows_its_history() {
    let data = tempfile::tempdir().unwrap();
    let records = old_data_dir(data.path()).await;
    let before = file_count(data.path());

    let page = admin_page(data.path()).await;
    assert_eq!(
        emails(&page["recent"]),
        ["cy@example.com", "bob@example.com", "ada@example.com"]
    );
    assert_eq!(emails(&page["waiting"]), ["cy@example.com"]);
    assert_eq!(page["actions"][0]["target"], "dan@example.com");

    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    assert_eq!(
        index.decision(&records[2].record_key()).await.unwrap(),
        Some(records[2].clone())
    );
    assert_eq!(
        index.waiting_review("cy@example.com").await.unwrap(),
        Some(records[2].record_key())
    );
    assert_eq!(
        index.image_owner("sha-1").await.unwrap().as_deref(),
        Some("ada@example.com")
    );
    // The likeness the old version made was made again from its screenshot (the one whose
    // file is cut short is not an entry): a darkened, padded copy of her page (Bob's, the
    // same but for the email) finds it.
    let copy = std::fs::read(
        crate::common::fixtures_dir().join("likeness/bob-depleted-light-darker-and-padded.png"),
    )
    .unwrap();
    let copy = app::ssr::normalise::normalise(&copy).unwrap().likeness;
    let candidates = index.likeness_candidates(&copy).await.unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|e| (e.sha256.as_str(), e.email.as_str()))
            .collect::<Vec<_>>(),
        [("sha-1", "ada@example.com")]
    );
    assert!(copy.is_alike(&candidates[0].likeness));
    assert_ne!(candidates[0].likeness.cells, old_cells());
    assert!(index
        .rekey_likenesses(&FileAuditStore::open(data.path()).unwrap())
        .await
        .unwrap()
        .is_none());
    assert_eq!(candidates[0].screenshot_key, records[0].screenshot_key);
    // The claim that names nobody is not carried over to deny its rightful owner.
    assert_eq!(
        index
            .claim_image("sha-half", "eve@example.com")
            .await
            .unwrap(),
        Claim::Fresh
    );

    // Once: a second start and a second import find it done; the files all stay.
    assert_eq!(index.import_files(data.path()).unwrap(), None);
    let again = admin_page(data.path()).await;
    assert_eq!(again["recent"], page["recent"]);
    assert!(file_count(data.path()) >= before);
    assert!(data
        .path()
        .join("screenshots")
        .join(records[0].record_key().trim_start_matches("screenshots/"))
        .exists());
}

#[tokio::test]
async fn the_first_import_counts_what_it_indexed() {
    let data = tempfile::tempdir().unwrap();
    old_data_dir(data.path()).await;
    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    let found = index
        .import_files(data.path())
        .unwrap()
        .expect("a first import");
    assert_eq!(
        (
            found.decisions,
            found.actions,
            found.claims,
            found.reviews,
            found.likenesses
        ),
        (3, 1, 1, 1, 1)
    );
}

fn file_count(root: &Path) -> usize {
    ["screenshots", "actions", "claims", "reviews"]
        .iter()
        .map(|dir| std::fs::read_dir(root.join(dir)).map_or(0, |d| d.count()))
        .sum()
}

/// 120 decisions of three people, seeded through the index the app reads.
async fn seeded_app() -> crate::common::TestApp {
    let app = crate::common::spawn_app().await;
    let index = SqliteIndex::open(&app.data.path().join("records.sqlite")).unwrap();
    for i in 0..120 {
        let (email, verdict) = match i % 3 {
            0 => ("ada@example.com", Verdict::Granted),
            1 => ("bob@example.com", Verdict::Denied),
            _ => ("cy@example.com", Verdict::Review),
        };
        let mut r = old_record(1, email, verdict, None);
        r.at = format!("2026-04-01T10:{:02}:{:02}.000Z", i / 60, i % 60);
        r.screenshot_key = format!("screenshots/20260401-10{i:04}-seed.png");
        r.message = format!("seed {i}");
        index.put_decision(&r).await.unwrap();
    }
    app
}

async fn decisions(app: &crate::common::TestApp, query: &str, key: &str) -> crate::common::Reply {
    crate::common::get_with_key(&app.router, &format!("/decisions{query}"), key).await
}

fn messages(page: &serde_json::Value) -> Vec<String> {
    page["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_finds_decisions_by_email_and_verdict_a_page_of_50_at_a_time() {
    let app = seeded_app().await;

    // Everything, newest first, followed page by page to the end.
    let mut seen = Vec::new();
    let mut query = String::new();
    let mut sizes = Vec::new();
    loop {
        let page = decisions(&app, &query, ADMIN_KEY).await;
        assert_eq!(page.status, http::StatusCode::OK, "{}", page.text);
        sizes.push(page.body["decisions"].as_array().unwrap().len());
        seen.extend(messages(&page.body));
        match page.body["next"].as_str() {
            Some(next) => query = format!("?after={next}"),
            None => break,
        }
    }
    assert_eq!(sizes, [50, 50, 20]);
    let expected: Vec<String> = (0..120).rev().map(|i| format!("seed {i}")).collect();
    assert_eq!(seen, expected);

    // One person's, by the address as typed; one verdict's; both.
    let ada = decisions(&app, "?email=%20ADA@Example.com", ADMIN_KEY).await;
    assert_eq!(ada.status, http::StatusCode::OK, "{}", ada.text);
    let found = messages(&ada.body);
    assert_eq!(found.len(), 40);
    assert_eq!(found[0], "seed 117");
    assert!(ada.body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["email"] == "ada@example.com"));
    let denied = decisions(&app, "?verdict=denied", ADMIN_KEY).await;
    assert_eq!(messages(&denied.body).len(), 40);
    assert_eq!(messages(&denied.body)[0], "seed 118");
    let none = decisions(&app, "?email=ada@example.com&verdict=denied", ADMIN_KEY).await;
    assert!(messages(&none.body).is_empty(), "{}", none.text);
    assert_eq!(none.body["next"], serde_json::Value::Null);

    // The admin page's one call takes the same filter.
    let page = send(
        &app.router,
        crate::common::json_request(
            "/api/load_admin_page",
            Some(ADMIN_KEY),
            serde_json::json!({ "decisions": { "email": "cy@example.com" } }),
        ),
    )
    .await;
    assert_eq!(page.status, http::StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["recent"].as_array().unwrap().len(), 40);
    assert_eq!(page.body["recent"][0]["message"], "seed 119");
    assert_eq!(page.body["recentNext"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_bad_filter_is_a_400_naming_it_and_a_member_key_is_refused() {
    let app = seeded_app().await;
    for (query, field) in [
        ("?verdict=maybe", "verdict"),
        ("?reason=bored", "reason"),
        ("?email=not-an-address", "email"),
        ("?after=screenshots/../keys.json", "key"),
    ] {
        let reply = decisions(&app, query, ADMIN_KEY).await;
        assert_eq!(
            reply.status,
            http::StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.body["error"]["code"], "bad_request", "{query}");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{query}: {}",
            reply.text
        );
    }
    let member = decisions(&app, "", crate::common::MEMBER_KEY).await;
    assert_eq!(
        member.status,
        http::StatusCode::FORBIDDEN,
        "{}",
        member.text
    );
}

/// The blob index (S3, and the in-memory store here) re-keys the likenesses an earlier version
/// kept under `similar/`, once: from the screenshot where it is kept, removed where it is gone.
#[tokio::test]
async fn the_blob_index_makes_old_likenesses_again_once() {
    use app::ssr::likeness::Rekeyed;
    use base64::Engine;
    let audit = std::sync::Arc::new(server::adapters::memory::MemoryAuditStore::default());
    let png = app::ssr::normalise::normalise(&crate::common::fixture("depleted-light.png"))
        .unwrap()
        .png;
    audit
        .put_screenshot("screenshots/old-ada.png", &png, "image/png")
        .await
        .unwrap();
    let cells = base64::engine::general_purpose::STANDARD.encode(old_cells());
    for (sha, shot) in [
        ("sha-kept", "screenshots/old-ada.png"),
        ("sha-gone", "screenshots/expired.png"),
    ] {
        let old = format!(
            r#"{{"email":"ada@example.com","screenshotKey":"{shot}","aspect":1600,"cells":"{cells}"}}"#
        );
        assert!(audit
            .create_once(&format!("similar/001600-{sha}.json"), old.as_bytes())
            .await
            .unwrap());
    }
    let index = server::adapters::BlobIndex::new(audit.clone());
    assert_eq!(
        index.rekey_likenesses().await.unwrap(),
        Some(Rekeyed {
            rekeyed: 1,
            removed: 1
        })
    );
    let copy = std::fs::read(
        crate::common::fixtures_dir().join("likeness/bob-depleted-light-padded-black-frame.png"),
    )
    .unwrap();
    let copy = app::ssr::normalise::normalise(&copy).unwrap().likeness;
    let found = index.likeness_candidates(&copy).await.unwrap();
    assert_eq!(
        found.iter().map(|e| e.sha256.as_str()).collect::<Vec<_>>(),
        ["sha-kept"]
    );
    assert!(copy.is_alike(&found[0].likeness));
    assert_eq!(index.rekey_likenesses().await.unwrap(), None);
}
