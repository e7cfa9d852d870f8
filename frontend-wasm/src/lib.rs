//! The browser entry point: hydrates the server-rendered page into a live Leptos app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic in the browser says what happened in the console, not just "unreachable".
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
