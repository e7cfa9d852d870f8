//! The audit store contract, against files, the in-memory fake and S3 (moto).

use app::api::{AdminAction, AdminActionKind, DecisionRecord, Verdict};
use app::ssr::ports::{AuditStore, Claim};
use server::adapters::aws::S3AuditStore;
use server::adapters::memory::MemoryAuditStore;
use server::adapters::FileAuditStore;

fn record(email: &str, at: &str) -> DecisionRecord {
    DecisionRecord {
        message: "first".into(),
        analyzer: "contract".into(),
        ..crate::common::decision_record(email, Verdict::Denied, at, "k")
    }
}

/// A key of this month, as the workflow makes them (S3 lists by month).
fn key(i: usize) -> String {
    let month = chrono::Utc::now().format("%Y%m");
    format!("screenshots/{month}01-00000{i}-user{i}_at_example.com.json")
}

async fn audit_store_contract(store: &dyn AuditStore) {
    assert!(store.recent(10).await.unwrap().is_empty());

    // Records: newest first by time, across pages; an overwrite is listed once, new content.
    let month = chrono::Utc::now().format("%Y-%m");
    for i in 0..5 {
        let at = format!("{month}-01T00:00:0{i}.000Z");
        store
            .put_record(&key(i), &record(&format!("user{i}@example.com"), &at))
            .await
            .unwrap();
    }
    store
        .put_screenshot(&key(0).replace(".json", ".png"), b"png", "image/png")
        .await
        .unwrap();
    let mut changed = record("user2@example.com", &format!("{month}-01T00:00:02.000Z"));
    changed.message = "second".into();
    store.put_record(&key(2), &changed).await.unwrap();
    let recent = store.recent(10).await.unwrap();
    let emails: Vec<&str> = recent.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "user4@example.com",
            "user3@example.com",
            "user2@example.com",
            "user1@example.com",
            "user0@example.com"
        ]
    );
    assert_eq!(recent[2].message, "second");
    let two = store.recent(2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].email, "user4@example.com");

    // Reading back by key.
    assert_eq!(store.record(&key(2)).await.unwrap(), Some(changed));
    assert_eq!(store.record(&key(9)).await.unwrap(), None);
    let png_key = key(0).replace(".json", ".png");
    assert_eq!(
        store.screenshot(&png_key).await.unwrap().as_deref(),
        Some(&b"png"[..])
    );
    assert_eq!(
        store
            .screenshot(&key(9).replace(".json", ".png"))
            .await
            .unwrap(),
        None
    );

    // The review queue: one waiting record per email, first writer wins, closing empties it.
    assert_eq!(store.waiting_review("ada@example.com").await.unwrap(), None);
    assert!(store.waiting_reviews().await.unwrap().is_empty());
    assert!(store.open_review("ada@example.com", &key(1)).await.unwrap());
    assert!(!store.open_review("ada@example.com", &key(3)).await.unwrap());
    assert!(store.open_review("bob@example.com", &key(4)).await.unwrap());
    assert_eq!(
        store.waiting_review("ada@example.com").await.unwrap(),
        Some(key(1))
    );
    let mut waiting = store.waiting_reviews().await.unwrap();
    waiting.sort();
    assert_eq!(waiting, [key(1), key(4)]);
    store.close_review("ada@example.com").await.unwrap();
    store.close_review("ada@example.com").await.unwrap();
    assert_eq!(store.waiting_review("ada@example.com").await.unwrap(), None);
    assert_eq!(store.waiting_reviews().await.unwrap(), [key(4)]);
    let keys: Vec<String> = (5..11).map(key).collect();
    let racing = keys.iter().map(|k| store.open_review("cy@example.com", k));
    let opened = futures::future::join_all(racing).await;
    let won = opened.iter().filter(|o| *o.as_ref().unwrap()).count();
    assert_eq!(won, 1, "{opened:?}");

    // Administrators' actions: newest first, at most the limit, apart from the decisions.
    assert!(store.recent_actions(10).await.unwrap().is_empty());
    for (i, kind) in [
        AdminActionKind::CreateUser,
        AdminActionKind::Revoke,
        AdminActionKind::Approve,
    ]
    .into_iter()
    .enumerate()
    {
        let action = AdminAction {
            at: format!("{month}-01T00:00:0{i}.000Z"),
            action: kind,
            target: format!("user{i}@example.com"),
            by: "admin-1a2b3c4d".into(),
            note: (i == 1).then(|| "left the team".into()),
            outcome: "done".into(),
        };
        let key = format!(
            "actions/{}01-00000{i}-{}.json",
            chrono::Utc::now().format("%Y%m"),
            kind.as_str()
        );
        store.put_action(&key, &action).await.unwrap();
    }
    let actions = store.recent_actions(2).await.unwrap();
    let kinds: Vec<AdminActionKind> = actions.iter().map(|a| a.action).collect();
    assert_eq!(kinds, [AdminActionKind::Approve, AdminActionKind::Revoke]);
    assert_eq!(actions[1].note.as_deref(), Some("left the team"));
    assert_eq!(store.recent_actions(10).await.unwrap().len(), 3);
    assert_eq!(
        store.recent(10).await.unwrap().len(),
        5,
        "actions are not decisions"
    );

    // Claims: the first claimant owns the image.
    assert_eq!(store.image_owner("abc").await.unwrap(), None);
    assert_eq!(
        store.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        store.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::SameOwner
    );
    assert_eq!(
        store.claim_image("abc", "eve@example.com").await.unwrap(),
        Claim::OtherOwner("ada@example.com".into())
    );
    assert_eq!(
        store.image_owner("abc").await.unwrap().as_deref(),
        Some("ada@example.com")
    );

    // Racing claims: exactly one wins, and everyone else is told who.
    let racers: Vec<String> = (0..6).map(|i| format!("u{i}@example.com")).collect();
    let claims = racers.iter().map(|email| store.claim_image("race", email));
    let answers = futures::future::join_all(claims).await;
    let winners: Vec<usize> = (0..6)
        .filter(|i| answers[*i].as_ref().unwrap() == &Claim::Fresh)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    let winner = format!("u{}@example.com", winners[0]);
    for answer in &answers {
        match answer.as_ref().unwrap() {
            Claim::Fresh => {}
            Claim::OtherOwner(owner) => assert_eq!(owner, &winner),
            Claim::SameOwner => panic!("nobody claimed twice: {answers:?}"),
        }
    }

    small_objects_contract(store).await;
}

/// `create_once`, `read_once`, `remove_once`, `keys_in`: what the one-time codes and the
/// blob index's likenesses are kept with.
async fn small_objects_contract(store: &dyn AuditStore) {
    assert!(store.keys_in("codes/a1/").await.unwrap().is_empty());
    assert_eq!(store.read_once("codes/a1/1.json").await.unwrap(), None);
    assert!(store
        .create_once("codes/a1/1.json", b"first")
        .await
        .unwrap());
    assert!(!store
        .create_once("codes/a1/1.json", b"second")
        .await
        .unwrap());
    assert_eq!(
        store.read_once("codes/a1/1.json").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    for i in 2..=4 {
        let key = format!("codes/a1/{i}.json");
        assert!(store.create_once(&key, b"").await.unwrap());
    }
    assert!(store.create_once("codes/a10/1.json", b"x").await.unwrap());
    let mut keys = store.keys_in("codes/a1/").await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        (1..=4)
            .map(|i| format!("codes/a1/{i}.json"))
            .collect::<Vec<_>>()
    );

    // Removed, it is gone from reads and listings and can be written again; removing what is
    // not there succeeds.
    store.remove_once("codes/a1/1.json").await.unwrap();
    store.remove_once("codes/a1/1.json").await.unwrap();
    assert_eq!(store.read_once("codes/a1/1.json").await.unwrap(), None);
    assert!(!store
        .keys_in("codes/a1/")
        .await
        .unwrap()
        .contains(&"codes/a1/1.json".to_owned()));
    assert!(store
        .create_once("codes/a1/1.json", b"again")
        .await
        .unwrap());

    // Racing writers of one key: exactly one wins, and it is its bytes that stay.
    let writes = (0..6u8)
        .map(|i| async move { (i, store.create_once("codes/race/slot", &[i]).await.unwrap()) });
    let answers = futures::future::join_all(writes).await;
    let winner = super::the_one_winner(&answers);
    assert_eq!(
        store.read_once("codes/race/slot").await.unwrap(),
        Some(winner)
    );
}

#[tokio::test]
async fn files_keep_the_audit_store_contract() {
    let data = tempfile::tempdir().unwrap();
    audit_store_contract(&FileAuditStore::open(data.path()).unwrap()).await;
}

#[tokio::test]
async fn the_in_memory_fake_keeps_the_audit_store_contract() {
    audit_store_contract(&MemoryAuditStore::default()).await;
}

#[tokio::test]
async fn s3_keeps_the_audit_store_contract() {
    let (client, bucket) = crate::aws::new_bucket().await;
    // Two keys a page, so listing must follow the pages.
    audit_store_contract(&S3AuditStore::new(client, &bucket).with_page_size(2)).await;
}
