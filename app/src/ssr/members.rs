//! The group's members for administrators: who holds a seat and how they got it, seats used of
//! allowed (`KIRO_MAX_SEATS`), revoking a seat, and the record every administrator action
//! leaves (`actions/…json`: what, on whom, which key, when, the note).

use super::error::{AppError, AppResult, CauseChain, Field};
use super::review::parse_note;
use super::{Role, Services};
use crate::api::{
    AdminAction, AdminActionKind, DecisionRecord, MemberSummary, MembersPage, Revoked, Seats,
    Verdict,
};
use crate::domain::EmailAddress;
use std::collections::HashMap;

/// Members on one page of the list.
pub const MEMBERS_PER_PAGE: usize = 50;
/// How far back the list looks for how each member got in.
const HISTORY: usize = 200;

/// An administrator's request to take a seat back, as received.
#[derive(Clone, Debug)]
pub struct RevokeRequest {
    pub api_key: Option<String>,
    pub email: String,
    pub note: Option<String>,
}

impl Services {
    /// One page of the group's members (zero-based), with the seats. Administrators only.
    pub async fn members(&self, api_key: Option<&str>, page: usize) -> AppResult<MembersPage> {
        self.authorize(api_key, Role::Admin)?;
        self.members_page(page).await
    }

    /// One page of the members (past the end: the last page).
    pub(super) async fn members_page(&self, page: usize) -> AppResult<MembersPage> {
        let group_id = self.group_id().await?;
        let ids = self.directory.member_ids(&group_id).await?;
        let seats = Seats {
            used: ids.len(),
            allowed: self.policy.max_seats,
        };
        let pages = ids.len().div_ceil(MEMBERS_PER_PAGE).max(1);
        let page = page.min(pages - 1);
        let on_page = ids
            .iter()
            .skip(page * MEMBERS_PER_PAGE)
            .take(MEMBERS_PER_PAGE);
        let profiles =
            futures::future::try_join_all(on_page.map(|id| self.directory.describe_user(id)))
                .await?;
        let joined = self.how_members_joined().await?;
        let mut members = Vec::with_capacity(profiles.len());
        for p in profiles.into_iter().flatten() {
            let email = if p.email.is_empty() {
                p.user_name
            } else {
                p.email
            };
            let lower = email.to_ascii_lowercase();
            let seat = self.index.seat(&lower).await?;
            members.push(MemberSummary {
                joined: match &seat {
                    Some(seat) => Some(format!("{} at {}", seat.how, seat.since)),
                    None => joined.get(&lower).cloned(),
                },
                permanent: seat.as_ref().is_some_and(|s| s.ends.is_none()),
                ends: seat.and_then(|s| s.ends),
                user_id: p.user_id,
                email,
                display_name: p.display_name,
            });
        }
        members.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(MembersPage {
            members,
            seats,
            page,
            pages,
        })
    }

    /// Takes `email`'s seat back: the membership ends, the user stays (Identity Center keeps
    /// them; their next request is decided like anyone's). Administrators only.
    pub async fn revoke(&self, req: RevokeRequest) -> AppResult<Revoked> {
        let by = self.authorize(req.api_key.as_deref(), Role::Admin)?;
        let email =
            EmailAddress::parse(&req.email).map_err(|m| AppError::invalid(Field::Email, m))?;
        let note = parse_note(req.note)?;
        let not_member = || {
            AppError::NotFound(format!(
                "{email} is not a member of {}: nothing was changed.",
                self.group_name
            ))
        };
        let user_id = self
            .directory
            .find_user(email.as_str())
            .await?
            .ok_or_else(not_member)?;
        let group_id = self.group_id().await?;
        if !self.directory.remove_member(&group_id, &user_id).await? {
            return Err(not_member());
        }
        // The seat goes with the membership (a failure is logged: the sweep finds no member).
        if let Err(e) = self.index.remove_seat(email.as_str()).await {
            tracing::warn!(cause = %CauseChain(&e), %email, "could not forget a revoked seat");
        }
        let message = format!(
            "{email} no longer has a {} seat; the user stays in the directory.",
            self.group_name
        );
        self.record_action(AdminActionKind::Revoke, &email, &by, note, &message)
            .await;
        tracing::info!(%email, %by, "seat revoked");
        Ok(Revoked {
            email: email.to_string(),
            group: self.group_name.clone(),
            message,
        })
    }

    /// Seats used and allowed.
    pub(super) async fn seats(&self) -> AppResult<Seats> {
        let group_id = self.group_id().await?;
        Ok(Seats {
            used: self.directory.member_ids(&group_id).await?.len(),
            allowed: self.policy.max_seats,
        })
    }

    /// Whether one more member fits under `KIRO_MAX_SEATS` (always, without a cap).
    pub(super) async fn seat_left(&self) -> AppResult<bool> {
        if self.policy.max_seats.is_none() {
            return Ok(true);
        }
        let seats = self.seats().await?;
        Ok(seats.allowed.is_none_or(|max| seats.used < max as usize))
    }

    /// Writes what an administrator did. A failure is logged, not returned: the action was
    /// done, and saying otherwise would invite doing it twice.
    pub(super) async fn record_action(
        &self,
        action: AdminActionKind,
        target: &(impl std::fmt::Display + ?Sized),
        by: &str,
        note: Option<String>,
        outcome: &str,
    ) {
        let now = self.clock.now();
        let record = AdminAction {
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            action,
            target: target.to_string(),
            by: by.to_owned(),
            note,
            outcome: outcome.to_owned(),
        };
        let key = format!(
            "actions/{}{:02}-{}-{}.json",
            now.format("%Y%m%d-%H%M%S%3f"),
            super::workflow::next_sequence(),
            action.as_str(),
            super::workflow::sanitise_for_key(&target.to_string())
        );
        if let Err(e) = self.index.put_action(&key, &record).await {
            tracing::warn!(cause = %CauseChain(&e), %key, "could not record an administrator action");
        }
    }

    /// Email → how its newest grant came about, from the recent decisions and actions.
    async fn how_members_joined(&self) -> AppResult<HashMap<String, String>> {
        let mut joined = HashMap::new();
        // Oldest first, so the newest event for an email is the one kept.
        let mut events: Vec<(String, String, String)> = Vec::new();
        let query = super::ports::DecisionQuery {
            limit: HISTORY,
            ..Default::default()
        };
        for record in self.index.decisions(&query).await?.records {
            if let Some(how) = granted_by(&record) {
                events.push((record.at.clone(), record.email.clone(), how));
            }
        }
        for action in self.index.recent_actions(HISTORY).await? {
            if action.action == AdminActionKind::CreateUser {
                let how = format!("created by {} at {}", action.by, action.at);
                events.push((action.at, action.target, how));
            }
        }
        events.sort();
        for (_, email, how) in events {
            joined.insert(email.to_ascii_lowercase(), how);
        }
        Ok(joined)
    }
}

/// "granted automatically at …" or "approved by admin-… at …", when the record granted.
fn granted_by(record: &DecisionRecord) -> Option<String> {
    match (&record.settlement, record.verdict) {
        (Some(s), _) if s.approved && record.applied == Some(true) => {
            Some(format!("approved by {} at {}", s.by, s.at))
        }
        (None, Verdict::Granted) if record.applied == Some(true) => {
            Some(format!("granted automatically at {}", record.at))
        }
        _ => None,
    }
}
