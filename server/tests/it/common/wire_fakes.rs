//! Small HTTP stand-ins at the wire for what moto does not do: Bedrock's Converse API, and the
//! Identity Store's real ConflictException on a duplicate membership. Each records what it was
//! sent and answers from a script.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: serde_json::Value,
    pub delay: Duration,
}

impl Answer {
    pub fn ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![],
            body,
            delay: Duration::ZERO,
        }
    }

    /// An AWS JSON-protocol error, as the services send it.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![("x-amzn-ErrorType", error_type.to_owned())],
            body: serde_json::json!({ "__type": error_type, "message": message, "Message": message }),
            delay: Duration::ZERO,
        }
    }

    pub fn after(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }
}

/// What a fake was sent.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub target: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

pub struct Fake {
    pub url: String,
    script: Script,
}

impl Fake {
    /// Starts a fake answering every request with the next scripted answer (the last one repeats).
    pub async fn start(answers: Vec<Answer>) -> Self {
        let script = Script {
            answers: Arc::new(Mutex::new(answers.into())),
            received: Arc::default(),
        };
        let router = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, script }
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }
}

async fn answer(
    State(script): State<Script>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    script.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        target: headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let next = {
        let mut answers = script.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.pop_front()
        } else {
            answers.front().cloned()
        }
    };
    let Some(next) = next else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    tokio::time::sleep(next.delay).await;
    let mut response = (
        StatusCode::from_u16(next.status).unwrap(),
        [("content-type", "application/json")],
        next.body.to_string(),
    )
        .into_response();
    for (name, value) in next.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A Converse answer whose content is one tool call with `input`.
pub fn converse_tool_use(input: serde_json::Value) -> Answer {
    converse_with(
        serde_json::json!([{ "toolUse": {
            "toolUseId": "tooluse_1",
            "name": server::adapters::aws::bedrock::TOOL_NAME,
            "input": input
        }}]),
        "tool_use",
    )
}

/// A Converse answer with arbitrary content blocks.
pub fn converse_with(content: serde_json::Value, stop_reason: &str) -> Answer {
    Answer::ok(serde_json::json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": stop_reason,
        "usage": { "inputTokens": 1234, "outputTokens": 56, "totalTokens": 1290 },
        "metrics": { "latencyMs": 789 }
    }))
}

/// Evidence as a well-behaved model would report it for a depleted page of `email`.
pub fn depleted_evidence(email: &str) -> serde_json::Value {
    serde_json::json!({
        "is_kiro_usage_page": true,
        "account_email": email,
        "emails_seen": [email],
        "plan": "Kiro Free",
        "counters": [{ "label": "Credits", "used": 50, "limit": 50, "counts": "used" }],
        "limit_reached_banner": false,
        "instructions_seen": []
    })
}
