//! The one-time codes part of the record index contract, against SQLite, the blob index over
//! files, over the in-memory fake, over S3 (moto) and DynamoDB (moto): items written once per
//! owner and name (racing writers: one wins), listed by owner, kept until they expire. Then
//! what each store does once they have: SQLite sweeps them, DynamoDB's TTL is on their expiry.

use app::ssr::ports::RecordIndex;
use server::adapters::aws::S3AuditStore;
use server::adapters::memory::MemoryAuditStore;
use server::adapters::{BlobIndex, FileAuditStore, SqliteIndex};
use std::sync::Arc;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn names(index: &dyn RecordIndex, owner: &str) -> Vec<String> {
    let mut names = index.code_item_names(owner).await.unwrap();
    names.sort();
    names
}

async fn codes_contract(index: &dyn RecordIndex) {
    let later = now() + 3_600;
    assert!(names(index, "a1").await.is_empty());
    assert_eq!(index.code_item("a1", "1.json").await.unwrap(), None);

    assert!(index
        .put_code_item("a1", "1.json", b"first", later)
        .await
        .unwrap());
    assert!(
        !index
            .put_code_item("a1", "1.json", b"second", later)
            .await
            .unwrap(),
        "a name is written once"
    );
    assert_eq!(
        index.code_item("a1", "1.json").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    // A try's marker is empty.
    assert!(index
        .put_code_item("a1", "1.json.try-1", b"", later)
        .await
        .unwrap());
    assert_eq!(
        index.code_item("a1", "1.json.try-1").await.unwrap(),
        Some(Vec::new())
    );
    // Another owner, whose name begins with the first's, keeps its own items.
    assert!(index
        .put_code_item("a10", "1.json", b"other", later)
        .await
        .unwrap());
    assert_eq!(names(index, "a1").await, ["1.json", "1.json.try-1"]);
    assert_eq!(names(index, "a10").await, ["1.json"]);
    assert_eq!(index.code_item("a10", "1.json.try-1").await.unwrap(), None);
    assert_eq!(
        index.code_item("a10", "1.json").await.unwrap().as_deref(),
        Some(&b"other"[..])
    );

    // Racing writers of one name: exactly one wins, and it is its bytes that stay.
    let writes = (0..6u8).map(|i| async move {
        let won = index.put_code_item("race", "slot", &[i], later).await;
        (i, won.unwrap())
    });
    let answers = futures::future::join_all(writes).await;
    let winner = super::the_one_winner(&answers);
    assert_eq!(index.code_item("race", "slot").await.unwrap(), Some(winner));
}

#[tokio::test]
async fn sqlite_keeps_the_codes_contract() {
    let data = tempfile::tempdir().unwrap();
    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    codes_contract(&index).await;
}

#[tokio::test]
async fn the_blob_index_over_files_keeps_the_codes_contract() {
    let data = tempfile::tempdir().unwrap();
    let files = Arc::new(FileAuditStore::open(data.path()).unwrap());
    codes_contract(&BlobIndex::new(files)).await;
}

#[tokio::test]
async fn the_blob_index_over_the_in_memory_fake_keeps_the_codes_contract() {
    codes_contract(&BlobIndex::new(Arc::new(MemoryAuditStore::default()))).await;
}

#[tokio::test]
async fn the_blob_index_over_s3_keeps_the_codes_contract() {
    let (client, bucket) = crate::aws::new_bucket().await;
    let s3 = S3AuditStore::new(client, &bucket).with_page_size(2);
    codes_contract(&BlobIndex::new(Arc::new(s3))).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_codes_contract() {
    codes_contract(&crate::aws::new_table().await).await;
}

/// SQLite has no time to live of its own: each write sweeps what has expired, of every owner,
/// so the file holds a day of codes, not all of them ever sent.
#[tokio::test]
async fn sqlite_sweeps_expired_code_items_and_keeps_the_rest() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("records.sqlite");
    let index = SqliteIndex::open(&path).unwrap();
    let (past, later) = (now() - 1, now() + 3_600);
    assert!(index.put_code_item("a1", "old", b"x", past).await.unwrap());
    assert!(index.put_code_item("a1", "new", b"y", later).await.unwrap());
    assert!(index.put_code_item("b2", "old", b"z", past).await.unwrap());
    assert!(index.put_code_item("c3", "any", b"", later).await.unwrap());
    assert_eq!(names(&index, "a1").await, ["new"]);
    assert!(names(&index, "b2").await.is_empty());
    assert_eq!(names(&index, "c3").await, ["any"]);
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM code_items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2, "the expired rows are gone from the file");
}

/// DynamoDB deletes an item once the number in the table's TTL attribute (the template's
/// `TimeToLiveSpecification`, which the test table is made with) has passed: the adapter's
/// items carry their expiry there, in seconds, as DynamoDB reads it.
#[tokio::test]
async fn on_dynamodb_code_items_expire_by_the_tables_time_to_live() {
    let client =
        aws_sdk_dynamodb::Client::new(&crate::aws::sdk(&crate::common::moto::endpoint()).await);
    let table = format!("kiro-records-{}", uuid::Uuid::new_v4().simple());
    crate::common::records_table::create(&client, &table).await;
    let index = server::adapters::aws::DynamoIndex::new(client.clone(), &table);
    let expires = now() + 86_400;
    assert!(index
        .put_code_item("a1", "1.json", b"x", expires)
        .await
        .unwrap());

    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .expect("the table has a TTL");
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    let attribute = ttl.attribute_name().expect("a TTL attribute").to_owned();
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0].get(&attribute).and_then(|v| v.as_n().ok()),
        Some(&expires.to_string()),
        "{items:?}"
    );
}
