//! Decision counts as CloudWatch Embedded Metric Format lines on stdout (on Lambda only):
//! CloudWatch Logs turns each line into a `KiroAccess/Decisions` data point by verdict and reason.

use crate::api::{Reason, Verdict};
use std::sync::LazyLock;

static ON_LAMBDA: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some());

/// Counts one decision.
pub fn decision(verdict: Verdict, reason: Option<Reason>) {
    if *ON_LAMBDA {
        println!(
            "{}",
            emf_line(verdict, reason, chrono::Utc::now().timestamp_millis())
        );
    }
}

/// The EMF document for one decision.
pub fn emf_line(verdict: Verdict, reason: Option<Reason>, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "KiroAccess",
                "Dimensions": [["Verdict"], ["Verdict", "Reason"]],
                "Metrics": [{ "Name": "Decisions", "Unit": "Count" }]
            }]
        },
        "Verdict": serde_json::to_value(verdict).unwrap_or_default(),
        "Reason": reason.map_or_else(|| "none".into(), |r| serde_json::to_value(r).unwrap_or_default()),
        "Decisions": 1
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_becomes_one_emf_data_point() {
        let line = emf_line(
            Verdict::Denied,
            Some(Reason::CreditsAvailable),
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "KiroAccess");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "Decisions"
        );
        assert_eq!(v["Verdict"], "denied");
        assert_eq!(v["Reason"], "credits_available");
        assert_eq!(v["Decisions"], 1);
        assert!(!line.contains('\n'));
        let granted: serde_json::Value =
            serde_json::from_str(&emf_line(Verdict::Granted, None, 0)).unwrap();
        assert_eq!(granted["Reason"], "none");
    }
}
