//! The AWS adapters against real SDK clients at the wire: moto (server mode) for the Identity
//! Store, S3 and Parameter Store; small fakes for Bedrock's Converse API and for the Identity
//! Store behaviour moto lacks (ConflictException on a duplicate membership).

use crate::common::wire_fakes::{
    converse_tool_use, converse_with, depleted_evidence, Answer, Fake,
};
use crate::common::{fixture, moto, new_user};
use app::ssr::ports::{Analyzer, AuditStore, Directory, NormalisedImage, PortError, RecordIndex};
use app::ssr::workflow::{CheckRequest, ImageUpload};
use app::ssr::{KeyRing, RateLimiter, Secret, Services};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig};
use base64::Engine;
use server::adapters::aws::bedrock::{BedrockAnalyzer, DEFAULT_MODEL_ID, TOOL_NAME};
use server::adapters::aws::{
    parameters::parameters_under, sdk_config, IdentityStoreDirectory, S3AuditStore,
};
use server::config::{
    AnalyzerBackend, AuditBackend, BedrockSettings, DirectoryBackend, IndexBackend,
};
use server::Config;
use std::sync::Arc;
use std::time::Duration;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// One test's place in moto: a fresh Identity Store id, bucket name and records table name.
#[derive(Clone)]
struct AwsPlace {
    store_id: String,
    bucket: String,
    table: String,
}

impl AwsPlace {
    fn new() -> Self {
        Self {
            store_id: unique("d"),
            bucket: unique("kiro-audit"),
            table: unique("kiro-records"),
        }
    }

    /// Points every AWS port of `config` here (Bedrock at `bedrock`), with fast retries.
    fn configure(&self, config: &mut Config, bedrock: &str) {
        config.aws.endpoint_url = Some(moto::endpoint());
        config.directory = DirectoryBackend::IdentityStore {
            store_id: self.store_id.clone(),
            region: Some(IDENTITY_REGION.into()),
        };
        config.audit_store = AuditBackend::S3 {
            bucket: self.bucket.clone(),
        };
        config.record_index = IndexBackend::DynamoDb {
            table: self.table.clone(),
        };
        config.analyzer = AnalyzerBackend::Bedrock(BedrockSettings {
            model_id: DEFAULT_MODEL_ID.into(),
            region: None,
            timeout: Duration::from_secs(2),
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            prompt: None,
            endpoint_url: Some(bedrock.to_owned()),
        });
    }
}

/// Standard retries as in production (moto itself answers 500 now and then under concurrent
/// writes), with a short backoff.
pub async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config(
        Some(endpoint),
        None,
        RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)),
        TimeoutConfig::builder()
            .operation_timeout(Duration::from_secs(10))
            .build(),
    )
    .await
}

/// Where the app's Identity Store lives in these tests: not the SDK's default region (moto
/// keeps each region apart), as IAM Identity Center often is not the function's.
const IDENTITY_REGION: &str = "eu-west-1";

async fn directory_at(endpoint: &str, store: &str) -> IdentityStoreDirectory {
    directory_in(endpoint, store, IDENTITY_REGION).await
}

async fn directory_in(endpoint: &str, store: &str, region: &str) -> IdentityStoreDirectory {
    let conf = aws_sdk_identitystore::config::Builder::from(&sdk(endpoint).await)
        .region(aws_sdk_identitystore::config::Region::new(
            region.to_owned(),
        ))
        .build();
    IdentityStoreDirectory::new(aws_sdk_identitystore::Client::from_conf(conf), store)
}

async fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk(&moto::endpoint()).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A fresh records table in moto, made as `infra/template.yaml` makes it, and its index.
pub async fn new_table() -> server::adapters::aws::DynamoIndex {
    let client = aws_sdk_dynamodb::Client::new(&sdk(&moto::endpoint()).await);
    let table = unique("kiro-records");
    crate::common::records_table::create(&client, &table).await;
    server::adapters::aws::DynamoIndex::new(client, table)
}

pub async fn new_bucket() -> (aws_sdk_s3::Client, String) {
    let client = s3_client().await;
    let bucket = unique("kiro-audit");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    (client, bucket)
}

fn image() -> NormalisedImage {
    app::ssr::normalise::normalise(&fixture("depleted-light.png")).unwrap()
}

// ---- Identity Store --------------------------------------------------------------------------

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
        dir.create_user(&new_user("ada@example.com")).await,
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
        Err(PortError::Unavailable { .. })
    ));
}

// ---- S3 --------------------------------------------------------------------------------------

#[tokio::test]
async fn s3_screenshots_are_typed_and_encrypted() {
    let (client, bucket) = new_bucket().await;
    let store = S3AuditStore::new(client.clone(), &bucket);
    let key = "screenshots/20260101-000000-user0.png";
    store
        .put_screenshot(key, b"png", "image/png")
        .await
        .unwrap();
    let head = client
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
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
    AwsPlace::new().configure(&mut config, "http://127.0.0.1:9");
    config.aws.ssm_path = Some(path);
    server::startup::load_parameters(&mut config).await.unwrap();
    let exposed = |keys: &[Secret]| {
        keys.iter()
            .map(|k| k.expose().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(exposed(&config.member_keys), ["mk1", "mk2"]);
    assert_eq!(exposed(&config.admin_keys), ["ak1"]);
    let AnalyzerBackend::Bedrock(bedrock) = &config.analyzer else {
        panic!("bedrock expected")
    };
    assert_eq!(bedrock.prompt.as_deref(), Some("Read the page."));
    // The group comes from the stack (KIRO_GROUP_ID), never from a writable parameter: the
    // role may add members to that group only.
    assert_eq!(config.group_id, None);
}

// ---- Bedrock ---------------------------------------------------------------------------------

async fn analyzer_at(fake: &Fake) -> BedrockAnalyzer {
    let config = sdk_config(
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
    assert!(matches!(err, PortError::Upstream { .. }), "{err:?}");
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
    assert!(matches!(err, PortError::Timeout { .. }), "{err:?}");
}

// ---- The whole flow on AWS -------------------------------------------------------------------

/// A place for one test, with its screenshots bucket and records table created in moto.
async fn place_with_bucket() -> AwsPlace {
    let place = AwsPlace::new();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk(&moto::endpoint()).await);
    crate::common::records_table::create(&dynamodb, &place.table).await;
    s3_client()
        .await
        .create_bucket()
        .bucket(&place.bucket)
        .send()
        .await
        .unwrap();
    place
}

/// The router with every port on AWS: moto for the Identity Store and S3, the fake for Bedrock.
async fn aws_app(bedrock: &Fake) -> (crate::common::TestApp, AwsPlace) {
    let place = place_with_bucket().await;
    let url = bedrock.url.clone();
    let for_app = place.clone();
    let app = crate::common::spawn_app_with(move |c| {
        for_app.configure(c, &url);
        c.rate_limits = app::ssr::access::RateLimits {
            per_second: 100.0,
            burst: 100,
            per_day: 1000,
        };
    })
    .await;
    (app, place)
}

/// Ada asks for Pro with her depleted screenshot, through the JSON endpoint.
async fn ada_requests_pro(app: &crate::common::TestApp) -> crate::common::Reply {
    app.check(
        Some(crate::common::MEMBER_KEY),
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
    let (app, place) = aws_app(&bedrock).await;
    let reply = ada_requests_pro(&app).await;
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "granted");

    // The user and the membership are in the Identity Store.
    let dir = directory_at(&moto::endpoint(), &place.store_id).await;
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
    // ... in the configured region, not the SDK's default one.
    let elsewhere = directory_in(&moto::endpoint(), &place.store_id, "us-east-1").await;
    assert_eq!(elsewhere.find_user("ada@example.com").await.unwrap(), None);

    // The decision is in the records table (DynamoDB), with the model's usage; its screenshot
    // is in S3; the claim and the seat are in the table too.
    let index = server::adapters::aws::DynamoIndex::new(
        aws_sdk_dynamodb::Client::new(&sdk(&moto::endpoint()).await),
        &place.table,
    );
    let key = reply.body["recordKey"].as_str().unwrap();
    let query = app::ssr::ports::DecisionQuery {
        email: Some("ada@example.com".into()),
        limit: 10,
        ..Default::default()
    };
    let found = index.decisions(&query).await.unwrap().records;
    assert_eq!(found.len(), 1, "{found:?}");
    let record = serde_json::to_value(&found[0]).unwrap();
    assert_eq!(found[0].record_key(), key);
    assert_eq!(record["applied"], true);
    assert_eq!(record["analyzer"], "bedrock:us.amazon.nova-pro-v1:0");
    assert_eq!(record["evidence"]["modelUsage"]["inputTokens"], 1234);
    s3_client()
        .await
        .head_object()
        .bucket(&place.bucket)
        .key(record["screenshotKey"].as_str().unwrap())
        .send()
        .await
        .expect("the screenshot is stored");
    assert_eq!(
        index
            .image_owner(record["imageSha256"].as_str().unwrap())
            .await
            .unwrap()
            .as_deref(),
        Some("ada@example.com")
    );
    assert!(index.seat("ada@example.com").await.unwrap().is_some());

    // Already Pro now: no second model call.
    let again = ada_requests_pro(&app).await;
    assert_eq!(again.body["verdict"], "already_pro");
    assert_eq!(bedrock.received().len(), 1);
}

#[tokio::test]
async fn model_failures_grant_nothing_and_say_why() {
    for (answer, status) in [
        (Answer::error(429, "ThrottlingException", "slow down"), 503),
        (
            converse_tool_use(depleted_evidence("ada@example.com")).after(Duration::from_secs(3)),
            504,
        ),
    ] {
        let bedrock = Fake::start(vec![answer]).await;
        let (app, place) = aws_app(&bedrock).await;
        let reply = ada_requests_pro(&app).await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("Nothing was changed"), "{message}");
        assert!(
            !message.contains("slow down"),
            "upstream text leaked: {message}"
        );
        assert!(
            !message.contains("Throttling"),
            "upstream text leaked: {message}"
        );
        assert!(
            reply.body["error"]["requestId"].is_string(),
            "{}",
            reply.text
        );
        let dir = directory_at(&moto::endpoint(), &place.store_id).await;
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
    let place = place_with_bucket().await;
    let (bucket, store) = (place.bucket.clone(), place.store_id.clone());
    let audit: Arc<dyn app::ssr::ports::AuditStore> =
        Arc::new(S3AuditStore::new(s3_client().await, &bucket));
    let services = Arc::new(Services::new(
        Arc::new(directory_at(&moto::endpoint(), &store).await),
        audit.clone(),
        Arc::new(server::adapters::BlobIndex::new(audit)),
        Arc::new(analyzer_at(&bedrock).await),
        KeyRing::new(vec![Secret::new("m".into())], vec![]),
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
            code: None,
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
    let identity = aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::config::Builder::from(&sdk(&moto::endpoint()).await)
            .region(aws_sdk_identitystore::config::Region::new(IDENTITY_REGION))
            .build(),
    );
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
