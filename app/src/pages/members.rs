//! The admin page's members card (who holds a seat, how they got it, when it ends, seats used of
//! allowed; Extend or Make permanent a seat that ends; Revoke with an optional note) and the
//! administrator actions on record.

use super::reviews::utc_minute;
use super::ErrorCard;
use crate::api::{AdminAction, MemberSummary};
use crate::server_fns::{ExtendSeat, LoadAdminPage, RevokeMember};
use leptos::prelude::*;

/// The "Members" card, from the admin page's one call (`page` is the members page it asks for;
/// the pager changes it and reloads).
#[component]
pub fn Members(
    overview: ServerAction<LoadAdminPage>,
    revoke: ServerAction<RevokeMember>,
    extend: ServerAction<ExtendSeat>,
    page: RwSignal<usize>,
    refresh: Callback<()>,
) -> impl IntoView {
    let members = move || overview.value().get().map(|lists| lists.map(|l| l.members));
    let go = move |to: usize| {
        page.set(to);
        refresh.run(());
    };
    view! {
        <section class="card members">
            <div class="table-head">
                <h2>"Members"</h2>
                <span class="seats">
                    {move || members().and_then(Result::ok).map(|m| match m.seats.allowed {
                        Some(allowed) => format!("Seats: {} used of {allowed}", m.seats.used),
                        None => format!("Seats: {} used (no cap)", m.seats.used),
                    })}
                </span>
            </div>
            <div aria-live="polite">
                {move || revoke.value().get().map(|result| match result {
                    Ok(done) => view! { <p class="revoked" role="status">{done.message}</p> }.into_any(),
                    Err(error) => view! { <ErrorCard error/> }.into_any(),
                })}
                {move || extend.value().get().map(|result| match result {
                    Ok(done) => view! { <p class="extended" role="status">{done.message}</p> }.into_any(),
                    Err(error) => view! { <ErrorCard error/> }.into_any(),
                })}
            </div>
            {move || match members() {
                None => view! { <p class="hint">"Enter the admin key to see the members."</p> }.into_any(),
                // The recent-decisions card shows the error.
                Some(Err(_)) => ().into_any(),
                Some(Ok(list)) if list.members.is_empty() => view! { <p class="hint">"Nobody holds a seat."</p> }.into_any(),
                Some(Ok(list)) => {
                    let (at, pages) = (list.page, list.pages);
                    view! {
                        <table class="member-list">
                            <thead><tr><th>"Email"</th><th>"Name"</th><th>"Got the seat"</th><th>"Seat ends"</th><th></th></tr></thead>
                            <tbody>
                                {list.members.into_iter().map(|member| view! { <MemberRow member revoke extend/> }).collect_view()}
                            </tbody>
                        </table>
                        {(pages > 1).then(|| view! {
                            <div class="pager">
                                <button type="button" class="secondary" disabled=at == 0
                                    on:click=move |_| go(at.saturating_sub(1))>"Previous"</button>
                                <span>{format!("Page {} of {pages}", at + 1)}</span>
                                <button type="button" class="secondary" disabled=at + 1 >= pages
                                    on:click=move |_| go(at + 1)>"Next"</button>
                            </div>
                        })}
                    }.into_any()
                }
            }}
        </section>
    }
}

/// One member; Revoke asks once more, with room for a note, before it acts. A seat that ends can
/// be given one more term, or made permanent.
#[component]
fn MemberRow(
    member: MemberSummary,
    revoke: ServerAction<RevokeMember>,
    extend: ServerAction<ExtendSeat>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let email = StoredValue::new(member.email.clone());
    let busy = revoke.pending();
    let confirm = move |_| {
        if busy.get_untracked() {
            return;
        }
        revoke.dispatch(RevokeMember {
            email: email.get_value(),
            note: Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
        });
        confirming.set(false);
    };
    let extending = extend.pending();
    let change_seat = move |permanent: bool| {
        if !extending.get_untracked() {
            extend.dispatch(ExtendSeat {
                email: email.get_value(),
                permanent,
                note: None,
            });
        }
    };
    let ends = member.ends.is_some();
    view! {
        <tr data-email=email.get_value()>
            <td>{email.get_value()}</td>
            <td>{member.display_name}</td>
            <td>{member.joined.unwrap_or_else(|| "not in the recent records".into())}</td>
            <td class="seat-ends">{match (member.ends, member.permanent) {
                (Some(ends), _) => utc_minute(&ends),
                (None, true) => "never".to_owned(),
                (None, false) => "no end on record".to_owned(),
            }}</td>
            <td class="actions">
                {ends.then(|| view! {
                    <button type="button" class="secondary extend" disabled=move || extending.get()
                        on:click=move |_| change_seat(false)>"Extend"</button>
                    <button type="button" class="secondary make-permanent" disabled=move || extending.get()
                        on:click=move |_| change_seat(true)>"Make permanent"</button>
                })}
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="secondary revoke" on:click=move |_| confirming.set(true)>"Revoke"</button>
                    }
                >
                    <input name="revoke-note" placeholder="Note (optional)" maxlength="500"
                        prop:value=note on:input=move |ev| note.set(event_target_value(&ev))/>
                    <button type="button" class="primary confirm-revoke" disabled=move || busy.get() on:click=confirm>
                        "Revoke seat"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                </Show>
            </td>
        </tr>
    }
}

/// The "Administrator actions" card, from the admin page's one call.
#[component]
pub fn AdminActions(overview: ServerAction<LoadAdminPage>) -> impl IntoView {
    view! {
        <section class="card actions-log">
            <h2>"Administrator actions"</h2>
            {move || match overview.value().get().map(|lists| lists.map(|l| l.actions)) {
                // The recent-decisions card says why there are no lists.
                None | Some(Err(_)) => ().into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="hint">"No administrator has acted yet."</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <table class="admin-actions">
                        <thead><tr><th>"Time (UTC)"</th><th>"Action"</th><th>"Email"</th><th>"By"</th><th>"Outcome"</th><th>"Note"</th></tr></thead>
                        <tbody>{rows.into_iter().map(action_row).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

fn action_row(action: AdminAction) -> impl IntoView {
    view! {
        <tr data-action=action.action.as_str()>
            <td>{utc_minute(&action.at)}</td>
            <td>{action.action.as_str().replace('_', " ")}</td>
            <td>{action.target}</td>
            <td>{action.by}</td>
            <td>{action.outcome}</td>
            <td>{action.note.unwrap_or_default()}</td>
        </tr>
    }
}
