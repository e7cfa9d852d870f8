//! The admin page's decisions: found by exact email, verdict and reason, newest first, 50 a
//! page, each with its screenshot.

use super::reviews::{verdict_label, ScreenshotView};
use super::ErrorCard;
use crate::api::{describe_counters, DecisionFilter, Verdict};
use crate::server_fns::LoadAdminPage;
use leptos::prelude::*;

/// The verdicts the filter offers, by their JSON names (`""`: any).
const VERDICTS: [(&str, &str); 5] = [
    ("", "Any decision"),
    ("granted", "Granted"),
    ("review", "Sent to review"),
    ("denied", "Denied"),
    ("already_pro", "Already Pro"),
];

/// The reasons the filter offers, by their JSON names (`""`: any).
const REASONS: [(&str, &str); 18] = [
    ("", "Any reason"),
    ("credits_available", "Credits left"),
    ("email_mismatch", "Another email"),
    ("email_not_found", "No email found"),
    ("unreadable", "Unreadable"),
    ("screenshot_reused", "Screenshot reused"),
    ("suspicious_text", "Suspicious text"),
    ("not_a_kiro_page", "Not a Kiro page"),
    ("email_uncertain", "Email uncertain"),
    ("several_emails", "Several emails"),
    ("unlabelled_counter", "Unlabelled counter"),
    ("banner_without_counter", "Banner without counter"),
    ("counter_uncertain", "Counter uncertain"),
    ("email_unreadable", "Email unreadable"),
    ("unusual_page", "Unusual page"),
    ("already_waiting", "Already waiting"),
    ("no_seat_left", "No seat left"),
    ("similar_screenshot", "Similar to another's"),
];

/// A filter's choice by its JSON name; `None` for "any".
fn named<T: serde::de::DeserializeOwned>(name: String) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name)).ok()
}

/// `filter` is what the lists were (and will be) loaded with: searching or paging changes it
/// and reloads.
#[component]
pub fn Decisions(
    overview: ServerAction<LoadAdminPage>,
    filter: RwSignal<DecisionFilter>,
    refresh: Callback<()>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let verdict = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let load = move |after: Option<String>| {
        filter.set(DecisionFilter {
            email: Some(email.get_untracked()).filter(|e| !e.trim().is_empty()),
            verdict: named(verdict.get_untracked()),
            reason: named(reason.get_untracked()),
            after,
        });
        refresh.run(());
    };
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        load(None);
    };
    let clear = move |_| {
        email.set(String::new());
        verdict.set(String::new());
        reason.set(String::new());
        load(None);
    };
    let next = move || {
        overview
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|l| l.recent_next)
    };
    let paged = move || filter.with(|f| f.after.is_some());
    view! {
        <section class="card decisions-card">
            <div class="table-head">
                <h2>"Decisions"</h2>
                <button type="button" class="secondary" on:click=move |_| refresh.run(())>"Refresh"</button>
            </div>
            <form class="search" role="search" on:submit=search>
                <label class="field">
                    <span>"Email"</span>
                    <input name="search-email" type="email" placeholder="ada@example.com"
                        prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>"Decision"</span>
                    <select name="search-verdict" prop:value=verdict
                        on:change=move |ev| verdict.set(event_target_value(&ev))>
                        {VERDICTS.map(|(value, label)| view! { <option value=value>{label}</option> })}
                    </select>
                </label>
                <label class="field">
                    <span>"Reason"</span>
                    <select name="search-reason" prop:value=reason
                        on:change=move |ev| reason.set(event_target_value(&ev))>
                        {REASONS.map(|(value, label)| view! { <option value=value>{label}</option> })}
                    </select>
                </label>
                <button type="submit" class="primary">"Search"</button>
                <button type="button" class="secondary" on:click=clear>"Clear"</button>
            </form>
            {move || match overview.value().get().map(|lists| lists.map(|l| l.recent)) {
                None => view! { <p class="hint">"Enter the admin key to see the decisions."</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorCard error/> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="hint">"No decisions match."</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <table class="decisions">
                        <thead>
                            <tr><th>"Time (UTC)"</th><th>"Email"</th><th>"Decision"</th><th>"Reason"</th><th>"Numbers read"</th><th>"Screenshot"</th></tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|row| {
                                let class = match row.verdict {
                                    Verdict::Granted => "granted",
                                    Verdict::AlreadyPro => "already",
                                    Verdict::Denied => "denied",
                                    Verdict::Review => "review",
                                };
                                let label = verdict_label(row.verdict, row.settlement.as_ref());
                                let shot = (row.verdict != Verdict::AlreadyPro).then(|| view! {
                                    <ScreenshotView screenshot_key=row.screenshot_key.clone()/>
                                });
                                let email = row.email.clone();
                                view! {
                                    <tr class=class data-email=email>
                                        <td>{row.at.get(..19).unwrap_or(&row.at).replace('T', " ")}</td>
                                        <td>{row.email}</td>
                                        <td class="verdict">{label}</td>
                                        <td>{row.message}</td>
                                        <td>{describe_counters(&row.counters)}</td>
                                        <td>{shot}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <div class="pager">
                <button type="button" class="secondary" disabled=move || !paged()
                    on:click=move |_| load(None)>"Newest"</button>
                <button type="button" class="secondary" disabled=move || next().is_none()
                    on:click=move |_| load(next())>"Older"</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Reason;

    #[test]
    fn every_offered_choice_is_a_name_the_server_reads() {
        for (name, _) in VERDICTS.iter().skip(1) {
            assert!(named::<Verdict>(name.to_string()).is_some(), "{name}");
        }
        for (name, _) in REASONS.iter().skip(1) {
            assert!(named::<Reason>(name.to_string()).is_some(), "{name}");
        }
        assert_eq!(named::<Reason>(String::new()), None);
    }
}
