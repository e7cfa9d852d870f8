//! The admin page's decisions: found by exact email and by verdict, newest first, 50 a page,
//! each with its screenshot.

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
    let load = move |after: Option<String>| {
        let named = verdict.get_untracked();
        filter.set(DecisionFilter {
            email: Some(email.get_untracked()).filter(|e| !e.trim().is_empty()),
            verdict: serde_json::from_value(serde_json::Value::String(named)).ok(),
            reason: None,
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
