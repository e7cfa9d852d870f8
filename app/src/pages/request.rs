//! The members' page: request Kiro Pro with a screenshot of the usage page.

use super::{ErrorCard, KeyField, TextField};
use crate::api::{describe_counters, CheckOutcome, Verdict};
use crate::browser::{prepare_image, PreparedImage};
use crate::server_fns::{RequestPro, SendCode};
use crate::upload::{on_upload, Upload};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn RequestPage() -> impl IntoView {
    let key = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let image = RwSignal::new(None::<PreparedImage>);
    let image_error = RwSignal::new(None::<String>);
    let preparing = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let request = ServerAction::<RequestPro>::new();
    let codes = crate::email_codes_required();
    let code = RwSignal::new(String::new());
    let send_code = ServerAction::<SendCode>::new();
    let upload = RwSignal::new(None::<Upload>);
    on_upload(move |progress| upload.set(Some(progress)));

    let take_file = move |file: web_sys::File| {
        preparing.set(true);
        image_error.set(None);
        request.value().set(None);
        spawn_local(async move {
            match prepare_image(file).await {
                Ok(prepared) => image.set(Some(prepared)),
                Err(message) => {
                    image.set(None);
                    image_error.set(Some(message));
                }
            }
            preparing.set(false);
        });
    };

    // Paste anywhere on the page (Ctrl/Cmd+V) takes the first image from the clipboard.
    let paste = window_event_listener(leptos::ev::paste, move |ev| {
        let file = ev
            .clipboard_data()
            .and_then(|data| data.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            ev.prevent_default();
            take_file(file);
        }
    });
    on_cleanup(move || paste.remove());

    let pending = request.pending();
    let busy = move || pending.get() || preparing.get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy() {
            return;
        }
        let Some(prepared) = image.get_untracked() else {
            image_error.set(Some(
                "Add a screenshot of your Kiro usage page first.".into(),
            ));
            return;
        };
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        upload.set(None);
        request.dispatch(RequestPro {
            email: email.get_untracked(),
            first_name: optional(first),
            last_name: optional(last),
            image: prepared.data_url,
            code: codes.then(|| code.get_untracked()),
        });
    };

    view! {
        <section class="card">
            <h1>"Request Kiro Pro"</h1>
            <p class="lead">
                "Used up your free Kiro credits? Add a screenshot of your Kiro usage page showing "
                "your account email and the credits counter, and we will add you to the Pro group."
            </p>
            <form on:submit=submit novalidate>
                <KeyField key storage_key="kiro-access.member-key" label="API key"/>
                <TextField value=email name="email" label="Email (the one you use in Kiro)" kind="email" required=true/>
                {codes.then(|| view! { <EmailCode email code send_code/> }.into_any())}
                <div class="row">
                    <TextField value=first name="first-name" label="First name (optional)"/>
                    <TextField value=last name="last-name" label="Last name (optional)"/>
                </div>
                <div
                    class="drop"
                    class:dragging=dragging
                    on:dragover=move |ev: leptos::ev::DragEvent| {
                        ev.prevent_default();
                        dragging.set(true);
                    }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=move |ev: leptos::ev::DragEvent| {
                        ev.prevent_default();
                        dragging.set(false);
                        let file = ev
                            .data_transfer()
                            .and_then(|data| data.files())
                            .and_then(|files| files.get(0));
                        if let Some(file) = file {
                            take_file(file);
                        }
                    }
                >
                    <label class="picker">
                        "Choose a screenshot"
                        <input
                            type="file"
                            name="screenshot"
                            accept="image/png,image/jpeg,image/webp"
                            on:change=move |ev| {
                                use wasm_bindgen::JsCast;
                                let input: Option<web_sys::HtmlInputElement> = ev
                                    .target()
                                    .and_then(|t| t.dyn_into().ok());
                                if let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) {
                                    take_file(file);
                                }
                            }
                        />
                    </label>
                    <span class="hint">" or drop it here, or paste it (Ctrl/Cmd+V)."</span>
                    <Show when=move || preparing.get()>
                        <p class="hint">"Reading the image…"</p>
                    </Show>
                    {move || image_error.get().map(|message| view! {
                        <p class="field-error" role="alert">{message}</p>
                    })}
                    {move || image.get().map(|img| {
                        let note = if img.downscaled {
                            format!("{} — resized to {}×{} for upload", img.name, img.width, img.height)
                        } else {
                            format!("{} — {}×{}", img.name, img.width, img.height)
                        };
                        view! {
                            <figure class="preview">
                                <img src=img.data_url alt="Screenshot preview"/>
                                <figcaption>{note}</figcaption>
                            </figure>
                        }
                    })}
                </div>
                <button type="submit" class="primary" disabled=busy>
                    {move || if pending.get() { "Checking your screenshot…" } else { "Request Pro" }}
                </button>
                <Show when=move || pending.get()>
                    <UploadProgress upload/>
                </Show>
            </form>
        </section>
        {move || request.value().get().map(|result| match result {
            Ok(outcome) => view! { <Outcome outcome/> }.into_any(),
            Err(error) => view! { <ErrorCard error/> }.into_any(),
        })}
    }
}

/// While a request is out: the bytes sent (a real upload progress bar), then the reading step.
#[component]
fn UploadProgress(upload: RwSignal<Option<Upload>>) -> impl IntoView {
    let kb = |bytes: f64| format!("{} KB", (bytes / 1024.0).ceil());
    view! {
        <div class="upload" role="status">
            {move || match upload.get() {
                None => view! {
                    <progress aria-label="Upload"></progress>
                    <span>"Starting the upload…"</span>
                }.into_any(),
                Some(Upload::Sending { sent, total }) => view! {
                    <progress aria-label="Upload" max=total value=sent></progress>
                    <span>{format!("Uploading: {} of {}", kb(sent), kb(total))}</span>
                }.into_any(),
                Some(Upload::Sent { total }) => view! {
                    <progress aria-label="Upload" max=total value=total></progress>
                    <span>{format!("Sent {}. Reading your screenshot…", kb(total))}</span>
                }.into_any(),
            }}
        </div>
    }
}

/// Proof of the address: "Send code" mails a 6-digit code, which goes back with the request.
#[component]
fn EmailCode(
    email: RwSignal<String>,
    code: RwSignal<String>,
    send_code: ServerAction<SendCode>,
) -> impl IntoView {
    let sending = send_code.pending();
    view! {
        <div class="row code-row">
            <TextField value=code name="code" label="Code from the email" required=true/>
            <button
                type="button"
                class="secondary"
                disabled=sending
                on:click=move |_| {
                    send_code.dispatch(SendCode { email: email.get_untracked() });
                }
            >
                {move || if sending.get() { "Sending…" } else { "Send code" }}
            </button>
        </div>
        {move || send_code.value().get().map(|result| match result {
            Ok(sent) => view! { <p class="hint code-sent" role="status">{sent.message}</p> }.into_any(),
            Err(error) => view! {
                <p class="field-error" role="alert">{super::explain(&error)}</p>
            }.into_any(),
        })}
    }
}

/// The result card: granted, already Pro, sent to review, or denied with the reason.
#[component]
fn Outcome(outcome: CheckOutcome) -> impl IntoView {
    let (class, title) = match outcome.verdict {
        Verdict::Granted => ("card result granted", "Welcome to Kiro Pro"),
        Verdict::AlreadyPro => ("card result already", "You already have Kiro Pro"),
        Verdict::Denied => ("card result denied", "Not granted"),
        Verdict::Review => ("card result review", "An administrator will look at it"),
    };
    let numbers = (!outcome.counters.is_empty()).then(|| {
        format!(
            "Read from your screenshot: {}",
            describe_counters(&outcome.counters)
        )
    });
    view! {
        <div class=class role="status">
            <h2>{title}</h2>
            <p class="message">{outcome.message}</p>
            {numbers.map(|n| view! { <p class="numbers">{n}</p> })}
        </div>
    }
}
