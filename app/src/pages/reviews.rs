//! The admin page's review queue: each waiting request with its screenshot, what was read, why
//! it is uncertain, and Approve / Deny with an optional note. Also the screenshot viewer the
//! recent-decisions table uses.

use super::ErrorCard;
use crate::api::{describe_counters, DecisionSummary, Settlement, Verdict};
use crate::server_fns::{LoadAdminPage, Screenshot, SettleReview};
use leptos::prelude::*;

/// The "Pending review" card, from the admin page's lists (reloaded by the page when the key
/// changes and after every settlement). The oldest request's screenshot loads at once; the
/// others on a click, so that a long queue does not spend the key's rate limit.
#[component]
pub fn PendingReviews(
    overview: ServerAction<LoadAdminPage>,
    settle: ServerAction<SettleReview>,
    refresh: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="card reviews">
            <div class="table-head">
                <h2>"Pending review"</h2>
                <button type="button" class="secondary" on:click=move |_| refresh.run(())>"Refresh"</button>
            </div>
            <div aria-live="polite">
                {move || settle.value().get().and_then(Result::err).map(|error| view! { <ErrorCard error/> })}
            </div>
            {move || match overview.value().get().map(|lists| lists.map(|l| l.waiting)) {
                None => view! { <p class="hint">"Enter the admin key to see requests waiting for review."</p> }.into_any(),
                // The recent-decisions card shows the error.
                Some(Err(_)) => ().into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="hint">"Nothing is waiting for review."</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <ul class="pending">
                        {rows.into_iter().enumerate().map(|(i, row)| view! { <PendingItem row settle load_now={i == 0}/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// One waiting request: the facts on the left, the screenshot on the right.
#[component]
fn PendingItem(
    row: DecisionSummary,
    settle: ServerAction<SettleReview>,
    load_now: bool,
) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let record_key = StoredValue::new(row.record_key.clone());
    let busy = settle.pending();
    let decide = move |approve: bool| {
        if busy.get_untracked() {
            return;
        }
        settle.dispatch(SettleReview {
            record_key: record_key.get_value(),
            approve,
            note: Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
        });
    };
    let emails = if row.emails_seen.is_empty() {
        "none".to_owned()
    } else {
        row.emails_seen.join(", ")
    };
    let numbers = match describe_counters(&row.counters) {
        n if n.is_empty() => "none".to_owned(),
        n => n,
    };
    view! {
        <li class="pending-item" data-email=row.email.clone()>
            <div class="pending-facts">
                <p><strong>{row.email.clone()}</strong>" · "{utc_minute(&row.at)}</p>
                <p class="why">{row.message}</p>
                <dl>
                    <dt>"Numbers read"</dt><dd>{numbers}</dd>
                    <dt>"Emails seen"</dt><dd>{emails}</dd>
                </dl>
                <label class="field">
                    <span>"Note (optional)"</span>
                    <input name="note" maxlength="500" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))/>
                </label>
                <div class="actions">
                    <button type="button" class="primary approve" disabled=move || busy.get() on:click=move |_| decide(true)>
                        "Approve"
                    </button>
                    <button type="button" class="secondary deny" disabled=move || busy.get() on:click=move |_| decide(false)>
                        "Deny"
                    </button>
                </div>
            </div>
            <ScreenshotView screenshot_key=row.screenshot_key load_now/>
            {row.similar_to.map(|earlier| view! {
                <figure class="similar">
                    <figcaption>"The screenshot another account was granted with"</figcaption>
                    <ScreenshotView screenshot_key=earlier load_now/>
                </figure>
            })}
        </li>
    }
}

/// A decision's screenshot, fetched with the admin key (never a public URL).
#[component]
pub fn ScreenshotView(
    screenshot_key: String,
    /// Load at once instead of on a click.
    #[prop(default = false)]
    load_now: bool,
) -> impl IntoView {
    let shot = ServerAction::<Screenshot>::new();
    let screenshot_key = StoredValue::new(screenshot_key);
    let load = move || {
        shot.dispatch(Screenshot {
            key: screenshot_key.get_value(),
        });
    };
    if load_now {
        Effect::new(move |_| load());
    }
    view! {
        <div class="screenshot">
            {move || match shot.value().get() {
                None => view! {
                    <button type="button" class="secondary" on:click=move |_| load()>"Show screenshot"</button>
                }.into_any(),
                Some(Ok(url)) => view! {
                    <img src=url alt="The screenshot sent with this request"/>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorCard error/> }.into_any(),
            }}
        </div>
    }
}

/// The decision column's words, with an administrator's ruling when there is one.
pub fn verdict_label(verdict: Verdict, settlement: Option<&Settlement>) -> String {
    match (verdict, settlement) {
        (_, Some(s)) => format!(
            "review: {} by {}{}",
            if s.approved { "approved" } else { "denied" },
            s.by,
            s.note
                .as_deref()
                .map(|n| format!(" (\u{201c}{n}\u{201d})"))
                .unwrap_or_default()
        ),
        (Verdict::Granted, None) => "granted".into(),
        (Verdict::AlreadyPro, None) => "already Pro".into(),
        (Verdict::Denied, None) => "denied".into(),
        (Verdict::Review, None) => "review (waiting)".into(),
    }
}

/// `2026-11-30 03:12` from an RFC 3339 time.
pub fn utc_minute(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}
