//! A stack whose records were the bucket's objects moves them into its DynamoDB table
//! (`server import-records`): written by the blob index over S3 as the earlier stack wrote them,
//! read back through the DynamoDB index, once, with what the table already had kept.

use crate::aws::{new_bucket, new_table};
use crate::common::{decision_record, fixture, moto};
use app::api::{AdminAction, AdminActionKind, DecisionRecord, Settlement, Verdict};
use app::ssr::likeness::LikenessEntry;
use app::ssr::ports::{AuditStore, Claim, DecisionQuery, RecordIndex, Seat};
use server::adapters::aws::S3AuditStore;
use server::adapters::record_import::{import_bucket, marker, Imported};
use server::adapters::BlobIndex;
use server::config::{AuditBackend, IndexBackend};
use std::sync::Arc;

fn record(day: u32, email: &str, verdict: Verdict) -> DecisionRecord {
    let at = format!("2026-05-{day:02}T09:00:00.000Z");
    let key = format!("screenshots/202605{day:02}-090000-{day}.png");
    DecisionRecord {
        image_sha256: format!("sha-{day}"),
        ..decision_record(email, verdict, &at, &key)
    }
}

fn seat(email: &str, ends: &str) -> Seat {
    Seat {
        email: email.into(),
        since: "2026-05-01T09:00:00.000Z".into(),
        ends: Some(ends.into()),
        remind_at: Some("2026-07-24T09:00:00.000Z".into()),
        reminded: false,
        how: "granted automatically".into(),
    }
}

/// What the earlier stack kept in its bucket, written by its own index: three decisions (one
/// waiting in the queue), an action, a claim, a granted image's likeness and a seat.
async fn old_bucket(old: &BlobIndex) -> (Vec<DecisionRecord>, LikenessEntry) {
    let records = vec![
        record(1, "ada@example.com", Verdict::Granted),
        record(2, "bob@example.com", Verdict::Denied),
        record(3, "cy.o@example.com", Verdict::Review),
    ];
    for r in &records {
        old.put_decision(r).await.unwrap();
    }
    assert!(old
        .open_review("cy.o@example.com", &records[2].record_key())
        .await
        .unwrap());
    let action = AdminAction {
        at: "2026-05-04T10:00:00.000Z".into(),
        action: AdminActionKind::Revoke,
        target: "dan@example.com".into(),
        by: "admin-1a2b3c4d".into(),
        note: None,
        outcome: "removed from the group".into(),
    };
    old.put_action("actions/20260504-100000-revoke.json", &action)
        .await
        .unwrap();
    assert_eq!(
        old.claim_image("sha-1", "ada@example.com").await.unwrap(),
        Claim::Fresh
    );
    // A real screenshot's likeness, as a grant reserved it.
    let image = app::ssr::normalise::normalise(&fixture("depleted-light.png")).unwrap();
    let entry = LikenessEntry {
        sha256: image.sha256.clone(),
        email: "ada@example.com".into(),
        screenshot_key: records[0].screenshot_key.clone(),
        likeness: image.likeness.clone(),
    };
    assert!(old.reserve_likeness(&entry).await.unwrap());
    old.put_seat(&seat("ada@example.com", "2026-07-31T09:00:00.000Z"))
        .await
        .unwrap();
    (records, entry)
}

#[tokio::test]
async fn a_bucket_of_records_moves_into_the_table_once_and_the_table_keeps_what_it_had() {
    let (client, bucket) = new_bucket().await;
    let audit: Arc<dyn AuditStore> = Arc::new(S3AuditStore::new(client, bucket));
    let (records, entry) = old_bucket(&BlobIndex::new(audit.clone())).await;
    let table = new_table().await;
    let done = marker("records-test");

    let found = import_bucket(&*audit, &table, &done).await.unwrap();
    assert_eq!(
        found,
        Some(Imported {
            decisions: 3,
            actions: 1,
            claims: 1,
            reviews: 1,
            likenesses: 1,
            seats: 1,
        })
    );
    let page = table
        .decisions(&DecisionQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let emails: Vec<&str> = page.records.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        emails,
        ["cy.o@example.com", "bob@example.com", "ada@example.com"]
    );
    let waiting = table.waiting_reviews().await.unwrap();
    assert_eq!(waiting, vec![records[2].clone()]);
    assert_eq!(
        table.image_owner("sha-1").await.unwrap().as_deref(),
        Some("ada@example.com")
    );
    let alike = table.likeness_candidates(&entry.likeness).await.unwrap();
    assert_eq!(alike, vec![entry.clone()]);
    assert_eq!(table.recent_actions(10).await.unwrap().len(), 1);
    assert!(table.seat("ada@example.com").await.unwrap().is_some());

    // After the move the table is the truth: a ruling and a renewal happen there only.
    let mut ruled = records[2].clone();
    ruled.settlement = Some(Settlement {
        approved: false,
        by: "admin-1a2b3c4d".into(),
        at: "2026-05-05T10:00:00.000Z".into(),
        note: None,
    });
    assert!(table.update_decision(&ruled).await.unwrap());
    let renewed = seat("ada@example.com", "2026-10-31T09:00:00.000Z");
    table.put_seat(&renewed).await.unwrap();

    // Once: a second run reads the marker and does nothing.
    assert_eq!(import_bucket(&*audit, &table, &done).await.unwrap(), None);
    // A run stopped before its marker, run again, copies nothing twice and undoes nothing.
    let again = import_bucket(&*audit, &table, &marker("records-test-again"))
        .await
        .unwrap();
    assert_eq!(again, Some(Imported::default()));
    let kept = table.decision(&ruled.record_key()).await.unwrap().unwrap();
    assert!(kept.settlement.is_some(), "the ruling stays: {kept:?}");
    assert_eq!(table.waiting_reviews().await.unwrap(), vec![]);
    assert_eq!(table.seat("ada@example.com").await.unwrap(), Some(renewed));
    // Nothing in the bucket was deleted.
    assert!(audit
        .record(&records[2].record_key())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn import_records_runs_on_the_configured_bucket_and_table_and_refuses_anything_else() {
    let data = tempfile::tempdir().unwrap();
    let mut config = crate::common::test_config(data.path());
    let refused = server::startup::import_records(&config).await.unwrap_err();
    assert!(
        format!("{refused:#}").contains("KIRO_RECORD_INDEX=dynamodb"),
        "{refused:#}"
    );

    let (client, bucket) = new_bucket().await;
    let audit = S3AuditStore::new(client, bucket.clone());
    let eve = record(7, "eve@example.com", Verdict::Granted);
    audit.put_record(&eve.record_key(), &eve).await.unwrap();
    let table = new_table().await;
    config.aws.endpoint_url = Some(moto::endpoint());
    config.audit_store = AuditBackend::S3 { bucket };
    config.record_index = IndexBackend::DynamoDb {
        table: table.table_name().to_owned(),
    };
    let found = server::startup::import_records(&config).await.unwrap();
    assert_eq!(found.map(|f| f.decisions), Some(1));
    assert_eq!(
        server::startup::import_records(&config).await.unwrap(),
        None
    );
    let by_email = DecisionQuery {
        email: Some("eve@example.com".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(table.decisions(&by_email).await.unwrap().records.len(), 1);
}
