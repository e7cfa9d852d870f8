//! The likeness part of the record index contract, against SQLite, the blob index over files,
//! over the in-memory fake, over S3 (moto) and DynamoDB (moto): reserve once, release one's own, candidates that
//! share band keys and no others, bounded, the distinctive before the crowd.

use app::ssr::likeness::{Likeness, LikenessEntry};
use app::ssr::ports::{RecordIndex, LIKENESS_CANDIDATES, LIKENESS_PER_KEY};
use server::adapters::aws::S3AuditStore;
use server::adapters::memory::MemoryAuditStore;
use server::adapters::{BlobIndex, FileAuditStore, SqliteIndex};
use std::sync::Arc;

/// A grid of brightness no other seed gives (a xorshift from `seed`), 16:10.
fn grid(seed: u64) -> Likeness {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let cells = (0..1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    Likeness {
        aspect: 1600,
        cells,
    }
}

fn entry(sha: &str, email: &str, likeness: &Likeness) -> LikenessEntry {
    LikenessEntry {
        sha256: sha.to_owned(),
        email: email.to_owned(),
        screenshot_key: format!("screenshots/{sha}.png"),
        likeness: likeness.clone(),
    }
}

fn shas(entries: &[LikenessEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.sha256.as_str()).collect()
}

/// `seeks`: the adapter has an index to seek (the blob index reads every entry, in no order).
async fn likeness_contract(index: &dyn RecordIndex, seeks: bool) {
    let ada = grid(1);
    assert!(index.likeness_candidates(&ada).await.unwrap().is_empty());
    assert!(index
        .reserve_likeness(&entry("a1", "ada@example.com", &ada))
        .await
        .unwrap());
    // The same pixels again, for anyone: the first entry stays.
    assert!(!index
        .reserve_likeness(&entry("a1", "bob@example.com", &grid(2)))
        .await
        .unwrap());
    let found = index.likeness_candidates(&ada).await.unwrap();
    assert_eq!(found, vec![entry("a1", "ada@example.com", &ada)]);

    // A copy with a few cells changed shares most keys and finds it; another grid finds nothing.
    let mut edited = ada.clone();
    for cell in [3, 100, 500, 900] {
        edited.cells[cell] = edited.cells[cell].wrapping_add(128);
    }
    assert_eq!(
        shas(&index.likeness_candidates(&edited).await.unwrap()),
        ["a1"]
    );
    assert!(index
        .likeness_candidates(&grid(3))
        .await
        .unwrap()
        .is_empty());

    // Only its owner's release removes it, and a missing one is released without error.
    index
        .release_likeness("a1", "bob@example.com")
        .await
        .unwrap();
    assert_eq!(index.likeness_candidates(&ada).await.unwrap().len(), 1);
    index
        .release_likeness("a1", "ada@example.com")
        .await
        .unwrap();
    index
        .release_likeness("a1", "ada@example.com")
        .await
        .unwrap();
    assert!(index.likeness_candidates(&ada).await.unwrap().is_empty());
    assert!(index
        .reserve_likeness(&entry("a1", "cara@example.com", &ada))
        .await
        .unwrap());
    index
        .release_likeness("a1", "cara@example.com")
        .await
        .unwrap();

    // Racing reservations of one image: exactly one wins.
    let racing = grid(4);
    let reserves = (0..6).map(|i| {
        let e = entry("race", &format!("r{i}@example.com"), &racing);
        async move { index.reserve_likeness(&e).await.unwrap() }
    });
    let won = futures::future::join_all(reserves).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");

    crowd_contract(index, seeks).await;
}

/// An early image and a crowd of later ones that all share the same half of its keys: the early
/// one, sharing every key of a probe (half of them with nobody else), comes first; no more than
/// `LIKENESS_CANDIDATES` are returned, and, where the adapter seeks, the others are of the newest
/// `LIKENESS_PER_KEY`.
async fn crowd_contract(index: &dyn RecordIndex, seeks: bool) {
    let early = grid(10);
    assert!(index
        .reserve_likeness(&entry("early", "ada@example.com", &early))
        .await
        .unwrap());
    let early_keys = early.band_keys();
    // Which cells spoil half the keys: the early grid's cells replaced, one at a time, while
    // half of its keys stay.
    let mut spoilt = Vec::new();
    let mut first = early.clone();
    let noise = grid(99);
    for cell in 0..1024 {
        let mut trial = first.clone();
        trial.cells[cell] = noise.cells[cell];
        if shared(&early_keys, &trial).len() >= early_keys.len() / 2 {
            first = trial;
            spoilt.push(cell);
        }
    }
    let kept = shared(&early_keys, &first);
    assert!(kept.len() >= early_keys.len() / 2 && kept.len() < early_keys.len());
    // Only the cells of spoilt bands (a cell whose noise happened to keep its level is left).
    spoilt.retain(|&cell| {
        let mut moved = early.clone();
        moved.cells[cell] = moved.cells[cell].wrapping_add(128);
        kept.iter().all(|k| moved.band_keys().contains(k))
    });
    // The crowd: those cells replaced by other noise, each keeping exactly the same keys.
    let crowd_size = LIKENESS_PER_KEY + LIKENESS_CANDIDATES + 4;
    let (mut seed, mut made) = (100, 0);
    while made < crowd_size {
        seed += 1;
        let noise = grid(seed);
        let mut other = early.clone();
        for &cell in &spoilt {
            other.cells[cell] = noise.cells[cell];
        }
        if shared(&early_keys, &other) != kept {
            continue;
        }
        let sha = format!("crowd{made:02}");
        assert!(index
            .reserve_likeness(&entry(&sha, "crowd@example.com", &other))
            .await
            .unwrap());
        made += 1;
    }
    let found = index.likeness_candidates(&early).await.unwrap();
    assert!(found.len() <= LIKENESS_CANDIDATES, "{}", found.len());
    assert_eq!(
        found.first().map(|e| e.sha256.as_str()),
        Some("early"),
        "{:?}",
        shas(&found)
    );
    assert!(
        found.len() > 1,
        "the crowd shares keys too: {:?}",
        shas(&found)
    );
    // A crowded key is read newest first, `LIKENESS_PER_KEY` deep: no older crowd entry.
    let oldest_read = crowd_size - LIKENESS_PER_KEY;
    for later in found[1..].iter().filter(|_| seeks) {
        let made: usize = later.sha256.trim_start_matches("crowd").parse().unwrap();
        assert!(made >= oldest_read, "read too deep: {:?}", shas(&found));
    }
}

/// The keys of `keys` that `other` has too.
fn shared(keys: &[i64], other: &Likeness) -> Vec<i64> {
    let theirs = other.band_keys();
    keys.iter()
        .copied()
        .filter(|k| theirs.contains(k))
        .collect()
}

#[tokio::test]
async fn sqlite_keeps_the_likeness_contract() {
    let data = tempfile::tempdir().unwrap();
    let index = SqliteIndex::open(&data.path().join("records.sqlite")).unwrap();
    likeness_contract(&index, true).await;
}

#[tokio::test]
async fn the_blob_index_over_files_keeps_the_likeness_contract() {
    let data = tempfile::tempdir().unwrap();
    let files = Arc::new(FileAuditStore::open(data.path()).unwrap());
    likeness_contract(&BlobIndex::new(files), false).await;
}

#[tokio::test]
async fn the_blob_index_over_the_in_memory_fake_keeps_the_likeness_contract() {
    likeness_contract(
        &BlobIndex::new(Arc::new(MemoryAuditStore::default())),
        false,
    )
    .await;
}

#[tokio::test]
async fn the_blob_index_over_s3_keeps_the_likeness_contract() {
    let (client, bucket) = crate::aws::new_bucket().await;
    let s3 = S3AuditStore::new(client, &bucket).with_page_size(2);
    likeness_contract(&BlobIndex::new(Arc::new(s3)), false).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_likeness_contract() {
    likeness_contract(&crate::aws::new_table().await, true).await;
}
