//! Server functions: the pages' calls into the workflows. Thin: each reads the key from the
//! `x-api-key` header (sent by `client::KeyedClient`, never in the body), calls the shared
//! workflow, and maps an error to its HTTP status.

use crate::api::{
    AdminOverview, ApiError, CheckOutcome, CodeSent, CreatedUser, DecisionFilter, DecisionSummary,
    Revoked, SeatChanged,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Request Pro with a screenshot (base64, `data:` URL accepted). Member key.
#[server(endpoint = "request_pro", input = Json, client = crate::upload::UploadClient)]
pub async fn request_pro(
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    image: String,
    code: Option<String>,
) -> Result<CheckOutcome, ApiError> {
    use crate::ssr::workflow::{CheckRequest, ImageUpload};
    let services = ssr_glue::services()?;
    let request = CheckRequest {
        api_key: ssr_glue::key().await,
        email,
        first_name,
        last_name,
        image: ImageUpload::Base64(image),
        code,
    };
    ssr_glue::respond(services.check_credits(request).await)
}

/// Mail a one-time code to the address, to be sent back with the request. Member key.
#[server(endpoint = "send_code", input = Json, client = crate::client::KeyedClient)]
pub async fn send_code(email: String) -> Result<CodeSent, ApiError> {
    use crate::ssr::verify::SendCodeRequest;
    let services = ssr_glue::services()?;
    let request = SendCodeRequest {
        api_key: ssr_glue::key().await,
        email,
    };
    ssr_glue::respond(services.send_code(request).await)
}

/// Create (or find) a user and add them to the Kiro Pro group. Admin key.
#[server(endpoint = "create_user", input = Json, client = crate::client::KeyedClient)]
pub async fn create_user(
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
) -> Result<CreatedUser, ApiError> {
    use crate::ssr::workflow::CreateUserRequest;
    let services = ssr_glue::services()?;
    let request = CreateUserRequest {
        api_key: ssr_glue::key().await,
        email,
        first_name,
        last_name,
        display_name,
    };
    ssr_glue::respond(services.create_user(request).await)
}

/// The admin page's lists: requests waiting for review, a page of the decisions the filter
/// asks for (the newest 50 when none), administrator actions, and a page of the members (the
/// first when not given). Admin key.
#[server(endpoint = "load_admin_page", input = Json, client = crate::client::KeyedClient)]
pub async fn load_admin_page(
    members_page: Option<usize>,
    decisions: Option<DecisionFilter>,
) -> Result<AdminOverview, ApiError> {
    let services = ssr_glue::services()?;
    let key = ssr_glue::key().await;
    let page = members_page.unwrap_or_default();
    let filter = decisions.unwrap_or_default();
    ssr_glue::respond(services.admin_overview(key.as_deref(), page, filter).await)
}

/// Approve (grant) or deny a request waiting for review. Admin key.
#[server(endpoint = "settle_review", input = Json, client = crate::client::KeyedClient)]
pub async fn settle_review(
    record_key: String,
    approve: bool,
    note: Option<String>,
) -> Result<DecisionSummary, ApiError> {
    use crate::ssr::review::SettleRequest;
    let services = ssr_glue::services()?;
    let request = SettleRequest {
        api_key: ssr_glue::key().await,
        record_key,
        approve,
        note,
    };
    ssr_glue::respond(services.settle_review(request).await)
}

/// Take a member's seat back; the user stays in the directory. Admin key.
#[server(endpoint = "revoke_member", input = Json, client = crate::client::KeyedClient)]
pub async fn revoke_member(email: String, note: Option<String>) -> Result<Revoked, ApiError> {
    use crate::ssr::members::RevokeRequest;
    let services = ssr_glue::services()?;
    let request = RevokeRequest {
        api_key: ssr_glue::key().await,
        email,
        note,
    };
    ssr_glue::respond(services.revoke(request).await)
}

/// One more term for a member's seat, or (`permanent`) no end at all. Admin key.
#[server(endpoint = "extend_seat", input = Json, client = crate::client::KeyedClient)]
pub async fn extend_seat(
    email: String,
    permanent: bool,
    note: Option<String>,
) -> Result<SeatChanged, ApiError> {
    use crate::ssr::seats::ExtendRequest;
    let services = ssr_glue::services()?;
    let request = ExtendRequest {
        api_key: ssr_glue::key().await,
        email,
        permanent,
        note,
    };
    ssr_glue::respond(services.extend_seat(request).await)
}

/// A decision's screenshot as a `data:` URL, for the admin page. Admin key.
#[server(endpoint = "screenshot", input = Json, client = crate::client::KeyedClient)]
pub async fn screenshot(key: String) -> Result<String, ApiError> {
    use base64::Engine;
    let services = ssr_glue::services()?;
    let api_key = ssr_glue::key().await;
    let png = ssr_glue::respond(services.screenshot(api_key.as_deref(), &key).await)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

#[cfg(feature = "ssr")]
mod ssr_glue {
    use crate::api::ApiError;
    use crate::ssr::error::{to_api_error, AppError, AppResult};
    use crate::ssr::Services;
    use leptos::prelude::*;
    use std::sync::Arc;

    pub fn services() -> Result<Arc<Services>, ApiError> {
        use_context::<Arc<Services>>()
            .ok_or_else(|| to_api_error(AppError::Internal("services are not in context".into())))
    }

    /// The key from the `x-api-key` header, the only place a key is read from.
    pub async fn key() -> Option<String> {
        let headers: http::HeaderMap = leptos_axum::extract().await.ok()?;
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Maps a domain error the one way (`ssr::error`) and sets the response's status (and
    /// Retry-After) from it, so server functions answer with the JSON endpoints' codes.
    pub fn respond<T>(result: AppResult<T>) -> Result<T, ApiError> {
        result.map_err(|e| {
            let api = to_api_error(e);
            if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = http::StatusCode::from_u16(api.status()) {
                    options.set_status(status);
                }
                if let Some(secs) = api.retry_after_secs {
                    options.insert_header(http::header::RETRY_AFTER, secs.into());
                }
            }
            api
        })
    }
}
