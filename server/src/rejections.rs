//! Every error response in the JSON shape: what axum, tower-http or a fallback answer on their
//! own (405, a bare 413 from the body limit, 404 for a client that asked for JSON) is rewritten
//! here into `{"error": {"code", "message"}}` with the same status. Browsers asking for a page
//! keep the HTML 404; server functions' own error bodies are left as Leptos encodes them.

use crate::state::{body_limit, body_too_large};
use app::api::{ApiError, ErrorCode};
use app::ssr::error::{request_id, to_api_error};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

pub async fn json_errors(request: Request, next: Next) -> Response {
    let wants_page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let method = request.method().clone();
    let limit = body_limit(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let already_ours = is_json(&response)
        || response.headers().contains_key(server_fn_error_header())
        || (wants_page && status == StatusCode::NOT_FOUND);
    if !(status.is_client_error() || status.is_server_error()) || already_ours {
        return response;
    }
    let api = match status {
        StatusCode::PAYLOAD_TOO_LARGE => to_api_error(body_too_large(limit)),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("This address does not accept {method} requests."),
        ),
        StatusCode::NOT_FOUND => {
            ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
        }
        s if s.is_server_error() => {
            tracing::error!(
                status = s.as_u16(),
                "a layer answered with a bare server error"
            );
            let mut api = ApiError::new(ErrorCode::Internal, "Something went wrong on our side.");
            api.request_id = request_id();
            api
        }
        _ => ApiError::new(
            ErrorCode::for_status(status.as_u16()),
            "The request could not be processed.",
        ),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut rewritten = api.into_response();
    *rewritten.status_mut() = status;
    if let Some(allow) = allow {
        rewritten.headers_mut().insert(header::ALLOW, allow);
    }
    rewritten
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

fn server_fn_error_header() -> &'static str {
    leptos::server_fn::error::SERVER_FN_ERROR_HEADER
}
