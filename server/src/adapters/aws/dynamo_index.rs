//! The record index in one DynamoDB table (`RecordsTable` in `infra/template.yaml`): an item per
//! decision, queue entry, action, claim, seat, likeness and one-time code item, keyed `pk` +
//! `sk`, found through the sparse indexes `by-kind`, `by-email`, `by-verdict`, `by-reason` and
//! `by-reminder`, never by a scan. Claims, the queue, settlements and codes are conditional
//! writes: one writer wins. Code items carry `expires`, the table's TTL attribute.

use super::dynamo_likeness;
use super::port_error;
use app::api::{AdminAction, DecisionRecord};
use app::ssr::likeness::{Likeness, LikenessEntry};
use app::ssr::ports::{
    Claim, DecisionPage, DecisionQuery, PortError, PortResult, RecordIndex, Seat,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

/// Our name for this port in messages.
pub(super) const SERVICE: &str = "the record index";

/// The sort key of items that are alone under their partition key.
pub(super) const ONE: &str = "-";

pub(super) type Item = HashMap<String, AttributeValue>;

/// What one `query` reads: the items of one partition of the table or an index (`hash` equal
/// to a value), those whose sort key meets `range` (its name, a condition on `#r` with the
/// bound `:r`, and the bound), whose attributes equal `equal`, `limit` at most (`None`: all).
pub(super) struct Find<'a> {
    pub index: Option<&'a str>,
    pub hash: (&'a str, String),
    pub range: Option<(&'a str, &'a str, String)>,
    pub equal: Vec<(&'a str, String)>,
    pub newest_first: bool,
    pub limit: Option<usize>,
}

#[derive(Clone)]
pub struct DynamoIndex {
    pub(super) client: Client,
    pub(super) table: String,
}

pub(super) fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

pub(super) fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn json<T: serde::Serialize>(value: &T) -> PortResult<AttributeValue> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| PortError::upstream(SERVICE, e))
}

fn parsed<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> PortResult<T> {
    let body = text(item, name).unwrap_or_default();
    serde_json::from_str(&body).map_err(|e| PortError::upstream(SERVICE, e))
}

fn label<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Where a decision sorts among others: its time, then its key (the times are one format).
fn at_key(record: &DecisionRecord) -> String {
    format!("{}#{}", record.at, record.record_key())
}

/// How many times a batch call is made for what the service left unprocessed.
pub(super) const BATCH_ATTEMPTS: u32 = 8;

/// The pause before a batch call's `attempt` (none before the first): 40 ms doubling, as the
/// service asks of what it left unprocessed (it is being throttled).
pub(super) async fn before_retry(attempt: u32) {
    if attempt > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
    }
}

/// Whether the SDK error is a condition that did not hold (the other writer won).
fn lost<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl DynamoIndex {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub(super) async fn get(&self, key: Item) -> PortResult<Option<Item>> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(got.item)
    }

    async fn put(&self, item: Item) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    /// Writes `item` when `condition` holds; `false` when it did not.
    pub(super) async fn put_if(
        &self,
        item: Item,
        condition: &str,
        values: Option<Item>,
    ) -> PortResult<bool> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if lost(&e) => Ok(false),
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    pub(super) async fn delete(&self, key: Item) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    /// Deletes the item at `key` when `condition` holds (`names` and `values` are its `#` and
    /// `:` placeholders); `false` when it did not, as when nothing is there.
    pub(super) async fn delete_if(
        &self,
        key: Item,
        condition: &str,
        names: &[(&str, &str)],
        values: &[(&str, AttributeValue)],
    ) -> PortResult<bool> {
        let names = (!names.is_empty()).then(|| {
            names
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        });
        let values = values.iter().map(|(n, v)| (n.to_string(), v.clone()));
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(Some(values.collect()))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if lost(&e) => Ok(false),
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    /// The items `find` names, in order, read page by page.
    pub(super) async fn query(&self, find: Find<'_>) -> PortResult<Vec<Item>> {
        let (hash, value) = find.hash;
        let mut names = HashMap::from([("#h".to_owned(), hash.to_owned())]);
        let mut values = HashMap::from([(":h".to_owned(), s(value))]);
        let mut condition = "#h = :h".to_owned();
        if let Some((name, expression, bound)) = find.range {
            names.insert("#r".into(), name.into());
            values.insert(":r".into(), s(bound));
            condition = format!("{condition} AND {expression}");
        }
        let mut filters = Vec::new();
        for (i, (name, v)) in find.equal.into_iter().enumerate() {
            names.insert(format!("#f{i}"), name.into());
            values.insert(format!(":f{i}"), s(v));
            filters.push(format!("#f{i} = :f{i}"));
        }
        let filter = (!filters.is_empty()).then(|| filters.join(" AND "));
        let mut items = Vec::new();
        let mut start = None;
        loop {
            // Without a filter a page of exactly what is still wanted; with one, pages of 100.
            let page_size = match (find.limit, &filter) {
                (Some(limit), None) => limit.saturating_sub(items.len()).clamp(1, 1000),
                _ => 100,
            };
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(find.index.map(str::to_owned))
                .key_condition_expression(&condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!find.newest_first)
                .limit(page_size as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if let Some(limit) = find.limit.filter(|l| items.len() >= *l) {
                items.truncate(limit);
                break;
            }
            if start.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// The items at these keys (any order; a missing one is left out), 100 a call.
    pub(super) async fn get_many(&self, keys: Vec<Item>) -> PortResult<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut wanted = Some(chunk.to_vec());
            for attempt in 0..BATCH_ATTEMPTS {
                let Some(keys) = wanted.take().filter(|k| !k.is_empty()) else {
                    break;
                };
                before_retry(attempt).await;
                let ask = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| PortError::upstream(SERVICE, e))?;
                let got = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ask)
                    .send()
                    .await
                    .map_err(|e| port_error(SERVICE, e))?;
                found.extend(
                    got.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                wanted = got
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys);
            }
            if wanted.is_some_and(|k| !k.is_empty()) {
                return Err(PortError::unavailable(SERVICE, "reads left unprocessed"));
            }
        }
        Ok(found)
    }

    fn decision_item(&self, record: &DecisionRecord) -> PortResult<Item> {
        let mut item = key(format!("decision#{}", record.record_key()), ONE);
        item.insert("kind".into(), s("decision"));
        item.insert("at_key".into(), s(at_key(record)));
        item.insert("email".into(), s(&record.email));
        item.insert("verdict".into(), s(label(&record.verdict)));
        if let Some(reason) = &record.reason {
            item.insert("reason".into(), s(label(reason)));
        }
        item.insert(
            "revision".into(),
            AttributeValue::N(record.revision.to_string()),
        );
        item.insert("record".into(), json(record)?);
        Ok(item)
    }

    /// Takes `email`'s queue entry out when it names `record_key` (a settled record's).
    async fn close_entry(&self, email: &str, record_key: &str) -> PortResult<()> {
        let entry = key(format!("review#{email}"), ONE);
        self.delete_if(entry, "record_key = :k", &[], &[(":k", s(record_key))])
            .await?;
        Ok(())
    }

    /// The record a queue entry names, when it is stored and still waiting.
    async fn waiting(&self, record_key: &str) -> PortResult<Option<DecisionRecord>> {
        Ok(self
            .decision(record_key)
            .await?
            .filter(DecisionRecord::is_waiting))
    }
}

impl DynamoIndex {
    /// Seats of one sparse index partition (`index`, `hash` = `value`) whose `time` is at or
    /// before `by`, soonest first.
    async fn seats_by(
        &self,
        (index, hash, value, time): (&str, &str, &str, &str),
        by: &str,
        limit: usize,
    ) -> PortResult<Vec<Seat>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query(Find {
            index: Some(index),
            hash: (hash, value.to_owned()),
            range: Some((time, "#r <= :r", by.to_owned())),
            equal: Vec::new(),
            newest_first: false,
            limit: Some(limit),
        })
        .await?
        .iter()
        .map(|item| parsed(item, "seat"))
        .collect()
    }
}

fn seat_item(seat: &Seat) -> PortResult<Item> {
    let mut item = key(format!("seat#{}", seat.email), ONE);
    item.insert("seat".into(), json(seat)?);
    if let Some(ends) = &seat.ends {
        item.insert("kind".into(), s("seat-ends"));
        item.insert("at_key".into(), s(ends));
    }
    if let (Some(remind_at), false) = (&seat.remind_at, seat.reminded) {
        item.insert("due".into(), s("reminder"));
        item.insert("remind_at".into(), s(remind_at));
    }
    Ok(item)
}

#[async_trait]
impl RecordIndex for DynamoIndex {
    async fn put_decision(&self, record: &DecisionRecord) -> PortResult<()> {
        self.put(self.decision_item(record)?).await?;
        if !record.is_waiting() {
            self.close_entry(&record.email, &record.record_key())
                .await?;
        }
        Ok(())
    }

    async fn decision(&self, record_key: &str) -> PortResult<Option<DecisionRecord>> {
        self.get(key(format!("decision#{record_key}"), ONE))
            .await?
            .map(|item| parsed(&item, "record"))
            .transpose()
    }

    async fn decisions(&self, query: &DecisionQuery) -> PortResult<DecisionPage> {
        let limit = query.limit.max(1);
        // The narrowest index the query names; the other filters are applied to what it reads.
        let verdict = query.verdict.as_ref().map(|v| ("verdict", label(v)));
        let reason = query.reason.as_ref().map(|r| ("reason", label(r)));
        let (index, hash, equal) = if let Some(email) = &query.email {
            let equal = verdict.into_iter().chain(reason).collect();
            ("by-email", ("email", email.clone()), equal)
        } else if let Some(reason) = reason {
            ("by-reason", reason, verdict.into_iter().collect())
        } else if let Some(verdict) = verdict {
            ("by-verdict", verdict, Vec::new())
        } else {
            ("by-kind", ("kind", "decision".to_owned()), Vec::new())
        };
        let range = match &query.after {
            None => None,
            Some(after) => {
                // A cursor whose record is gone lists nothing more rather than starting over.
                let Some(last) = self.decision(after).await? else {
                    return Ok(DecisionPage::default());
                };
                Some(("at_key", "#r < :r", at_key(&last)))
            }
        };
        let items = self
            .query(Find {
                index: Some(index),
                hash,
                range,
                equal,
                newest_first: true,
                limit: Some(limit + 1),
            })
            .await?;
        let mut records = items
            .iter()
            .map(|item| parsed::<DecisionRecord>(item, "record"))
            .collect::<PortResult<Vec<_>>>()?;
        let more = records.len() > limit;
        records.truncate(limit);
        Ok(DecisionPage {
            next: more
                .then(|| records.last().map(|r| r.record_key()))
                .flatten(),
            records,
        })
    }

    async fn update_decision(&self, record: &DecisionRecord) -> PortResult<bool> {
        let mut next = record.clone();
        next.revision = record.revision + 1;
        let written = self
            .put_if(
                self.decision_item(&next)?,
                "revision = :expected",
                Some(HashMap::from([(
                    ":expected".to_owned(),
                    AttributeValue::N(record.revision.to_string()),
                )])),
            )
            .await?;
        if written && !next.is_waiting() {
            self.close_entry(&next.email, &next.record_key()).await?;
        }
        Ok(written)
    }

    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool> {
        let Some(record) = self.waiting(record_key).await? else {
            return Ok(false);
        };
        let entry = key(format!("review#{email}"), ONE);
        // An entry whose record is settled or gone no longer holds the queue: it is replaced.
        let (condition, values) = match self.get(entry.clone()).await? {
            None => ("attribute_not_exists(pk)", None),
            Some(held) => {
                let held_key = text(&held, "record_key").unwrap_or_default();
                if self.waiting(&held_key).await?.is_some() {
                    return Ok(false);
                }
                (
                    "record_key = :stale",
                    Some(HashMap::from([(":stale".to_owned(), s(held_key))])),
                )
            }
        };
        let mut item = entry;
        item.insert("record_key".into(), s(record_key));
        item.insert("kind".into(), s("queue"));
        item.insert("at_key".into(), s(at_key(&record)));
        self.put_if(item, condition, values).await
    }

    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>> {
        let Some(entry) = self.get(key(format!("review#{email}"), ONE)).await? else {
            return Ok(None);
        };
        let record_key = text(&entry, "record_key").unwrap_or_default();
        Ok(self.waiting(&record_key).await?.map(|_| record_key))
    }

    async fn waiting_reviews(&self) -> PortResult<Vec<DecisionRecord>> {
        let entries = self
            .query(Find {
                index: Some("by-kind"),
                hash: ("kind", "queue".into()),
                range: None,
                equal: Vec::new(),
                newest_first: false,
                limit: None,
            })
            .await?;
        let keys = entries
            .iter()
            .filter_map(|e| text(e, "record_key"))
            .map(|k| key(format!("decision#{k}"), ONE))
            .collect();
        let mut records = self
            .get_many(keys)
            .await?
            .iter()
            .map(|item| parsed::<DecisionRecord>(item, "record"))
            .collect::<PortResult<Vec<_>>>()?;
        records.retain(DecisionRecord::is_waiting);
        records.sort_by_key(at_key);
        Ok(records)
    }

    async fn put_action(&self, action_key: &str, action: &AdminAction) -> PortResult<()> {
        let mut item = key(format!("action#{action_key}"), ONE);
        item.insert("kind".into(), s("action"));
        item.insert("at_key".into(), s(format!("{}#{action_key}", action.at)));
        item.insert("action".into(), json(action)?);
        self.put(item).await
    }

    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query(Find {
            index: Some("by-kind"),
            hash: ("kind", "action".into()),
            range: None,
            equal: Vec::new(),
            newest_first: true,
            limit: Some(limit),
        })
        .await?
        .iter()
        .map(|item| parsed(item, "action"))
        .collect()
    }

    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>> {
        Ok(self
            .get(key(format!("claim#{sha256}"), ONE))
            .await?
            .and_then(|item| text(&item, "owner")))
    }

    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim> {
        let mut item = key(format!("claim#{sha256}"), ONE);
        item.insert("owner".into(), s(email));
        // One conditional write: the claim and its owner are never apart.
        if self.put_if(item, "attribute_not_exists(pk)", None).await? {
            return Ok(Claim::Fresh);
        }
        let owner = self.image_owner(sha256).await?.unwrap_or_default();
        Ok(if owner == email {
            Claim::SameOwner
        } else {
            Claim::OtherOwner(owner)
        })
    }

    async fn reserve_likeness(&self, entry: &LikenessEntry) -> PortResult<bool> {
        dynamo_likeness::reserve(self, entry).await
    }

    async fn release_likeness(&self, sha256: &str, email: &str) -> PortResult<()> {
        dynamo_likeness::release(self, sha256, email).await
    }

    async fn likeness_candidates(&self, likeness: &Likeness) -> PortResult<Vec<LikenessEntry>> {
        dynamo_likeness::candidates(self, likeness).await
    }

    async fn put_seat(&self, seat: &Seat) -> PortResult<()> {
        self.put(seat_item(seat)?).await
    }

    async fn seat(&self, email: &str) -> PortResult<Option<Seat>> {
        self.get(key(format!("seat#{email}"), ONE))
            .await?
            .map(|item| parsed(&item, "seat"))
            .transpose()
    }

    async fn remove_seat(&self, email: &str) -> PortResult<()> {
        self.delete(key(format!("seat#{email}"), ONE)).await
    }

    async fn seats_ending_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        self.seats_by(("by-kind", "kind", "seat-ends", "at_key"), by, limit)
            .await
    }

    async fn reminders_due_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>> {
        self.seats_by(("by-reminder", "due", "reminder", "remind_at"), by, limit)
            .await
    }

    /// `code#{owner}` / `name`, its end in `expires`: the table's TTL attribute.
    async fn put_code_item(
        &self,
        owner: &str,
        name: &str,
        bytes: &[u8],
        expires: i64,
    ) -> PortResult<bool> {
        let mut item = key(format!("code#{owner}"), name);
        item.insert("bytes".into(), AttributeValue::B(bytes.to_vec().into()));
        item.insert("expires".into(), AttributeValue::N(expires.to_string()));
        self.put_if(item, "attribute_not_exists(pk)", None).await
    }

    async fn code_item_names(&self, owner: &str) -> PortResult<Vec<String>> {
        let items = self
            .query(Find {
                index: None,
                hash: ("pk", format!("code#{owner}")),
                range: None,
                equal: Vec::new(),
                newest_first: false,
                limit: None,
            })
            .await?;
        Ok(items.iter().filter_map(|item| text(item, "sk")).collect())
    }

    async fn code_item(&self, owner: &str, name: &str) -> PortResult<Option<Vec<u8>>> {
        let item = self.get(key(format!("code#{owner}"), name)).await?;
        Ok(item.and_then(|item| match item.get("bytes") {
            Some(AttributeValue::B(bytes)) => Some(bytes.clone().into_inner()),
            _ => None,
        }))
    }
}
