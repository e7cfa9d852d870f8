//! Prints the figures the README quotes (run: `bash scripts/bench.sh`, or
//! `cargo bench -p server --bench figures`):
//! - server overhead of check-credits with the analyzer excluded, on a 2560×1600 PNG;
//! - the offline analyzer's verdict accuracy on the fixtures and its median time per image;
//! - both offline readers on the unseen and adversarial sets, side by side.

use app::domain::EmailAddress;
use app::ssr::decision::decide;
use app::ssr::normalise::normalise;
use app::ssr::ports::Analyzer;
use axum::body::Body;
use base64::Engine;
use http::Request;
use leptos::prelude::LeptosOptions;
use server::adapters::TesseractAnalyzer;
use server::{Application, Config};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/fixtures")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A 2560×1600 screenshot: the depleted fixture scaled up, as a high-DPI capture would be.
fn big_png() -> Vec<u8> {
    let small = image::open(fixtures().join("screenshots/depleted-light.png")).unwrap();
    let big = small.resize_exact(2560, 1600, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    big.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn overhead(rounds: usize) {
    let png = big_png();
    let body = serde_json::json!({
        "email": "ada@example.com",
        "image": base64::engine::general_purpose::STANDARD.encode(&png),
    })
    .to_string();
    let (mut overheads, mut normalising) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        // A fresh data directory each round, so every round takes the full grant path.
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::local(dir.path().to_owned(), "m", "a");
        // The screenshot's path alone: the code step is a few small store calls before it.
        config.policy.verify_email = false;
        let leptos_options = LeptosOptions::builder().output_name("kiro-access").build();
        let router = Application::build(&config, leptos_options)
            .await
            .unwrap()
            .router;
        let request = Request::post("/check-credits")
            .header("content-type", "application/json")
            .header("x-api-key", "m")
            .body(Body::from(body.clone()))
            .unwrap();
        let started = Instant::now();
        let response = router.oneshot(request).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let reply: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(reply["verdict"], "granted", "{reply}");
        let key = reply["recordKey"].as_str().unwrap();
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(key)).unwrap()).unwrap();
        let analyze = record["timings"]["analyzeMs"].as_f64().unwrap();
        overheads.push(wall - analyze);
        normalising.push(record["timings"]["normaliseMs"].as_f64().unwrap());
    }
    overheads.sort_by(f64::total_cmp);
    normalising.sort_by(f64::total_cmp);
    println!(
        "check-credits overhead, analyzer excluded (2560x1600 PNG, {} KB, {rounds} rounds): p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms  (target p50 <= 50 ms)",
        png.len() / 1024,
        percentile(&overheads, 0.5),
        percentile(&overheads, 0.9),
        overheads.last().unwrap()
    );
    println!(
        "  of which image intake (decode, downscale, hash, re-encode): p50 {:.1} ms",
        percentile(&normalising, 0.5)
    );
}

async fn analyzer_accuracy() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap();
    let requester = EmailAddress::parse(expected["requester"].as_str().unwrap()).unwrap();
    let analyzer = TesseractAnalyzer::new("tesseract", Duration::from_secs(60));
    let (mut right, mut times) = (0, Vec::new());
    let table = expected["fixtures"].as_object().unwrap();
    for (file, want) in table {
        let bytes = std::fs::read(fixtures().join("screenshots").join(file)).unwrap();
        let image = normalise(&bytes).unwrap();
        let started = Instant::now();
        let evidence = analyzer.analyze(&image).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let decision = decide(&evidence, &requester);
        let verdict = serde_json::to_value(decision.verdict).unwrap();
        let reason = serde_json::to_value(decision.reason).unwrap();
        if verdict == want["verdict"] && reason == want["reason"] {
            right += 1;
        } else {
            println!("  wrong: {file}: {verdict} {reason}");
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "offline analyzer (Tesseract): {right}/{} verdicts right; median {:.0} ms per image, max {:.0} ms",
        table.len(),
        percentile(&times, 0.5),
        times.last().unwrap()
    );
}

/// Both readers on the unseen and the adversarial sets, side by side: false grants, genuine
/// pages granted / sent to review / wrongly denied, review rate on the rest, seconds per image
/// (one core per model call), and this process's peak RSS after the PP-OCR runs (Tesseract
/// runs in processes of its own, so its memory is not in it).
async fn readers() {
    let ppocr =
        server::scorecard::installed_ppocr().expect("scripts/install-tools.sh installs PP-OCR");
    let tesseract = TesseractAnalyzer::new("tesseract", Duration::from_secs(60));
    let readers: [(&str, &dyn Analyzer); 2] = [
        ("PP-OCR (default)", &ppocr),
        ("Tesseract alone", &tesseract),
    ];
    for set in ["unseen", "adversarial"] {
        for (name, reader) in readers {
            let card = server::scorecard::score(reader, &fixtures().join(set))
                .await
                .unwrap();
            println!("{name} on the {set} set: {}", card.summary());
        }
        println!(
            "peak RSS of this process after the {set} set: {}",
            peak_rss()
        );
    }
}

/// VmHWM from /proc.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[tokio::main]
async fn main() {
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    overhead(rounds).await;
    analyzer_accuracy().await;
    readers().await;
}
