//! The likeness part of the DynamoDB record index: an entry item per granted image
//! (`likeness#{sha256}`, written only if absent: the reservation) and an item per band key
//! (`band#{key}`, sorted by the entry's stamp, newest last), so candidates are one short query
//! per key, ranked, then one batch read of the few entries ranked first.

use super::dynamo_index::{
    before_retry, key, s, text, DynamoIndex, Find, Item, BATCH_ATTEMPTS, ONE, SERVICE,
};
use super::port_error;
use app::ssr::likeness::{Likeness, LikenessEntry};
use app::ssr::ports::{rank_candidates, PortError, PortResult, LIKENESS_PER_KEY};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use futures::{StreamExt, TryStreamExt};

/// How many band-key queries run at once.
const QUERIES_AT_ONCE: usize = 16;

fn entry_key(sha256: &str) -> Item {
    key(format!("likeness#{sha256}"), ONE)
}

fn band_key(band: i64, stamp: &str) -> Item {
    key(format!("band#{band}"), stamp)
}

/// Orders entries within a key: the time of the reservation, then the pixels' hash.
fn stamp(sha256: &str) -> String {
    let millis = chrono::Utc::now().timestamp_millis();
    format!("{millis:015}#{sha256}")
}

pub async fn reserve(index: &DynamoIndex, entry: &LikenessEntry) -> PortResult<bool> {
    let stamp = stamp(&entry.sha256);
    let mut item = entry_key(&entry.sha256);
    item.insert("owner".into(), s(&entry.email));
    item.insert("screenshot_key".into(), s(&entry.screenshot_key));
    item.insert(
        "aspect".into(),
        AttributeValue::N(entry.likeness.aspect.to_string()),
    );
    item.insert(
        "cells".into(),
        AttributeValue::B(entry.likeness.cells.clone().into()),
    );
    item.insert("stamp".into(), s(&stamp));
    if !index.put_if(item, "attribute_not_exists(pk)", None).await? {
        return Ok(false);
    }
    let bands = entry
        .likeness
        .band_keys()
        .into_iter()
        .map(|band| {
            let mut item = band_key(band, &stamp);
            item.insert("sha256".into(), s(&entry.sha256));
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PortError::upstream(SERVICE, e))?;
    if let Err(e) = write_all(index, bands).await {
        // No reservation is left half-made: its keys and its entry go (as far as they can).
        let _ = release(index, &entry.sha256, &entry.email).await;
        return Err(e);
    }
    Ok(true)
}

pub async fn release(index: &DynamoIndex, sha256: &str, email: &str) -> PortResult<()> {
    let Some(item) = index.get(entry_key(sha256)).await? else {
        return Ok(());
    };
    if text(&item, "owner").as_deref() != Some(email) {
        return Ok(());
    }
    let stamp = text(&item, "stamp").unwrap_or_default();
    let deletes = read_entry(sha256, &item)
        .likeness
        .band_keys()
        .into_iter()
        .map(|band| {
            DeleteRequest::builder()
                .set_key(Some(band_key(band, &stamp)))
                .build()
                .map(|delete| WriteRequest::builder().delete_request(delete).build())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PortError::upstream(SERVICE, e))?;
    write_all(index, deletes).await?;
    let owner = [("#o", "owner")];
    index
        .delete_if(entry_key(sha256), "#o = :o", &owner, &[(":o", s(email))])
        .await?;
    Ok(())
}

pub async fn candidates(
    index: &DynamoIndex,
    likeness: &Likeness,
) -> PortResult<Vec<LikenessEntry>> {
    let read: Vec<Vec<String>> = futures::stream::iter(likeness.band_keys())
        .map(|band| async move {
            let items = index
                .query(Find {
                    index: None,
                    hash: ("pk", format!("band#{band}")),
                    range: None,
                    equal: Vec::new(),
                    newest_first: true,
                    limit: Some(LIKENESS_PER_KEY),
                })
                .await?;
            Ok::<_, PortError>(items.iter().filter_map(|i| text(i, "sk")).collect())
        })
        .buffered(QUERIES_AT_ONCE)
        .try_collect()
        .await?;
    let ranked = rank_candidates(read);
    let shas: Vec<String> = ranked
        .iter()
        .filter_map(|stamp| stamp.split_once('#').map(|(_, sha)| sha.to_owned()))
        .collect();
    let items = index
        .get_many(shas.iter().map(|sha| entry_key(sha)).collect())
        .await?;
    // In the ranked order; an entry released since its keys were read is left out.
    Ok(shas
        .iter()
        .filter_map(|sha| {
            items
                .iter()
                .find(|i| text(i, "pk").as_deref() == Some(&format!("likeness#{sha}")))
                .map(|i| read_entry(sha, i))
        })
        .collect())
}

fn read_entry(sha256: &str, item: &Item) -> LikenessEntry {
    LikenessEntry {
        sha256: sha256.to_owned(),
        email: text(item, "owner").unwrap_or_default(),
        screenshot_key: text(item, "screenshot_key").unwrap_or_default(),
        likeness: Likeness {
            aspect: item
                .get("aspect")
                .and_then(|a| a.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or_default(),
            cells: item
                .get("cells")
                .and_then(|c| c.as_b().ok())
                .map(|b| b.clone().into_inner())
                .unwrap_or_default(),
        },
    }
}

/// Writes (or deletes) every request, 25 a call, retrying what the service left unprocessed.
async fn write_all(index: &DynamoIndex, requests: Vec<WriteRequest>) -> PortResult<()> {
    for chunk in requests.chunks(25) {
        let mut left = chunk.to_vec();
        for attempt in 0..BATCH_ATTEMPTS {
            if left.is_empty() {
                break;
            }
            before_retry(attempt).await;
            let done = index
                .client
                .batch_write_item()
                .request_items(&index.table, left)
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            left = done
                .unprocessed_items
                .and_then(|mut u| u.remove(&index.table))
                .unwrap_or_default();
        }
        if !left.is_empty() {
            return Err(PortError::unavailable(SERVICE, "writes left unprocessed"));
        }
    }
    Ok(())
}
