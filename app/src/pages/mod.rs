//! The pages and the small components they share.

pub mod admin;
pub mod decisions;
pub mod members;
pub mod request;
pub mod reviews;

use crate::api::ApiError;
use leptos::prelude::*;

/// An API key input with a show/hide toggle, remembered for the tab in sessionStorage, and
/// the key the page's server-function calls send (`client::set_api_key`).
#[component]
pub fn KeyField(
    key: RwSignal<String>,
    /// sessionStorage entry the key is kept under.
    storage_key: &'static str,
    label: &'static str,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(saved) = crate::browser::session_get(storage_key) {
            crate::client::set_api_key(&saved);
            key.set(saved);
        }
    });
    view! {
        <label class="field">
            <span>{label}</span>
            <span class="key-row">
                <input
                    name="api-key"
                    autocomplete="off"
                    type=move || if shown.get() { "text" } else { "password" }
                    prop:value=key
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        crate::browser::session_set(storage_key, &value);
                        crate::client::set_api_key(&value);
                        key.set(value);
                    }
                />
                <button
                    type="button"
                    class="secondary"
                    aria-label="Show or hide the key"
                    on:click=move |_| shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { "Hide" } else { "Show" }}
                </button>
            </span>
        </label>
    }
}

/// A text input bound to a signal.
#[component]
pub fn TextField(
    value: RwSignal<String>,
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = false)] required: bool,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                name=name
                type=kind
                required=required
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

/// What an error means for the person in front of the page.
pub fn explain(error: &ApiError) -> String {
    use crate::api::ErrorCode as C;
    match error.code {
        C::Internal | C::Unavailable | C::Timeout => format!(
            "Something went wrong on our side: {} Please try again in a moment.",
            error.message
        ),
        _ => error.message.clone(),
    }
}

/// An error card.
#[component]
pub fn ErrorCard(error: ApiError) -> impl IntoView {
    let class = format!("card result error code-{}", error.code);
    view! {
        <div class=class role="alert">
            <strong>"Could not complete the request. "</strong>
            {explain(&error)}
        </div>
    }
}
