//! The seats part of the record index contract, against SQLite, the blob index over files, over
//! the in-memory fake, over S3 (moto) and DynamoDB (moto): one seat per exact email, overwritten whole; the
//! ending and the due reminders found by time, soonest first, bounded, never a seat without one.

use app::ssr::ports::{RecordIndex, Seat};
use server::adapters::aws::S3AuditStore;
use server::adapters::memory::MemoryAuditStore;
use server::adapters::{BlobIndex, FileAuditStore, SqliteIndex};
use std::sync::Arc;

/// A seat that ends on day `ends` of December 2026 (never with `None`), reminded on the day before.
fn seat(email: &str, ends: Option<u32>) -> Seat {
    let day = |d: u32| format!("2026-12-{d:02}T00:00:00.000Z");
    Seat {
        email: email.to_owned(),
        since: day(1),
        ends: ends.map(day),
        remind_at: ends.map(|d| day(d - 1)),
        reminded: false,
        how: "granted automatically".into(),
    }
}

fn emails(seats: &[Seat]) -> Vec<&str> {
    seats.iter().map(|s| s.email.as_str()).collect()
}

async fn seats_contract(index: &dyn RecordIndex) {
    assert_eq!(index.seat("ada@example.com").await.unwrap(), None);
    index.remove_seat("ada@example.com").await.unwrap();
    let by = "2026-12-31T00:00:00.000Z";
    assert!(index.seats_ending_by(by, 10).await.unwrap().is_empty());

    index
        .put_seat(&seat("ada@example.com", Some(20)))
        .await
        .unwrap();
    index
        .put_seat(&seat("bob@example.com", Some(10)))
        .await
        .unwrap();
    index.put_seat(&seat("cy@example.com", None)).await.unwrap();
    index
        .put_seat(&seat("dee@example.com", Some(15)))
        .await
        .unwrap();
    // The exact email: another letter case is another seat.
    index
        .put_seat(&seat("Ada@example.com", Some(5)))
        .await
        .unwrap();
    assert_eq!(
        index.seat("ada@example.com").await.unwrap(),
        Some(seat("ada@example.com", Some(20)))
    );

    let ending = index.seats_ending_by(by, 10).await.unwrap();
    assert_eq!(
        emails(&ending),
        [
            "Ada@example.com",
            "bob@example.com",
            "dee@example.com",
            "ada@example.com"
        ],
        "soonest first, never the seat without an end"
    );
    let ending = index
        .seats_ending_by("2026-12-15T00:00:00.000Z", 2)
        .await
        .unwrap();
    assert_eq!(emails(&ending), ["Ada@example.com", "bob@example.com"]);
    let ending = index
        .seats_ending_by("2026-12-15T00:00:00.000Z", 10)
        .await
        .unwrap();
    assert_eq!(
        emails(&ending).len(),
        3,
        "the end itself counts: {ending:?}"
    );

    // Overwritten whole: reminded, and with a later end.
    let mut renewed = seat("bob@example.com", Some(25));
    renewed.reminded = true;
    index.put_seat(&renewed).await.unwrap();
    assert_eq!(index.seat("bob@example.com").await.unwrap(), Some(renewed));
    let due = index
        .reminders_due_by("2026-12-24T00:00:00.000Z", 10)
        .await
        .unwrap();
    assert_eq!(
        emails(&due),
        ["Ada@example.com", "dee@example.com", "ada@example.com"],
        "a reminded seat is not due again"
    );
    let due = index
        .reminders_due_by("2026-12-14T00:00:00.000Z", 10)
        .await
        .unwrap();
    assert_eq!(emails(&due), ["Ada@example.com", "dee@example.com"]);

    index.remove_seat("ada@example.com").await.unwrap();
    assert_eq!(index.seat("ada@example.com").await.unwrap(), None);
    assert!(index.seat("Ada@example.com").await.unwrap().is_some());
    assert_eq!(
        emails(&index.seats_ending_by(by, 10).await.unwrap()),
        ["Ada@example.com", "dee@example.com", "bob@example.com"]
    );
}

#[tokio::test]
async fn sqlite_keeps_the_seats_contract() {
    let data = tempfile::tempdir().unwrap();
    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    seats_contract(&index).await;
}

#[tokio::test]
async fn the_blob_index_over_files_keeps_the_seats_contract() {
    let data = tempfile::tempdir().unwrap();
    let files = Arc::new(FileAuditStore::open(data.path()).unwrap());
    seats_contract(&BlobIndex::new(files)).await;
}

#[tokio::test]
async fn the_blob_index_over_the_in_memory_fake_keeps_the_seats_contract() {
    seats_contract(&BlobIndex::new(Arc::new(MemoryAuditStore::default()))).await;
}

#[tokio::test]
async fn the_blob_index_over_s3_keeps_the_seats_contract() {
    let (client, bucket) = crate::aws::new_bucket().await;
    let s3 = S3AuditStore::new(client, &bucket).with_page_size(2);
    seats_contract(&BlobIndex::new(Arc::new(s3))).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_seats_contract() {
    seats_contract(&crate::aws::new_table().await).await;
}
