//! The integration harness shared by the API tests: `spawn_app()` builds the real router on the
//! embedded default (SQLite, files, real Tesseract) in a temporary data directory.

#![allow(dead_code)] // each test file uses its own part of the harness

pub mod fakes;
pub mod moto;

use app::ssr::access::RateLimits;
use axum::body::Body;
use axum::Router;
use base64::Engine;
use http::{HeaderMap, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use server::adapters::SqliteDirectory;
use server::{app, AppState, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

pub const MEMBER_KEY: &str = "member-key-for-tests";
pub const ADMIN_KEY: &str = "admin-key-for-tests";

pub struct TestApp {
    pub router: Router,
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
    spawn_app_with(|c| {
        c.rate_limits = RateLimits {
            per_second: 1000.0,
            burst: 1000,
            per_day: 100_000,
        }
    })
    .await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::local(data.path().to_owned(), MEMBER_KEY, ADMIN_KEY);
    configure(&mut config);
    let services = Arc::new(config.build_services().await.expect("services"));
    let leptos_options = LeptosOptions::builder()
        .output_name("kiro-access")
        .site_root("target/site")
        .build();
    let router = app(AppState {
        leptos_options,
        services,
        cors_origins: config.cors_origins.clone(),
    });
    let directory = SqliteDirectory::open(&data.path().join("directory.sqlite")).unwrap();
    TestApp {
        router,
        data,
        directory,
    }
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

/// A program in `dir` that hangs (sleeps 30 s), standing in for an OCR run that never ends.
pub fn hung_program(dir: &Path) -> PathBuf {
    let script = dir.join("slow-ocr");
    std::fs::write(&script, "#!/bin/sh\nsleep 30\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router");
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

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: serde_json::Value) -> Reply {
        self.post_raw(path, key, "application/json", body.to_string().into_bytes())
            .await
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
        self.post_json(
            "/check-credits",
            key,
            serde_json::json!({ "email": email, "image": b64(image), "firstName": "Ada" }),
        )
        .await
    }

    pub async fn create_user(&self, key: Option<&str>, email: &str) -> Reply {
        self.post_json("/create-user", key, serde_json::json!({ "email": email }))
            .await
    }

    /// Calls a server function the way the browser does.
    pub async fn server_fn(&self, name: &str, args: serde_json::Value) -> Reply {
        self.post_json(&format!("/api/{name}"), None, args).await
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

    /// The audit files written so far (names under screenshots/).
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
