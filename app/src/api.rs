//! Wire types shared by the pages, the server functions and the JSON endpoints.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, as the pages and scripts see it: the browser matches on these variants,
/// and the HTTP status follows from the code alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    MissingKey,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    /// The thing asked about changed meanwhile (a review someone already settled).
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    UnprocessableImage,
    RateLimited,
    Internal,
    Unavailable,
    Timeout,
    /// The browser could not reach the server (never sent by the server).
    Network,
}

impl ErrorCode {
    /// The HTTP status this code is sent with (0 for `Network`, which is never sent).
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::MissingKey => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::UnprocessableImage => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
            Self::Timeout => 504,
            Self::Network => 0,
        }
    }

    /// The code for a status some other layer chose (axum's rejections, a gateway).
    pub fn for_status(status: u16) -> Self {
        match status {
            401 => Self::MissingKey,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::TooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::UnprocessableImage,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            504 => Self::Timeout,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }

    /// The name on the wire (`"too_large"`), also used as a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::MissingKey => "missing_key",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::UnprocessableImage => "unprocessable_image",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Network => "network",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as it travels: JSON endpoints send it as `{"error": {"code", "message", ...}}`,
/// server functions send it whole. Made on the server only by `ssr::error`, from a domain error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub code: ErrorCode,
    /// Plain words for a person; never a dependency's own text.
    pub message: String,
    /// The input field at fault, for 400s about one field (`"email"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before trying again (429, and 503 when the wait is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The request's id in the server's logs (5xx), to quote when asking for help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            request_id: None,
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(_) => Self::new(
                ErrorCode::Network,
                "Could not reach the server. Check your connection and try again.",
            ),
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => {
                Self::new(ErrorCode::BadRequest, m)
            }
            other => Self::new(ErrorCode::Internal, other.to_string()),
        }
    }

    /// Reads an error answer whoever sent it: a server function's `ApiError`, the JSON
    /// endpoints' and the gateway responses' `{"error": {...}}`, or API Gateway's own
    /// `{"message": "..."}` when no gateway response was configured. Never a parser's message.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        #[derive(Deserialize)]
        struct Wrapped {
            error: ApiError,
        }
        #[derive(Deserialize)]
        struct GatewayDefault {
            message: String,
        }
        serde_json::from_slice::<ApiError>(&data)
            .or_else(|_| serde_json::from_slice::<Wrapped>(&data).map(|w| w.error))
            .unwrap_or_else(|_| match serde_json::from_slice::<GatewayDefault>(&data) {
                Ok(gateway) => Self::from_gateway_default(&gateway.message),
                Err(_) => Self::new(
                    ErrorCode::Internal,
                    "The server's answer could not be read. Try again in a moment.",
                ),
            })
    }
}

impl ApiError {
    /// API Gateway's default answers (`{"message": "Forbidden"}` and the like), in our words.
    fn from_gateway_default(message: &str) -> Self {
        let (code, words) = match message.to_ascii_lowercase().as_str() {
            "forbidden" => (
                ErrorCode::Forbidden,
                "That API key is not valid, or none was sent: enter the key you were given.",
            ),
            "too many requests" | "limit exceeded" => (
                ErrorCode::RateLimited,
                "Too many requests with this key: wait a moment and try again.",
            ),
            "request too long" | "request entity too large" => (
                ErrorCode::TooLarge,
                "The request is too large: send a smaller screenshot.",
            ),
            "endpoint request timed out" => (
                ErrorCode::Timeout,
                "The server did not answer in time; try again in a moment.",
            ),
            "missing authentication token" | "not found" => {
                (ErrorCode::NotFound, "There is nothing at this address.")
            }
            _ => (
                ErrorCode::Unavailable,
                "The server could not take the request right now; try again in a moment.",
            ),
        };
        Self::new(code, words)
    }
}

/// What a request for Pro came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Granted,
    AlreadyPro,
    Denied,
    /// Neither a clear grant nor a clear denial: a person decides; nothing is granted meanwhile.
    Review,
}

/// Why a request was denied or sent to review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    // Denials.
    CreditsAvailable,
    EmailMismatch,
    EmailNotFound,
    Unreadable,
    /// No longer decided (several emails now go to review); kept so older records still read.
    Contradictory,
    ScreenshotReused,
    SuspiciousText,
    NotAKiroPage,
    // Reviews.
    /// The email differs from the requester's only by characters OCR drops or confuses.
    EmailUncertain,
    /// Several emails, one of them the requester's.
    SeveralEmails,
    /// A full counter whose label does not say it counts credits used.
    UnlabelledCounter,
    /// A "limit reached" message without a readable counter.
    BannerWithoutCounter,
    /// A counter the reader is not sure of shows credits left, or the only full one is uncertain.
    CounterUncertain,
    /// A depleted Kiro page on which no email could be read.
    EmailUnreadable,
    /// Signs that the page is not an unedited usage page (a document's file name, a full
    /// counter on a page not recognisably Kiro's).
    UnusualPage,
    /// An earlier request for the same email is still waiting for an administrator.
    AlreadyWaiting,
    /// The request qualifies, but every seat the organisation pays for (`KIRO_MAX_SEATS`) is
    /// taken.
    NoSeatLeft,
    /// Alike to a screenshot another account was granted with (`likeness`): an edited copy?
    SimilarScreenshot,
}

/// What a counter counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterKind {
    /// Credits used of the limit: full means used up.
    Used,
    /// Credits remaining of the limit: anything above zero is credits left.
    Remaining,
    /// Not said, or the numbers sit inside a sentence: never grants on its own.
    #[default]
    Unknown,
}

/// One usage counter read off the screenshot ("Credits 50 / 50").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCounter {
    pub label: String,
    /// For a `Remaining` counter, the amount remaining.
    pub used: f64,
    pub limit: f64,
    #[serde(default)]
    pub counts: CounterKind,
}

/// What the analyzer saw on a screenshot. Facts only: the verdict is ours to make.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Whether the page is recognisably a Kiro usage page (the model says so; OCR finds Kiro's
    /// own words).
    #[serde(default)]
    pub kiro_page: bool,
    /// The signed-in account's email, when the analyzer can tell it apart from emails that
    /// merely appear in the content (the model can; OCR cannot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_email: Option<String>,
    /// Every distinct email address visible, lower-cased.
    pub emails_seen: Vec<String>,
    /// Emails the reader is not sure of (a character read with low confidence): never a grant
    /// and never an "another account" denial; they send the page to review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncertain_emails: Vec<String>,
    pub plan: Option<String>,
    pub counters: Vec<UsageCounter>,
    /// Counters the reader is not sure of (one OCR pass of several read them): never a grant
    /// and never a denial on their own; one showing credits left sends the page to review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncertain_counters: Vec<UsageCounter>,
    pub limit_reached_banner: bool,
    /// Text that reads like instructions to a machine ("ignore previous…").
    pub instructions_seen: Vec<String>,
    /// Signs the screenshot is not an unedited usage page ("a file name: notes.txt").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oddities: Vec<String>,
    /// Raw text read, for the audit trail.
    #[serde(default)]
    pub raw_text: String,
    /// Set when the analyzer could not produce usable evidence, and why (never a grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// Tokens and latency, for analyzers that are models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_usage: Option<ModelUsage>,
}

/// What one model call cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelUsage {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub latency_ms: u64,
}

/// The answer to a request for Pro.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutcome {
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    /// The decision in plain words, for a person.
    pub message: String,
    pub email: String,
    pub counters: Vec<UsageCounter>,
    /// Where the screenshot and decision are kept (none for "already Pro").
    pub record_key: Option<String>,
}

/// The answer to "create user" (also used for grants).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    /// False when the user already existed.
    pub created: bool,
    /// False when the user already was in the group.
    pub added_to_group: bool,
    pub group: String,
    /// When the seat ends (RFC 3339); `None`: it does not (`KIRO_SEAT_POLICY=forever`).
    #[serde(default)]
    pub seat_ends: Option<String>,
}

/// Time spent in each step of a check, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    pub normalise_ms: u64,
    pub analyze_ms: u64,
    pub total_ms: u64,
}

/// One audit record: kept beside the screenshot, listed on the admin page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// RFC 3339, UTC.
    pub at: String,
    pub email: String,
    /// The names the requester gave, used if an approval creates the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub message: String,
    pub evidence: Option<Evidence>,
    pub analyzer: String,
    pub image_sha256: String,
    pub screenshot_key: String,
    pub timings: Timings,
    /// For grants (and approvals): whether the directory change went through.
    pub applied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For reviews: what an administrator ruled, once they have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// Mail about this decision that could not be sent (`notify`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_error: Option<String>,
    /// For `similar_screenshot`: the screenshot key of the other account's granted image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar_to: Option<String>,
    /// How many times the record was changed by a conditional update (`RecordIndex::
    /// update_decision`): two rulings read at the same revision, and only one is written.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DecisionRecord {
    /// Where the record itself is kept: beside its screenshot, same name, `.json`.
    pub fn record_key(&self) -> String {
        let stem = self
            .screenshot_key
            .strip_suffix(".png")
            .unwrap_or(&self.screenshot_key);
        format!("{stem}.json")
    }

    /// A review nobody has settled yet.
    pub fn is_waiting(&self) -> bool {
        self.verdict == Verdict::Review && self.settlement.is_none()
    }
}

/// An administrator's ruling on a request that went to review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub approved: bool,
    /// The deciding admin key's id (`admin-1a2b3c4d`), never the key.
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A line of the admin page's tables (recent decisions, pending review).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionSummary {
    pub at: String,
    pub email: String,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub message: String,
    pub counters: Vec<UsageCounter>,
    #[serde(default)]
    pub emails_seen: Vec<String>,
    /// The record's key: what approve / deny name.
    pub record_key: String,
    /// The screenshot's key: what the screenshot call names.
    pub screenshot_key: String,
    pub settlement: Option<Settlement>,
    /// The screenshot key of the other account's image this one looks like, if any.
    #[serde(default)]
    pub similar_to: Option<String>,
}

impl From<&DecisionRecord> for DecisionSummary {
    fn from(r: &DecisionRecord) -> Self {
        let evidence = r.evidence.as_ref();
        Self {
            at: r.at.clone(),
            email: r.email.clone(),
            verdict: r.verdict,
            reason: r.reason,
            message: r.message.clone(),
            counters: evidence.map(|e| e.counters.clone()).unwrap_or_default(),
            emails_seen: evidence.map(|e| e.emails_seen.clone()).unwrap_or_default(),
            record_key: r.record_key(),
            screenshot_key: r.screenshot_key.clone(),
            settlement: r.settlement.clone(),
            similar_to: r.similar_to.clone(),
        }
    }
}

/// Which decisions an administrator lists: all, or one exact email's, one verdict's or one
/// reason's (any together), newest first, a page at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionFilter {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub reason: Option<Reason>,
    /// The `next` of the page before; none for the newest page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One page of decisions, newest first, and where the next (older) one starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionsPage {
    pub decisions: Vec<DecisionSummary>,
    pub next: Option<String>,
}

/// What the admin page shows, in one call (one request against the key's rate limit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminOverview {
    /// Requests waiting for review, oldest first.
    pub waiting: Vec<DecisionSummary>,
    /// The newest decisions that pass the page's filter, newest first, 50 at most.
    pub recent: Vec<DecisionSummary>,
    /// Where the next (older) page of those decisions starts: `DecisionFilter::after`.
    #[serde(default)]
    pub recent_next: Option<String>,
    /// The newest administrator actions, newest first.
    pub actions: Vec<AdminAction>,
    /// The page of the group's members asked for, with the seats.
    pub members: MembersPage,
}

/// What an administrator did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminActionKind {
    CreateUser,
    Approve,
    Deny,
    Revoke,
    /// One more term for a seat (`seats`).
    Extend,
    MakePermanent,
    /// A seat taken back at its end, by the sweep (`by` is `system`).
    Expire,
}

impl AdminActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateUser => "create_user",
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Revoke => "revoke",
            Self::Extend => "extend",
            Self::MakePermanent => "make_permanent",
            Self::Expire => "expire",
        }
    }
}

/// An administrator's action, as kept in the audit store (`actions/…json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminAction {
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    pub action: AdminActionKind,
    /// The email acted on.
    pub target: String,
    /// The admin key's id (`admin-1a2b3c4d`), never the key.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What came of it, in words.
    pub outcome: String,
}

/// Seats in the group: used, and the most the organisation pays for (`None`: no cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seats {
    pub used: usize,
    pub allowed: Option<u32>,
}

/// A member of the group, as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberSummary {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    /// How they got the seat, from the records ("approved by admin-… at …"); `None` when no
    /// record within the recent ones says.
    pub joined: Option<String>,
    /// When the seat ends (RFC 3339); `None` with `permanent`, or when no seat is on record
    /// (a member added before seats ended, or outside Kiro Access).
    #[serde(default)]
    pub ends: Option<String>,
    #[serde(default)]
    pub permanent: bool,
}

/// A seat an administrator extended or made permanent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatChanged {
    pub email: String,
    /// `None`: the seat no longer ends.
    pub ends: Option<String>,
    pub message: String,
}

/// What one sweep of the seats did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// "Renew" mails sent.
    pub reminded: usize,
    /// Seats taken back at their end.
    pub reclaimed: usize,
    /// Steps that failed (tried again next run).
    pub failed: usize,
    /// Stopped at its time budget with seats left for the next run.
    pub more: bool,
}

/// One page of the group's members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersPage {
    pub members: Vec<MemberSummary>,
    pub seats: Seats,
    /// Zero-based.
    pub page: usize,
    pub pages: usize,
}

/// The answer to a revoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    pub email: String,
    pub group: String,
    pub message: String,
}

/// The answer to "send me a code": where it went and how long it stays good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    pub email: String,
    pub expires_in_secs: u64,
    /// In plain words, for a person.
    pub message: String,
}

/// "Credits: 12 / 50" style text for counters.
pub fn describe_counters(counters: &[UsageCounter]) -> String {
    counters
        .iter()
        .map(|c| {
            format!(
                "{}: {} / {}",
                c.label,
                crate::domain::number(c.used),
                crate::domain::number(c.limit)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::FromServerFnError;

    fn read(body: &str) -> ApiError {
        ApiError::de(leptos::server_fn::Bytes::from(body.to_owned()))
    }

    #[test]
    fn error_answers_read_the_same_whoever_sent_them() {
        let ours = ApiError::new(ErrorCode::RateLimited, "wait");
        let as_server_fn = serde_json::to_string(&ours).unwrap();
        assert_eq!(read(&as_server_fn), ours);
        let wrapped = format!("{{\"error\":{as_server_fn}}}");
        assert_eq!(read(&wrapped), ours);

        let gateway = read(r#"{"message":"Forbidden"}"#);
        assert_eq!(gateway.code, ErrorCode::Forbidden);
        assert!(gateway.message.contains("API key"), "{}", gateway.message);
        assert_eq!(
            read(r#"{"message":"Endpoint request timed out"}"#).code,
            ErrorCode::Timeout
        );
        assert_eq!(
            read(r#"{"message": "Too Many Requests"}"#).code,
            ErrorCode::RateLimited
        );

        let garbage = read("<html>Bad Gateway</html>");
        assert_eq!(garbage.code, ErrorCode::Internal);
        assert!(!garbage.message.contains("line 1"), "{}", garbage.message);
    }

    #[test]
    fn code_names_are_the_wire_names() {
        use ErrorCode as C;
        for code in [
            C::BadRequest,
            C::MissingKey,
            C::Forbidden,
            C::NotFound,
            C::MethodNotAllowed,
            C::Conflict,
            C::TooLarge,
            C::UnsupportedMediaType,
            C::UnprocessableImage,
            C::RateLimited,
            C::Internal,
            C::Unavailable,
            C::Timeout,
            C::Network,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
            if code != C::Network {
                assert_eq!(C::for_status(code.status()), code, "{code}");
            }
        }
    }
}
