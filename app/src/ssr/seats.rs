//! Seats that end: the policy (`KIRO_SEAT_POLICY`), each seat's term and reminder, renewal by a
//! new screenshot, an administrator's extension, and the sweep that reminds and reclaims.

use super::error::{AppError, AppResult, CauseChain, Field};
use super::ports::Seat;
use super::review::parse_note;
use super::{Role, Services};
use crate::api::{AdminActionKind, SeatChanged, SweepReport};
use crate::domain::EmailAddress;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// How long a grant lasts (`KIRO_SEAT_POLICY`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeatPolicy {
    /// Until an administrator revokes it.
    #[default]
    Forever,
    /// `days:N`: N days from the grant; a renewal adds N days to the end.
    Days(u32),
    /// Until the end of the month after the grant's (Kiro's free credits reset on the 1st); a
    /// renewal adds the next month.
    Cycle,
}

impl SeatPolicy {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "forever" => Ok(Self::Forever),
            "cycle" => Ok(Self::Cycle),
            other => match other.strip_prefix("days:").map(str::parse::<u32>) {
                Some(Ok(n)) if (1..=3660).contains(&n) => Ok(Self::Days(n)),
                _ => Err(format!(
                    "{other:?}: use \"forever\", \"days:N\" (N from 1 to 3660) or \"cycle\""
                )),
            },
        }
    }

    /// When a seat granted at `since` ends (`None`: never).
    pub fn first_end(self, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Forever => None,
            Self::Days(n) => Some(since + Duration::days(n.into())),
            Self::Cycle => Some(first_of_month(since, 2)),
        }
    }

    /// The end of one more term after `from` (the later of now and the seat's current end).
    pub fn next_end(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Forever => None,
            Self::Days(n) => Some(from + Duration::days(n.into())),
            Self::Cycle => Some(first_of_month(from, 1)),
        }
    }
}

/// Midnight UTC on the 1st, `months_on` months after `t`'s month.
fn first_of_month(t: DateTime<Utc>, months_on: i32) -> DateTime<Utc> {
    let index = t.year() * 12 + t.month0() as i32 + months_on;
    let month = index.rem_euclid(12) as u32 + 1;
    Utc.with_ymd_and_hms(index.div_euclid(12), month, 1, 0, 0, 0)
        .earliest()
        .unwrap_or(t)
}

/// When to send "renew" for a term from `start` to `end`: `days` before the end, but never in
/// the term's first half (a one-day seat is reminded after twelve hours).
pub fn remind_at(start: DateTime<Utc>, end: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let half_way = start + (end - start) / 2;
    half_way.max(end - Duration::days(days.into()))
}

/// A seat's times as stored and compared: RFC 3339, UTC, milliseconds.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The time seats are reckoned by: the system's, or (`KIRO_TEST_CLOCK=movable`, refused in a
/// deployed configuration) the system's moved on by a test.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    moved_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn movable() -> Self {
        Self {
            moved_ms: Some(Arc::default()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let moved = self
            .moved_ms
            .as_ref()
            .map_or(0, |m| m.load(Ordering::Relaxed));
        Utc::now() + Duration::milliseconds(moved)
    }

    /// Moves a movable clock on; `None` (and nothing moves) for the system's.
    pub fn advance(&self, by: Duration) -> Option<DateTime<Utc>> {
        let moved = self.moved_ms.as_ref()?;
        moved.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
        Some(self.now())
    }
}

impl Seat {
    /// Whether a new screenshot may renew it now: it ends, and its reminder is due.
    pub fn renewable(&self, now: DateTime<Utc>) -> bool {
        self.ends.is_some()
            && self
                .remind_at
                .as_deref()
                .and_then(parse_stamp)
                .is_some_and(|at| at <= now)
    }

    /// Whether it still holds at `now`: it has no end, or its end is still to come.
    pub fn runs_at(&self, now: DateTime<Utc>) -> bool {
        self.ends
            .as_deref()
            .is_none_or(|end| parse_stamp(end).is_some_and(|end| end > now))
    }
}

/// Seats the sweep reads at once.
pub const SWEEP_PAGE: usize = 100;
/// Seats of a page whose steps run at once (each is a few calls to the directory, the stores and
/// the mailer, which wait more than they work).
const SWEEP_AT_ONCE: usize = 8;
/// How long one sweep works before it stops (the next run resumes where it stopped): well
/// inside the Lambda function's timeout.
pub const SWEEP_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// An administrator's change to a seat, as received.
#[derive(Clone, Debug)]
pub struct ExtendRequest {
    pub api_key: Option<String>,
    pub email: String,
    /// No end at all, rather than one more term.
    pub permanent: bool,
    pub note: Option<String>,
}

impl Services {
    /// The seat `email` holds after a grant now: a new term by the policy; with `another_term`
    /// (a renewal, an administrator's extension) one more term after the current end. A seat
    /// that still runs is otherwise kept as it is: two identical requests at once, or a retry of
    /// a grant that failed half-way, add no second term. A permanent seat stays permanent.
    /// Written before the membership, so that no grant is without its end.
    pub(super) async fn keep_seat(
        &self,
        email: &str,
        how: String,
        another_term: bool,
    ) -> AppResult<Seat> {
        let now = self.clock.now();
        let current = self.index.seat(email).await?;
        if let Some(seat) = current.as_ref().filter(|s| !another_term && s.runs_at(now)) {
            return Ok(seat.clone());
        }
        let policy = self.policy.seat_policy;
        let (since, start, ends) = match &current {
            Some(seat) if seat.ends.is_none() => (seat.since.clone(), now, None),
            Some(seat) => {
                let end = seat.ends.as_deref().and_then(parse_stamp).unwrap_or(now);
                (seat.since.clone(), now, policy.next_end(end.max(now)))
            }
            None => (stamp(now), now, policy.first_end(now)),
        };
        let seat = Seat {
            email: email.to_owned(),
            since,
            remind_at: ends.map(|end| stamp(remind_at(start, end, self.policy.reminder_days))),
            ends: ends.map(stamp),
            reminded: false,
            how,
        };
        self.index.put_seat(&seat).await?;
        Ok(seat)
    }

    /// One more term for a member's seat, or no end at all. Administrators only.
    pub async fn extend_seat(&self, req: ExtendRequest) -> AppResult<SeatChanged> {
        let by = self.authorize(req.api_key.as_deref(), Role::Admin)?;
        let email =
            EmailAddress::parse(&req.email).map_err(|m| AppError::invalid(Field::Email, m))?;
        let note = parse_note(req.note)?;
        if !self.is_in_group(&email).await? {
            return Err(AppError::NotFound(format!(
                "{email} is not a member of {}: nothing was changed.",
                self.group_name
            )));
        }
        let now = self.clock.now();
        let current = self.index.seat(email.as_str()).await?;
        let how = current
            .as_ref()
            .map_or_else(|| format!("extended by {by}"), |s| s.how.clone());
        let (kind, seat) = if req.permanent || self.policy.seat_policy == SeatPolicy::Forever {
            let seat = Seat {
                email: email.to_string(),
                since: current.map_or_else(|| stamp(now), |s| s.since),
                ends: None,
                remind_at: None,
                reminded: false,
                how,
            };
            self.index.put_seat(&seat).await?;
            (AdminActionKind::MakePermanent, seat)
        } else {
            (
                AdminActionKind::Extend,
                self.keep_seat(email.as_str(), how, true).await?,
            )
        };
        let message = match &seat.ends {
            Some(ends) => format!("{email}'s seat now ends at {ends}."),
            None => format!("{email}'s seat no longer ends."),
        };
        self.record_action(kind, &email, &by, note, &message).await;
        Ok(SeatChanged {
            email: email.to_string(),
            ends: seat.ends,
            message,
        })
    }

    /// Moves a movable clock on by `seconds` (a test's); 404 when the clock is the system's.
    /// Administrators only. Returns the time it now says.
    pub fn move_clock(&self, api_key: Option<&str>, seconds: i64) -> AppResult<String> {
        self.authorize(api_key, Role::Admin)?;
        let by = Duration::try_seconds(seconds)
            .filter(|d| d.num_days().abs() <= 36_600)
            .ok_or_else(|| AppError::invalid(Field::Body, "advanceSeconds is out of range."))?;
        match self.clock.advance(by) {
            Some(now) => Ok(stamp(now)),
            None => Err(AppError::NotFound(
                "The clock does not move here (KIRO_TEST_CLOCK is off).".into(),
            )),
        }
    }

    /// Runs the sweep now. Administrators only (the schedule calls `sweep` itself).
    pub async fn sweep_now(&self, api_key: Option<&str>) -> AppResult<SweepReport> {
        self.authorize(api_key, Role::Admin)?;
        self.sweep().await
    }

    /// Takes back the seats that have ended, then mails the reminders that are due, a page at
    /// a time until none is left or `SWEEP_BUDGET` is spent. Idempotent: a seat is marked
    /// reminded after its mail and removed after its membership, so a run that stops half-way
    /// (a crash, the budget) is finished by the next. A seat whose step fails stays for the next
    /// run, and is counted in `failed`.
    pub async fn sweep(&self) -> AppResult<SweepReport> {
        let started = std::time::Instant::now();
        let mut report = SweepReport::default();
        let now = stamp(self.clock.now());
        // Ended seats first: a seat whose end passed unswept gets no "renew" mail.
        while started.elapsed() <= SWEEP_BUDGET {
            let ended = self.index.seats_ending_by(&now, SWEEP_PAGE).await?;
            if self.sweep_page(&ended, &mut report, false).await == 0 {
                break;
            }
        }
        while started.elapsed() <= SWEEP_BUDGET {
            let due = self.index.reminders_due_by(&now, SWEEP_PAGE).await?;
            if self.sweep_page(&due, &mut report, true).await == 0 {
                break;
            }
        }
        report.more |= started.elapsed() > SWEEP_BUDGET;
        tracing::info!(?report, "seat sweep");
        Ok(report)
    }

    /// Runs the sweep's step on each seat of a page, `SWEEP_AT_ONCE` at a time (`remind`, or else
    /// `reclaim`); how many went through.
    async fn sweep_page(&self, seats: &[Seat], report: &mut SweepReport, remind: bool) -> usize {
        let mut done = 0;
        for batch in seats.chunks(SWEEP_AT_ONCE) {
            let results = futures::future::join_all(batch.iter().map(|seat| async move {
                if remind {
                    self.remind(seat).await
                } else {
                    self.reclaim(seat).await
                }
            }))
            .await;
            done += count_steps(batch, results, report);
        }
        done
    }
}

/// Adds a batch's results to the report; how many went through.
fn count_steps(
    batch: &[Seat],
    results: Vec<AppResult<SweepStep>>,
    report: &mut SweepReport,
) -> usize {
    let mut done = 0;
    for (seat, result) in batch.iter().zip(results) {
        match result {
            Ok(SweepStep::Reminded) => report.reminded += 1,
            Ok(SweepStep::Reclaimed) => report.reclaimed += 1,
            Err(e) => {
                tracing::warn!(cause = %CauseChain(&e), email = %seat.email, "a seat's sweep step failed");
                report.failed += 1;
                continue;
            }
        }
        done += 1;
    }
    done
}

impl Services {
    /// Mails "renew" and marks the seat reminded (a mail that fails is tried again next run).
    async fn remind(&self, seat: &Seat) -> AppResult<SweepStep> {
        self.send_renew_reminder(seat).await?;
        let reminded = Seat {
            reminded: true,
            ..seat.clone()
        };
        self.index.put_seat(&reminded).await?;
        Ok(SweepStep::Reminded)
    }

    /// Ends the membership of a seat whose time is up (the user stays), records it as the
    /// `system`'s action, tells the member, and forgets the seat.
    async fn reclaim(&self, seat: &Seat) -> AppResult<SweepStep> {
        let group_id = self.group_id().await?;
        let removed = match self.directory.find_user(&seat.email).await? {
            Some(user_id) => self.directory.remove_member(&group_id, &user_id).await?,
            None => false,
        };
        if removed {
            let ends = seat.ends.as_deref().unwrap_or("now");
            let outcome = format!(
                "the seat ended at {ends}; {} left {} (the user stays)",
                seat.email, self.group_name
            );
            self.record_action(
                AdminActionKind::Expire,
                &seat.email,
                "system",
                None,
                &outcome,
            )
            .await;
            self.notify_seat_ended(seat).await;
        }
        self.index.remove_seat(&seat.email).await?;
        Ok(SweepStep::Reclaimed)
    }
}

/// What one sweep step did.
enum SweepStep {
    Reminded,
    Reclaimed,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_stamp(text).unwrap()
    }

    #[test]
    fn the_policy_reads_its_three_forms_and_refuses_the_rest() {
        assert_eq!(SeatPolicy::parse("forever"), Ok(SeatPolicy::Forever));
        assert_eq!(SeatPolicy::parse(" days:30 "), Ok(SeatPolicy::Days(30)));
        assert_eq!(SeatPolicy::parse("cycle"), Ok(SeatPolicy::Cycle));
        for bad in [
            "",
            "days:",
            "days:0",
            "days:-1",
            "days:x",
            "month",
            "days:99999",
        ] {
            assert!(SeatPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_cycle_seat_ends_with_the_month_after_the_grant() {
        let cycle = SeatPolicy::Cycle;
        assert_eq!(
            cycle.first_end(at("2026-12-05T10:00:00Z")),
            Some(at("2027-02-01T00:00:00Z"))
        );
        assert_eq!(
            cycle.first_end(at("2026-01-31T23:59:59Z")),
            Some(at("2026-03-01T00:00:00Z"))
        );
        // A renewal adds the month after the current end's.
        assert_eq!(
            cycle.next_end(at("2027-02-01T00:00:00Z")),
            Some(at("2027-03-01T00:00:00Z"))
        );
        assert_eq!(
            SeatPolicy::Days(30).first_end(at("2026-12-05T10:00:00Z")),
            Some(at("2027-01-04T10:00:00Z"))
        );
        assert_eq!(SeatPolicy::Forever.first_end(Utc::now()), None);
    }

    #[test]
    fn the_reminder_comes_days_before_the_end_but_not_in_the_first_half() {
        let start = at("2026-12-01T00:00:00Z");
        assert_eq!(
            remind_at(start, at("2027-01-01T00:00:00Z"), 7),
            at("2026-12-25T00:00:00Z")
        );
        assert_eq!(
            remind_at(start, at("2026-12-02T00:00:00Z"), 7),
            at("2026-12-01T12:00:00Z")
        );
    }

    #[test]
    fn only_a_movable_clock_moves() {
        let fixed = Clock::default();
        assert!(fixed.advance(Duration::days(1)).is_none());
        assert!(fixed.now() - Utc::now() < Duration::minutes(1));
        let movable = Clock::movable();
        let moved = movable.advance(Duration::days(2)).unwrap();
        assert!(moved - Utc::now() > Duration::days(1));
    }
}
