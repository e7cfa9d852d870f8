//! Configuration from the environment (every variable is listed in the README), and the wiring
//! of each port to its adapter.

use crate::adapters::aws::{
    bedrock, parameters::parameters_under, BedrockAnalyzer, IdentityStoreDirectory, S3AuditStore,
};
use crate::adapters::{FileAuditStore, SqliteDirectory, TesseractAnalyzer};
use anyhow::{bail, Context};
use app::ssr::access::RateLimits;
use app::ssr::ports::{Analyzer, AuditStore, Directory};
use app::ssr::{KeyRing, RateLimiter, Services};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub member_keys: Vec<String>,
    pub admin_keys: Vec<String>,
    pub group_name: String,
    pub cors_origins: Vec<String>,
    pub rate_limits: RateLimits,
    pub directory: String,
    pub audit_store: String,
    pub analyzer: String,
    pub tesseract: PathBuf,
    pub ocr_timeout: Duration,
    pub aws: AwsConfig,
}

/// Settings of the AWS adapters (used only by the ports switched to AWS).
#[derive(Clone, Debug)]
pub struct AwsConfig {
    pub identity_store_id: Option<String>,
    /// Skips the lookup of the group by name.
    pub group_id: Option<String>,
    pub s3_bucket: Option<String>,
    pub bedrock_model_id: String,
    pub bedrock_region: Option<String>,
    pub bedrock_timeout: Duration,
    pub bedrock_max_attempts: u32,
    pub bedrock_initial_backoff: Duration,
    /// The analyzer's system prompt; the built-in one when unset.
    pub prompt: Option<String>,
    /// Parameter Store path read at start (keys, prompt, group id).
    pub ssm_path: Option<String>,
    /// A local stand-in for AWS (moto, LocalStack): all services but Bedrock.
    pub endpoint_url: Option<String>,
    pub bedrock_endpoint_url: Option<String>,
}

impl AwsConfig {
    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            identity_store_id: var("KIRO_IDENTITY_STORE_ID"),
            group_id: var("KIRO_GROUP_ID"),
            s3_bucket: var("KIRO_S3_BUCKET"),
            bedrock_model_id: var("KIRO_BEDROCK_MODEL_ID")
                .unwrap_or_else(|| bedrock::DEFAULT_MODEL_ID.into()),
            bedrock_region: var("KIRO_BEDROCK_REGION"),
            bedrock_timeout: Duration::from_secs_f64(parsed("KIRO_BEDROCK_TIMEOUT_SECS", 30.0)?),
            bedrock_max_attempts: parsed("KIRO_BEDROCK_MAX_ATTEMPTS", 3)?,
            bedrock_initial_backoff: Duration::from_millis(parsed("KIRO_BEDROCK_BACKOFF_MS", 500)?),
            prompt: var("KIRO_PROMPT"),
            ssm_path: var("KIRO_SSM_PATH"),
            endpoint_url: var("KIRO_AWS_ENDPOINT_URL"),
            bedrock_endpoint_url: var("KIRO_BEDROCK_ENDPOINT_URL"),
        })
    }

    /// The SDK configuration: the default chain (environment, Lambda role, profile), with a
    /// stand-in endpoint, test credentials and a default region when pointed at one.
    pub async fn sdk_config(
        &self,
        endpoint: Option<&str>,
        region: Option<&str>,
        retry: RetryConfig,
        timeout: TimeoutConfig,
    ) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeout);
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_owned()));
        }
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                    "stand-in",
                    "stand-in",
                    None,
                    None,
                    "local stand-in",
                ));
            }
            if region.is_none() && std::env::var_os("AWS_REGION").is_none() {
                loader = loader.region(Region::new("us-east-1"));
            }
        }
        loader.load().await
    }

    async fn services_config(&self) -> SdkConfig {
        let timeout = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(15))
            .build();
        self.sdk_config(
            self.endpoint_url.as_deref(),
            None,
            RetryConfig::standard(),
            timeout,
        )
        .await
    }

    async fn bedrock_config(&self) -> SdkConfig {
        let retry = RetryConfig::standard()
            .with_max_attempts(self.bedrock_max_attempts.max(1))
            .with_initial_backoff(self.bedrock_initial_backoff);
        let timeout = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(self.bedrock_timeout)
            .operation_timeout(self.bedrock_timeout * self.bedrock_max_attempts.max(1))
            .build();
        self.sdk_config(
            self.bedrock_endpoint_url.as_deref(),
            self.bedrock_region.as_deref(),
            retry,
            timeout,
        )
        .await
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn list(name: &str) -> Vec<String> {
    var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid value")),
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            data_dir: var("KIRO_DATA_DIR").unwrap_or_else(|| "data".into()).into(),
            member_keys: list("KIRO_MEMBER_KEYS"),
            admin_keys: list("KIRO_ADMIN_KEYS"),
            group_name: var("KIRO_GROUP_NAME").unwrap_or_else(|| "Kiro Pro".into()),
            cors_origins: list("KIRO_CORS_ORIGINS"),
            rate_limits: RateLimits {
                per_second: parsed("KIRO_RATE_PER_SECOND", 1.0)?,
                burst: parsed("KIRO_RATE_BURST", 5)?,
                per_day: parsed("KIRO_RATE_PER_DAY", 10_000)?,
            },
            directory: var("KIRO_DIRECTORY").unwrap_or_else(|| "sqlite".into()),
            audit_store: var("KIRO_AUDIT_STORE").unwrap_or_else(|| "files".into()),
            analyzer: var("KIRO_ANALYZER").unwrap_or_else(|| "tesseract".into()),
            tesseract: var("KIRO_TESSERACT")
                .unwrap_or_else(|| "tesseract".into())
                .into(),
            ocr_timeout: Duration::from_secs_f64(parsed("KIRO_OCR_TIMEOUT_SECS", 20.0)?),
            aws: AwsConfig::from_env()?,
        })
    }

    /// Reads keys, prompt and group id from Parameter Store when `KIRO_SSM_PATH` is set:
    /// `member-keys`, `admin-keys` (comma-separated, SecureString), `prompt`, `group-id`.
    pub async fn load_parameters(&mut self) -> anyhow::Result<()> {
        let Some(path) = self.aws.ssm_path.clone() else {
            return Ok(());
        };
        let client = aws_sdk_ssm::Client::new(&self.aws.services_config().await);
        let found = parameters_under(&client, &path)
            .await
            .with_context(|| format!("reading Parameter Store path {path}"))?;
        let split = |v: &String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        if let Some(v) = found.get("member-keys") {
            self.member_keys = split(v);
        }
        if let Some(v) = found.get("admin-keys") {
            self.admin_keys = split(v);
        }
        if let Some(v) = found.get("prompt") {
            self.aws.prompt = Some(v.clone());
        }
        if let Some(v) = found.get("group-id") {
            self.aws.group_id = Some(v.clone());
        }
        Ok(())
    }

    /// The embedded default in `data_dir`, with the given keys: what tests and benchmarks use.
    pub fn local(data_dir: PathBuf, member_key: &str, admin_key: &str) -> Self {
        Self {
            data_dir,
            member_keys: vec![member_key.to_owned()],
            admin_keys: vec![admin_key.to_owned()],
            group_name: "Kiro Pro".into(),
            cors_origins: vec![],
            rate_limits: RateLimits::default(),
            directory: "sqlite".into(),
            audit_store: "files".into(),
            analyzer: "tesseract".into(),
            tesseract: "tesseract".into(),
            ocr_timeout: Duration::from_secs(20),
            aws: AwsConfig {
                identity_store_id: None,
                group_id: None,
                s3_bucket: None,
                bedrock_model_id: bedrock::DEFAULT_MODEL_ID.into(),
                bedrock_region: None,
                bedrock_timeout: Duration::from_secs(30),
                bedrock_max_attempts: 3,
                bedrock_initial_backoff: Duration::from_millis(500),
                prompt: None,
                ssm_path: None,
                endpoint_url: None,
                bedrock_endpoint_url: None,
            },
        }
    }

    /// When no key is configured, makes a member key and an admin key once and keeps them in
    /// `data_dir/keys.json`. Returns true when it did.
    pub fn ensure_local_keys(&mut self) -> anyhow::Result<bool> {
        if !self.member_keys.is_empty() || !self.admin_keys.is_empty() {
            return Ok(false);
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let path = self.data_dir.join("keys.json");
        let keys: serde_json::Value = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
            Err(_) => {
                let fresh = serde_json::json!({
                    "member": format!("km_{}", uuid::Uuid::new_v4().simple()),
                    "admin": format!("ka_{}", uuid::Uuid::new_v4().simple()),
                });
                std::fs::write(&path, serde_json::to_vec_pretty(&fresh)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                fresh
            }
        };
        let get = |role: &str| keys[role].as_str().map(str::to_owned);
        self.member_keys = get("member").into_iter().collect();
        self.admin_keys = get("admin").into_iter().collect();
        if self.member_keys.is_empty() || self.admin_keys.is_empty() {
            bail!("{} must hold a member and an admin key", path.display());
        }
        Ok(true)
    }

    /// Connects each port to the adapter the configuration names.
    pub async fn build_services(&self) -> anyhow::Result<Services> {
        if self.member_keys.is_empty() && self.admin_keys.is_empty() {
            bail!("no API keys configured: set KIRO_MEMBER_KEYS and KIRO_ADMIN_KEYS");
        }
        let aws = &self.aws;
        let needs_aws = self.directory == "identitystore" || self.audit_store == "s3";
        let sdk = if needs_aws {
            Some(aws.services_config().await)
        } else {
            None
        };
        let directory: Arc<dyn Directory> = match (self.directory.as_str(), &sdk) {
            ("sqlite", _) => Arc::new(SqliteDirectory::open(
                &self.data_dir.join("directory.sqlite"),
            )?),
            ("identitystore", Some(sdk)) => {
                let store = aws
                    .identity_store_id
                    .clone()
                    .context("KIRO_DIRECTORY=identitystore needs KIRO_IDENTITY_STORE_ID")?;
                Arc::new(IdentityStoreDirectory::new(
                    aws_sdk_identitystore::Client::new(sdk),
                    store,
                ))
            }
            (other, _) => bail!("KIRO_DIRECTORY={other:?}: use \"sqlite\" or \"identitystore\""),
        };
        let audit: Arc<dyn AuditStore> = match (self.audit_store.as_str(), &sdk) {
            ("files", _) => Arc::new(FileAuditStore::open(&self.data_dir)?),
            ("s3", Some(sdk)) => {
                let bucket = aws
                    .s3_bucket
                    .clone()
                    .context("KIRO_AUDIT_STORE=s3 needs KIRO_S3_BUCKET")?;
                let s3 = aws_sdk_s3::config::Builder::from(sdk)
                    .force_path_style(aws.endpoint_url.is_some())
                    .build();
                Arc::new(S3AuditStore::new(aws_sdk_s3::Client::from_conf(s3), bucket))
            }
            (other, _) => bail!("KIRO_AUDIT_STORE={other:?}: use \"files\" or \"s3\""),
        };
        let analyzer: Arc<dyn Analyzer> = match self.analyzer.as_str() {
            "tesseract" => Arc::new(TesseractAnalyzer::new(&self.tesseract, self.ocr_timeout)),
            "bedrock" => Arc::new(BedrockAnalyzer::new(
                aws_sdk_bedrockruntime::Client::new(&aws.bedrock_config().await),
                aws.bedrock_model_id.clone(),
                aws.prompt
                    .clone()
                    .unwrap_or_else(|| bedrock::DEFAULT_PROMPT.into()),
            )),
            other => bail!("KIRO_ANALYZER={other:?}: use \"tesseract\" or \"bedrock\""),
        };
        let services = Services::new(
            directory,
            audit,
            analyzer,
            KeyRing::new(self.member_keys.clone(), self.admin_keys.clone()),
            RateLimiter::new(self.rate_limits),
            self.group_name.clone(),
        );
        Ok(match &aws.group_id {
            Some(id) => services.with_group_id(id.clone()),
            None => services,
        })
    }
}
