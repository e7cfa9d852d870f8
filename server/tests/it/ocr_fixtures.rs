//! The offline analyzer against real Tesseract: every screenshot fixture (rendered by
//! end2end/fixtures/render.py) must get its expected verdict; timeouts and a missing binary
//! are clear errors.

use app::api::{Reason, Verdict};
use app::domain::EmailAddress;
use app::ssr::decision::decide;
use app::ssr::normalise::normalise;
use app::ssr::ports::{Analyzer, PortError};
use server::adapters::TesseractAnalyzer;
use std::time::Duration;

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Granted => "granted",
        Verdict::AlreadyPro => "already_pro",
        Verdict::Denied => "denied",
        Verdict::Review => "review",
    }
}

fn reason_name(r: Option<Reason>) -> Option<String> {
    r.map(|r| {
        serde_json::to_value(r)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    })
}

#[tokio::test]
async fn every_fixture_gets_its_expected_verdict() {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(crate::common::fixtures_dir().join("expected.json")).unwrap(),
    )
    .unwrap();
    let requester = EmailAddress::parse(expected["requester"].as_str().unwrap()).unwrap();
    let analyzer = TesseractAnalyzer::new("tesseract", Duration::from_secs(60));
    let table = expected["fixtures"].as_object().unwrap();
    assert!(table.len() >= 10, "the fixture table is too small");
    let mut wrong = Vec::new();
    for (file, want) in table {
        let bytes = crate::common::fixture(file);
        let image = normalise(&bytes).unwrap();
        let evidence = analyzer.analyze(&image).await.unwrap();
        let decision = decide(&evidence, &requester);
        let got = (
            verdict_name(decision.verdict).to_owned(),
            reason_name(decision.reason),
        );
        let want = (
            want["verdict"].as_str().unwrap().to_owned(),
            want["reason"].as_str().map(str::to_owned),
        );
        if got != want {
            wrong.push(format!(
                "{file}: got {got:?}, want {want:?}; evidence {:?}",
                (
                    evidence.emails_seen,
                    evidence.counters,
                    evidence.limit_reached_banner
                )
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

/// The adversarial set (`end2end/fixtures/adversarial.py`): pages the parser was not tuned on.
/// Every verdict must be one its entry allows; a grant is allowed only for a genuine page of
/// the requester's own account, so any false grant fails this test.
#[tokio::test]
async fn every_adversarial_fixture_gets_an_acceptable_verdict() {
    let dir = crate::common::fixtures_dir().join("adversarial");
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let table = table.as_object().unwrap();
    assert!(table.len() >= 30, "the adversarial set is too small");
    let analyzer = TesseractAnalyzer::new("tesseract", Duration::from_secs(60));
    let (mut false_grants, mut wrong) = (Vec::new(), Vec::new());
    for (file, entry) in table {
        let requester = EmailAddress::parse(entry["requester"].as_str().unwrap()).unwrap();
        let image = normalise(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let evidence = analyzer.analyze(&image).await.unwrap();
        let decision = decide(&evidence, &requester);
        let got = verdict_name(decision.verdict);
        let allowed: Vec<&str> = entry["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if !allowed.contains(&got) {
            let line = format!(
                "{file} ({}): got {got} {:?}, allowed {allowed:?}; read {:?} {:?}",
                entry["note"], decision.reason, evidence.emails_seen, evidence.counters
            );
            if got == "granted" {
                false_grants.push(line);
            } else {
                wrong.push(line);
            }
        }
    }
    assert!(
        false_grants.is_empty() && wrong.is_empty(),
        "false grants:\n{}\nother wrong verdicts:\n{}",
        false_grants.join("\n"),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn the_depleted_fixtures_read_email_plan_and_numbers() {
    for (file, full) in [("depleted-light.png", 50.0), ("thousand-light.png", 1000.0)] {
        let bytes = crate::common::fixture(file);
        let evidence = TesseractAnalyzer::new("tesseract", Duration::from_secs(60))
            .analyze(&normalise(&bytes).unwrap())
            .await
            .unwrap();
        assert_eq!(evidence.emails_seen, ["ada@example.com"], "{file}");
        assert_eq!(evidence.plan.as_deref(), Some("Kiro Free"), "{file}");
        let credits = evidence
            .counters
            .iter()
            .find(|c| c.label.to_lowercase().contains("credit"))
            .expect("a credits counter");
        assert_eq!((credits.used, credits.limit), (full, full), "{file}");
    }
}

#[tokio::test]
async fn a_hung_ocr_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = crate::common::hung_program(dir.path());
    let started = std::time::Instant::now();
    let err = TesseractAnalyzer::new(&script, Duration::from_millis(300))
        .read_text(b"png".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The program and the child it started are gone (killed as a group), not left running.
    for name in ["pid", "child-pid"] {
        let pid = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let pid = pid.trim();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while crate::common::is_running(pid) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!crate::common::is_running(pid), "{name} {pid} still runs");
    }
}

#[tokio::test]
async fn a_missing_ocr_program_is_unavailable() {
    let err = TesseractAnalyzer::new("/nonexistent/tesseract", Duration::from_secs(5))
        .read_text(b"png".to_vec())
        .await
        .unwrap_err();
    match err {
        PortError::Unavailable { source, .. } => {
            assert!(source.to_string().contains("tesseract"), "{source}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failing_ocr_program_is_unavailable() {
    let err = TesseractAnalyzer::new("false", Duration::from_secs(5))
        .read_text(b"png".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
}
