//! The pages' server-function client: the browser's `fetch`, with the API key the page holds
//! sent as the `x-api-key` header. API Gateway requires that header on every POST, and a key in
//! the body would be read by nothing (the server takes the key from the header only).

use leptos::server_fn::client::{browser::BrowserClient, Client};
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use std::cell::RefCell;
use std::future::Future;

thread_local! {
    /// The key the page's key field holds (one page, one key field, at a time).
    static API_KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Makes `key` the one the next server-function calls send.
pub fn set_api_key(key: &str) {
    API_KEY.with(|k| *k.borrow_mut() = key.trim().to_owned());
}

/// The key the page holds, if it holds one.
pub fn api_key() -> Option<String> {
    API_KEY.with(|k| Some(k.borrow().clone()).filter(|k| !k.is_empty()))
}

/// The browser's fetch client, plus the `x-api-key` header when the page has a key.
pub struct KeyedClient;

impl<E, IS, OS> Client<E, IS, OS> for KeyedClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        if let Some(key) = api_key() {
            req.headers().set("x-api-key", &key);
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<
                        Item = Result<leptos::server_fn::Bytes, leptos::server_fn::Bytes>,
                    > + Send
                    + 'static,
                impl futures::Sink<leptos::server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
