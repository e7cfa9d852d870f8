//! Wire types shared by the pages, the server functions and the JSON endpoints.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An error with the HTTP status it maps to. JSON endpoints send it as
/// `{"error": {"code", "message"}}`; server functions send it whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Seconds to wait before trying again (429 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after_secs: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "missing_key",
            "An API key is required: enter the key you were given.",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "too_large", message)
    }
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        Self::new(415, "unsupported_media_type", message)
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "unprocessable_image", message)
    }
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                429,
                "rate_limited",
                format!("Too many requests with this key: try again in {retry_after_secs} s."),
            )
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "unavailable", message)
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "timeout", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
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
                0,
                "network",
                "Could not reach the server. Check your connection and try again.",
            ),
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::bad_request(m),
            other => Self::internal(other.to_string()),
        }
    }
}

/// What a request for Pro came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Granted,
    AlreadyPro,
    Denied,
}

/// Why a request was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    CreditsAvailable,
    EmailMismatch,
    EmailNotFound,
    Unreadable,
    Contradictory,
    ScreenshotReused,
    SuspiciousText,
}

/// One usage counter read off the screenshot ("Credits 50 / 50").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCounter {
    pub label: String,
    pub used: f64,
    pub limit: f64,
}

/// What the analyzer saw on a screenshot. Facts only: the verdict is ours to make.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Every distinct email address visible, lower-cased.
    pub emails_seen: Vec<String>,
    pub plan: Option<String>,
    pub counters: Vec<UsageCounter>,
    pub limit_reached_banner: bool,
    /// Text that reads like instructions to a machine ("ignore previous…").
    pub instructions_seen: Vec<String>,
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
    pub reason: Option<DenyReason>,
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
    pub verdict: Verdict,
    pub reason: Option<DenyReason>,
    pub message: String,
    pub evidence: Option<Evidence>,
    pub analyzer: String,
    pub image_sha256: String,
    pub screenshot_key: String,
    pub timings: Timings,
    /// For grants: whether the directory change went through.
    pub applied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A line of the admin page's "recent decisions" table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionSummary {
    pub at: String,
    pub email: String,
    pub verdict: Verdict,
    pub message: String,
    pub counters: Vec<UsageCounter>,
}

impl From<&DecisionRecord> for DecisionSummary {
    fn from(r: &DecisionRecord) -> Self {
        Self {
            at: r.at.clone(),
            email: r.email.clone(),
            verdict: r.verdict,
            message: r.message.clone(),
            counters: r
                .evidence
                .as_ref()
                .map(|e| e.counters.clone())
                .unwrap_or_default(),
        }
    }
}

/// "12 / 50 credits" style text for counters.
pub fn describe_counters(counters: &[UsageCounter]) -> String {
    counters
        .iter()
        .map(|c| format!("{}: {} / {}", c.label, number(c.used), number(c.limit)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}
