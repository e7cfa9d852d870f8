//! The AWS adapters against real SDK clients at the wire: moto (server mode) for the Identity
//! Store, S3 and Parameter Store; small fakes for Bedrock's Converse API and for the Identity
//! Store behaviour moto lacks (ConflictException on a duplicate membership).

mod common;

use app::ssr::ports::{
    Analyzer, AuditStore, Claim, Directory, NewUser, NormalisedImage, PortError,
};
use app::ssr::workflow::{CheckRequest, ImageUpload};
use app::ssr::{KeyRing, RateLimiter, Services};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig};
use base64::Engine;
use common::fakes::{converse_tool_use, converse_with, depleted_evidence, Answer, Fake};
use common::{fixture, moto};
use server::adapters::aws::bedrock::{BedrockAnalyzer, DEFAULT_MODEL_ID, TOOL_NAME};
use server::adapters::aws::{parameters::parameters_under, IdentityStoreDirectory, S3AuditStore};
use server::config::AwsConfig;
use server::Config;
use std::sync::Arc;
use std::time::Duration;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Settings pointing every AWS port at moto (and Bedrock at `bedrock`), with fast retries.
fn aws_settings(bedrock: Option<&str>) -> AwsConfig {
    let mut config = Config::local("unused".into(), "m", "a").aws;
    config.endpoint_url = Some(moto::endpoint());
    config.bedrock_endpoint_url = bedrock.map(str::to_owned);
    config.identity_store_id = Some(unique("d"));
    config.s3_bucket = Some(unique("kiro-audit"));
    config.bedrock_max_attempts = 2;
    config.bedrock_initial_backoff = Duration::from_millis(10);
    config.bedrock_timeout = Duration::from_secs(2);
    config
}

/// Standard retries as in production (moto itself answers 500 now and then under concurrent
/// writes), with a short backoff.
async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_settings(None)
        .sdk_config(
            Some(endpoint),
            None,
            RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)),
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .await
}

async fn directory_at(endpoint: &str, store: &str) -> IdentityStoreDirectory {
    IdentityStoreDirectory::new(
        aws_sdk_identitystore::Client::new(&sdk(endpoint).await),
        store,
    )
}

async fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk(&moto::endpoint()).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn new_bucket() -> (aws_sdk_s3::Client, String) {
    let client = s3_client().await;
    let bucket = unique("kiro-audit");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    (client, bucket)
}

fn user(email: &str) -> NewUser {
    NewUser {
        user_name: email.into(),
        display_name: "Ada Lovelace".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        email: email.into(),
    }
}

fn image() -> NormalisedImage {
    app::ssr::normalise::normalise(&fixture("depleted-light.png")).unwrap()
}

// ---- Identity Store --------------------------------------------------------------------------

#[tokio::test]
async fn identity_store_users_groups_and_memberships() {
    let dir = directory_at(&moto::endpoint(), &unique("d")).await;
    assert_eq!(dir.find_user("ada@example.com").await.unwrap(), None);
    let id = dir.create_user(&user("ada@example.com")).await.unwrap();
    assert_eq!(
        dir.find_user("ada@example.com").await.unwrap(),
        Some(id.clone())
    );
    assert!(matches!(
        dir.create_user(&user("ada@example.com")).await,
        Err(PortError::Conflict)
    ));

    assert_eq!(dir.find_group("Kiro Pro").await.unwrap(), None);
    let group = dir.create_group("Kiro Pro").await.unwrap();
    assert_eq!(
        dir.find_group("Kiro Pro").await.unwrap(),
        Some(group.clone())
    );
    assert!(matches!(
        dir.create_group("Kiro Pro").await,
        Err(PortError::Conflict)
    ));

    assert!(!dir.is_member(&group, &id).await.unwrap());
    dir.add_member(&group, &id).await.unwrap();
    assert!(dir.is_member(&group, &id).await.unwrap());
    let other = dir.create_group("Other").await.unwrap();
    assert!(!dir.is_member(&other, &id).await.unwrap());
}

#[tokio::test]
async fn a_duplicate_membership_is_a_conflict_as_aws_answers_it() {
    // moto accepts duplicate memberships; real AWS answers ConflictException. Serve that.
    let fake = Fake::start(vec![Answer::error(
        400,
        "ConflictException",
        "Member already exists in group",
    )])
    .await;
    let dir = directory_at(&fake.url, "d-1234567890").await;
    assert!(matches!(
        dir.add_member("g-1", "u-1").await,
        Err(PortError::Conflict)
    ));
    assert!(matches!(
        dir.create_user(&user("ada@example.com")).await,
        Err(PortError::Conflict)
    ));
    let sent = fake.received();
    assert_eq!(
        sent[0].target.as_deref(),
        Some("AWSIdentityStore.CreateGroupMembership")
    );
    assert_eq!(sent[0].body["MemberId"]["UserId"], "u-1");
    assert_eq!(
        sent[1].target.as_deref(),
        Some("AWSIdentityStore.CreateUser")
    );
    assert_eq!(sent[1].body["Emails"][0]["Primary"], true);
}

#[tokio::test]
async fn an_unreachable_identity_store_is_unavailable() {
    let dir = directory_at("http://127.0.0.1:9", "d-1").await;
    assert!(matches!(
        dir.find_user("ada@example.com").await,
        Err(PortError::Unavailable(_))
    ));
}

// ---- S3 --------------------------------------------------------------------------------------

#[tokio::test]
async fn s3_keeps_records_and_lists_them_newest_first_across_pages() {
    let (client, bucket) = new_bucket().await;
    let store = S3AuditStore::new(client.clone(), &bucket).with_page_size(2);
    let month = chrono::Utc::now().format("%Y%m").to_string();
    for i in 0..5 {
        let mut record = sample_record(&format!("user{i}@example.com"));
        record.at = format!("{i}");
        store
            .put_record(
                &format!("screenshots/{month}01-00000{i}-user{i}.json"),
                &record,
            )
            .await
            .unwrap();
    }
    store
        .put_screenshot(
            &format!("screenshots/{month}01-000000-user0.png"),
            b"png",
            "image/png",
        )
        .await
        .unwrap();
    let recent = store.recent(10).await.unwrap();
    let emails: Vec<_> = recent.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "user4@example.com",
            "user3@example.com",
            "user2@example.com",
            "user1@example.com",
            "user0@example.com"
        ]
    );
    assert_eq!(store.recent(2).await.unwrap().len(), 2);

    let head = client
        .head_object()
        .bucket(&bucket)
        .key(format!("screenshots/{month}01-000000-user0.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
}

#[tokio::test]
async fn s3_image_claims_are_first_writer_wins() {
    let (client, bucket) = new_bucket().await;
    let store = S3AuditStore::new(client, &bucket);
    assert_eq!(store.image_owner("abc").await.unwrap(), None);
    assert_eq!(
        store.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        store.claim_image("abc", "ada@example.com").await.unwrap(),
        Claim::SameOwner
    );
    assert_eq!(
        store.claim_image("abc", "eve@example.com").await.unwrap(),
        Claim::OtherOwner("ada@example.com".into())
    );
}

fn sample_record(email: &str) -> app::api::DecisionRecord {
    app::api::DecisionRecord {
        at: "now".into(),
        email: email.into(),
        verdict: app::api::Verdict::Denied,
        reason: None,
        message: "m".into(),
        evidence: None,
        analyzer: "test".into(),
        image_sha256: "00".into(),
        screenshot_key: "k".into(),
        timings: Default::default(),
        applied: None,
        error: None,
    }
}

// ---- Parameter Store -------------------------------------------------------------------------

#[tokio::test]
async fn parameters_are_read_across_pages_and_configure_the_app() {
    let ssm = aws_sdk_ssm::Client::new(&sdk(&moto::endpoint()).await);
    let path = format!("/{}", unique("kiro-access"));
    let put = |name: String, value: &str, secure: bool| {
        let ssm = ssm.clone();
        let value = value.to_owned();
        async move {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(if secure {
                    aws_sdk_ssm::types::ParameterType::SecureString
                } else {
                    aws_sdk_ssm::types::ParameterType::String
                })
                .send()
                .await
                .unwrap();
        }
    };
    put(format!("{path}/member-keys"), "mk1, mk2", true).await;
    put(format!("{path}/admin-keys"), "ak1", true).await;
    put(format!("{path}/prompt"), "Read the page.", false).await;
    put(format!("{path}/group-id"), "g-123", false).await;
    for i in 0..9 {
        put(format!("{path}/extra/p{i}"), "x", false).await;
    }
    let found = parameters_under(&ssm, &path).await.unwrap();
    assert_eq!(found.len(), 13, "every page must be read: {found:?}");
    assert_eq!(found["member-keys"], "mk1, mk2");

    let mut config = Config::local(tempfile::tempdir().unwrap().path().to_owned(), "", "");
    config.member_keys.clear();
    config.admin_keys.clear();
    config.aws = aws_settings(None);
    config.aws.ssm_path = Some(path);
    config.load_parameters().await.unwrap();
    assert_eq!(config.member_keys, ["mk1", "mk2"]);
    assert_eq!(config.admin_keys, ["ak1"]);
    assert_eq!(config.aws.prompt.as_deref(), Some("Read the page."));
    assert_eq!(config.aws.group_id.as_deref(), Some("g-123"));
}

// ---- Bedrock ---------------------------------------------------------------------------------

async fn analyzer_at(fake: &Fake) -> BedrockAnalyzer {
    let settings = aws_settings(Some(&fake.url));
    let config = settings
        .sdk_config(
            Some(&fake.url),
            None,
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(500))
                .build(),
        )
        .await;
    BedrockAnalyzer::new(
        aws_sdk_bedrockruntime::Client::new(&config),
        DEFAULT_MODEL_ID,
        "PROMPT-UNDER-TEST",
    )
}

#[tokio::test]
async fn bedrock_is_asked_for_evidence_through_the_forced_tool() {
    let fake = Fake::start(vec![converse_tool_use(depleted_evidence(
        "ada@example.com",
    ))])
    .await;
    let image = image();
    let evidence = analyzer_at(&fake).await.analyze(&image).await.unwrap();
    assert_eq!(evidence.unreadable, None);
    assert_eq!(evidence.emails_seen, ["ada@example.com"]);
    assert_eq!(evidence.counters[0].limit, 50.0);
    let usage = evidence.model_usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.latency_ms),
        (1234, 56, 789)
    );

    let sent = &fake.received()[0];
    assert_eq!(sent.path, "/model/us.amazon.nova-pro-v1%3A0/converse");
    assert_eq!(sent.body["system"][0]["text"], "PROMPT-UNDER-TEST");
    assert_eq!(
        sent.body["toolConfig"]["toolChoice"]["tool"]["name"],
        TOOL_NAME
    );
    assert_eq!(
        sent.body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        TOOL_NAME
    );
    assert_eq!(sent.body["inferenceConfig"]["temperature"], 0.0);
    let block = &sent.body["messages"][0]["content"][0]["image"];
    assert_eq!(block["format"], "png");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(block["source"]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        bytes, image.png,
        "the normalised image must be sent as bytes"
    );
}

#[tokio::test]
async fn prose_or_malformed_answers_are_unreadable() {
    let prose = Fake::start(vec![converse_with(
        serde_json::json!([{ "text": "It is depleted, grant it." }]),
        "end_turn",
    )])
    .await;
    let evidence = analyzer_at(&prose).await.analyze(&image()).await.unwrap();
    assert!(evidence.unreadable.is_some());

    let malformed = Fake::start(vec![converse_tool_use(
        serde_json::json!({ "verdict": "grant", "emails_seen": "ada" }),
    )])
    .await;
    let evidence = analyzer_at(&malformed)
        .await
        .analyze(&image())
        .await
        .unwrap();
    assert!(evidence.unreadable.is_some());
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let throttled = || Answer::error(429, "ThrottlingException", "Too many requests");
    let once = Fake::start(vec![
        throttled(),
        converse_tool_use(depleted_evidence("ada@example.com")),
    ])
    .await;
    let evidence = analyzer_at(&once).await.analyze(&image()).await.unwrap();
    assert_eq!(evidence.emails_seen, ["ada@example.com"]);
    assert_eq!(once.received().len(), 2, "one retry after the throttle");

    let always = Fake::start(vec![throttled()]).await;
    let err = analyzer_at(&always)
        .await
        .analyze(&image())
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Upstream(_)), "{err:?}");
    assert_eq!(always.received().len(), 2);
}

#[tokio::test]
async fn a_slow_model_times_out() {
    let slow = Fake::start(vec![converse_tool_use(depleted_evidence(
        "ada@example.com",
    ))
    .after(Duration::from_secs(3))])
    .await;
    let err = analyzer_at(&slow)
        .await
        .analyze(&image())
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Timeout(_)), "{err:?}");
}

// ---- The whole flow on AWS -------------------------------------------------------------------

/// AWS settings for one test, with its screenshots bucket created in moto.
async fn settings_with_bucket(bedrock: &Fake) -> AwsConfig {
    let settings = aws_settings(Some(&bedrock.url));
    let bucket = settings.s3_bucket.clone().unwrap();
    s3_client()
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    settings
}

/// The router with every port on AWS: moto for the Identity Store and S3, the fake for Bedrock.
async fn aws_app(bedrock: &Fake) -> (common::TestApp, AwsConfig) {
    let settings = settings_with_bucket(bedrock).await;
    let for_app = settings.clone();
    let app = common::spawn_app_with(move |c| {
        c.directory = "identitystore".into();
        c.audit_store = "s3".into();
        c.analyzer = "bedrock".into();
        c.aws = for_app;
        c.rate_limits = app::ssr::access::RateLimits {
            per_second: 100.0,
            burst: 100,
            per_day: 1000,
        };
    })
    .await;
    (app, settings)
}

/// Ada asks for Pro with her depleted screenshot, through the JSON endpoint.
async fn ada_requests_pro(app: &common::TestApp) -> common::Reply {
    app.check(
        Some(common::MEMBER_KEY),
        "ada@example.com",
        &fixture("depleted-light.png"),
    )
    .await
}

#[tokio::test]
async fn check_credits_end_to_end_on_aws() {
    let bedrock = Fake::start(vec![converse_tool_use(depleted_evidence(
        "ada@example.com",
    ))])
    .await;
    let (app, settings) = aws_app(&bedrock).await;
    let reply = ada_requests_pro(&app).await;
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");

    // The user and the membership are in the Identity Store.
    let dir = directory_at(
        &moto::endpoint(),
        settings.identity_store_id.as_deref().unwrap(),
    )
    .await;
    let user = dir
        .find_user("ada@example.com")
        .await
        .unwrap()
        .expect("user created");
    let group = dir
        .find_group("Kiro Pro")
        .await
        .unwrap()
        .expect("group created");
    assert!(dir.is_member(&group, &user).await.unwrap());

    // The screenshot and the record are in S3, with the model's usage.
    let s3 = s3_client().await;
    let key = reply.body["recordKey"].as_str().unwrap();
    let object = s3
        .get_object()
        .bucket(settings.s3_bucket.as_deref().unwrap())
        .key(key)
        .send()
        .await
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!(record["applied"], true);
    assert_eq!(record["analyzer"], "bedrock:us.amazon.nova-pro-v1:0");
    assert_eq!(record["evidence"]["modelUsage"]["inputTokens"], 1234);
    s3.head_object()
        .bucket(settings.s3_bucket.as_deref().unwrap())
        .key(record["screenshotKey"].as_str().unwrap())
        .send()
        .await
        .expect("the screenshot is stored");

    // Already Pro now: no second model call.
    let again = ada_requests_pro(&app).await;
    assert_eq!(again.body["verdict"], "already_pro");
    assert_eq!(bedrock.received().len(), 1);
}

#[tokio::test]
async fn model_failures_grant_nothing_and_say_why() {
    for (answer, status) in [
        (Answer::error(429, "ThrottlingException", "slow down"), 502),
        (
            converse_tool_use(depleted_evidence("ada@example.com")).after(Duration::from_secs(3)),
            504,
        ),
    ] {
        let bedrock = Fake::start(vec![answer]).await;
        let (app, settings) = aws_app(&bedrock).await;
        let reply = ada_requests_pro(&app).await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
        assert!(reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Nothing was changed"));
        let dir = directory_at(
            &moto::endpoint(),
            settings.identity_store_id.as_deref().unwrap(),
        )
        .await;
        assert_eq!(dir.find_user("ada@example.com").await.unwrap(), None);
    }

    let prose = Fake::start(vec![converse_with(
        serde_json::json!([{ "text": "grant it" }]),
        "end_turn",
    )])
    .await;
    let (app, _) = aws_app(&prose).await;
    let reply = ada_requests_pro(&app).await;
    assert_eq!(reply.body["reason"], "unreadable", "{}", reply.text);
}

#[tokio::test]
async fn concurrent_duplicate_grants_on_aws_make_one_user() {
    let bedrock = Fake::start(vec![converse_tool_use(depleted_evidence(
        "ada@example.com",
    ))])
    .await;
    let settings = settings_with_bucket(&bedrock).await;
    let bucket = settings.s3_bucket.clone().unwrap();
    let store = settings.identity_store_id.clone().unwrap();
    let services = Arc::new(Services::new(
        Arc::new(directory_at(&moto::endpoint(), &store).await),
        Arc::new(S3AuditStore::new(s3_client().await, &bucket)),
        Arc::new(analyzer_at(&bedrock).await),
        KeyRing::new(vec!["m".into()], vec![]),
        RateLimiter::new(app::ssr::access::RateLimits {
            per_second: 100.0,
            burst: 100,
            per_day: 1000,
        }),
        "Kiro Pro".into(),
    ));
    let shot = fixture("depleted-light.png");
    let calls = (0..5).map(|_| {
        let services = services.clone();
        let request = CheckRequest {
            api_key: Some("m".into()),
            email: "ada@example.com".into(),
            first_name: None,
            last_name: None,
            image: ImageUpload::Bytes(shot.clone()),
        };
        tokio::spawn(async move { services.check_credits(request).await })
    });
    for outcome in futures::future::join_all(calls).await {
        let outcome = outcome.unwrap().expect("every request succeeds");
        assert!(matches!(
            outcome.verdict,
            app::api::Verdict::Granted | app::api::Verdict::AlreadyPro
        ));
    }
    // Exactly one user; the group was created once (a duplicate would have been a conflict).
    let identity = aws_sdk_identitystore::Client::new(&sdk(&moto::endpoint()).await);
    let users = identity
        .list_users()
        .identity_store_id(&store)
        .send()
        .await
        .unwrap();
    assert_eq!(users.users().len(), 1);
    let groups = identity
        .list_groups()
        .identity_store_id(&store)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);
}
