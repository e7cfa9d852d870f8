//! The integration harness: `spawn_app()` builds the app exactly as the binary does
//! (`Application::build`) on the embedded default (SQLite, files, real Tesseract) in a temporary
//! data directory; `spawn_with_fakes()` builds the same router over the in-memory fakes.

pub mod moto;
pub mod records_table;
pub mod smtp;
pub mod wire_fakes;

use app::ssr::access::RateLimits;
use axum::body::Body;
use axum::Router;
use base64::Engine;
use http::{HeaderMap, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use server::adapters::memory::{MemoryAuditStore, MemoryDirectory, MemoryMailer, ScriptedAnalyzer};
use server::adapters::SqliteDirectory;
use server::startup::services_over;
use server::{Application, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

pub const MEMBER_KEY: &str = "member-key-for-tests";
pub const ADMIN_KEY: &str = "admin-key-for-tests";

pub struct TestApp {
    pub router: Router,
    pub services: Arc<app::ssr::Services>,
    pub data: tempfile::TempDir,
    pub directory: SqliteDirectory,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

/// The app with generous rate limits (tests of the limit itself use `spawn_app_with`).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The embedded default's configuration for tests: the test keys, generous rate limits and
/// waits for an analysis slot.
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::local(data_dir.to_owned(), MEMBER_KEY, ADMIN_KEY);
    config.rate_limits = RateLimits {
        per_second: 1000.0,
        burst: 1000,
        per_day: 100_000,
    };
    // The default slots, but a long wait for one: tests that race several requests through
    // real Tesseract on a loaded machine would otherwise get the 503 meant for overload.
    config.analysis_limits.wait = std::time::Duration::from_secs(120);
    // Most tests are about what follows the code; `verify_email` tests turn codes on.
    config.policy.verify_email = false;
    config
}

pub fn test_leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("kiro-access")
        .site_root("target/site")
        .build()
}

/// The app's logs in each test's captured output (shown when it fails); `RUST_LOG` filters.
fn init_logs() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    init_logs();
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data.path());
    configure(&mut config);
    let built = Application::build(&config, test_leptos_options())
        .await
        .expect("the app builds");
    let directory = SqliteDirectory::open(&data.path().join("directory.sqlite")).unwrap();
    TestApp {
        router: built.router,
        services: built.services,
        data,
        directory,
    }
}

/// The same router over in-memory fakes, with handles to tell each fake what to do.
pub struct FakedApp {
    pub router: Router,
    pub directory: Arc<MemoryDirectory>,
    pub audit: Arc<MemoryAuditStore>,
    pub analyzer: Arc<ScriptedAnalyzer>,
    pub mailer: Arc<MemoryMailer>,
}

pub fn spawn_with_fakes(evidence: app::api::Evidence) -> FakedApp {
    spawn_with_fakes_and(evidence, |_| {})
}

/// The same, with the configuration changed first (a policy, say).
pub fn spawn_with_fakes_and(
    evidence: app::api::Evidence,
    configure: impl FnOnce(&mut Config),
) -> FakedApp {
    init_logs();
    let mut config = test_config(Path::new("unused"));
    configure(&mut config);
    let directory = Arc::new(MemoryDirectory::default());
    let audit = Arc::new(MemoryAuditStore::default());
    // The index over the fake's objects: what the fake is told to fail fails through it too.
    let index = Arc::new(server::adapters::BlobIndex::new(audit.clone()));
    let analyzer = Arc::new(ScriptedAnalyzer::new(evidence));
    let mailer = Arc::new(MemoryMailer::default());
    let services = services_over(
        &config,
        directory.clone(),
        audit.clone(),
        index,
        analyzer.clone(),
    )
    .with_notifier(app::ssr::notify::Notifier::new(
        mailer.clone(),
        config.mail.notices.clone(),
    ));
    let router = Application::with_services(&config, services, test_leptos_options()).router;
    FakedApp {
        router,
        directory,
        audit,
        analyzer,
        mailer,
    }
}

/// Sends a request through a router and reads the reply.
pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.expect("router");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// A credits counter used up, labelled as such: what a depleted page shows.
pub fn used_up_counter() -> app::api::UsageCounter {
    app::api::UsageCounter {
        label: "Credits".into(),
        used: 50.0,
        limit: 50.0,
        counts: app::api::CounterKind::Used,
    }
}

/// A `/check-credits` multipart form (email, first name, image): its content type and body.
pub fn multipart_request(email: &str, image: &[u8]) -> (String, Vec<u8>) {
    let boundary = "kiro-boundary";
    let mut body = Vec::new();
    for (name, value) in [("email", email), ("firstName", "Ada")] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"shot.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend(image);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `POST /check-credits` as JSON, as a script sends it.
pub fn check_request(key: Option<&str>, email: &str, image: &[u8]) -> Request<Body> {
    let body = serde_json::json!({ "email": email, "image": b64(image), "firstName": "Ada" });
    json_request("/check-credits", key, body)
}

pub fn json_request(path: &str, key: Option<&str>, body: serde_json::Value) -> Request<Body> {
    let mut request = Request::post(path)
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

/// `end2end/fixtures`: the screenshots and their verdict table (`expected.json`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/fixtures")
}

pub fn fixture_path(name: &str) -> PathBuf {
    fixtures_dir().join("screenshots").join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture")
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Ada Lovelace as a directory user named `email`.
pub fn new_user(email: &str) -> app::ssr::ports::NewUser {
    app::ssr::ports::NewUser {
        user_name: email.into(),
        display_name: "Ada Lovelace".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        email: email.into(),
    }
}

/// The Tesseract analyzer at `program`, with a timeout in milliseconds.
pub fn tesseract_at(program: PathBuf, timeout_ms: u64) -> server::config::AnalyzerBackend {
    server::config::AnalyzerBackend::Tesseract {
        program,
        timeout: std::time::Duration::from_millis(timeout_ms),
    }
}

/// A program in `dir` that hangs, standing in for an OCR run that never ends: it starts a child
/// that sleeps 30 s and waits for it, and writes both process ids (`pid`, `child-pid`) to `dir`.
pub fn hung_program(dir: &Path) -> PathBuf {
    let script = dir.join("slow-ocr");
    let d = dir.display();
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho $$ > {d}/pid\nsleep 30 &\necho $! > {d}/child-pid\nwait\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

/// Whether a process runs (a zombie waiting to be reaped does not count).
pub fn is_running(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
            !state.starts_with('Z')
        }
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: serde_json::Value) -> Reply {
        self.send(json_request(path, key, body)).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::post(path)
            .header("content-type", content_type)
            .header("accept", "application/json");
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// `POST /check-credits` as JSON with a fixture (or any bytes) as the image.
    pub async fn check(&self, key: Option<&str>, email: &str, image: &[u8]) -> Reply {
        self.send(check_request(key, email, image)).await
    }

    pub async fn create_user(&self, key: Option<&str>, email: &str) -> Reply {
        self.post_json("/create-user", key, serde_json::json!({ "email": email }))
            .await
    }

    /// Calls a server function the way the pages' client does: the key as `x-api-key`.
    pub async fn server_fn(&self, name: &str, key: Option<&str>, args: serde_json::Value) -> Reply {
        self.post_json(&format!("/api/{name}"), key, args).await
    }

    pub async fn user_count(&self) -> i64 {
        self.directory.user_count().await.unwrap()
    }

    pub async fn memberships_of(&self, email: &str) -> i64 {
        use app::ssr::ports::Directory;
        match self.directory.find_user(email).await.unwrap() {
            Some(id) => self.directory.membership_count(&id).await.unwrap(),
            None => 0,
        }
    }

    /// The screenshots written so far (names under screenshots/; the records are in the index).
    /// The decision records in the app's record index, newest first.
    pub async fn records(&self) -> Vec<app::api::DecisionRecord> {
        use app::ssr::ports::{DecisionQuery, RecordIndex};
        let index =
            server::adapters::SqliteIndex::open(&self.data.path().join("records.sqlite")).unwrap();
        let all = DecisionQuery {
            limit: 10_000,
            ..Default::default()
        };
        index.decisions(&all).await.unwrap().records
    }

    pub fn audit_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data.path().join("screenshots"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// What a good model or OCR reads off `email`'s depleted Kiro page.
pub fn depleted(email: &str) -> app::api::Evidence {
    app::api::Evidence {
        kiro_page: true,
        emails_seen: vec![email.into()],
        counters: vec![used_up_counter()],
        ..app::api::Evidence::default()
    }
}

/// A GET with a key through the router.
pub async fn get_with_key(router: &Router, uri: &str, key: &str) -> Reply {
    let request = Request::get(uri)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}

/// A mail message as Python's `email` package (policy.default) reads it: To, Subject, and the
/// text/plain and text/html parts decoded, line ends as `\n`.
pub fn parse_mime(raw: &[u8]) -> app::ssr::ports::Mail {
    use std::io::Write;
    const READ: &str = "import sys, json, email
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
out = {'to': str(m['To']), 'subject': str(m['Subject']), 'text': '', 'html': ''}
for part in m.walk():
    kind = part.get_content_type()
    if kind == 'text/plain': out['text'] = part.get_content()
    if kind == 'text/html': out['html'] = part.get_content()
print(json.dumps(out))";
    let mut python = std::process::Command::new("python3")
        .args(["-c", READ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    python.stdin.take().unwrap().write_all(raw).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success(), "python could not read the message");
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |k: &str| parsed[k].as_str().unwrap_or_default().replace("\r\n", "\n");
    app::ssr::ports::Mail {
        to: field("to"),
        subject: field("subject"),
        text: field("text"),
        html: field("html"),
    }
}

/// A decision record with nothing read: `email`'s, at `at`, its screenshot at `screenshot_key`.
pub fn decision_record(
    email: &str,
    verdict: app::api::Verdict,
    at: &str,
    screenshot_key: &str,
) -> app::api::DecisionRecord {
    app::api::DecisionRecord {
        at: at.into(),
        email: email.into(),
        verdict,
        reason: None,
        message: String::new(),
        evidence: None,
        analyzer: "test".into(),
        image_sha256: "00".into(),
        screenshot_key: screenshot_key.into(),
        timings: Default::default(),
        applied: None,
        error: None,
        first_name: None,
        last_name: None,
        settlement: None,
        mail_error: None,
        similar_to: None,
        revision: 0,
    }
}
