//! The JSON endpoints for scripts, all with `x-api-key`: `POST /verify-email` (mails a code),
//! `POST /check-credits` (JSON or multipart, with that code), `POST /create-user`, and the review queue (`GET /reviews`,
//! `POST /reviews/approve|deny`, `GET /screenshot?key=…`), the members (`GET /members?page=`,
//! `POST /members/revoke`, `POST /members/extend`), the decisions
//! (`GET /decisions?email=&verdict=&reason=&after=`), the seats' sweep (`POST /seats/sweep`) and
//! a test's clock (`POST /test/clock`). They call the same workflows as the pages.

use crate::state::{body_too_large, AppState, MAX_JSON_BODY_BYTES, MAX_MULTIPART_BODY_BYTES};
use app::api::{
    CheckOutcome, CodeSent, CreatedUser, DecisionFilter, DecisionSummary, DecisionsPage,
    MembersPage, Revoked, SeatChanged, SweepReport,
};
use app::ssr::members::RevokeRequest;
use app::ssr::review::SettleRequest;
use app::ssr::seats::ExtendRequest;
use app::ssr::verify::SendCodeRequest;
use app::ssr::workflow::{CheckRequest, CreateUserRequest, ImageUpload};
use app::ssr::{AppError, AppResult, Field};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::Json;
use http::header::CONTENT_TYPE;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckCreditsBody {
    email: Option<String>,
    image: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize)]
struct VerifyEmailBody {
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUserBody {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// Display name.
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettleBody {
    record_key: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
pub struct ScreenshotQuery {
    key: Option<String>,
}

/// `GET /decisions`' filters, as plain strings: a bad one is a 400 in the JSON error shape.
#[derive(Deserialize)]
pub struct DecisionsQuery {
    email: Option<String>,
    verdict: Option<String>,
    reason: Option<String>,
    after: Option<String>,
}

#[derive(Deserialize)]
pub struct MembersQuery {
    page: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtendBody {
    email: Option<String>,
    #[serde(default)]
    permanent: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    advance_seconds: i64,
}

#[derive(Deserialize)]
struct RevokeBody {
    email: Option<String>,
    note: Option<String>,
}

fn api_key(request: &Request) -> Option<String> {
    header_key(request.headers())
}

fn header_key(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn content_type(request: &Request) -> String {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The caller's key, checked for `role` before the body is read (a caller without one learns
/// nothing about the body), and the JSON body as `T`.
async fn keyed_json<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    request: Request,
    role: app::ssr::Role,
) -> AppResult<(Option<String>, T)> {
    let key = api_key(&request);
    state.services.keys.require(key.as_deref(), role)?;
    Ok((key, json_body(request).await?))
}

/// Reads a JSON body into `T`; 400 with serde's reason when it does not fit.
async fn json_body<T: for<'de> Deserialize<'de>>(request: Request) -> AppResult<T> {
    if !content_type(&request).starts_with("application/json") {
        return Err(AppError::UnsupportedMedia(
            "Send the request as application/json (or multipart/form-data for /check-credits)."
                .into(),
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BODY_BYTES)
        .await
        .map_err(|_| body_too_large(MAX_JSON_BODY_BYTES))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::invalid(
            Field::Body,
            format!("The body is not valid JSON for this endpoint: {e}"),
        )
    })
}

pub async fn check_credits(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<CheckOutcome>> {
    let key = api_key(&request);
    // Keys first: a caller without one learns nothing about the body.
    state
        .services
        .keys
        .require(key.as_deref(), app::ssr::Role::Member)?;
    let request = if content_type(&request).starts_with("multipart/form-data") {
        read_multipart(request, key).await?
    } else {
        let body: CheckCreditsBody = json_body(request).await?;
        CheckRequest {
            api_key: key,
            email: body.email.unwrap_or_default(),
            first_name: body.first_name,
            last_name: body.last_name,
            image: body.image.map_or(ImageUpload::Missing, ImageUpload::Base64),
            code: body.code,
        }
    };
    Ok(Json(state.services.check_credits(request).await?))
}

async fn read_multipart(request: Request, api_key: Option<String>) -> AppResult<CheckRequest> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(MAX_MULTIPART_BODY_BYTES)
        } else {
            AppError::invalid(
                Field::Body,
                format!("The multipart body could not be read: {}", e.body_text()),
            )
        }
    };
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| AppError::invalid(Field::Body, e.body_text()))?;
    let mut out = CheckRequest {
        api_key,
        email: String::new(),
        first_name: None,
        last_name: None,
        image: ImageUpload::Missing,
        code: None,
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "image" | "screenshot" => {
                out.image = ImageUpload::Bytes(field.bytes().await.map_err(bad)?.to_vec())
            }
            "email" => out.email = field.text().await.map_err(bad)?,
            "firstName" => out.first_name = Some(field.text().await.map_err(bad)?),
            "lastName" => out.last_name = Some(field.text().await.map_err(bad)?),
            "code" => out.code = Some(field.text().await.map_err(bad)?),
            _ => {}
        }
    }
    Ok(out)
}

/// Mails a one-time code to the address, the first of a request's two steps.
pub async fn verify_email(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<CodeSent>> {
    let (key, body): (_, VerifyEmailBody) =
        keyed_json(&state, request, app::ssr::Role::Member).await?;
    let sent = state
        .services
        .send_code(SendCodeRequest {
            api_key: key,
            email: body.email.unwrap_or_default(),
        })
        .await?;
    Ok(Json(sent))
}

pub async fn create_user(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<CreatedUser>> {
    let (key, body): (_, CreateUserBody) =
        keyed_json(&state, request, app::ssr::Role::Admin).await?;
    let created = state
        .services
        .create_user(CreateUserRequest {
            api_key: key,
            email: body.email.unwrap_or_default(),
            first_name: body.first_name,
            last_name: body.last_name,
            display_name: body.name,
        })
        .await?;
    Ok(Json(created))
}

pub async fn waiting_reviews(
    State(state): State<AppState>,
    headers: http::HeaderMap,
) -> AppResult<Json<Vec<DecisionSummary>>> {
    let key = header_key(&headers);
    Ok(Json(state.services.waiting_reviews(key.as_deref()).await?))
}

pub async fn approve_review(
    state: State<AppState>,
    request: Request,
) -> AppResult<Json<DecisionSummary>> {
    settle(state, request, true).await
}

pub async fn deny_review(
    state: State<AppState>,
    request: Request,
) -> AppResult<Json<DecisionSummary>> {
    settle(state, request, false).await
}

async fn settle(
    State(state): State<AppState>,
    request: Request,
    approve: bool,
) -> AppResult<Json<DecisionSummary>> {
    let (key, body): (_, SettleBody) = keyed_json(&state, request, app::ssr::Role::Admin).await?;
    let settled = state
        .services
        .settle_review(SettleRequest {
            api_key: key,
            record_key: body.record_key.unwrap_or_default(),
            approve,
            note: body.note,
        })
        .await?;
    Ok(Json(settled))
}

/// The PNG kept for a decision (admin key). Through API Gateway, send `Accept: image/png`.
pub async fn screenshot(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ScreenshotQuery>,
) -> AppResult<impl axum::response::IntoResponse> {
    let key = header_key(&headers);
    let png = state
        .services
        .screenshot(key.as_deref(), query.key.as_deref().unwrap_or_default())
        .await?;
    Ok((
        [
            (CONTENT_TYPE, "image/png"),
            (http::header::CACHE_CONTROL, "private, no-store"),
        ],
        png,
    ))
}

/// One page of the group's members, with seats used / allowed (admin key).
pub async fn members(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<MembersQuery>,
) -> AppResult<Json<MembersPage>> {
    let key = header_key(&headers);
    let page = match query.page.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(p) => p
            .parse()
            .map_err(|_| AppError::invalid(Field::Page, "page is a page number: 0, 1, 2, …"))?,
    };
    Ok(Json(state.services.members(key.as_deref(), page).await?))
}

/// A page of the decisions (admin key): `?email=&verdict=&reason=&after=`, newest first, 50 a page.
pub async fn decisions(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<DecisionsQuery>,
) -> AppResult<Json<DecisionsPage>> {
    let key = header_key(&headers);
    let filter = DecisionFilter {
        email: query.email,
        verdict: named(query.verdict, Field::Verdict)?,
        reason: named(query.reason, Field::Reason)?,
        after: query.after,
    };
    Ok(Json(
        state.services.decisions(key.as_deref(), filter).await?,
    ))
}

/// A verdict or reason by its JSON name (`denied`, `email_uncertain`); blank is none.
fn named<T: serde::de::DeserializeOwned>(
    raw: Option<String>,
    field: Field,
) -> AppResult<Option<T>> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    field,
                    format!(
                        "{} is not a {} this service records.",
                        app::domain::printable(name),
                        field.as_str()
                    ),
                )
            }),
    }
}

/// Takes a member's seat back (admin key); the user stays in the directory.
pub async fn revoke(State(state): State<AppState>, request: Request) -> AppResult<Json<Revoked>> {
    let (key, body): (_, RevokeBody) = keyed_json(&state, request, app::ssr::Role::Admin).await?;
    let revoked = state
        .services
        .revoke(RevokeRequest {
            api_key: key,
            email: body.email.unwrap_or_default(),
            note: body.note,
        })
        .await?;
    Ok(Json(revoked))
}

/// One more term for a member's seat, or `"permanent": true` (admin key).
pub async fn extend_seat(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<SeatChanged>> {
    let (key, body): (_, ExtendBody) = keyed_json(&state, request, app::ssr::Role::Admin).await?;
    let changed = state
        .services
        .extend_seat(ExtendRequest {
            api_key: key,
            email: body.email.unwrap_or_default(),
            permanent: body.permanent,
            note: body.note,
        })
        .await?;
    Ok(Json(changed))
}

/// Reminds and reclaims now, as the schedule does (admin key).
pub async fn sweep(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<SweepReport>> {
    Ok(Json(
        state
            .services
            .sweep_now(api_key(&request).as_deref())
            .await?,
    ))
}

/// Moves a movable clock (`KIRO_TEST_CLOCK=movable`; 404 otherwise) on (admin key).
pub async fn move_clock(
    State(state): State<AppState>,
    request: Request,
) -> AppResult<Json<serde_json::Value>> {
    let (key, body): (_, ClockBody) = keyed_json(&state, request, app::ssr::Role::Admin).await?;
    let now = state
        .services
        .move_clock(key.as_deref(), body.advance_seconds)?;
    Ok(Json(serde_json::json!({ "now": now })))
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
