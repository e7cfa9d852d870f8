//! The audit store in a private S3 bucket: screenshots and JSON records under `screenshots/`
//! (the same keys as on disk, server-side encryption requested), recent records by listing
//! month prefixes newest first, administrators' actions under `actions/`, and image claims as
//! `claims/{sha256}` written with
//! `If-None-Match: *`, so the first writer wins across Lambda instances; the review queue as
//! `reviews/{email}` objects naming the waiting record, written the same way.

use super::port_error;
use app::api::{AdminAction, DecisionRecord};
use app::ssr::ports::{AuditStore, Claim, PortError, PortResult};
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use chrono::{Datelike, Months};

/// Our name for this port in messages; the SDK's error (which names S3) is the source.
const SERVICE: &str = "the audit store";

#[derive(Clone, Debug)]
pub struct S3AuditStore {
    client: Client,
    bucket: String,
    /// Keys per ListObjectsV2 page (S3's maximum is 1000; tests use a small one).
    page_size: i32,
    /// How many months back the admin page looks (the bucket keeps screenshots 90 days).
    months: u32,
}

impl S3AuditStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            page_size: 1000,
            months: 4,
        }
    }

    pub fn with_page_size(self, page_size: i32) -> Self {
        Self { page_size, ..self }
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> PortResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .metadata("written-by", "kiro-access")
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes =
                    out.body.collect().await.map_err(|e| {
                        PortError::unavailable(SERVICE, format!("reading {key}: {e}"))
                    })?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    /// Writes `body` at `key` only if nothing is there; `false` when something was.
    async fn put_if_absent(&self, key: &str, body: &[u8]) -> PortResult<bool> {
        let written = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .content_type("text/plain")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .if_none_match("*")
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            // 412: someone wrote it first; 409: a concurrent conditional write is under way.
            Err(e)
                if matches!(
                    e.raw_response().map(|r| r.status().as_u16()),
                    Some(412 | 409)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    /// Every key under one prefix, all pages.
    async fn keys_under(&self, prefix: &str) -> PortResult<Vec<String>> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .page_size(self.page_size)
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error(SERVICE, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(str::to_owned),
            );
        }
        Ok(keys)
    }

    /// The JSON objects at `keys` that read as `T`, in that order; one that does not is logged
    /// and skipped, one deleted meanwhile is skipped.
    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        keys: Vec<String>,
    ) -> PortResult<Vec<T>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(bytes) = self.get(&key).await? {
                match serde_json::from_slice(&bytes) {
                    Ok(value) => found.push(value),
                    Err(e) => tracing::warn!(%key, error = %e, "skipping an unreadable object"),
                }
            }
        }
        Ok(found)
    }

    fn review_key(email: &str) -> String {
        format!("reviews/{}", app::ssr::workflow::sanitise_for_key(email))
    }
}

#[async_trait]
impl AuditStore for S3AuditStore {
    async fn put_screenshot(&self, key: &str, bytes: &[u8], content_type: &str) -> PortResult<()> {
        self.put(key, bytes.to_vec(), content_type).await
    }

    async fn put_record(&self, key: &str, record: &DecisionRecord) -> PortResult<()> {
        let json =
            serde_json::to_vec_pretty(record).map_err(|e| PortError::unavailable(SERVICE, e))?;
        self.put(key, json, "application/json").await
    }

    async fn recent(&self, limit: usize) -> PortResult<Vec<DecisionRecord>> {
        // Keys start with the UTC time, so a month's prefix lists in time order; walk months
        // backwards until there are enough.
        let mut keys = Vec::new();
        let this_month = chrono::Utc::now()
            .date_naive()
            .with_day(1)
            .unwrap_or_default();
        for back in 0..self.months {
            let Some(month) = this_month.checked_sub_months(Months::new(back)) else {
                break;
            };
            let mut found = self
                .keys_under(&format!("screenshots/{}", month.format("%Y%m")))
                .await?;
            found.retain(|k| k.ends_with(".json"));
            found.sort_unstable_by(|a, b| b.cmp(a));
            keys.extend(found);
            if keys.len() >= limit {
                break;
            }
        }
        keys.truncate(limit);
        self.read_json(keys).await
    }

    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()> {
        let json =
            serde_json::to_vec_pretty(action).map_err(|e| PortError::unavailable(SERVICE, e))?;
        self.put(key, json, "application/json").await
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        // Actions are few (people act, not scripts): one listing of the prefix, newest first.
        let mut keys = self.keys_under("actions/").await?;
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.truncate(limit);
        self.read_json(keys).await
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        Ok(self
            .get(&format!("claims/{sha256}"))
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        let key = format!("claims/{sha256}");
        if self.put_if_absent(&key, email.as_bytes()).await? {
            return Ok(Claim::Fresh);
        }
        match self.image_owner(sha256).await? {
            Some(owner) if owner == email => Ok(Claim::SameOwner),
            Some(owner) => Ok(Claim::OtherOwner(owner)),
            None => Err(PortError::unavailable(
                SERVICE,
                format!("the claim on {key} exists but cannot be read yet"),
            )),
        }
    }

    async fn record(&self, key: &str) -> PortResult<Option<DecisionRecord>> {
        let Some(bytes) = self.get(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PortError::upstream(SERVICE, format!("the record {key}: {e}")))
    }

    async fn screenshot(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.get(key).await
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        self.put_if_absent(&Self::review_key(email), record_key.as_bytes())
            .await
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        Ok(self
            .get(&Self::review_key(email))
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<String>> {
        let mut waiting = Vec::new();
        for key in self.keys_under("reviews/").await? {
            if let Some(bytes) = self.get(&key).await? {
                waiting.push(String::from_utf8_lossy(&bytes).trim().to_owned());
            }
        }
        Ok(waiting)
    }

    async fn close_review(&self, email: &str) -> PortResult<()> {
        // S3 answers a delete of a missing key with success.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(Self::review_key(email))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    async fn create_once(&self, key: &str, bytes: &[u8]) -> PortResult<bool> {
        self.put_if_absent(key, bytes).await
    }

    async fn read_once(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.get(key).await
    }

    async fn remove_once(&self, key: &str) -> PortResult<()> {
        // S3 answers a delete of a missing key with success.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    async fn keys_in(&self, folder: &str) -> PortResult<Vec<String>> {
        self.keys_under(folder).await
    }
}
