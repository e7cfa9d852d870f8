//! Kiro Access: the Leptos app shared by the browser (feature `hydrate`) and the server
//! (feature `ssr`): pages, domain rules, wire types and server functions.

pub mod api;
pub mod browser;
pub mod client;
pub mod domain;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod upload;

use leptos::prelude::*;
pub use pages::{admin::AdminPage, request::RequestPage};

/// The HTML document around the app, rendered on the server. One title and one stylesheet for
/// the whole app, so no leptos_meta (which would cost bundle size for nothing).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    ssr::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Kiro Access"</title>
                {email_codes_required().then(|| view! { <meta name="kiro-email-codes" content="on"/> })}
                <ssr::assets::AssetLinks options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The two pages. A router would cost more bundle than it saves for two pages reached by links,
/// so the page is chosen from the path, the same way on the server and in the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Request,
    Admin,
    NotFound,
}

impl Page {
    /// Matches on the last path segment, so a stage prefix (`/prod/admin`) does not matter;
    /// a path ending in `/` is the start page.
    pub fn from_path(path: &str) -> Self {
        let trimmed = path.trim_end_matches('/');
        match trimmed.rsplit('/').next().unwrap_or_default() {
            "admin" => Self::Admin,
            _ if trimmed.len() < path.len() || path.is_empty() => Self::Request,
            _ => Self::NotFound,
        }
    }
}

/// The request path: from the request on the server, from the location in the browser.
fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| parts.uri.path().to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().pathname().unwrap_or_default()
    }
}

/// Whether a request for Pro needs a code mailed to the address (`KIRO_VERIFY_EMAIL`): from
/// the policy on the server, from the `<meta name="kiro-email-codes">` it renders in the browser.
pub fn email_codes_required() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<ssr::Services>>().is_some_and(|s| s.policy.verify_email)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("meta[name=kiro-email-codes]")
            .ok()
            .flatten()
            .is_some()
    }
}

#[component]
pub fn App() -> impl IntoView {
    // Effects run only in the browser: this marks the page as hydrated (tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let page = Page::from_path(&current_path());
    let current = move |p: Page| (page == p).then_some("page");
    view! {
        <header class="top">
            <span class="brand">"Kiro Access"</span>
            <nav>
                <a href="./" aria-current=current(Page::Request)>"Request Pro"</a>
                <a href="admin" aria-current=current(Page::Admin)>"Admin"</a>
            </nav>
        </header>
        <main>
            {match page {
                Page::Request => view! { <RequestPage/> }.into_any(),
                Page::Admin => view! { <AdminPage/> }.into_any(),
                Page::NotFound => view! { <p class="card">"Page not found."</p> }.into_any(),
            }}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn pages_are_found_with_or_without_a_stage_prefix() {
        for (path, page) in [
            ("/", Page::Request),
            ("", Page::Request),
            ("/prod/", Page::Request),
            ("/admin", Page::Admin),
            ("/admin/", Page::Admin),
            ("/prod/admin", Page::Admin),
            ("/nope", Page::NotFound),
            ("/prod/nope", Page::NotFound),
        ] {
            assert_eq!(Page::from_path(path), page, "{path}");
        }
    }
}
