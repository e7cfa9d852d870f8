//! The JSON endpoints and server functions through the real router: flows, keys and roles,
//! rate limit, bad input, concurrency, screenshot reuse, failing dependencies, CORS and headers.

use crate::common::*;
use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

const ADA: &str = "ada@example.com";

#[tokio::test]
async fn health_and_pages_render_with_security_headers() {
    let app = spawn_app().await;
    let health = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    for (path, text) in [
        ("/", "Request Kiro Pro"),
        ("/admin", "Create a Kiro Pro user"),
    ] {
        let page = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.text.contains(text), "{path} lacks {text:?}");
        assert!(
            page.text.contains("/pkg/kiro-access.js"),
            "{path} must load the hydrate bundle"
        );
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        // Only inline scripts carrying this response's nonce may run (the hydration bootstrap).
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let nonce = page
            .text
            .split("<script type=\"module\" nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the hydration script carries a nonce");
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval';"
            )),
            "{csp}"
        );
        assert!(!csp.contains("'unsafe-inline' 'wasm"), "{csp}");
    }
    let csp = health.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
}

/// The nonce of the page's hydration script, and the one its policy admits.
fn nonces(page: &Reply) -> (String, String) {
    let in_html = page
        .text
        .split("<script type=\"module\" nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the hydration script carries a nonce")
        .to_owned();
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    let in_policy = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the policy names a nonce")
        .to_owned();
    (in_html, in_policy)
}

#[tokio::test]
async fn every_page_load_gets_a_fresh_nonce() {
    let app = spawn_app().await;
    let get = || Request::get("/").body(Body::empty()).unwrap();
    let page = app.send(get()).await;
    let first = nonces(&page);
    let second = nonces(&app.send(get()).await);
    // The nonce goes on the script only; the preload links are plain anonymous CORS fetches.
    let links: Vec<&str> = page
        .text
        .split("<link ")
        .skip(1)
        .map(|l| l.split('>').next().unwrap_or_default())
        .filter(|l| l.contains("preload"))
        .collect();
    assert_eq!(links.len(), 2, "{}", page.text);
    for link in links {
        assert!(link.contains(r#"crossorigin="""#), "{link}");
        assert!(!link.contains(&first.0), "{link}");
    }
    assert_eq!(first.0, first.1, "the policy admits the page's script");
    assert_eq!(second.0, second.1);
    assert_ne!(first.0, second.0, "a nonce must not be reused");
    assert!(first.0.len() >= 16, "{}", first.0);
}

#[tokio::test]
async fn every_error_is_json_even_the_frameworks_own() {
    let app = spawn_app().await;
    let big = app
        .post_raw(
            "/check-credits",
            Some(MEMBER_KEY),
            "application/json",
            vec![b' '; 12 * 1024 * 1024],
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.text);
    assert_eq!(big.body["error"]["code"], "too_large", "{}", big.text);
    let limit = app::domain::megabytes(server::state::MAX_JSON_BODY_BYTES);
    assert!(big.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&limit));

    let wrong_method = app
        .send(
            Request::get("/check-credits")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.body["error"]["code"], "method_not_allowed",
        "{}",
        wrong_method.text
    );
    assert!(wrong_method.headers["allow"]
        .to_str()
        .unwrap()
        .contains("POST"));

    let nowhere = app
        .send(
            Request::get("/no-such-endpoint")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(
        nowhere.body["error"]["code"], "not_found",
        "{}",
        nowhere.text
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_404() {
    let app = spawn_app().await;
    let page = app
        .send(
            Request::get("/nowhere")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text.contains("Page not found"), "{}", page.text);
}

#[tokio::test]
async fn a_depleted_screenshot_grants_once_then_says_already_pro() {
    let app = spawn_app().await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");
    assert_eq!(reply.body["counters"][0]["used"], 50.0);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.memberships_of(ADA).await, 1);

    // The screenshot is kept as a file and the record in the index, with the documented keys.
    let files = app.audit_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].contains("-ada_at_example.com-"), "{files:?}");
    assert!(files[0].ends_with(".png") && !files[0].contains("-deny"));
    let records = app.records().await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].record_key(),
        format!("screenshots/{}", files[0].replace(".png", ".json"))
    );
    let record = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(record["verdict"], "granted");
    assert_eq!(record["applied"], true);
    assert_eq!(record["analyzer"], "ppocr-v5");
    assert!(record["evidence"]["rawText"]
        .as_str()
        .unwrap()
        .contains("ada@example.com"));

    let again = app
        .check(
            Some(MEMBER_KEY),
            "ADA@example.com",
            &fixture("depleted-light.png"),
        )
        .await;
    assert_eq!(again.body["verdict"], "already_pro", "{}", again.text);
    assert_eq!(
        (app.audit_files().len(), app.records().await.len()),
        (1, 1),
        "already Pro must not analyse or record"
    );
    assert_eq!(app.memberships_of(ADA).await, 1);
}

#[tokio::test]
async fn credits_left_is_denied_with_the_numbers_and_recorded() {
    let app = spawn_app().await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("available-dark.png"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["verdict"], "denied");
    assert_eq!(reply.body["reason"], "credits_available");
    assert!(reply.body["message"]
        .as_str()
        .unwrap()
        .contains("12 used of 50"));
    assert_eq!(app.user_count().await, 0);
    let files = app.audit_files();
    assert!(files.iter().any(|f| f.ends_with("-deny.png")), "{files:?}");
    let records = app.records().await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].record_key().ends_with("-deny.json"),
        "{records:?}"
    );
}

#[tokio::test]
async fn another_persons_screenshot_is_denied() {
    let app = spawn_app().await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("other-email-light.png"))
        .await;
    assert_eq!(reply.body["reason"], "email_mismatch", "{}", reply.text);
    assert!(reply.body["message"]
        .as_str()
        .unwrap()
        .contains("eve@example.org"));
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_screenshot_used_by_one_account_is_refused_for_another() {
    let app = spawn_app().await;
    let shot = fixture("depleted-light.png");
    assert_eq!(
        app.check(Some(MEMBER_KEY), ADA, &shot).await.body["verdict"],
        "granted"
    );
    let reply = app
        .check(Some(MEMBER_KEY), "mallory@example.com", &shot)
        .await;
    assert_eq!(reply.body["reason"], "screenshot_reused", "{}", reply.text);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn keys_and_roles() {
    let app = spawn_app().await;
    let shot = fixture("depleted-light.png");

    let none = app.check(None, ADA, &shot).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body["error"]["code"], "missing_key");

    let wrong = app.check(Some("guess"), ADA, &shot).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not valid"));

    let member_creates = app.create_user(Some(MEMBER_KEY), ADA).await;
    assert_eq!(member_creates.status, StatusCode::FORBIDDEN);
    assert!(member_creates.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("administrator"));
    assert_eq!(app.user_count().await, 0);

    let admin_checks = app.check(Some(ADMIN_KEY), ADA, &shot).await;
    assert_eq!(
        admin_checks.body["verdict"], "granted",
        "an admin key may do what a member key may"
    );
}

#[tokio::test]
async fn create_user_creates_then_finds() {
    let app = spawn_app().await;
    let first = app
        .post_json(
            "/create-user",
            Some(ADMIN_KEY),
            json!({ "email": "Grace@Example.com", "firstName": "Grace", "lastName": "Hopper" }),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["addedToGroup"], true);
    assert_eq!(first.body["displayName"], "Grace Hopper");
    assert_eq!(first.body["email"], "grace@example.com");
    assert_eq!(first.body["group"], "Kiro Pro");

    let second = app.create_user(Some(ADMIN_KEY), "grace@example.com").await;
    assert_eq!(second.body["created"], false);
    assert_eq!(second.body["addedToGroup"], false);
    assert_eq!(second.body["userId"], first.body["userId"]);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.memberships_of("grace@example.com").await, 1);

    let derived = app.create_user(Some(ADMIN_KEY), "linus@example.com").await;
    assert_eq!(derived.body["displayName"], "linus");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let app = spawn_app().await;
    let png = fixture("depleted-light.png");
    let mut damaged = png.clone();
    damaged.truncate(200);
    let mut huge = png.clone();
    huge.resize(4 * 1024 * 1024 + 10, 0);

    let cases: Vec<(&str, Reply, StatusCode)> = vec![
        (
            "malformed JSON",
            app.post_raw(
                "/check-credits",
                Some(MEMBER_KEY),
                "application/json",
                b"{\"email\":".to_vec(),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad base64",
            app.post_json(
                "/check-credits",
                Some(MEMBER_KEY),
                json!({"email": ADA, "image": "%%%not base64%%%"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing image",
            app.post_json("/check-credits", Some(MEMBER_KEY), json!({"email": ADA}))
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid email",
            app.check(Some(MEMBER_KEY), "ada@", &png).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "name too long",
            app.post_json(
                "/check-credits",
                Some(MEMBER_KEY),
                json!({"email": ADA, "image": b64(&png), "firstName": "x".repeat(65)}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "control characters",
            app.post_json(
                "/create-user",
                Some(ADMIN_KEY),
                json!({"email": ADA, "lastName": "Love\u{0}lace"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "not an image",
            app.check(Some(MEMBER_KEY), ADA, b"just some text, not a picture")
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "svg",
            app.check(
                Some(MEMBER_KEY),
                ADA,
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "wrong content type",
            app.post_raw(
                "/create-user",
                Some(ADMIN_KEY),
                "text/plain",
                b"ada@example.com".to_vec(),
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "damaged image",
            app.check(Some(MEMBER_KEY), ADA, &damaged).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "image over the limit",
            app.check(Some(MEMBER_KEY), ADA, &huge).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "body over the limit",
            app.post_raw(
                "/check-credits",
                Some(MEMBER_KEY),
                "application/json",
                vec![b' '; 7 * 1024 * 1024],
            )
            .await,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, reply, status) in cases {
        assert_eq!(reply.status, status, "{name}: {}", reply.text);
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty(),
            "{name}: no JSON error message in {}",
            reply.text
        );
        assert!(reply.body["error"]["code"].is_string(), "{name}");
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            assert!(
                message.contains("MB"),
                "{name}: the limit must be stated: {message}"
            );
        }
    }
    assert_eq!(app.user_count().await, 0);
    assert!(app.audit_files().is_empty(), "{:?}", app.audit_files());
    assert!(app.records().await.is_empty());
}

/// What a real client sends: the length up front, which the body limit answers before reading.
#[tokio::test]
async fn a_body_announced_over_the_limit_is_a_json_413() {
    let app = spawn_app().await;
    let body = vec![b' '; 12 * 1024 * 1024];
    let request = Request::post("/check-credits")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .header("x-api-key", MEMBER_KEY)
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["error"]["code"], "too_large", "{}", reply.text);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("MB"), "{message}");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    // The defaults: 1/s, burst 5.
    let app = spawn_app_with(|c| c.rate_limits = app::ssr::access::RateLimits::default()).await;
    for _ in 0..5 {
        let r = app.create_user(Some(ADMIN_KEY), "not-an-email").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let limited = app.create_user(Some(ADMIN_KEY), "not-an-email").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert_eq!(limited.headers["retry-after"], "1");
    // Another key has its own allowance.
    let other = app.check(Some(MEMBER_KEY), "not-an-email", b"x").await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_identical_grants_make_one_user_and_one_membership() {
    let app = spawn_app().await;
    let shot = fixture("depleted-dark.png");
    let calls = (0..5).map(|_| app.check(Some(MEMBER_KEY), ADA, &shot));
    let replies = futures::future::join_all(calls).await;
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let verdict = r.body["verdict"].as_str().unwrap();
        assert!(
            verdict == "granted" || verdict == "already_pro",
            "{}",
            r.text
        );
    }
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.memberships_of(ADA).await, 1);

    let creates = (0..5).map(|_| app.create_user(Some(ADMIN_KEY), "grace@example.com"));
    let replies = futures::future::join_all(creates).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    assert_eq!(
        replies.iter().filter(|r| r.body["created"] == true).count(),
        1
    );
    assert_eq!(app.memberships_of("grace@example.com").await, 1);
}

#[tokio::test]
async fn a_missing_analyzer_is_a_503_and_grants_nothing() {
    let app =
        spawn_app_with(|c| c.analyzer = tesseract_at("/nonexistent/tesseract".into(), 20_000))
            .await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png"))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["error"]["code"], "unavailable");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_hung_analyzer_is_a_504_and_grants_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let script = hung_program(dir.path());
    let app = spawn_app_with(|c| c.analyzer = tesseract_at(script.clone(), 300)).await;
    let reply = app
        .check(Some(MEMBER_KEY), ADA, &fixture("depleted-light.png"))
        .await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT, "{}", reply.text);
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn multipart_uploads_work_like_json() {
    let app = spawn_app().await;
    let (content_type, body) = multipart_request(ADA, &fixture("thousand-light.png"));
    let reply = app
        .post_raw("/check-credits", Some(MEMBER_KEY), &content_type, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");
}

/// A PNG of noise (it does not compress) of nearly `MAX_IMAGE_BYTES`.
fn incompressible_png() -> Vec<u8> {
    let mut seed: u32 = 0x9e37_79b9;
    let side = 1150;
    let pixels = image::RgbImage::from_fn(side, side, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut png = Vec::new();
    pixels
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[tokio::test]
async fn any_screenshot_under_the_image_limit_passes_by_multipart_and_json_alike() {
    let png = incompressible_png();
    let limit = app::domain::MAX_IMAGE_BYTES;
    assert!(
        png.len() > limit * 9 / 10 && png.len() <= limit,
        "{}",
        png.len()
    );
    let app = spawn_with_fakes(app::api::Evidence::default());
    let as_multipart = |image: &[u8]| {
        let (content_type, body) = multipart_request(ADA, image);
        Request::post("/check-credits")
            .header("content-type", content_type)
            .header("x-api-key", MEMBER_KEY)
            .body(Body::from(body))
            .unwrap()
    };

    let multipart = send(&app.router, as_multipart(&png)).await;
    assert_eq!(multipart.status, StatusCode::OK, "{}", multipart.text);
    let json = send(&app.router, check_request(Some(MEMBER_KEY), ADA, &png)).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.text);

    // One byte over the multipart limit: what API Gateway would base64 past Lambda's payload.
    let around = multipart_request(ADA, &[]).1.len();
    let mut padded = png.clone();
    padded.resize(server::state::MAX_MULTIPART_BODY_BYTES + 1 - around, 0);
    assert_eq!(
        around + padded.len(),
        server::state::MAX_MULTIPART_BODY_BYTES + 1
    );
    let over = send(&app.router, as_multipart(&padded)).await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", over.text);
    let message = over.body["error"]["message"].as_str().unwrap();
    let stated = app::domain::megabytes(server::state::MAX_MULTIPART_BODY_BYTES);
    assert!(message.contains(&stated), "{message}");
    assert_eq!(
        app.audit.records().len(),
        2,
        "the refused upload left no record"
    );
}

#[tokio::test]
async fn server_functions_share_the_workflow_and_its_status_codes() {
    let app = spawn_app().await;
    let data_url = format!(
        "data:image/png;base64,{}",
        b64(&fixture("depleted-dark.png"))
    );
    let granted = app
        .server_fn(
            "request_pro",
            Some(MEMBER_KEY),
            json!({ "email": ADA, "first_name": null, "last_name": null, "image": data_url }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.body["verdict"], "granted");

    let forbidden = app
        .server_fn(
            "create_user",
            Some(MEMBER_KEY),
            json!({ "email": "x@example.com", "first_name": null, "last_name": null, "display_name": null }),
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.text
    );
    assert_eq!(forbidden.body["code"], "forbidden");

    let lists = app
        .server_fn("load_admin_page", Some(ADMIN_KEY), json!({}))
        .await;
    assert_eq!(lists.status, StatusCode::OK, "{}", lists.text);
    assert_eq!(lists.body["recent"][0]["email"], ADA);
    assert_eq!(lists.body["recent"][0]["verdict"], "granted");
    assert_eq!(lists.body["waiting"], json!([]));

    let member_reads = app
        .server_fn("load_admin_page", Some(MEMBER_KEY), json!({}))
        .await;
    assert_eq!(member_reads.status, StatusCode::FORBIDDEN);

    // A key in the body (as the pages once sent it) counts for nothing: API Gateway would
    // refuse such a call, so the server does too.
    let key_in_body = app
        .server_fn("load_admin_page", None, json!({ "api_key": ADMIN_KEY }))
        .await;
    assert_eq!(
        key_in_body.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        key_in_body.text
    );
    assert_eq!(key_in_body.body["code"], "missing_key");
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let app = spawn_app_with(|c| {
        c.cors_origins = vec![http::HeaderValue::from_static("https://tools.example.com")]
    })
    .await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/check-credits")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "x-api-key,content-type")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = app.send(preflight("https://tools.example.com")).await;
    assert!(allowed.status.is_success());
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://tools.example.com"
    );
    assert!(allowed.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("x-api-key"));
    let other = app.send(preflight("https://evil.example.net")).await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_embedded_default_keeps_its_keys_and_data_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let open = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let root = tempfile::tempdir().unwrap();
    // A fresh data directory, and one an earlier version left open with its keys readable.
    let fresh = root.path().join("fresh");
    let earlier = root.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(
        earlier.join("keys.json"),
        r#"{"member":"km_1","admin":"ka_1"}"#,
    )
    .unwrap();
    open(&earlier, 0o755);
    open(&earlier.join("keys.json"), 0o644);
    for data in [&fresh, &earlier] {
        let mut config = server::Config::local(data.to_path_buf(), "", "");
        assert!(config.ensure_local_keys().unwrap());
        server::Application::build(&config, test_leptos_options())
            .await
            .unwrap();
        assert_eq!(mode(data), 0o700, "{}", data.display());
        assert_eq!(mode(&data.join("keys.json")), 0o600, "{}", data.display());
    }
    assert_eq!(
        std::fs::read_to_string(earlier.join("keys.json")).unwrap(),
        r#"{"member":"km_1","admin":"ka_1"}"#,
        "the keys were kept"
    );
}

#[tokio::test]
async fn built_assets_go_out_precompressed_and_cached_a_year_and_pages_are_never_cached() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("kiro-access.abc123.wasm"), b"plain wasm").unwrap();
    std::fs::write(pkg.join("kiro-access.abc123.wasm.br"), b"brotli wasm").unwrap();
    std::fs::write(pkg.join("kiro-access.abc123.wasm.gz"), b"gzip wasm").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut options = test_leptos_options();
    options.site_root = site.path().display().to_string().into();
    options.hash_files = true;
    let router = server::Application::build(&test_config(data.path()), options)
        .await
        .unwrap()
        .router;
    let fetch = |path: &str, accept: &str| {
        Request::get(path)
            .header("accept-encoding", accept)
            .body(Body::empty())
            .unwrap()
    };

    for (accept, encoding, body) in [
        ("gzip, deflate, br", Some("br"), "brotli wasm"),
        ("gzip", Some("gzip"), "gzip wasm"),
        ("identity", None, "plain wasm"),
    ] {
        let reply = send(&router, fetch("/pkg/kiro-access.abc123.wasm", accept)).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(reply.text, body, "{accept}");
        let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-encoding"), encoding, "{accept}");
        assert_eq!(header("content-type"), Some("application/wasm"), "{accept}");
        assert_eq!(
            header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{accept}"
        );
    }
    // A name that is not there is not cached; pages and answers never are.
    let missing = send(&router, fetch("/pkg/kiro-access.old.wasm", "br")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_ne!(
        missing.headers.get("cache-control").unwrap(),
        "public, max-age=31536000, immutable"
    );
    for path in ["/", "/admin", "/healthz"] {
        let reply = send(&router, fetch(path, "br")).await;
        assert_eq!(reply.headers["cache-control"], "no-store", "{path}");
    }
}
