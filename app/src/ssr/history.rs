//! The decisions an administrator looks up: by exact email, verdict and reason, newest first,
//! a page of 50 at a time, through the record index (never a listing of the store).

use super::error::{AppError, AppResult, Field};
use super::ports::DecisionQuery;
use super::{Role, Services};
use crate::api::{DecisionFilter, DecisionSummary, DecisionsPage};
use crate::domain::EmailAddress;

/// Decisions a page: the admin page's table and the JSON endpoint's.
pub const PAGE_SIZE: usize = 50;

impl Services {
    /// One page of the decisions that pass `filter`. Administrators only.
    pub async fn decisions(
        &self,
        api_key: Option<&str>,
        filter: DecisionFilter,
    ) -> AppResult<DecisionsPage> {
        self.authorize(api_key, Role::Admin)?;
        self.decisions_page(filter).await
    }

    pub(super) async fn decisions_page(&self, filter: DecisionFilter) -> AppResult<DecisionsPage> {
        let query = parse(filter)?;
        let page = self.index.decisions(&query).await?;
        Ok(DecisionsPage {
            decisions: page.records.iter().map(DecisionSummary::from).collect(),
            next: page.next,
        })
    }
}

/// The filter as the index asks it: an email parsed and folded as requests store it (blank is
/// none), a cursor that is a record key.
fn parse(filter: DecisionFilter) -> AppResult<DecisionQuery> {
    let email = match filter.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            EmailAddress::parse(raw)
                .map_err(|m| AppError::invalid(Field::Email, m))?
                .as_str()
                .to_owned(),
        ),
    };
    let after = match filter.after.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(key) => Some(super::review::stored_key(key, ".json")?),
    };
    Ok(DecisionQuery {
        email,
        verdict: filter.verdict,
        reason: filter.reason,
        after,
        limit: PAGE_SIZE,
    })
}
