//! The one way to start: `Application::build(config, leptos_options)` wires each port to the
//! adapter the configuration names and builds the router. The binary (TCP or Lambda), the
//! integration tests and the benchmark all call it, so a test runs what production runs.

use crate::adapters::aws::{
    bedrock, parameters::parameters_under, sdk_config, BedrockAnalyzer, DynamoIndex,
    IdentityStoreDirectory, S3AuditStore, SesMailer,
};
use crate::adapters::record_import::{self, import_bucket, Imported};
use crate::adapters::{
    BlobIndex, FileAuditStore, OutboxMailer, PpOcrAnalyzer, SmtpMailer, SqliteDirectory,
    SqliteIndex, TesseractAnalyzer,
};
use crate::config::{
    AnalyzerBackend, AuditBackend, BedrockSettings, Config, DirectoryBackend, IndexBackend,
    MailerBackend,
};
use crate::router::app;
use crate::state::AppState;
use anyhow::{bail, Context};
use app::ssr::notify::Notifier;
use app::ssr::ports::{Analyzer, AuditStore, Directory, Mailer, RecordIndex};
use app::ssr::{KeyRing, RateLimiter, Services};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, SdkConfig};
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

/// One SMTP exchange (connect, hand over, quit) at most.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The built app: the router to serve and the services behind it.
pub struct Application {
    pub router: Router,
    pub services: Arc<Services>,
}

impl Application {
    pub async fn build(config: &Config, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let services = services(config).await?;
        Ok(Self::with_services(config, services, leptos_options))
    }

    /// The same app over ports made elsewhere (the tests' in-memory fakes).
    pub fn with_services(
        config: &Config,
        services: Services,
        leptos_options: LeptosOptions,
    ) -> Self {
        let services = Arc::new(services);
        let router = app(AppState {
            leptos_options,
            services: services.clone(),
            cors_origins: config.cors_origins.clone(),
        });
        Self { router, services }
    }
}

/// Sweeps the seats every `every` in the background (a local server's schedule; on Lambda the
/// template's rule invokes the function instead). Zero: never.
pub fn sweep_every(services: Arc<Services>, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = services.sweep().await {
                tracing::warn!(cause = %app::ssr::error::CauseChain(&e), "the seat sweep failed");
            }
        }
    });
}

/// The Leptos options of the running binary (`LEPTOS_*` variables, set by cargo-leptos and the
/// Lambda package), with hashed asset names when the build left a hash file beside it.
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::prelude::get_configuration(None)
        .context("reading the Leptos configuration")?
        .leptos_options;
    let hash_file = app::ssr::assets::hash_file_path(&options);
    let explicit = std::env::var("LEPTOS_HASH_FILES").ok();
    app::ssr::assets::detect_hashed_build(&mut options, explicit.as_deref(), &hash_file);
    Ok(options)
}

/// Reads keys, prompt and group id from Parameter Store when `KIRO_SSM_PATH` is set.
pub async fn load_parameters(config: &mut Config) -> anyhow::Result<()> {
    let Some(path) = config.aws.ssm_path.clone() else {
        return Ok(());
    };
    let client = aws_sdk_ssm::Client::new(&services_sdk(config).await);
    let found = parameters_under(&client, &path).await.map_err(|e| {
        anyhow::Error::new(e).context(format!("reading Parameter Store path {path}"))
    })?;
    config.apply_parameters(&found);
    Ok(())
}

/// Connects each port to the adapter the configuration names.
pub async fn services(config: &Config) -> anyhow::Result<Services> {
    if config.member_keys.is_empty() && config.admin_keys.is_empty() {
        bail!("no API keys configured: set KIRO_MEMBER_KEYS and KIRO_ADMIN_KEYS");
    }
    if matches!(config.directory, DirectoryBackend::Sqlite)
        || matches!(config.audit_store, AuditBackend::Files)
        || config.mail.backend == MailerBackend::Outbox
    {
        crate::private_files::private_dir(&config.data_dir)?;
    }
    // Loaded once, by the first port switched to AWS.
    let sdk = tokio::sync::OnceCell::new();
    let sdk = || sdk.get_or_init(|| services_sdk(config));
    let directory: Arc<dyn Directory> = match &config.directory {
        DirectoryBackend::Sqlite => Arc::new(SqliteDirectory::open(
            &config.data_dir.join("directory.sqlite"),
        )?),
        DirectoryBackend::IdentityStore { store_id, region } => {
            let mut client = aws_sdk_identitystore::config::Builder::from(sdk().await);
            if let Some(region) = region {
                client = client.region(aws_sdk_identitystore::config::Region::new(region.clone()));
            }
            Arc::new(IdentityStoreDirectory::new(
                aws_sdk_identitystore::Client::from_conf(client.build()),
                store_id.clone(),
            ))
        }
    };
    let audit: Arc<dyn AuditStore> = match &config.audit_store {
        AuditBackend::Files => Arc::new(FileAuditStore::open(&config.data_dir)?),
        AuditBackend::S3 { bucket } => Arc::new(s3_audit(config, sdk().await, bucket)),
    };
    let index: Arc<dyn RecordIndex> = match &config.record_index {
        IndexBackend::Beside => record_index(config, &audit).await?,
        IndexBackend::DynamoDb { table } => Arc::new(dynamo_index(sdk().await, table)),
    };
    let analyzer: Arc<dyn Analyzer> = match &config.analyzer {
        AnalyzerBackend::PpOcr(settings) => Arc::new(
            PpOcrAnalyzer::load(settings)
                .map_err(|e| anyhow::anyhow!("{}", app::ssr::error::CauseChain(&e)))?,
        ),
        AnalyzerBackend::Tesseract { program, timeout } => {
            Arc::new(TesseractAnalyzer::new(program, *timeout))
        }
        AnalyzerBackend::Bedrock(settings) => Arc::new(BedrockAnalyzer::new(
            aws_sdk_bedrockruntime::Client::new(&bedrock_sdk(settings).await),
            settings.model_id.clone(),
            settings
                .prompt
                .clone()
                .unwrap_or_else(|| bedrock::DEFAULT_PROMPT.into()),
        )),
    };
    let mailer: Option<Arc<dyn Mailer>> = match config.mail.backend {
        MailerBackend::Off => None,
        MailerBackend::Outbox => Some(Arc::new(OutboxMailer::open(
            &config.data_dir.join("outbox"),
            config.mail.from.clone(),
        )?)),
        MailerBackend::Smtp => Some(Arc::new(SmtpMailer::new(
            config.mail.smtp_url.as_ref().map_or("", |u| u.expose()),
            config.mail.from.clone(),
            SMTP_TIMEOUT,
        )?)),
        MailerBackend::Ses => Some(Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(sdk().await),
            config.mail.from.clone(),
        ))),
    };
    let services = services_over(config, directory, audit, index, analyzer);
    Ok(match mailer {
        Some(mailer) => services.with_notifier(Notifier::new(mailer, config.mail.notices.clone())),
        None => services,
    })
}

fn s3_audit(config: &Config, sdk: &SdkConfig, bucket: &str) -> S3AuditStore {
    let s3 = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(config.aws.endpoint_url.is_some())
        .build();
    S3AuditStore::new(aws_sdk_s3::Client::from_conf(s3), bucket.to_owned())
}

fn dynamo_index(sdk: &SdkConfig, table: &str) -> DynamoIndex {
    DynamoIndex::new(aws_sdk_dynamodb::Client::new(sdk), table.to_owned())
}

/// `server import-records`: copies the records an S3 bucket kept as objects into the DynamoDB
/// table the configuration names (`record_import::import_bucket`), once; `None` when a run
/// had finished before.
pub async fn import_records(config: &Config) -> anyhow::Result<Option<Imported>> {
    let (AuditBackend::S3 { bucket }, IndexBackend::DynamoDb { table }) =
        (&config.audit_store, &config.record_index)
    else {
        bail!(
            "import-records copies a bucket's records into a DynamoDB table: set \
             KIRO_AUDIT_STORE=s3, KIRO_S3_BUCKET, KIRO_RECORD_INDEX=dynamodb and \
             KIRO_DYNAMODB_TABLE (a data directory's records are indexed when the app starts)"
        );
    };
    let sdk = services_sdk(config).await;
    let audit = s3_audit(config, &sdk, bucket);
    let index = dynamo_index(&sdk, table);
    import_bucket(&audit, &index, &record_import::marker(table))
        .await
        .with_context(|| format!("importing the records of s3://{bucket} into {table}"))
}

/// The record index beside the audit store: SQLite in the data directory (an older directory's
/// record files are indexed on the first start, with a count printed), or, with S3, the
/// listings of the bucket (`BlobIndex`; `KIRO_RECORD_INDEX=dynamodb` is the indexed choice).
async fn record_index(
    config: &Config,
    audit: &Arc<dyn AuditStore>,
) -> anyhow::Result<Arc<dyn RecordIndex>> {
    Ok(match &config.audit_store {
        AuditBackend::Files => {
            let index = SqliteIndex::open(&config.data_dir.join("records.sqlite"))?;
            if let Some(found) = index
                .import_files(&config.data_dir)
                .context("indexing the data directory's records")?
            {
                if found != Default::default() {
                    println!(
                        "{found} from {} (the files stay)",
                        config.data_dir.display()
                    );
                }
            }
            let rekeyed = index.rekey_likenesses(&**audit).await;
            report_rekeyed(rekeyed.context("re-keying the kept likenesses")?);
            Arc::new(index)
        }
        AuditBackend::S3 { .. } => {
            let index = BlobIndex::new(audit.clone());
            let rekeyed = index.rekey_likenesses().await;
            report_rekeyed(rekeyed.context("re-keying the kept likenesses")?);
            Arc::new(index)
        }
    })
}

/// Says what re-keying did, when it found likenesses made another way.
fn report_rekeyed(done: Option<app::ssr::likeness::Rekeyed>) {
    if let Some(done) = done.filter(|d| *d != Default::default()) {
        println!(
            "re-keyed {} granted images' likenesses from their screenshots; {} whose screenshot \
             is gone were removed",
            done.rekeyed, done.removed
        );
    }
}

/// The services over the given ports, with the configuration's keys, limits and group.
pub fn services_over(
    config: &Config,
    directory: Arc<dyn Directory>,
    audit: Arc<dyn AuditStore>,
    index: Arc<dyn RecordIndex>,
    analyzer: Arc<dyn Analyzer>,
) -> Services {
    let services = Services::new(
        directory,
        audit,
        index,
        analyzer,
        KeyRing::new(config.member_keys.clone(), config.admin_keys.clone()),
        RateLimiter::new(config.rate_limits),
        config.group_name.clone(),
    )
    .with_policy(config.policy.clone())
    .with_analysis_limits(config.analysis_limits);
    let services = match config.test_clock {
        true => services.with_clock(app::ssr::seats::Clock::movable()),
        false => services,
    };
    match &config.group_id {
        Some(id) => services.with_group_id(id.clone()),
        None => services,
    }
}

/// The SDK configuration for the Identity Store, S3 and Parameter Store.
async fn services_sdk(config: &Config) -> SdkConfig {
    let timeout = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(15))
        .build();
    sdk_config(
        config.aws.endpoint_url.as_deref(),
        None,
        RetryConfig::standard(),
        timeout,
    )
    .await
}

/// The SDK configuration for Bedrock: its own retries and a timeout per attempt.
async fn bedrock_sdk(settings: &BedrockSettings) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(settings.max_attempts)
        .with_initial_backoff(settings.initial_backoff);
    let timeout = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(settings.timeout)
        .operation_timeout(settings.timeout * settings.max_attempts)
        .build();
    sdk_config(
        settings.endpoint_url.as_deref(),
        settings.region.as_deref(),
        retry,
        timeout,
    )
    .await
}
