//! Kiro Access: the Leptos app shared by the browser (feature `hydrate`) and the server
//! (feature `ssr`): pages, domain rules, wire types and server functions.

pub mod api;
pub mod browser;
pub mod domain;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    StaticSegment,
};

pub use pages::{admin::AdminPage, request::RequestPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as hydrated (tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/kiro-access.css"/>
        <Title text="Kiro Access"/>
        <Router>
            <header class="top">
                <span class="brand">"Kiro Access"</span>
                <nav>
                    <A href="/">"Request Pro"</A>
                    <A href="/admin">"Admin"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="card">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=RequestPage/>
                    <Route path=StaticSegment("admin") view=AdminPage/>
                </Routes>
            </main>
        </Router>
    }
}
