//! The browser entry point: hydrates the server-rendered page into a live Leptos app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(app::App);
}
