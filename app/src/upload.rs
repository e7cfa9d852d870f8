//! The request page's upload: the same server-function call as `client::KeyedClient` (the key
//! as `x-api-key`), sent with XMLHttpRequest, because `fetch` reports no upload progress. The
//! page listens with `on_upload` and shows the bytes sent, then the reading step.

use leptos::server_fn::client::{browser::BrowserClient, Client};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::ClientRes;
use leptos::server_fn::Bytes;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

/// How far the upload is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Upload {
    /// Bytes handed to the network so far, of the whole request.
    Sending { sent: f64, total: f64 },
    /// Every byte is sent: the server is reading the screenshot.
    Sent { total: f64 },
}

type Listener = Rc<dyn Fn(Upload)>;

thread_local! {
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
}

/// Calls `listener` with the progress of every upload this page sends through `UploadClient`.
pub fn on_upload(listener: impl Fn(Upload) + 'static) {
    LISTENER.with(|l| *l.borrow_mut() = Some(Rc::new(listener)));
}

fn report(upload: Upload) {
    if let Some(listener) = LISTENER.with(|l| l.borrow().clone()) {
        listener(upload);
    }
}

/// A server-function client that uploads with XMLHttpRequest and reports its progress.
pub struct UploadClient;

impl<E, IS, OS> Client<E, IS, OS> for UploadClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = UploadResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        SendWrapper::new(async move {
            send(req)
                .await
                .map_err(|e| E::from_server_fn_error(ServerFnErrorErr::Request(e)))
        })
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
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

fn js(e: wasm_bindgen::JsValue) -> String {
    format!("{e:?}")
}

async fn send(req: BrowserRequest) -> Result<UploadResponse, String> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let request: web_sys::Request = req.into();
    let body = JsFuture::from(request.text().map_err(js)?)
        .await
        .map_err(js)?
        .as_string()
        .unwrap_or_default();
    let xhr = web_sys::XmlHttpRequest::new().map_err(js)?;
    xhr.open_with_async(&request.method(), &request.url(), true)
        .map_err(js)?;
    let headers = web_sys::js_sys::try_iter(&request.headers())
        .map_err(js)?
        .ok_or("the request's headers cannot be read")?;
    for pair in headers {
        let pair: web_sys::js_sys::Array = pair.map_err(js)?.unchecked_into();
        if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            xhr.set_request_header(&name, &value).map_err(js)?;
        }
    }
    if let Some(key) = crate::client::api_key() {
        xhr.set_request_header("x-api-key", &key).map_err(js)?;
    }

    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(|ev: web_sys::ProgressEvent| {
            if ev.length_computable() {
                report(Upload::Sending {
                    sent: ev.loaded(),
                    total: ev.total(),
                });
            }
        });
    let total = body.len() as f64;
    let on_sent = Closure::<dyn Fn()>::new(move || report(Upload::Sent { total }));
    let (done, finished) = futures::channel::oneshot::channel::<()>();
    let done = RefCell::new(Some(done));
    let on_end = Closure::<dyn Fn()>::new(move || {
        if let Some(done) = done.borrow_mut().take() {
            let _ = done.send(());
        }
    });
    let upload = xhr.upload().map_err(js)?;
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    upload.set_onload(Some(on_sent.as_ref().unchecked_ref()));
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    xhr.send_with_opt_str(Some(&body)).map_err(js)?;
    let _ = finished.await;
    upload.set_onprogress(None);
    upload.set_onload(None);
    xhr.set_onloadend(None);

    let status = xhr.status().map_err(js)?;
    if status == 0 {
        return Err("the request did not reach the server".into());
    }
    Ok(UploadResponse {
        status,
        status_text: xhr.status_text().unwrap_or_default(),
        location: xhr
            .get_response_header("location")
            .ok()
            .flatten()
            .unwrap_or_else(|| xhr.response_url()),
        redirect: xhr
            .get_response_header(leptos::server_fn::redirect::REDIRECT_HEADER)
            .ok()
            .flatten()
            .is_some(),
        body: xhr.response_text().ok().flatten().unwrap_or_default(),
    })
}

/// What XMLHttpRequest answered, read whole.
pub struct UploadResponse {
    status: u16,
    status_text: String,
    location: String,
    redirect: bool,
    body: String,
}

impl<E> ClientRes<E> for UploadResponse {
    async fn try_into_string(self) -> Result<String, E> {
        Ok(self.body)
    }

    async fn try_into_bytes(self) -> Result<Bytes, E> {
        Ok(Bytes::from(self.body))
    }

    fn try_into_stream(
        self,
    ) -> Result<impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + Sync + 'static, E> {
        Ok(futures::stream::iter([Ok(Bytes::from(self.body))]))
    }

    fn status(&self) -> u16 {
        self.status
    }

    fn status_text(&self) -> String {
        self.status_text.clone()
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn has_redirect(&self) -> bool {
        self.redirect
    }
}
