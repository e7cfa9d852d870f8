//! The review queue: what administrators see of requests the rules would not decide, their
//! screenshots, and approve / deny. An approval runs the same grant as an automatic one.

use super::error::{AppError, AppResult, CauseChain, Field};
use super::workflow::Person;
use super::{Role, Services};
use crate::api::{
    AdminActionKind, AdminOverview, DecisionFilter, DecisionRecord, DecisionSummary, Settlement,
};

/// Longest note an administrator may leave on a settlement.
pub const MAX_NOTE_CHARS: usize = 500;

/// An administrator's ruling, as received (nothing validated yet).
#[derive(Clone, Debug)]
pub struct SettleRequest {
    pub api_key: Option<String>,
    /// The record's key, as listed (`screenshots/….json`).
    pub record_key: String,
    pub approve: bool,
    pub note: Option<String>,
}

impl Services {
    /// Requests waiting for an administrator, oldest first. Administrators only.
    pub async fn waiting_reviews(&self, api_key: Option<&str>) -> AppResult<Vec<DecisionSummary>> {
        self.authorize(api_key, Role::Admin)?;
        self.waiting_list().await
    }

    /// The admin page's lists — waiting, a page of the decisions `filter` asks for, administrator
    /// actions, and one page of the members — for one authorised (and rate-limited) call.
    /// Administrators only.
    pub async fn admin_overview(
        &self,
        api_key: Option<&str>,
        members_page: usize,
        filter: DecisionFilter,
    ) -> AppResult<AdminOverview> {
        self.authorize(api_key, Role::Admin)?;
        let decisions = self.decisions_page(filter).await?;
        Ok(AdminOverview {
            waiting: self.waiting_list().await?,
            recent: decisions.decisions,
            recent_next: decisions.next,
            actions: self.index.recent_actions(50).await?,
            members: self.members_page(members_page).await?,
        })
    }

    async fn waiting_list(&self) -> AppResult<Vec<DecisionSummary>> {
        let waiting = self.index.waiting_reviews().await?;
        Ok(waiting.iter().map(DecisionSummary::from).collect())
    }

    /// Approves (grants) or denies a request waiting for review, and records who did it.
    /// Administrators only. A grant that fails leaves the request waiting, to try again.
    pub async fn settle_review(&self, req: SettleRequest) -> AppResult<DecisionSummary> {
        let by = self.authorize(req.api_key.as_deref(), Role::Admin)?;
        let key = stored_key(&req.record_key, ".json")?;
        let note = parse_note(req.note)?;
        let Some(waiting) = self.index.decision(&key).await? else {
            return Err(AppError::NotFound(
                "No request is on record under that key.".into(),
            ));
        };
        if let Some(done) = &waiting.settlement {
            return Err(already_settled(done));
        }
        if !waiting.is_waiting() {
            return Err(AppError::Conflict(
                "This request was decided by the rules, not sent to review: there is nothing to settle."
                    .into(),
            ));
        }

        // The ruling is written first, on the condition that nobody changed the record since it
        // was read: of two administrators settling at once, one wins and the other gets a 409.
        let mut record = waiting.clone();
        record.settlement = Some(Settlement {
            approved: req.approve,
            by: by.clone(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            note: note.clone(),
        });
        if !self.index.update_decision(&record).await? {
            return Err(match self.index.decision(&key).await? {
                Some(DecisionRecord {
                    settlement: Some(done),
                    ..
                }) => already_settled(&done),
                _ => AppError::Conflict(
                    "This request changed while you ruled on it; reload the page and look again."
                        .into(),
                ),
            });
        }
        record.revision += 1;

        if req.approve {
            let person = Person::parse(
                &record.email,
                record.first_name.as_deref(),
                record.last_name.as_deref(),
                None,
            )?;
            let how = format!("approved by {by}");
            if let Err(e) = self.grant_noted(&person, &mut record, how, false).await {
                self.reopen(&key, record).await;
                return Err(e);
            }
            // The approved email now owns the image, as after an automatic grant. An earlier
            // owner stays the owner: the administrator saw the screenshot and decided anyway.
            if let Err(e) = self
                .index
                .claim_image(&record.image_sha256, &record.email)
                .await
            {
                tracing::warn!(cause = %CauseChain(&e), %key, "could not claim the image");
            }
            if let Err(e) =
                super::likeness::remember_stored(&*self.audit, &*self.index, &record).await
            {
                tracing::warn!(cause = %CauseChain(&e), %key, "could not remember the image");
            }
            self.update_record(&key, &record).await;
        }
        if let Ok(email) = crate::domain::EmailAddress::parse(&record.email) {
            let (kind, outcome) = if req.approve {
                (AdminActionKind::Approve, "approved: granted")
            } else {
                (AdminActionKind::Deny, "denied")
            };
            let outcome = format!("{outcome} (request {key})");
            self.record_action(kind, &email, &by, note, &outcome).await;
        }
        self.notify_decision(&key, &mut record).await;
        tracing::info!(
            email = %record.email,
            approved = req.approve,
            by = ?record.settlement.as_ref().map(|s| &s.by),
            %key,
            "review settled"
        );
        Ok(DecisionSummary::from(&record))
    }

    /// An approval whose grant failed: the ruling is taken back (on the same condition) and
    /// the request waits again, its error on record, for another try.
    async fn reopen(&self, key: &str, mut record: DecisionRecord) {
        record.settlement = None;
        let reopened = match self.index.update_decision(&record).await {
            Ok(true) => self.index.open_review(&record.email, key).await.map(|_| ()),
            Ok(false) => {
                tracing::warn!(%key, "the record changed before the ruling was taken back");
                Ok(())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = reopened {
            tracing::warn!(cause = %CauseChain(&e), %key, "could not put the request back in the queue");
        }
    }

    /// A screenshot on record, for an administrator's eyes only.
    pub async fn screenshot(&self, api_key: Option<&str>, key: &str) -> AppResult<Vec<u8>> {
        self.authorize(api_key, Role::Admin)?;
        let key = stored_key(key, ".png")?;
        self.audit
            .screenshot(&key)
            .await?
            .ok_or_else(|| AppError::NotFound("No screenshot is on record under that key.".into()))
    }
}

fn already_settled(done: &Settlement) -> AppError {
    AppError::Conflict(format!(
        "This request was already {} by {} at {}.",
        if done.approved { "approved" } else { "denied" },
        done.by,
        done.at
    ))
}

/// A key the workflow made: under `screenshots/`, one plain name, with this extension.
pub(super) fn stored_key(raw: &str, extension: &str) -> AppResult<String> {
    let key = raw.trim();
    let name = key.strip_prefix("screenshots/").unwrap_or_default();
    let plain = !name.is_empty()
        && name.ends_with(extension)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.contains("..");
    if plain {
        Ok(key.to_owned())
    } else {
        Err(AppError::invalid(
            Field::Key,
            format!("Name a key as listed: screenshots/…{extension}"),
        ))
    }
}

pub(super) fn parse_note(note: Option<String>) -> AppResult<Option<String>> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    match note {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => Err(AppError::invalid(
            Field::Note,
            format!("Keep the note under {MAX_NOTE_CHARS} characters."),
        )),
        Some(n) if n.chars().any(|c| c != '\n' && c.is_control()) => Err(AppError::invalid(
            Field::Note,
            "The note has control characters.",
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_the_workflow_makes_are_accepted() {
        let ok = "screenshots/20261130-031200-ada_at_example.com-1a2b3c4d-review.json";
        assert_eq!(stored_key(ok, ".json").unwrap(), ok);
        for bad in [
            "",
            "screenshots/",
            "claims/abc",
            "screenshots/../claims/abc.json",
            "screenshots/a/b.json",
            "/etc/passwd.json",
            "screenshots/x.png",
            "screenshots/..json",
        ] {
            assert!(stored_key(bad, ".json").is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn notes_are_trimmed_bounded_and_plain() {
        assert_eq!(parse_note(Some("  ".into())).unwrap(), None);
        assert_eq!(
            parse_note(Some(" ok \n".into())).unwrap().as_deref(),
            Some("ok")
        );
        assert!(parse_note(Some("x".repeat(MAX_NOTE_CHARS + 1))).is_err());
        assert!(parse_note(Some("a\u{7}b".into())).is_err());
        assert!(parse_note(Some("line one\nline two".into())).is_ok());
    }
}
