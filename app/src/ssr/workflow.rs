//! The two workflows, shared by the server functions and the JSON endpoints: request Pro with a
//! screenshot (members) and create a user in the group (administrators).

use super::deadline;
use super::decision::{decide, Decision};
use super::error::{AppError, AppResult, CauseChain, Field};
use super::likeness::{self, LikenessEntry};
use super::normalise::{check_upload, normalise};
use super::ports::{Claim, NewUser, NormalisedImage, PortError};
use super::{Role, Services};
use crate::api::{
    AdminActionKind, CheckOutcome, CreatedUser, DecisionRecord, Reason, Timings, Verdict,
};
use crate::domain::{decode_base64_image, display_name, EmailAddress, PersonName};
use std::time::Instant;

/// How the screenshot arrived.
#[derive(Clone, Debug)]
pub enum ImageUpload {
    Bytes(Vec<u8>),
    /// Base64, optionally behind a `data:` URL prefix.
    Base64(String),
    Missing,
}

/// A member's request for Pro, as received (nothing validated yet).
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub api_key: Option<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub image: ImageUpload,
    /// The one-time code mailed to `email` (`verify`), when codes are on.
    pub code: Option<String>,
}

/// An administrator's request to create a user, as received.
#[derive(Clone, Debug)]
pub struct CreateUserRequest {
    pub api_key: Option<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
}

/// A person, validated.
pub(super) struct Person {
    email: EmailAddress,
    first: Option<PersonName>,
    last: Option<PersonName>,
    display: Option<PersonName>,
}

impl Person {
    pub(super) fn parse(
        email: &str,
        first: Option<&str>,
        last: Option<&str>,
        display: Option<&str>,
    ) -> AppResult<Self> {
        let bad = |field| move |message| AppError::invalid(field, message);
        Ok(Self {
            email: EmailAddress::parse(email).map_err(bad(Field::Email))?,
            first: PersonName::parse_optional(first, "first name")
                .map_err(bad(Field::FirstName))?,
            last: PersonName::parse_optional(last, "last name").map_err(bad(Field::LastName))?,
            display: PersonName::parse_optional(display, "display name")
                .map_err(bad(Field::DisplayName))?,
        })
    }

    fn new_user(&self) -> NewUser {
        let display = display_name(
            self.display.as_ref(),
            self.first.as_ref(),
            self.last.as_ref(),
            &self.email,
        );
        NewUser {
            user_name: self.email.to_string(),
            given_name: self.first.as_ref().map_or_else(
                || self.email.local_part().to_owned(),
                |n| n.as_str().to_owned(),
            ),
            family_name: self
                .last
                .as_ref()
                .map_or_else(|| "-".to_owned(), |n| n.as_str().to_owned()),
            display_name: display,
            email: self.email.to_string(),
        }
    }
}

impl Services {
    /// Key, role and rate limit: the first thing every operation does. Returns the key's id
    /// (`access::key_id`), for records of who did what.
    pub fn authorize(&self, api_key: Option<&str>, needed: Role) -> AppResult<String> {
        let role = self.keys.require(api_key, needed)?;
        let key = api_key.unwrap_or_default().trim();
        self.limiter.check(key)?;
        Ok(super::access::key_id(role, key))
    }

    /// Request Pro: validate, short-circuit when already Pro, analyse, decide, record, grant.
    pub async fn check_credits(&self, req: CheckRequest) -> AppResult<CheckOutcome> {
        let started = Instant::now();
        self.authorize(req.api_key.as_deref(), Role::Member)?;
        let mut person = Person::parse(
            &req.email,
            req.first_name.as_deref(),
            req.last_name.as_deref(),
            None,
        )?;
        person.email = self.admit(person.email)?;
        self.check_code(&person.email, req.code.as_deref()).await?;
        let bytes = match req.image {
            ImageUpload::Bytes(b) => b,
            ImageUpload::Base64(s) => {
                decode_base64_image(&s).map_err(|m| AppError::invalid(Field::Image, m))?
            }
            ImageUpload::Missing => {
                return Err(AppError::invalid(
                    Field::Image,
                    "Attach a screenshot of your Kiro usage page.",
                ))
            }
        };
        check_upload(&bytes)?;

        // A member is Pro already, unless their seat ends soon: then a new screenshot renews it.
        let renewing = if self.is_in_group(&person.email).await? {
            let seat = self.index.seat(person.email.as_str()).await?;
            if !seat.as_ref().is_some_and(|s| s.renewable(self.clock.now())) {
                return Ok(already_pro(&person.email, seat.and_then(|s| s.ends)));
            }
            true
        } else {
            false
        };

        self.check_requests_today(&person.email).await?;
        if let Some(waiting) = self.index.waiting_review(person.email.as_str()).await? {
            super::metrics::decision(Verdict::Review, Some(Reason::AlreadyWaiting));
            return Ok(CheckOutcome {
                verdict: Verdict::Review,
                reason: Some(Reason::AlreadyWaiting),
                message: format!(
                    "An earlier request for {} is already waiting for an administrator; \
                     there is no need to send another.",
                    person.email
                ),
                email: person.email.to_string(),
                counters: vec![],
                record_key: Some(waiting),
            });
        }

        // A slot bounds the decodes and readings at once; it goes with the decode into its
        // blocking task (which runs on if this request is dropped) and is held until the
        // reading is done.
        let slot = self.analysis_slots.acquire().await?;
        let t = Instant::now();
        let (image, slot) = tokio::task::spawn_blocking(move || (normalise(&bytes), slot))
            .await
            .map_err(|e| AppError::Internal(format!("image task failed: {e}")))?;
        let image = image?;
        let normalise_ms = t.elapsed().as_millis() as u64;

        let owner = self.index.image_owner(&image.sha256).await?;
        let used_before = match &owner {
            Some(owner) if owner == person.email.as_str() => {
                self.got_a_seat_with(person.email.as_str(), &image.sha256)
                    .await?
            }
            _ => false,
        };
        // The same request twice at once: the other one has just granted the seat.
        if used_before && !renewing && self.is_in_group(&person.email).await? {
            return Ok(already_pro(&person.email, None));
        }
        let stem = record_stem(&person.email, &image);
        let mut similar_to = None;
        // Kept before the grant, so that a near-duplicate racing this request sees it.
        let mut reserved = None;
        let outcome = async {
            let (decision, evidence, analyze_ms) = match owner {
                Some(owner) if owner != person.email.as_str() => (reused(), None, 0),
                _ if used_before => (used_again(), None, 0),
                _ => {
                    let t = Instant::now();
                    let reading = self.analyzer.analyze(&image);
                    let evidence =
                        deadline::within(deadline::GRANT_RESERVE, "the screenshot reader", reading)
                            .await?;
                    let analyze_ms = t.elapsed().as_millis() as u64;
                    drop(slot);
                    let as_people = self.policy.subaddresses.fold_evidence(&evidence);
                    let mut decision = decide(&as_people, &person.email);
                    if decision.verdict == Verdict::Granted {
                        let entry = LikenessEntry {
                            sha256: image.sha256.clone(),
                            email: person.email.to_string(),
                            screenshot_key: format!("{stem}.png"),
                            likeness: image.likeness.clone(),
                        };
                        if self.index.reserve_likeness(&entry).await? {
                            reserved = Some(entry);
                        }
                    }
                    if decision.verdict != Verdict::Denied {
                        if let Some(earlier) = likeness::granted_to_another(
                            &*self.index,
                            &image.likeness,
                            person.email.as_str(),
                        )
                        .await?
                        {
                            // A review for another reason keeps it; either way the administrator
                            // sees the two screenshots side by side.
                            if decision.verdict == Verdict::Granted {
                                decision = Decision::review(
                                    Reason::SimilarScreenshot,
                                    "it looks almost the same as a screenshot another account was \
                                     granted with.",
                                );
                            }
                            similar_to = Some(earlier.screenshot_key);
                        }
                    }
                    if decision.verdict == Verdict::Granted
                        && !renewing
                        && !self.seat_left().await?
                    {
                        decision = Decision::review(
                            Reason::NoSeatLeft,
                            "your screenshot qualifies, but every Kiro Pro seat the organisation \
                             pays for is taken.",
                        );
                    }
                    if decision.verdict == Verdict::Granted {
                        if let Claim::OtherOwner(_) = self
                            .index
                            .claim_image(&image.sha256, person.email.as_str())
                            .await?
                        {
                            decision = reused();
                        }
                    }
                    (decision, Some(evidence), analyze_ms)
                }
            };
            let stem = match decision.verdict {
                Verdict::Denied => format!("{stem}-deny"),
                Verdict::Review => format!("{stem}-review"),
                Verdict::Granted | Verdict::AlreadyPro => stem,
            };
            let mut record = DecisionRecord {
                at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                email: person.email.to_string(),
                first_name: person.first.as_ref().map(|n| n.as_str().to_owned()),
                last_name: person.last.as_ref().map(|n| n.as_str().to_owned()),
                verdict: decision.verdict,
                reason: decision.reason,
                message: decision.message.clone(),
                evidence,
                analyzer: self.analyzer.name(),
                image_sha256: image.sha256.clone(),
                screenshot_key: format!("{stem}.png"),
                timings: Timings {
                    normalise_ms,
                    analyze_ms,
                    total_ms: 0,
                },
                applied: (decision.verdict == Verdict::Granted).then_some(false),
                error: None,
                settlement: None,
                mail_error: None,
                similar_to,
                revision: 0,
            };
            let record_key = record.record_key();
            self.audit
                .put_screenshot(&record.screenshot_key, &image.png, "image/png")
                .await?;
            record.timings.total_ms = started.elapsed().as_millis() as u64;
            self.index.put_decision(&record).await?;
            if decision.verdict == Verdict::Review
                && !self
                    .index
                    .open_review(person.email.as_str(), &record_key)
                    .await?
            {
                // Another request for this email got into the queue first; this record stays on file.
                tracing::info!(email = %person.email, key = %record_key, "a review was already waiting");
            }

            if decision.verdict == Verdict::Granted {
                let how = if renewing { "renewed" } else { "granted automatically" };
                let granted = self
                    .grant_noted(&person, &mut record, how.into(), renewing)
                    .await;
                record.timings.total_ms = started.elapsed().as_millis() as u64;
                self.update_record(&record_key, &record).await;
                if let (true, Some(ends)) = (renewing, granted?.seat_ends) {
                    record.message = format!("Your Kiro Pro seat is renewed: it now ends at {ends}.");
                }
            }
            self.notify_decision(&record_key, &mut record).await;
            super::metrics::decision(decision.verdict, decision.reason);
            tracing::info!(
                email = %person.email,
                verdict = ?decision.verdict,
                reason = ?decision.reason,
                analyzer = %record.analyzer,
                total_ms = record.timings.total_ms,
                "decision"
            );
            Ok::<_, AppError>(CheckOutcome {
                verdict: decision.verdict,
                reason: decision.reason,
                message: record.message.clone(),
                email: person.email.to_string(),
                counters: record.evidence.map(|e| e.counters).unwrap_or_default(),
                record_key: Some(record_key),
            })
        }
        .await;
        if !matches!(&outcome, Ok(o) if o.verdict == Verdict::Granted) {
            self.release(reserved.take()).await;
        }
        outcome
    }

    /// 429 once the address sent `KIRO_REQUESTS_PER_ADDRESS` screenshots this UTC day: its
    /// decisions on record, newest first, so at most that many are read.
    async fn check_requests_today(&self, email: &EmailAddress) -> AppResult<()> {
        let Some(allowed) = self.policy.requests_per_address else {
            return Ok(());
        };
        let now = chrono::Utc::now();
        let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let query = super::ports::DecisionQuery {
            email: Some(email.to_string()),
            limit: allowed as usize,
            ..Default::default()
        };
        let today = self
            .index
            .decisions(&query)
            .await?
            .records
            .iter()
            .filter(|r| super::seats::parse_stamp(&r.at).is_some_and(|at| at >= midnight))
            .count();
        if today < allowed as usize {
            return Ok(());
        }
        Err(AppError::RequestsPerDay {
            allowed,
            retry_after_secs: (midnight + chrono::Duration::days(1) - now)
                .num_seconds()
                .max(1) as u64,
        })
    }

    /// Whether `email` already held a seat granted with this image (a seat since revoked or
    /// ended: the same evidence never grants twice). A grant that was never applied does not
    /// count, so a retry after a failed grant completes it.
    async fn got_a_seat_with(&self, email: &str, sha256: &str) -> AppResult<bool> {
        let mut query = super::ports::DecisionQuery {
            email: Some(email.to_owned()),
            limit: 50,
            ..Default::default()
        };
        loop {
            let page = self.index.decisions(&query).await?;
            if page
                .records
                .iter()
                .any(|r| r.image_sha256 == sha256 && r.applied == Some(true))
            {
                return Ok(true);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(false),
            }
        }
    }

    /// Removes a likeness kept for a grant that did not happen (a failure is logged: a kept
    /// entry only sends a near-duplicate of another account to review).
    async fn release(&self, reserved: Option<LikenessEntry>) {
        let Some(entry) = reserved else { return };
        if let Err(e) = self
            .index
            .release_likeness(&entry.sha256, &entry.email)
            .await
        {
            tracing::warn!(cause = %CauseChain(&e), sha256 = %entry.sha256, "could not release a likeness");
        }
    }

    /// Create (or find) a user and put them in the group. Administrators only.
    pub async fn create_user(&self, req: CreateUserRequest) -> AppResult<CreatedUser> {
        let by = self.authorize(req.api_key.as_deref(), Role::Admin)?;
        let mut person = Person::parse(
            &req.email,
            req.first_name.as_deref(),
            req.last_name.as_deref(),
            req.display_name.as_deref(),
        )?;
        person.email = self.admit(person.email)?;
        let created = self
            .grant(&person, format!("created by {by}"), false)
            .await?;
        let outcome = match (created.created, created.added_to_group) {
            (true, _) => format!("created and added to {}", created.group),
            (false, true) => format!("existing user added to {}", created.group),
            (false, false) => format!("already in {}", created.group),
        };
        self.record_action(
            AdminActionKind::CreateUser,
            &person.email,
            &by,
            None,
            &outcome,
        )
        .await;
        if created.added_to_group {
            self.notify_added_by_admin(&created.email).await;
        }
        Ok(created)
    }

    /// The person an address someone typed stands for (`KIRO_SUBADDRESSES`: `ada+1@corp.com`
    /// is Ada), before anything else is looked at: 403 outside `KIRO_ALLOWED_DOMAINS`, 400 for
    /// a `+tag` the domain refuses.
    pub(super) fn admit(&self, email: EmailAddress) -> AppResult<EmailAddress> {
        let allowed = &self.policy.allowed_domains;
        if !allowed.permits(&email) {
            return Err(AppError::DomainNotAllowed(format!(
                "Kiro Pro here is for addresses at {}; {email} is not one of them.",
                allowed.as_slice().join(", ")
            )));
        }
        self.policy
            .subaddresses
            .person(email)
            .map_err(|m| AppError::invalid(Field::Email, m))
    }

    pub(super) async fn is_in_group(&self, email: &EmailAddress) -> AppResult<bool> {
        let Some(user_id) = self.directory.find_user(email.as_str()).await? else {
            return Ok(false);
        };
        let group_id = self.group_id().await?;
        Ok(self.directory.is_member(&group_id, &user_id).await?)
    }

    /// Ensures the user exists and is in the group. Idempotent, and safe when two identical
    /// requests race: a conflict means the other one won, and we go on with what it made.
    /// With `KIRO_MAX_SEATS` reached, a grant that would take a new seat is a 409 and changes
    /// nothing (two grants racing for the last seat can both get in: the count is not a lock).
    /// The seat is written (`keep_seat`, with `how`; `renewal`: one more term) before the
    /// membership.
    pub(super) async fn grant(
        &self,
        person: &Person,
        how: String,
        renewal: bool,
    ) -> AppResult<CreatedUser> {
        let new_user = person.new_user();
        let group_id = self.group_id().await?;
        let existing = self.directory.find_user(&new_user.user_name).await?;
        let has_seat = match &existing {
            Some(id) => self.directory.is_member(&group_id, id).await?,
            None => false,
        };
        if !has_seat && !self.seat_left().await? {
            return Err(AppError::Conflict(format!(
                "Every {} seat the organisation pays for is taken (KIRO_MAX_SEATS): revoke one \
                 first, or raise the limit. Nothing was changed.",
                self.group_name
            )));
        }
        let (user_id, created) = match existing {
            Some(id) => (id, false),
            None => match self.directory.create_user(&new_user).await {
                Ok(id) => (id, true),
                Err(PortError::Conflict) => {
                    let id = self.directory.find_user(&new_user.user_name).await?;
                    (id.ok_or_else(|| vanished("user"))?, false)
                }
                Err(e) => return Err(e.into()),
            },
        };
        let seat = self.keep_seat(&new_user.email, how, renewal).await?;
        let added = if has_seat || self.directory.is_member(&group_id, &user_id).await? {
            false
        } else {
            match self.directory.add_member(&group_id, &user_id).await {
                Ok(()) => true,
                Err(PortError::Conflict) => false,
                Err(e) => return Err(e.into()),
            }
        };
        Ok(CreatedUser {
            user_id,
            email: new_user.email,
            display_name: new_user.display_name,
            created,
            added_to_group: added,
            group: self.group_name.clone(),
            seat_ends: seat.ends,
        })
    }

    /// Runs the grant and notes on `record` whether it went through (or the failure's cause).
    /// A directory failure becomes `GrantNotApplied`: the decision stands, the change did not.
    pub(super) async fn grant_noted(
        &self,
        person: &Person,
        record: &mut DecisionRecord,
        how: String,
        renewal: bool,
    ) -> AppResult<CreatedUser> {
        // Stopped short of the deadline, a grant may be half done (a user without the
        // membership): the record says it was not applied, and a retry completes it.
        let bounded = async { Ok(self.grant(person, how, renewal).await) };
        let granted = deadline::within(deadline::RECORD_RESERVE, "the directory", bounded)
            .await
            .unwrap_or_else(|timeout| Err(timeout.into()));
        match &granted {
            Ok(_) => (record.applied, record.error) = (Some(true), None),
            Err(e) => record.error = Some(CauseChain(e).to_string()),
        }
        granted.map_err(|e| match e {
            AppError::Dependency(port) => AppError::GrantNotApplied(port),
            other => other,
        })
    }

    /// Writes a record again after a directory change. A failure is logged, not returned: it
    /// must not hide what was done.
    pub(super) async fn update_record(&self, key: &str, record: &DecisionRecord) {
        if let Err(e) = self.index.put_decision(record).await {
            tracing::warn!(cause = %CauseChain(&e), %key, "could not update the record");
        }
    }

    /// The group's id, found or created once and then cached.
    pub(super) async fn group_id(&self) -> AppResult<String> {
        self.group_id
            .get_or_try_init(|| async {
                if let Some(id) = self.directory.find_group(&self.group_name).await? {
                    return Ok(id);
                }
                match self.directory.create_group(&self.group_name).await {
                    Ok(id) => Ok(id),
                    Err(PortError::Conflict) => self
                        .directory
                        .find_group(&self.group_name)
                        .await?
                        .ok_or_else(|| vanished("group")),
                    Err(e) => Err(e.into()),
                }
            })
            .await
            .cloned()
    }
}

fn reused() -> Decision {
    Decision::deny(
        Reason::ScreenshotReused,
        "This screenshot was already used by another account. Upload a screenshot of your own usage page.",
    )
}

/// "Already Pro": nothing to do (no analysis, no record).
fn already_pro(email: &EmailAddress, ends: Option<String>) -> CheckOutcome {
    super::metrics::decision(Verdict::AlreadyPro, None);
    let until = ends.map_or_else(String::new, |ends| format!(" until {ends}"));
    CheckOutcome {
        verdict: Verdict::AlreadyPro,
        reason: None,
        message: format!("{email} already has Kiro Pro{until}. Nothing to do."),
        email: email.to_string(),
        counters: vec![],
        record_key: None,
    }
}

fn used_again() -> Decision {
    Decision::deny(
        Reason::ScreenshotReused,
        "You already got a Kiro Pro seat with this screenshot. To get one again, send a new \
         screenshot of this month's usage page.",
    )
}

fn vanished(what: &str) -> AppError {
    AppError::Dependency(PortError::upstream(
        "the directory",
        format!("reported the {what} as existing but could not find it"),
    ))
}

/// `screenshots/{YYYYmmdd-HHMMSSmmm}{nn}-{email}-{hash8}[-deny|-review]`: time-ordered, per
/// person, and never the key of an earlier record (the milliseconds and a per-process sequence
/// number `nn` keep even the same image sent twice at once apart; an overwrite would lose
/// a settled review).
fn record_stem(email: &EmailAddress, image: &NormalisedImage) -> String {
    let ts = chrono::Utc::now().format("%Y%m%d-%H%M%S%3f");
    let seq = next_sequence();
    format!(
        "screenshots/{ts}{seq:02}-{}-{}",
        sanitise_for_key(email.as_str()),
        &image.sha256[..8]
    )
}

/// 0–99, one more each call: keeps keys made in the same millisecond apart.
pub(super) fn next_sequence() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    SEQUENCE.fetch_add(1, Ordering::Relaxed) % 100
}

/// Makes an email safe as part of an object key or file name.
pub fn sanitise_for_key(email: &str) -> String {
    email
        .to_ascii_lowercase()
        .replace('@', "_at_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_for_paths_and_buckets() {
        assert_eq!(
            sanitise_for_key("Ada.L+kiro@Example.com"),
            "ada.l_kiro_at_example.com"
        );
        assert_eq!(sanitise_for_key("a/../b@x.io"), "a_.._b_at_x.io");
        assert!(!sanitise_for_key("x\u{0}y@z.io").contains('\u{0}'));
    }
}
