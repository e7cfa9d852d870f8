//! The administrators' page: create a user in the Kiro Pro group, settle the requests waiting
//! for review, see and revoke the members, find decisions (with their screenshots) and see
//! administrator actions.

use super::decisions::Decisions;
use super::members::{AdminActions, Members};
use super::reviews::PendingReviews;
use super::{ErrorCard, KeyField, TextField};
use crate::api::{CreatedUser, DecisionFilter};
use crate::server_fns::{CreateUser, ExtendSeat, LoadAdminPage, RevokeMember, SettleReview};
use leptos::prelude::*;

#[component]
pub fn AdminPage() -> impl IntoView {
    let key = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let create = ServerAction::<CreateUser>::new();
    let overview = ServerAction::<LoadAdminPage>::new();
    let settle = ServerAction::<SettleReview>::new();
    let revoke = ServerAction::<RevokeMember>::new();
    let extend = ServerAction::<ExtendSeat>::new();
    let members_page = RwSignal::new(0usize);
    let decisions = RwSignal::new(DecisionFilter::default());

    // Every list in one call: each call counts against the key's rate limit.
    let refresh = move || {
        if !key.get_untracked().trim().is_empty() {
            overview.dispatch(LoadAdminPage {
                members_page: Some(members_page.get_untracked()),
                decisions: Some(decisions.get_untracked()),
            });
        }
    };
    // Lists refused for the rate limit (a burst of changes) are asked for again once the wait
    // the server names is over, instead of leaving an error where the lists were.
    Effect::new(move |_| {
        if let Some(Err(error)) = overview.value().get() {
            if let Some(secs) = error.retry_after_secs.filter(|s| *s <= 10) {
                set_timeout(refresh, std::time::Duration::from_secs(secs));
            }
        }
    });
    // Load the lists once the saved key is known, and again after each change.
    Effect::new(move |_| {
        key.track();
        create.version().track();
        settle.version().track();
        revoke.version().track();
        extend.version().track();
        refresh();
    });

    let pending = create.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        create.dispatch(CreateUser {
            email: email.get_untracked(),
            first_name: optional(first),
            last_name: optional(last),
            display_name: optional(display),
        });
    };

    view! {
        <section class="card">
            <h1>"Create a Kiro Pro user"</h1>
            <p class="lead">"Creates the user if needed and adds them to the Kiro Pro group."</p>
            <form on:submit=submit novalidate>
                <KeyField key storage_key="kiro-access.admin-key" label="Admin API key"/>
                <TextField value=email name="email" label="Email" kind="email" required=true/>
                <div class="row">
                    <TextField value=first name="first-name" label="First name"/>
                    <TextField value=last name="last-name" label="Last name"/>
                </div>
                <TextField value=display name="display-name" label="Display name (derived when empty)"/>
                <button type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create user" }}
                </button>
            </form>
        </section>
        <div class="create-result" aria-live="polite">
            {move || create.value().get().map(|result| match result {
                Ok(user) => view! { <CreatedCard user/> }.into_any(),
                Err(error) => view! { <ErrorCard error/> }.into_any(),
            })}
        </div>
        <PendingReviews overview settle refresh=Callback::new(move |()| refresh())/>
        <Members overview revoke extend page=members_page refresh=Callback::new(move |()| refresh())/>
        <Decisions overview filter=decisions refresh=Callback::new(move |()| refresh())/>
        <AdminActions overview/>
    }
}

#[component]
fn CreatedCard(user: CreatedUser) -> impl IntoView {
    let summary = match (user.created, user.added_to_group) {
        (true, _) => format!("Created {} and added them to {}.", user.email, user.group),
        (false, true) => format!(
            "{} already existed; added them to {}.",
            user.email, user.group
        ),
        (false, false) => format!(
            "{} already existed and is already in {}.",
            user.email, user.group
        ),
    };
    let class = if user.created {
        "card result granted created"
    } else {
        "card result already existing"
    };
    view! {
        <div class=class role="status">
            <h2>{if user.created { "User created" } else { "User already there" }}</h2>
            <p class="message">{summary}</p>
            <dl>
                <dt>"User id"</dt><dd class="user-id">{user.user_id}</dd>
                <dt>"Display name"</dt><dd>{user.display_name}</dd>
            </dl>
        </div>
    }
}
