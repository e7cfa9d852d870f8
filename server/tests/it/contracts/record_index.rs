//! The record index contract, against SQLite, the blob index over files, over the in-memory
//! fake and over S3 (moto): filters and pages, the conditional update, the queue by exact
//! email, claims and actions.

use app::api::{AdminAction, AdminActionKind, DecisionRecord, Reason, Settlement, Verdict};
use app::ssr::ports::{Claim, DecisionQuery, RecordIndex};
use server::adapters::aws::S3AuditStore;
use server::adapters::memory::MemoryAuditStore;
use server::adapters::{BlobIndex, FileAuditStore, SqliteIndex};
use std::sync::Arc;

/// A record of this month (the blob index reaches the newest months first), `i` seconds in.
fn record(i: usize, email: &str, verdict: Verdict, reason: Option<Reason>) -> DecisionRecord {
    let month = chrono::Utc::now().format("%Y%m");
    let day = chrono::Utc::now().format("%Y-%m");
    let at = format!("{day}-01T00:{:02}:{:02}.000Z", i / 60, i % 60);
    let key = format!("screenshots/{month}01-{i:06}-contract.png");
    DecisionRecord {
        reason,
        message: format!("record {i}"),
        image_sha256: format!("{i:02}"),
        ..crate::common::decision_record(email, verdict, &at, &key)
    }
}

fn settled(mut record: DecisionRecord, approved: bool) -> DecisionRecord {
    record.settlement = Some(Settlement {
        approved,
        by: "admin-1a2b3c4d".into(),
        at: record.at.clone(),
        note: None,
    });
    record
}

fn emails(records: &[DecisionRecord]) -> Vec<&str> {
    records.iter().map(|r| r.email.as_str()).collect()
}

fn keys(records: &[DecisionRecord]) -> Vec<String> {
    records.iter().map(|r| r.record_key()).collect()
}

async fn record_index_contract(index: &dyn RecordIndex) {
    decisions_contract(index).await;
    update_contract(index).await;
    queue_contract(index).await;
    actions_and_claims_contract(index).await;
}

/// Stored records by key; lists by filter, newest first, in pages that meet exactly once.
async fn decisions_contract(index: &dyn RecordIndex) {
    let all = DecisionQuery {
        limit: 50,
        ..Default::default()
    };
    assert!(index.decisions(&all).await.unwrap().records.is_empty());
    let first = record(
        1,
        "ada@example.com",
        Verdict::Denied,
        Some(Reason::Unreadable),
    );
    assert_eq!(index.decision(&first.record_key()).await.unwrap(), None);

    let written = [
        record(
            1,
            "ada@example.com",
            Verdict::Denied,
            Some(Reason::Unreadable),
        ),
        record(2, "bob@example.com", Verdict::Granted, None),
        record(3, "ada@example.com", Verdict::Granted, None),
        record(
            4,
            "cy@example.com",
            Verdict::Review,
            Some(Reason::SeveralEmails),
        ),
        record(
            5,
            "ada@example.com",
            Verdict::Denied,
            Some(Reason::CreditsAvailable),
        ),
        record(
            6,
            "bob@example.com",
            Verdict::Denied,
            Some(Reason::Unreadable),
        ),
        record(
            7,
            "ada+1@example.com",
            Verdict::Denied,
            Some(Reason::Unreadable),
        ),
    ];
    for r in &written {
        index.put_decision(r).await.unwrap();
    }
    // An overwrite at the same key is listed once, with its new content.
    let mut changed = written[1].clone();
    changed.message = "changed".into();
    index.put_decision(&changed).await.unwrap();
    assert_eq!(
        index.decision(&changed.record_key()).await.unwrap(),
        Some(changed.clone())
    );

    let everything = index.decisions(&all).await.unwrap();
    assert_eq!(everything.next, None);
    assert_eq!(
        emails(&everything.records),
        [
            "ada+1@example.com",
            "bob@example.com",
            "ada@example.com",
            "cy@example.com",
            "ada@example.com",
            "bob@example.com",
            "ada@example.com"
        ]
    );
    assert_eq!(everything.records[5].message, "changed");

    // Exact email: a sub-address is another address here.
    let ada = DecisionQuery {
        email: Some("ada@example.com".into()),
        ..all.clone()
    };
    let found = index.decisions(&ada).await.unwrap().records;
    assert_eq!(keys(&found), keys(&[4, 2, 0].map(|i| written[i].clone())));

    let denied = DecisionQuery {
        verdict: Some(Verdict::Denied),
        ..all.clone()
    };
    assert_eq!(index.decisions(&denied).await.unwrap().records.len(), 4);
    let unreadable = DecisionQuery {
        reason: Some(Reason::Unreadable),
        ..all.clone()
    };
    let found = index.decisions(&unreadable).await.unwrap().records;
    assert_eq!(keys(&found), keys(&[6, 5, 0].map(|i| written[i].clone())));
    let ada_denied = DecisionQuery {
        email: Some("ada@example.com".into()),
        verdict: Some(Verdict::Denied),
        ..all.clone()
    };
    let found = index.decisions(&ada_denied).await.unwrap().records;
    assert_eq!(keys(&found), keys(&[4, 0].map(|i| written[i].clone())));
    let nobody = DecisionQuery {
        email: Some("ADA@example.com".into()),
        ..all.clone()
    };
    assert!(index.decisions(&nobody).await.unwrap().records.is_empty());

    // Pages of two, followed to the end: every record once, in order, and no page after.
    let mut paged = Vec::new();
    let mut query = DecisionQuery {
        limit: 2,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = index.decisions(&query).await.unwrap();
        assert!(page.records.len() <= 2);
        pages += 1;
        paged.extend(page.records);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(keys(&paged), keys(&everything.records));
    // A page that ends exactly at the last match says there is no more.
    let exact = DecisionQuery {
        limit: 3,
        ..unreadable.clone()
    };
    assert_eq!(index.decisions(&exact).await.unwrap().next, None);
}

/// One read, two updates: exactly one is stored, one revision up.
async fn update_contract(index: &dyn RecordIndex) {
    let base = record(
        20,
        "dan@example.com",
        Verdict::Review,
        Some(Reason::SeveralEmails),
    );
    assert!(
        !index.update_decision(&base).await.unwrap(),
        "nothing stored"
    );
    index.put_decision(&base).await.unwrap();
    let read = index.decision(&base.record_key()).await.unwrap().unwrap();
    let approve = settled(read.clone(), true);
    let deny = settled(read.clone(), false);
    let (a, d) = futures::join!(
        index.update_decision(&approve),
        index.update_decision(&deny)
    );
    let (a, d) = (a.unwrap(), d.unwrap());
    assert!(a != d, "exactly one ruling wins: approve {a}, deny {d}");
    let stored = index.decision(&base.record_key()).await.unwrap().unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.settlement.as_ref().map(|s| s.approved), Some(a));
    // The loser, retried from its stale read, still loses; from a fresh read it wins.
    assert!(!index.update_decision(&deny).await.unwrap());
    let mut reopened = stored.clone();
    reopened.settlement = None;
    assert!(index.update_decision(&reopened).await.unwrap());
    let stored = index.decision(&base.record_key()).await.unwrap().unwrap();
    assert_eq!(stored.revision, 2);
    assert!(stored.is_waiting());

    // Many racing from one read: one winner.
    let racers: Vec<DecisionRecord> = (0..6)
        .map(|i| settled(stored.clone(), i % 2 == 0))
        .collect();
    let answers = futures::future::join_all(racers.iter().map(|r| index.update_decision(r))).await;
    let won = answers.iter().filter(|a| *a.as_ref().unwrap()).count();
    assert_eq!(won, 1, "{answers:?}");
}

/// One waiting record per exact email; settled or missing records never hold the queue.
async fn queue_contract(index: &dyn RecordIndex) {
    let review = |i, email| record(i, email, Verdict::Review, Some(Reason::EmailUncertain));
    let plus = review(30, "a+b@example.com");
    let underscore = review(31, "a_b@example.com");
    let quote = review(32, "a'b@example.com");
    for r in [&plus, &underscore, &quote] {
        index.put_decision(r).await.unwrap();
        assert!(
            index.open_review(&r.email, &r.record_key()).await.unwrap(),
            "{} has its own entry",
            r.email
        );
    }
    for r in [&plus, &underscore, &quote] {
        assert_eq!(
            index.waiting_review(&r.email).await.unwrap(),
            Some(r.record_key())
        );
    }
    assert_eq!(index.waiting_review("ab@example.com").await.unwrap(), None);

    // A second request of one email waits behind the first.
    let again = review(33, "a+b@example.com");
    index.put_decision(&again).await.unwrap();
    assert!(!index
        .open_review(&again.email, &again.record_key())
        .await
        .unwrap());
    assert_eq!(
        index.waiting_review(&plus.email).await.unwrap(),
        Some(plus.record_key())
    );

    // A record that is not stored, or not waiting, is not queued.
    let missing = review(34, "eve@example.com");
    assert!(!index
        .open_review(&missing.email, &missing.record_key())
        .await
        .unwrap());
    let denied = record(
        35,
        "eve@example.com",
        Verdict::Denied,
        Some(Reason::Unreadable),
    );
    index.put_decision(&denied).await.unwrap();
    assert!(!index
        .open_review(&denied.email, &denied.record_key())
        .await
        .unwrap());
    assert_eq!(index.waiting_review("eve@example.com").await.unwrap(), None);

    // The waiting list: stored, waiting, oldest first (the record in `update_contract` is settled).
    let waiting = index.waiting_reviews().await.unwrap();
    assert_eq!(
        keys(&waiting),
        keys(&[plus.clone(), underscore.clone(), quote.clone()])
    );

    // Settled — however the settlement was written — the entry no longer holds the queue.
    let stored = index.decision(&plus.record_key()).await.unwrap().unwrap();
    assert!(index
        .update_decision(&settled(stored, false))
        .await
        .unwrap());
    assert_eq!(index.waiting_review(&plus.email).await.unwrap(), None);
    index
        .put_decision(&settled(underscore.clone(), true))
        .await
        .unwrap();
    assert_eq!(index.waiting_review(&underscore.email).await.unwrap(), None);
    assert_eq!(
        keys(&index.waiting_reviews().await.unwrap()),
        [quote.record_key()]
    );
    assert!(index
        .open_review(&again.email, &again.record_key())
        .await
        .unwrap());
    assert_eq!(
        index.waiting_review(&again.email).await.unwrap(),
        Some(again.record_key())
    );
    // Where the settlement was written without the queue knowing (put_decision), the entry is
    // left naming a settled record; the email's next request takes it.
    let underscore_again = review(36, "a_b@example.com");
    index.put_decision(&underscore_again).await.unwrap();
    assert!(index
        .open_review(&underscore_again.email, &underscore_again.record_key())
        .await
        .unwrap());
    assert_eq!(
        index.waiting_review(&underscore.email).await.unwrap(),
        Some(underscore_again.record_key())
    );

    // Rewriting a waiting record keeps its place in the queue.
    let mut noted = quote.clone();
    noted.message = "looked at".into();
    index.put_decision(&noted).await.unwrap();
    assert_eq!(
        index.waiting_review(&quote.email).await.unwrap(),
        Some(quote.record_key())
    );

    // Racing requests of one email: one is queued.
    let racers: Vec<DecisionRecord> = (40..46).map(|i| review(i, "fay@example.com")).collect();
    for r in &racers {
        index.put_decision(r).await.unwrap();
    }
    let racing: Vec<String> = racers.iter().map(|r| r.record_key()).collect();
    let opened = futures::future::join_all(
        racing
            .iter()
            .map(|key| index.open_review("fay@example.com", key)),
    )
    .await;
    let won = opened.iter().filter(|o| *o.as_ref().unwrap()).count();
    assert_eq!(won, 1, "{opened:?}");
}

async fn actions_and_claims_contract(index: &dyn RecordIndex) {
    assert!(index.recent_actions(10).await.unwrap().is_empty());
    let month = chrono::Utc::now().format("%Y%m");
    let day = chrono::Utc::now().format("%Y-%m");
    let kinds = [
        AdminActionKind::CreateUser,
        AdminActionKind::Revoke,
        AdminActionKind::Approve,
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let action = AdminAction {
            at: format!("{day}-01T00:00:0{i}.000Z"),
            action: kind,
            target: format!("user{i}@example.com"),
            by: "admin-1a2b3c4d".into(),
            note: (i == 1).then(|| "left the team".into()),
            outcome: "done".into(),
        };
        let key = format!("actions/{month}01-00000{i}-{}.json", kind.as_str());
        index.put_action(&key, &action).await.unwrap();
    }
    let actions = index.recent_actions(2).await.unwrap();
    let listed: Vec<AdminActionKind> = actions.iter().map(|a| a.action).collect();
    assert_eq!(listed, [AdminActionKind::Approve, AdminActionKind::Revoke]);
    assert_eq!(actions[1].note.as_deref(), Some("left the team"));
    assert_eq!(index.recent_actions(10).await.unwrap().len(), 3);

    assert_eq!(index.image_owner("abc").await.unwrap(), None);
    assert_eq!(
        index.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        index.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::SameOwner
    );
    assert_eq!(
        index.claim_image("abc", "eve@example.com").await.unwrap(),
        Claim::OtherOwner("ada@example.com".into())
    );
    assert_eq!(
        index.image_owner("abc").await.unwrap().as_deref(),
        Some("ada@example.com")
    );
    let racers: Vec<String> = (0..6).map(|i| format!("u{i}@example.com")).collect();
    let answers =
        futures::future::join_all(racers.iter().map(|e| index.claim_image("race", e))).await;
    let winners: Vec<&String> = racers
        .iter()
        .zip(&answers)
        .filter(|(_, a)| *a.as_ref().unwrap() == Claim::Fresh)
        .map(|(e, _)| e)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for answer in &answers {
        match answer.as_ref().unwrap() {
            Claim::Fresh => {}
            Claim::OtherOwner(owner) => assert_eq!(owner, winners[0]),
            Claim::SameOwner => panic!("nobody claimed twice: {answers:?}"),
        }
    }
    assert_eq!(
        index.image_owner("race").await.unwrap().as_ref(),
        Some(winners[0])
    );
}

#[tokio::test]
async fn sqlite_keeps_the_record_index_contract() {
    let data = tempfile::tempdir().unwrap();
    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    record_index_contract(&index).await;
}

#[tokio::test]
async fn the_blob_index_over_files_keeps_the_record_index_contract() {
    let data = tempfile::tempdir().unwrap();
    let files = Arc::new(FileAuditStore::open(data.path()).unwrap());
    record_index_contract(&BlobIndex::new(files)).await;
}

#[tokio::test]
async fn the_blob_index_over_the_in_memory_fake_keeps_the_record_index_contract() {
    record_index_contract(&BlobIndex::new(Arc::new(MemoryAuditStore::default()))).await;
}

#[tokio::test]
async fn the_blob_index_over_s3_keeps_the_record_index_contract() {
    let (client, bucket) = crate::aws::new_bucket().await;
    let s3 = S3AuditStore::new(client, &bucket).with_page_size(2);
    record_index_contract(&BlobIndex::new(Arc::new(s3))).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_record_index_contract() {
    record_index_contract(&crate::aws::new_table().await).await;
}

/// A stop between a settlement's write and its queue entry's close (a crash: the port cannot
/// cause one) leaves the entry naming a settled record. On DynamoDB it no longer holds the
/// queue: the email's next request takes it, and then holds it against the one after.
#[tokio::test]
async fn on_dynamodb_an_entry_a_stop_left_behind_is_taken_by_the_next_request() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let client =
        aws_sdk_dynamodb::Client::new(&crate::aws::sdk(&crate::common::moto::endpoint()).await);
    let table = format!("kiro-records-{}", uuid::Uuid::new_v4().simple());
    crate::common::records_table::create(&client, &table).await;
    let index = server::adapters::aws::DynamoIndex::new(client.clone(), &table);
    let review = |i, email| record(i, email, Verdict::Review, Some(Reason::EmailUncertain));
    let ruled = settled(review(50, "gus@example.com"), false);
    index.put_decision(&ruled).await.unwrap();
    // The entry as the queue wrote it before the stop, the ruling already stored.
    client
        .put_item()
        .table_name(&table)
        .item("pk", S("review#gus@example.com".into()))
        .item("sk", S("-".into()))
        .item("record_key", S(ruled.record_key()))
        .item("kind", S("queue".into()))
        .item("at_key", S(format!("{}#{}", ruled.at, ruled.record_key())))
        .send()
        .await
        .unwrap();
    assert_eq!(index.waiting_review("gus@example.com").await.unwrap(), None);

    let next = review(51, "gus@example.com");
    index.put_decision(&next).await.unwrap();
    assert!(index
        .open_review(&next.email, &next.record_key())
        .await
        .unwrap());
    assert_eq!(
        index.waiting_review("gus@example.com").await.unwrap(),
        Some(next.record_key())
    );
    let after = review(52, "gus@example.com");
    index.put_decision(&after).await.unwrap();
    assert!(!index
        .open_review(&after.email, &after.record_key())
        .await
        .unwrap());
    // Without a stop, a ruling takes its entry with it: the queue's partition holds only what waits.
    let stored = index.decision(&next.record_key()).await.unwrap().unwrap();
    assert!(index.update_decision(&settled(stored, true)).await.unwrap());
    let entry = client
        .get_item()
        .table_name(&table)
        .key("pk", S("review#gus@example.com".into()))
        .key("sk", S("-".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(entry.item, None);
}
