//! The workflows' errors in domain terms, and the one place they become HTTP: `to_api_error`.
//! JSON endpoints (through `IntoResponse`) and server functions (through `server_fns`) both call
//! it. A 5xx is logged here with its whole cause chain and the request id; the client gets plain
//! words and that id, never a dependency's own text.

use super::ports::PortError;
use crate::api::{ApiError, ErrorCode};
use std::fmt;

/// The input field a 400 is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Email,
    FirstName,
    LastName,
    DisplayName,
    Image,
    /// A record's or screenshot's key, as the admin calls name them.
    Key,
    /// An administrator's note on a settlement or a revoke.
    Note,
    /// A page number of a list.
    Page,
    /// The one-time code mailed to the requester.
    Code,
    /// A verdict or a reason a list is filtered by.
    Verdict,
    Reason,
    /// The body as a whole (malformed JSON or multipart).
    Body,
}

impl Field {
    /// The field's name as the JSON endpoints spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::FirstName => "firstName",
            Self::LastName => "lastName",
            Self::DisplayName => "name",
            Self::Image => "image",
            Self::Key => "key",
            Self::Note => "note",
            Self::Page => "page",
            Self::Code => "code",
            Self::Verdict => "verdict",
            Self::Reason => "reason",
            Self::Body => "body",
        }
    }
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no API key")]
    MissingKey,
    #[error("an API key that is not valid")]
    WrongKey,
    #[error("a member key where an administrator key is needed")]
    AdminOnly,
    #[error("invalid {}: {message}", field.as_str())]
    Invalid { field: Field, message: String },
    #[error("too large (limit {limit_bytes} bytes): {message}")]
    TooLarge { limit_bytes: usize, message: String },
    #[error("unsupported image type: {0}")]
    UnsupportedMedia(String),
    #[error("an image that does not decode: {0}")]
    UnprocessableImage(String),
    /// An email outside `KIRO_ALLOWED_DOMAINS`; the message lists the domains.
    #[error("domain not allowed: {0}")]
    DomainNotAllowed(String),
    /// A one-time code that does not prove the address (wrong, expired, used up, none sent).
    #[error("code refused: {0}")]
    CodeRefused(String),
    /// Nothing at this key (a record or screenshot an administrator asked for).
    #[error("not found: {0}")]
    NotFound(String),
    /// The thing changed meanwhile (a review already settled by someone else).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A code was mailed to this address in the last minute.
    #[error("a code was sent this minute; retry after {retry_after_secs} s")]
    CodeTooSoon { retry_after_secs: u64 },
    /// This address was mailed `verify::CODES_PER_DAY` codes today.
    #[error("the address had its codes for today; retry after {retry_after_secs} s")]
    CodesPerDay { retry_after_secs: u64 },
    /// This address sent `allowed` screenshots today (`KIRO_REQUESTS_PER_ADDRESS`).
    #[error(
        "the address sent its {allowed} screenshots for today; retry after {retry_after_secs} s"
    )]
    RequestsPerDay { allowed: u32, retry_after_secs: u64 },
    /// Every analysis slot stayed taken for the whole wait (`capacity`).
    #[error("no analysis slot came free; retry after {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    /// A port failed before anything was changed.
    #[error("a dependency failed")]
    Dependency(#[source] PortError),
    /// The screenshot qualified and is on record, but the directory change did not go through.
    #[error("the grant was decided but not applied")]
    GrantNotApplied(#[source] PortError),
    /// Our own bug (a task that panicked, an image we could not encode).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<PortError> for AppError {
    fn from(e: PortError) -> Self {
        Self::Dependency(e)
    }
}

impl AppError {
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingKey => ErrorCode::MissingKey,
            Self::WrongKey | Self::AdminOnly | Self::DomainNotAllowed(_) | Self::CodeRefused(_) => {
                ErrorCode::Forbidden
            }
            Self::Invalid { .. } => ErrorCode::BadRequest,
            Self::TooLarge { .. } => ErrorCode::TooLarge,
            Self::UnsupportedMedia(_) => ErrorCode::UnsupportedMediaType,
            Self::UnprocessableImage(_) => ErrorCode::UnprocessableImage,
            Self::RateLimited { .. }
            | Self::CodeTooSoon { .. }
            | Self::CodesPerDay { .. }
            | Self::RequestsPerDay { .. } => ErrorCode::RateLimited,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Dependency(PortError::Timeout { .. })
            | Self::GrantNotApplied(PortError::Timeout { .. }) => ErrorCode::Timeout,
            Self::Dependency(_) | Self::GrantNotApplied(_) | Self::Busy { .. } => {
                ErrorCode::Unavailable
            }
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// What the person in front of the page is told.
    fn public_message(&self) -> String {
        match self {
            Self::MissingKey => "An API key is required: enter the key you were given.".into(),
            Self::WrongKey => "That API key is not valid.".into(),
            Self::AdminOnly => {
                "This needs an administrator key; a member key cannot do this.".into()
            }
            Self::Invalid { message, .. }
            | Self::TooLarge { message, .. }
            | Self::UnsupportedMedia(message)
            | Self::UnprocessableImage(message)
            | Self::NotFound(message)
            | Self::DomainNotAllowed(message)
            | Self::CodeRefused(message)
            | Self::Conflict(message) => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many requests with this key: try again in {retry_after_secs} s.")
            }
            Self::CodeTooSoon { retry_after_secs } => format!(
                "A code was mailed to this address less than a minute ago: use that one, or ask \
                 again in {retry_after_secs} s."
            ),
            Self::CodesPerDay { retry_after_secs } => format!(
                "This address has been mailed {} codes today: use the newest one, or ask again \
                 tomorrow (in {} h).",
                super::verify::CODES_PER_DAY,
                retry_after_secs.div_ceil(3600)
            ),
            Self::RequestsPerDay {
                allowed,
                retry_after_secs,
            } => format!(
                "This address has sent {allowed} screenshots today, as many as one person may: \
                 nothing was read. Ask an administrator, or try again tomorrow (in {} h).",
                retry_after_secs.div_ceil(3600)
            ),
            Self::Busy { retry_after_secs } => format!(
                "Many screenshots are being read right now, so yours was not. Nothing was \
                 changed; try again in {retry_after_secs} s."
            ),
            Self::Dependency(e) => format!(
                "{} Nothing was changed; try again shortly.",
                dependency_sentence(e)
            ),
            Self::GrantNotApplied(e) => format!(
                "Your screenshot qualifies and the decision is on record, but the grant could \
                 not be completed: {} Try again shortly.",
                dependency_sentence(e)
            ),
            Self::Internal(_) => "Something went wrong on our side.".into(),
        }
    }
}

/// "The directory did not answer in time." — our own words for a port failure, naming only the
/// port, never the dependency's message.
fn dependency_sentence(e: &PortError) -> String {
    match e {
        PortError::Timeout { service } => format!("{} did not answer in time.", capital(service)),
        PortError::Conflict => "A record changed while we worked.".into(),
        PortError::Unavailable { service, .. } => {
            format!("{} is unavailable right now.", capital(service))
        }
        PortError::Upstream { service, .. } => {
            format!("{} answered with an error.", capital(service))
        }
    }
}

fn capital(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The error with every cause below it: `a: b: c`.
pub struct CauseChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `f` with `id` as the current request's id (the router does this for every request).
pub async fn with_request_id<F: std::future::Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

/// The id of the request being served, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The one mapping from a domain error to what the client is sent. Logs every 5xx with its
/// cause chain and the request id.
pub fn to_api_error(err: AppError) -> ApiError {
    let code = err.code();
    let mut api = ApiError::new(code, err.public_message());
    match &err {
        AppError::Invalid { field, .. } => api.field = Some(field.as_str().into()),
        AppError::DomainNotAllowed(_) => api.field = Some(Field::Email.as_str().into()),
        AppError::CodeRefused(_) => api.field = Some(Field::Code.as_str().into()),
        AppError::RateLimited { retry_after_secs }
        | AppError::CodeTooSoon { retry_after_secs }
        | AppError::CodesPerDay { retry_after_secs }
        | AppError::RequestsPerDay {
            retry_after_secs, ..
        }
        | AppError::Busy { retry_after_secs } => api.retry_after_secs = Some(*retry_after_secs),
        _ => {}
    }
    if code.status() >= 500 {
        let request_id = request_id().unwrap_or_default();
        tracing::error!(
            request_id = %request_id,
            code = %code,
            cause = %CauseChain(&err),
            "request failed"
        );
        if !request_id.is_empty() {
            api.message = format!("{} (request id {request_id})", api.message);
            api.request_id = Some(request_id);
        }
    }
    api
}

impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        to_api_error(self).into_response()
    }
}

/// `{"error": {"code", "message", ...}}` with the status the code stands for.
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after_secs;
        let mut response =
            (status, axum::Json(serde_json::json!({ "error": self }))).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("ConnectError(\"tcp connect error\", 127.0.0.1:9)")]
    struct SdkDump;

    #[tokio::test]
    async fn a_dependency_failure_tells_the_client_plain_words_and_the_request_id() {
        let failure = AppError::Dependency(PortError::unavailable("the directory", SdkDump));
        let api = with_request_id("req-42".into(), async { to_api_error(failure) }).await;
        assert_eq!(api.code, ErrorCode::Unavailable);
        assert_eq!(api.request_id.as_deref(), Some("req-42"));
        assert!(
            api.message.contains("The directory is unavailable"),
            "{}",
            api.message
        );
        assert!(api.message.contains("req-42"), "{}", api.message);
        assert!(!api.message.contains("tcp connect"), "{}", api.message);
    }

    #[test]
    fn the_cause_chain_keeps_every_source() {
        let failure = AppError::Dependency(PortError::unavailable("the directory", SdkDump));
        let chain = CauseChain(&failure).to_string();
        assert!(chain.contains("the directory is unavailable"), "{chain}");
        assert!(chain.ends_with("127.0.0.1:9)"), "{chain}");
    }

    #[test]
    fn client_errors_name_their_field_and_wait() {
        let api = to_api_error(AppError::invalid(Field::Email, "Enter an email address."));
        assert_eq!(
            (api.code, api.field.as_deref()),
            (ErrorCode::BadRequest, Some("email"))
        );
        assert_eq!(api.request_id, None);
        let api = to_api_error(AppError::RateLimited {
            retry_after_secs: 3,
        });
        assert_eq!((api.status(), api.retry_after_secs), (429, Some(3)));
        let api = to_api_error(AppError::Dependency(PortError::timeout(
            "the screenshot reader",
        )));
        assert_eq!(api.status(), 504);
    }
}
