//! The ports: what the workflows need from a directory, an audit store, an analyzer and a
//! mailer. Each has a local adapter and an AWS adapter in the server crate.

use super::likeness::{Likeness, LikenessEntry};
use crate::api::{AdminAction, DecisionRecord, Evidence, Reason, Verdict};
use async_trait::async_trait;

/// A dependency's own error, kept whole for the log (never shown to a client).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a port call failed. `service` is our own name for the port ("the directory"); the
/// dependency's message stays in `source`.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The Identity Store's ConflictException: the thing exists already.
    #[error("already exists")]
    Conflict,
    #[error("{service} did not answer in time")]
    Timeout { service: &'static str },
    /// Could not be reached or used at all (no connection, a broken file, a missing program).
    #[error("{service} is unavailable")]
    Unavailable {
        service: &'static str,
        #[source]
        source: BoxError,
    },
    /// Answered, but with an error or nonsense (e.g. the model is throttling).
    #[error("{service} answered with an error")]
    Upstream {
        service: &'static str,
        #[source]
        source: BoxError,
    },
}

impl PortError {
    pub fn timeout(service: &'static str) -> Self {
        Self::Timeout { service }
    }
    pub fn unavailable(service: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            service,
            source: source.into(),
        }
    }
    pub fn upstream(service: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Upstream {
            service,
            source: source.into(),
        }
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// A user to create, with the Identity Store's fields.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub user_name: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
}

/// A user as the directory describes them (DescribeUser).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserProfile {
    pub user_id: String,
    pub user_name: String,
    /// The primary email, or the first; empty when the user has none.
    pub email: String,
    pub display_name: String,
}

/// Users, groups and memberships, shaped like the Identity Store's API so adapters stay thin.
/// The contract (every adapter and fake passes `tests/it/contracts/directory.rs`):
/// - `find_user(email)` MUST find a user created with `create_user` by its user name, MUST find
///   a user whose user name is something else by its email (people made by hand or by an
///   identity provider), and MUST return `None` when neither matches (the workflow always sends
///   lower-cased emails; the local adapters also match any letter case, which the Identity
///   Store does not document);
/// - `create_user` MUST return `Conflict` when the user name is taken;
/// - `find_group` / `create_group` likewise for a group's display name;
/// - `is_member` MUST be false until `add_member` succeeded for that pair, true after;
/// - `add_member` MUST return `Conflict` when the pair already exists (the Identity Store's
///   ConflictException) and leave one membership;
/// - `member_ids` MUST list every member's user id once, however many pages the listing takes,
///   and none whose membership was removed;
/// - `describe_user` MUST give a created user's user name, email and display name, and `None`
///   for an id no user has;
/// - `remove_member` MUST end an existing membership and return `true` (the user stays:
///   `find_user` still finds them), and return `false` when there was none.
#[async_trait]
pub trait Directory: Send + Sync {
    /// GetUserId by UserName, then by emails.value.
    async fn find_user(&self, email: &str) -> PortResult<Option<String>>;
    /// CreateUser; `Conflict` when the user name is taken.
    async fn create_user(&self, user: &NewUser) -> PortResult<String>;
    /// GetGroupId by DisplayName.
    async fn find_group(&self, display_name: &str) -> PortResult<Option<String>>;
    /// CreateGroup; `Conflict` when the display name is taken.
    async fn create_group(&self, display_name: &str) -> PortResult<String>;
    /// IsMemberInGroups for one group.
    async fn is_member(&self, group_id: &str, user_id: &str) -> PortResult<bool>;
    /// CreateGroupMembership; `Conflict` when already a member.
    async fn add_member(&self, group_id: &str, user_id: &str) -> PortResult<()>;
    /// ListGroupMemberships, every page: the members' user ids.
    async fn member_ids(&self, group_id: &str) -> PortResult<Vec<String>>;
    /// DescribeUser.
    async fn describe_user(&self, user_id: &str) -> PortResult<Option<UserProfile>>;
    /// GetGroupMembershipId, then DeleteGroupMembership; `false` when not a member.
    async fn remove_member(&self, group_id: &str, user_id: &str) -> PortResult<bool>;
}

/// Who first used an image, when someone claims it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had; it is now this email's.
    Fresh,
    /// This email had claimed it already.
    SameOwner,
    /// Another email had.
    OtherOwner(String),
}

/// Screenshots and decision records, kept for audit under `screenshots/`.
/// The contract (every adapter and fake passes `tests/it/contracts/audit_store.rs`):
/// - `put_record` MUST overwrite a record at the same key, and `recent` MUST then list it once,
///   with its new content;
/// - `recent(n)` MUST return at most `n` records, newest first (by their `at`), across any
///   number of pages of storage;
/// - `claim_image` MUST give `Fresh` to the first claimant, `SameOwner` to that email again,
///   and `OtherOwner(first)` to anyone else, also when claims race; `image_owner` MUST then
///   name the first claimant.
/// - `record` / `screenshot` MUST return what was put at that key, and `None` for a key never
///   written;
/// - the review queue holds at most one record key per email: `open_review` MUST return
///   `false` and change nothing when that email already has one waiting (also when two race),
///   `waiting_review` MUST name the waiting key, `waiting_reviews` MUST list every waiting key
///   once, and after `close_review` (which MUST succeed when nothing waits) the email has none;
/// - `recent_actions(n)` MUST return at most `n` of the actions `put_action` wrote, newest first
///   (keys start with the time), and never a decision record;
/// - `create_once` MUST write only when nothing is at the key and return `false`, changing
///   nothing, when something is (also when two race: exactly one wins); `read_once` MUST then
///   give what the winner wrote; `remove_once(key)` MUST delete it (and succeed when nothing is
///   there), after which `create_once` at that key writes again; `keys_in(folder)` MUST name every key written under that
///   folder (a prefix ending in `/`), once, whatever the number of pages, and `[]` for none.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn put_screenshot(&self, key: &str, bytes: &[u8], content_type: &str) -> PortResult<()>;
    /// Writes (or overwrites) the JSON record at `key`.
    async fn put_record(&self, key: &str, record: &DecisionRecord) -> PortResult<()>;
    /// The record at `key`, if there is one.
    async fn record(&self, key: &str) -> PortResult<Option<DecisionRecord>>;
    /// The screenshot's bytes at `key`, if there are any.
    async fn screenshot(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    /// Puts `record_key` in the review queue as `email`'s; `false` when one already waits.
    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool>;
    /// The record key waiting for review for `email`, if any.
    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>>;
    /// Every record key waiting for review.
    async fn waiting_reviews(&self) -> PortResult<Vec<String>>;
    /// Takes `email`'s request out of the review queue.
    async fn close_review(&self, email: &str) -> PortResult<()>;
    /// The newest `limit` records, newest first.
    async fn recent(&self, limit: usize) -> PortResult<Vec<DecisionRecord>>;
    /// Writes an administrator's action at `key` (`actions/…json`).
    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()>;
    /// The newest `limit` administrator actions, newest first.
    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>>;
    /// Who owns this image hash, if anyone.
    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>>;
    /// Claims the hash for `email` atomically (first writer wins).
    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim>;
    /// Writes a small object (a marker, a seat) only when its key is free; `false` when taken.
    async fn create_once(&self, key: &str, bytes: &[u8]) -> PortResult<bool>;
    /// The small object `create_once` wrote at `key`, if any.
    async fn read_once(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    /// Deletes the small object at `key`, if there is one.
    async fn remove_once(&self, key: &str) -> PortResult<()>;
    /// Every key under `folder` (ends in `/`), in no promised order.
    async fn keys_in(&self, folder: &str) -> PortResult<Vec<String>>;
}

/// Which decisions to list: all of them, or those of one email, verdict or reason; newest first,
/// `limit` at a time, each page after the record key the previous page ended with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionQuery {
    /// The exact (lower-case) email.
    pub email: Option<String>,
    pub verdict: Option<Verdict>,
    pub reason: Option<Reason>,
    /// The record key the previous page ended with (`DecisionPage::next`).
    pub after: Option<String>,
    pub limit: usize,
}

/// One page of decisions, newest first, and where the next one starts (`None`: no more).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionPage {
    pub records: Vec<DecisionRecord>,
    pub next: Option<String>,
}

/// What is looked up rather than listed: decision records by time, email, verdict and reason, the
/// review queue, administrators' actions, image claims, likenesses, seats and one-time codes.
/// Screenshots stay in the `AuditStore`.
/// Keys are the records' own (`DecisionRecord::record_key`); emails are compared exactly.
/// The contract (every adapter and fake passes `tests/it/contracts/record_index.rs`):
/// - `put_decision` MUST write or overwrite the record at its key; `decision` MUST return it, and
///   `None` for a key never written;
/// - `decisions(q)` MUST return the records matching every filter `q` sets, newest first (by
///   `at`, then key), at most `q.limit`, with `next` set exactly when more match; following
///   `next` MUST list every match once;
/// - `update_decision(key, r)` MUST write `r` only when the stored record's `revision` equals
///   `r.revision`, storing it as `r.revision + 1`, and return `false`, changing nothing,
///   otherwise or when nothing is stored (two updates from one read: exactly one wins);
/// - the review queue holds at most one waiting record per exact email: `open_review(email, key)`
///   MUST return `false` and change nothing when another record of that email waits (also when
///   two race); `waiting_review(email)` and `waiting_reviews()` MUST name only records that are
///   stored and still waiting (`DecisionRecord::is_waiting`) — a settled or missing record never
///   holds the queue;
/// - `claim_image` MUST give `Fresh` to the first claimant, `SameOwner` to that email again and
///   `OtherOwner(first)` to anyone else, also when claims race, and never leave a claim without
///   its owner; `image_owner` MUST then name the first claimant;
/// - `recent_actions(n)` MUST return at most `n` of the actions `put_action` wrote, newest first;
/// - `reserve_likeness(e)` MUST keep `e` under its band keys (`Likeness::band_keys`) and return
///   `true`, or return `false` and change nothing when an entry of that `sha256` is kept (also
///   when two race: exactly one wins); `release_likeness(sha, email)` MUST remove the entry only
///   when it is `email`'s, and succeed when there is none;
/// - `likeness_candidates(l)` MUST return kept entries that share at least one of
///   `l.band_keys()`, never one that shares none, at most `LIKENESS_CANDIDATES` of them, reading at most the
///   newest `LIKENESS_PER_KEY` entries of each key, ranked by `rank_candidates` (the keys
///   fewest share count most): an image sharing every key of `l`, half of them with no other
///   entry, MUST come first however many later entries share the other half. Entries whose aspect is not close to `l`'s are never alike and MAY be left out.
///   (The adapter over an audit store reads every entry: it has no index to seek.)
/// - `put_seat(s)` MUST write or overwrite the seat of `s.email` (one per exact email); `seat`
///   MUST return it, and `None` for an email without one or after `remove_seat` (which MUST
///   succeed when there is none);
/// - `seats_ending_by(t, n)` MUST return at most `n` seats whose `ends` is at or before `t`,
///   soonest first, never a seat without an end; `reminders_due_by(t, n)` likewise for seats
///   whose `remind_at` is at or before `t` and that are not `reminded`;
/// - `put_code_item(owner, name, bytes, expires)` MUST write the item and return `true` only
///   when `owner` keeps none of that `name`, and return `false`, changing nothing, otherwise
///   (also when two race: exactly one wins); `code_item_names(owner)` MUST name `owner`'s kept
///   items and no other owner's; `code_item` MUST return an item's bytes as written. An item
///   MUST be kept until `expires` (Unix seconds) and MAY be gone after it: the store removes it
///   in its own time (DynamoDB's TTL, the bucket's lifecycle rule, SQLite's sweep), so callers
///   judge an item's age by what it says, not by its being there.
#[async_trait]
pub trait RecordIndex: Send + Sync {
    async fn put_decision(&self, record: &DecisionRecord) -> PortResult<()>;
    async fn decision(&self, key: &str) -> PortResult<Option<DecisionRecord>>;
    async fn decisions(&self, query: &DecisionQuery) -> PortResult<DecisionPage>;
    /// Writes `record` if the stored one is still at `record.revision`; `false` when it is not.
    async fn update_decision(&self, record: &DecisionRecord) -> PortResult<bool>;
    /// Queues the stored review at `record_key` as `email`'s; `false` when another waits.
    async fn open_review(&self, email: &str, record_key: &str) -> PortResult<bool>;
    /// The key of `email`'s record waiting for review, if one is.
    async fn waiting_review(&self, email: &str) -> PortResult<Option<String>>;
    /// Every record waiting for review, oldest first.
    async fn waiting_reviews(&self) -> PortResult<Vec<DecisionRecord>>;
    async fn put_action(&self, key: &str, action: &AdminAction) -> PortResult<()>;
    async fn recent_actions(&self, limit: usize) -> PortResult<Vec<AdminAction>>;
    async fn image_owner(&self, sha256: &str) -> PortResult<Option<String>>;
    async fn claim_image(&self, sha256: &str, email: &str) -> PortResult<Claim>;
    /// Keeps a granted (or about to be granted) image's likeness; `false` when its pixels are kept.
    async fn reserve_likeness(&self, entry: &LikenessEntry) -> PortResult<bool>;
    /// Removes `email`'s entry of these pixels (a reservation whose grant did not happen).
    async fn release_likeness(&self, sha256: &str, email: &str) -> PortResult<()>;
    /// The kept entries that share the most of `likeness`'s band keys, a bounded number of them.
    async fn likeness_candidates(&self, likeness: &Likeness) -> PortResult<Vec<LikenessEntry>>;
    async fn put_seat(&self, seat: &Seat) -> PortResult<()>;
    async fn seat(&self, email: &str) -> PortResult<Option<Seat>>;
    async fn remove_seat(&self, email: &str) -> PortResult<()>;
    /// Seats whose end is at or before `by` (RFC 3339), soonest first, `limit` at most.
    async fn seats_ending_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>>;
    /// Seats not yet reminded whose reminder is due at or before `by`, soonest first.
    async fn reminders_due_by(&self, by: &str, limit: usize) -> PortResult<Vec<Seat>>;
    /// Keeps `bytes` as `owner`'s one-time code item `name` (a code, a try's marker) until at
    /// least `expires`; `false` when `owner` keeps one of that name.
    async fn put_code_item(
        &self,
        owner: &str,
        name: &str,
        bytes: &[u8],
        expires: i64,
    ) -> PortResult<bool>;
    /// The names of `owner`'s kept code items, in no promised order.
    async fn code_item_names(&self, owner: &str) -> PortResult<Vec<String>>;
    /// The bytes of `owner`'s code item `name`, if it is kept.
    async fn code_item(&self, owner: &str, name: &str) -> PortResult<Option<Vec<u8>>>;
}

/// Who holds a seat since when, how they got it, and when it ends (`seats`). Times are RFC 3339,
/// UTC, milliseconds (`seats::stamp`), so that they compare as text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seat {
    /// The exact (lower-case) email.
    pub email: String,
    pub since: String,
    /// `None`: the seat does not end (`KIRO_SEAT_POLICY=forever`, or made permanent).
    pub ends: Option<String>,
    /// When to mail "renew" (`None` with no end).
    pub remind_at: Option<String>,
    pub reminded: bool,
    /// "granted automatically", "approved by admin-…", "created by admin-…", "renewed".
    pub how: String,
}

/// How many entries `likeness_candidates` returns at most, and reads of each key.
pub const LIKENESS_CANDIDATES: usize = 8;
pub const LIKENESS_PER_KEY: usize = 16;

/// Orders the entries read for `likeness_candidates` and keeps the first `LIKENESS_CANDIDATES`.
/// `read` is, per key, the entries read under it (each entry names itself, larger: newer). A key
/// shared by few counts for more: the page chrome every screenshot shares says little, the
/// cells only one image has say much, so an early image is not crowded out by later look-alikes.
pub fn rank_candidates<T: Ord + Clone>(read: impl IntoIterator<Item = Vec<T>>) -> Vec<T> {
    let mut scores = std::collections::BTreeMap::<T, f64>::new();
    for entries in read {
        let weight = 1.0 / entries.len().max(1) as f64;
        for entry in entries {
            *scores.entry(entry).or_default() += weight;
        }
    }
    let mut ranked: Vec<(f64, T)> = scores.into_iter().map(|(t, s)| (s, t)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    ranked
        .into_iter()
        .take(LIKENESS_CANDIDATES)
        .map(|(_, t)| t)
        .collect()
}

/// An image ready for analysis: decoded within limits, downscaled and re-encoded as PNG.
#[derive(Clone, Debug)]
pub struct NormalisedImage {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the normalised pixels (hex): the same picture gives the same hash.
    pub sha256: String,
    /// What near-duplicates are found by (`likeness`).
    pub likeness: Likeness,
}

/// Reads evidence off a screenshot. Never decides.
/// The contract (held by each adapter's own tests, whose failure modes differ): a dependency
/// that does not finish in time MUST be `Timeout`; one that cannot be reached or run MUST be
/// `Unavailable` (or `Upstream` when it answered with an error); evidence it cannot trust is
/// reported as such (`unreadable`), never turned into a verdict.
#[async_trait]
pub trait Analyzer: Send + Sync {
    /// A short name for audit records ("tesseract", "bedrock:us.amazon.nova-pro-v1:0").
    fn name(&self) -> String;
    async fn analyze(&self, image: &NormalisedImage) -> PortResult<Evidence>;
}

/// One message to one person: the same words as plain text and as simple HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Sends mail. The contract (`server/tests/it/contracts/mailer.rs`, every adapter and fake):
/// - `send` MUST return `Ok` only once the message is handed over whole (written to the outbox,
///   accepted by SES), addressed to `mail.to`, with the subject and both bodies;
/// - it MUST return `Unavailable`, `Upstream` or `Timeout` when it was not (the outbox cannot be
///   written, SES refuses the sender), and MUST NOT panic on any address or text.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// A short name for the log ("outbox", "ses").
    fn name(&self) -> String;
    async fn send(&self, mail: &Mail) -> PortResult<()>;
}
