//! What API Gateway itself answers, taken from `infra/template.yaml` (decoded by cfn-lint's
//! own CloudFormation reader): every gateway response is the app's error shape, with the app's
//! code for its status, and reads back through the pages' client as a helpful message.

use app::api::{ApiError, ErrorCode};
use leptos::server_fn::error::FromServerFnError;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

#[derive(serde::Deserialize)]
struct GatewayResponse {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    status: Option<String>,
    headers: HashMap<String, String>,
    body: String,
}

fn gateway_responses() -> Vec<GatewayResponse> {
    let infra = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra");
    let out = Command::new("python3")
        .arg(infra.join("gateway_responses.py"))
        .arg(infra.join("template.yaml"))
        .output()
        .expect("python3 with cfn-lint (scripts/requirements-test.txt)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The body as API Gateway sends it, with its `$context` variables filled in.
fn rendered(body: &str) -> String {
    body.replace("$context.requestId", "0b1f-req")
        .replace("$context.error.messageString", "\"Unsupported Media Type\"")
}

#[test]
fn every_gateway_response_speaks_the_apps_error_shape() {
    let responses = gateway_responses();
    let types: Vec<&str> = responses.iter().map(|r| r.kind.as_str()).collect();
    for needed in [
        "INVALID_API_KEY",
        "THROTTLED",
        "QUOTA_EXCEEDED",
        "REQUEST_TOO_LARGE",
        "INTEGRATION_TIMEOUT",
        "INTEGRATION_FAILURE",
        "MISSING_AUTHENTICATION_TOKEN",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ] {
        assert!(types.contains(&needed), "no gateway response for {needed}");
    }
    for response in &responses {
        let name = &response.name;
        let body = rendered(&response.body);
        let wire: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"));
        let error: ApiError = serde_json::from_value(wire["error"].clone())
            .unwrap_or_else(|e| panic!("{name} is not the app's error shape: {e}: {body}"));
        assert!(!error.message.is_empty(), "{name}");
        assert_eq!(error.request_id.as_deref(), Some("0b1f-req"), "{name}");
        match &response.status {
            Some(status) => {
                let status: u16 = status.parse().unwrap();
                assert_eq!(
                    error.code.status(),
                    status,
                    "{name}: code and status differ"
                );
            }
            // The defaults keep the gateway's own status; only their class is known.
            None if response.kind == "DEFAULT_4XX" => assert_eq!(error.code, ErrorCode::BadRequest),
            None => assert!(error.code.status() >= 500, "{name}"),
        }
        if error.code == ErrorCode::RateLimited {
            let wait: u64 = response.headers["Retry-After"].parse().unwrap();
            assert!(wait > 0, "{name}");
            // The pages wait as long as the header says (the admin page asks again then).
            assert_eq!(
                error.retry_after_secs,
                Some(wait),
                "{name}: body and header differ"
            );
        }
        // What the pages' client makes of it: the same error, not a parser's complaint.
        let read = ApiError::de(leptos::server_fn::Bytes::from(body.clone()));
        assert_eq!(read, error, "{name}");
    }
}
