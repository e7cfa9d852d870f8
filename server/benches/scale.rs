//! The record index at scale (run: `bash scripts/bench.sh`, or `cargo bench -p server --bench
//! scale`; `KIRO_SCALE_SIZES=1000,10000` for fewer): for each size, a fresh SQLite index seeded
//! through the port with that many decisions (one email in five repeats) and as many granted
//! likenesses (variants of one real page, the crowded case), then the admin page's data call, a
//! search by email and one request's overhead (the analyzer scripted), each through the router,
//! median of 30. With `KIRO_SCALE_DYNAMODB=http://…` (dynalite, which bench.sh starts: its
//! queries read a key's range, as DynamoDB's do, where moto's walk the whole table), a fresh
//! DynamoDB table made as `infra/template.yaml` makes it, at `KIRO_SCALE_DYNAMODB_SIZES`, with
//! at most `KIRO_SCALE_DYNAMODB_LIKENESSES` likenesses (each 129 items, all in its memory).

#[path = "../tests/it/common/records_table.rs"]
#[allow(dead_code)] // the tests' `create` also turns on the time to live, which dynalite lacks
mod records_table;

use app::api::{DecisionRecord, Evidence, Verdict};
use app::ssr::access::RateLimits;
use app::ssr::likeness::{Likeness, LikenessEntry};
use app::ssr::ports::RecordIndex;
use axum::body::Body;
use base64::Engine;
use http::Request;
use leptos::config::LeptosOptions;
use server::adapters::aws::DynamoIndex;
use server::adapters::memory::ScriptedAnalyzer;
use server::adapters::{FileAuditStore, SqliteDirectory, SqliteIndex};
use server::config::Config;
use server::startup::{services_over, Application};
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const ROUNDS: usize = 30;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../end2end/fixtures/screenshots/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn depleted(email: &str) -> Evidence {
    Evidence {
        kiro_page: true,
        emails_seen: vec![email.into()],
        counters: vec![app::api::UsageCounter {
            label: "Credits".into(),
            used: 50.0,
            limit: 50.0,
            counts: app::api::CounterKind::Used,
        }],
        ..Evidence::default()
    }
}

fn record(i: usize) -> DecisionRecord {
    let verdict = [Verdict::Granted, Verdict::Denied, Verdict::Review][i % 3];
    let seconds = i as i64;
    let at = chrono::DateTime::from_timestamp(1_750_000_000 + seconds, 0).unwrap();
    serde_json::from_value(serde_json::json!({
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "email": format!("person{}@example.com", i / 5),
        "verdict": verdict,
        "message": "seeded",
        "analyzer": "bench",
        "imageSha256": format!("{i:064x}"),
        "screenshotKey": format!("screenshots/{}-{i:07}.png", at.format("%Y%m%d-%H%M%S")),
        "timings": {"normaliseMs": 0, "analyzeMs": 0, "totalMs": 0},
    }))
    .unwrap()
}

/// The page's grid with a few dozen cells moved: alike in places, never the same.
fn variant(base: &Likeness, i: usize) -> Likeness {
    let mut cells = base.cells.clone();
    let mut state = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..40 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let cell = (state % cells.len() as u64) as usize;
        cells[cell] = cells[cell].wrapping_add(((state >> 32) % 64) as u8 + 16);
    }
    Likeness {
        aspect: base.aspect,
        cells,
    }
}

/// Seeds `size` decisions and `likenesses` likenesses, 8 writes at a time.
async fn seed(index: &dyn RecordIndex, size: usize, likenesses: usize, base: &Likeness) -> f64 {
    use futures::StreamExt;
    let started = Instant::now();
    futures::stream::iter(0..size)
        .for_each_concurrent(8, |i| async move {
            index.put_decision(&record(i)).await.unwrap();
            if i < likenesses {
                let entry = LikenessEntry {
                    sha256: format!("seed{i:060}"),
                    email: format!("person{}@example.com", i / 5),
                    screenshot_key: format!("screenshots/seed-{i}.png"),
                    likeness: variant(base, i),
                };
                index.reserve_likeness(&entry).await.unwrap();
            }
        })
        .await;
    started.elapsed().as_secs_f64()
}

/// A fresh DynamoDB table at the stand-in `endpoint`, made as the template makes it.
async fn dynamodb_index(endpoint: &str) -> DynamoIndex {
    let sdk = server::adapters::aws::sdk_config(
        Some(endpoint),
        Some("us-east-1"),
        aws_config::retry::RetryConfig::standard(),
        aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(std::time::Duration::from_secs(60))
            .build(),
    )
    .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("kiro-records-{}", uuid::Uuid::new_v4().simple());
    records_table::create_keys_and_indexes(&client, &table).await;
    DynamoIndex::new(client, table)
}

fn sizes(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect()
}

async fn time(router: &axum::Router, request: impl Fn(usize) -> Request<Body>) -> Vec<f64> {
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let response = router.clone().oneshot(request(round)).await.unwrap();
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(status.is_success(), "{status}");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

#[tokio::main]
async fn main() {
    let dynamodb = std::env::var("KIRO_SCALE_DYNAMODB").ok();
    let (adapter, sizes, most_likenesses) = match &dynamodb {
        None => (
            "SQLite",
            sizes("KIRO_SCALE_SIZES", "1000,10000,100000"),
            usize::MAX,
        ),
        Some(_) => (
            "DynamoDB (dynalite)",
            sizes("KIRO_SCALE_DYNAMODB_SIZES", "1000,10000,100000"),
            sizes("KIRO_SCALE_DYNAMODB_LIKENESSES", "10000")[0],
        ),
    };
    let page = fixture("depleted-light.png");
    let base = Likeness::of(&image::load_from_memory(&page).unwrap().into_rgb8());
    let mut first: Option<[f64; 3]> = None;
    for size in sizes {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::local(dir.path().to_owned(), "m", "a");
        config.policy.verify_email = false;
        // The keys' rate limit is not what is measured.
        config.rate_limits = RateLimits {
            per_second: 1000.0,
            burst: 1000,
            per_day: 100_000,
        };
        let index: Arc<dyn RecordIndex> = match &dynamodb {
            None => Arc::new(SqliteIndex::open(&dir.path().join("records.sqlite")).unwrap()),
            Some(endpoint) => Arc::new(dynamodb_index(endpoint).await),
        };
        let likenesses = size.min(most_likenesses);
        let seeded = seed(&*index, size, likenesses, &base).await;
        let analyzer = Arc::new(ScriptedAnalyzer::new(depleted("nobody@example.com")));
        let services = services_over(
            &config,
            Arc::new(SqliteDirectory::open(&dir.path().join("directory.sqlite")).unwrap()),
            Arc::new(FileAuditStore::open(dir.path()).unwrap()),
            index,
            analyzer.clone(),
        );
        let options = LeptosOptions::builder().output_name("kiro-access").build();
        let router = Application::with_services(&config, services, options).router;

        let admin = median(
            time(&router, |_| {
                Request::post("/api/load_admin_page")
                    .header("content-type", "application/json")
                    .header("x-api-key", "a")
                    .body(Body::from("{}"))
                    .unwrap()
            })
            .await,
        );
        let search = median(
            time(&router, |round| {
                let email = format!("person{}%40example.com", (round * 7919) % (size / 5));
                Request::get(format!("/decisions?email={email}"))
                    .header("x-api-key", "a")
                    .body(Body::empty())
                    .unwrap()
            })
            .await,
        );
        // A new member each round with the page one pixel apart (a new image, alike to the
        // seeded ones): reuse check, likeness candidates, record, queue.
        let mut rgb = image::load_from_memory(&page).unwrap().into_rgb8();
        let mut requests = Vec::new();
        for round in 0..ROUNDS {
            rgb.put_pixel(round as u32, 0, image::Rgb([round as u8, 0, 0]));
            let mut png = Vec::new();
            image::DynamicImage::ImageRgb8(rgb.clone())
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            let email = format!("new{round}@example.com");
            let sha = app::ssr::normalise::normalise(&png).unwrap().sha256;
            analyzer.answer_for(&sha, depleted(&email));
            let body = serde_json::json!({
                "email": email,
                "image": base64::engine::general_purpose::STANDARD.encode(&png),
            });
            requests.push(body.to_string());
        }
        println!(
            "scale, {adapter}, {size} decisions + {likenesses} likenesses (seeded in {seeded:.0} \
             s): admin data call p50 {admin:.1} ms, search by email p50 {search:.1} ms"
        );
        let mut overheads = Vec::new();
        // A request the index could not answer in time is counted, not timed.
        let mut refused = Vec::new();
        for (round, body) in requests.iter().enumerate() {
            let request = Request::post("/check-credits")
                .header("content-type", "application/json")
                .header("x-api-key", "m")
                .body(Body::from(body.clone()))
                .unwrap();
            let started = Instant::now();
            let response = router.clone().oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let wall = started.elapsed().as_secs_f64() * 1000.0;
            let reply: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            if reply["verdict"].is_string() {
                overheads.push(wall);
            } else {
                refused.push(format!("round {round}: {reply} after {wall:.0} ms"));
            }
        }
        if overheads.is_empty() {
            println!("  every request was refused, the first: {}", refused[0]);
            continue;
        }
        if !refused.is_empty() {
            println!(
                "  {} of {ROUNDS} requests refused: {}",
                refused.len(),
                refused[0]
            );
        }
        let request = median(overheads);
        let now = [admin, search, request];
        let base_row = *first.get_or_insert(now);
        println!(
            "scale, {adapter}, {size} decisions + {likenesses} likenesses (seeded in {seeded:.0} s): \
             admin data call p50 {admin:.1} ms ({:.2}x), search by email p50 {search:.1} ms \
             ({:.2}x), one request's overhead p50 {request:.1} ms ({:.2}x)  (target <= 1.2x of \
             the first size)",
            admin / base_row[0],
            search / base_row[1],
            request / base_row[2],
        );
    }
}
