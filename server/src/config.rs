//! Configuration from the environment (every variable is listed in the README), and the wiring
//! of each port to its adapter.

use crate::adapters::{FileAuditStore, SqliteDirectory, TesseractAnalyzer};
use anyhow::{bail, Context};
use app::ssr::access::RateLimits;
use app::ssr::{KeyRing, RateLimiter, Services};
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
        })
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
    pub fn build_services(&self) -> anyhow::Result<Services> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating the data directory {}", self.data_dir.display()))?;
        if self.member_keys.is_empty() && self.admin_keys.is_empty() {
            bail!("no API keys configured: set KIRO_MEMBER_KEYS and KIRO_ADMIN_KEYS");
        }
        let directory = match self.directory.as_str() {
            "sqlite" => Arc::new(SqliteDirectory::open(
                &self.data_dir.join("directory.sqlite"),
            )?),
            other => bail!("KIRO_DIRECTORY={other:?}: this build knows only \"sqlite\""),
        };
        let audit = match self.audit_store.as_str() {
            "files" => Arc::new(FileAuditStore::open(&self.data_dir)?),
            other => bail!("KIRO_AUDIT_STORE={other:?}: this build knows only \"files\""),
        };
        let analyzer = match self.analyzer.as_str() {
            "tesseract" => Arc::new(TesseractAnalyzer::new(&self.tesseract, self.ocr_timeout)),
            other => bail!("KIRO_ANALYZER={other:?}: this build knows only \"tesseract\""),
        };
        Ok(Services::new(
            directory,
            audit,
            analyzer,
            KeyRing::new(self.member_keys.clone(), self.admin_keys.clone()),
            RateLimiter::new(self.rate_limits),
            self.group_name.clone(),
        ))
    }
}
