//! Configuration, parsed and checked once at start: every variable is listed in the README, and a
//! bad value stops the start with the variable's name in the message. Each port's backend is an
//! enum carrying exactly the settings it needs. `startup` turns a `Config` into a running app.

use crate::adapters::aws::bedrock;
use anyhow::{bail, Context};
use app::domain::AllowedDomains;
use app::ssr::access::{RateLimits, Secret};
use app::ssr::capacity::AnalysisLimits;
use app::ssr::notify::Notices;
use app::ssr::seats::SeatPolicy;
use app::ssr::subaddress::SubAddresses;
use app::ssr::Policy;
use http::HeaderValue;
use lettre::message::Mailbox;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub member_keys: Vec<Secret>,
    pub admin_keys: Vec<Secret>,
    /// Display name of the group whose members get Kiro Pro.
    pub group_name: String,
    /// Skips the lookup of the group by name.
    pub group_id: Option<String>,
    pub cors_origins: Vec<HeaderValue>,
    pub rate_limits: RateLimits,
    /// `KIRO_ALLOWED_DOMAINS` and `KIRO_MAX_SEATS`.
    pub policy: Policy,
    /// `KIRO_SWEEP_EVERY_SECS`: how often a local server sweeps the seats (0: never; on
    /// Lambda the schedule in the template does).
    pub sweep_every: Duration,
    /// `KIRO_TEST_CLOCK=movable`: `POST /test/clock` moves seats' time (refused when deployed).
    pub test_clock: bool,
    /// `KIRO_MAX_CONCURRENT_ANALYSES` and `KIRO_ANALYSIS_WAIT_SECS`.
    pub analysis_limits: AnalysisLimits,
    pub directory: DirectoryBackend,
    pub audit_store: AuditBackend,
    pub record_index: IndexBackend,
    pub analyzer: AnalyzerBackend,
    pub mail: MailSettings,
    pub aws: AwsSettings,
}

/// Where mail goes out, from whom, and who besides the requester is told.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `KIRO_MAILER`.
    pub backend: MailerBackend,
    /// `KIRO_MAIL_FROM`: for SES, an identity verified there.
    pub from: Mailbox,
    /// `KIRO_SMTP_URL` (it may hold a password: never printed).
    pub smtp_url: Option<Secret>,
    /// `KIRO_ADMIN_EMAILS` and `KIRO_PUBLIC_URL`.
    pub notices: Notices,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailerBackend {
    /// `.eml` files in `KIRO_DATA_DIR/outbox`.
    Outbox,
    /// An SMTP server, `KIRO_SMTP_URL`.
    Smtp,
    Ses,
    /// Nobody is told anything.
    Off,
}

/// Where users, groups and memberships live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryBackend {
    /// `directory.sqlite` in the data directory.
    Sqlite,
    IdentityStore {
        store_id: String,
        /// IAM Identity Center's region, when it is not the function's.
        region: Option<String>,
    },
}

/// Where screenshots and decision records are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditBackend {
    /// `screenshots/` in the data directory.
    Files,
    S3 {
        bucket: String,
    },
}

/// Where decisions, the review queue, claims, likenesses and seats are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexBackend {
    /// Beside the audit store: SQLite in the data directory with files, the bucket's listings
    /// (`BlobIndex`) with S3.
    Beside,
    /// A DynamoDB table (`RecordsTable` in `infra/template.yaml`).
    DynamoDb { table: String },
}

/// What reads the evidence off a screenshot.
#[derive(Clone, Debug, PartialEq)]
pub enum AnalyzerBackend {
    /// PP-OCRv5 on ONNX Runtime, the embedded default.
    PpOcr(crate::adapters::PpOcrSettings),
    Tesseract {
        program: PathBuf,
        timeout: Duration,
    },
    Bedrock(BedrockSettings),
}

#[derive(Clone, Debug, PartialEq)]
pub struct BedrockSettings {
    pub model_id: String,
    pub region: Option<String>,
    /// Per attempt.
    pub timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// The system prompt; the built-in one when unset.
    pub prompt: Option<String>,
    /// A local stand-in for Bedrock (tests).
    pub endpoint_url: Option<String>,
}

/// Settings shared by the AWS adapters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Parameter Store path read at start (keys, prompt, group id).
    pub ssm_path: Option<String>,
    /// A local stand-in for AWS (moto, LocalStack): every service but Bedrock.
    pub endpoint_url: Option<String>,
}

/// Where `scripts/install-tools.sh` puts the PP-OCR reader's files: one place per user, shared
/// by every checkout.
pub fn default_ppocr_dir(home: Option<String>) -> PathBuf {
    PathBuf::from(home.unwrap_or_else(|| "/root".into())).join(".local/share/kiro-access/ppocr-v5")
}

/// Reads variables from a source: the process environment, or a map in tests.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The value, trimmed; unset and blank are the same.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(|v| split_list(&v)).unwrap_or_default()
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid value")),
        }
    }

    /// A positive number of seconds, at most a day.
    fn seconds(&self, name: &str, default: f64) -> anyhow::Result<Duration> {
        let secs: f64 = self.parse(name, default)?;
        if !(secs > 0.0 && secs <= 86_400.0) {
            bail!("{name}={secs} must be a number of seconds above 0 and at most 86400");
        }
        Ok(Duration::from_secs_f64(secs))
    }

    fn required(&self, name: &str, because: &str) -> anyhow::Result<String> {
        self.get(name)
            .with_context(|| format!("{because} needs {name} to be set"))
    }
}

/// A value that stands for "not set": blank, or the `-` the stack writes into a parameter that
/// CloudFormation cannot leave empty. Such a value never replaces a built-in default.
fn meaningful(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value != "-").then(|| value.to_owned())
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn secrets(values: Vec<String>) -> Vec<Secret> {
    values.into_iter().map(Secret::new).collect()
}

/// `https://tools.example.com` or `http://localhost:8080`: a scheme, a host, maybe a port.
fn parse_origin(name: &str, origin: &str) -> anyhow::Result<HeaderValue> {
    let invalid = || {
        anyhow::anyhow!(
            "{name}: {origin:?} is not an origin; list origins like https://tools.example.com \
             (no wildcard, no path)"
        )
    };
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(invalid());
    }
    HeaderValue::from_str(origin).map_err(|_| invalid())
}

/// `KIRO_MAILER`, `KIRO_SMTP_URL`, `KIRO_MAIL_FROM`, `KIRO_ADMIN_EMAILS`, `KIRO_PUBLIC_URL`.
fn mail_settings(vars: &Vars) -> anyhow::Result<MailSettings> {
    let smtp_url = vars.get("KIRO_SMTP_URL");
    let default = if smtp_url.is_some() { "smtp" } else { "outbox" };
    let backend = match vars.or("KIRO_MAILER", default).as_str() {
        "outbox" => MailerBackend::Outbox,
        "smtp" => MailerBackend::Smtp,
        "ses" => MailerBackend::Ses,
        "off" => MailerBackend::Off,
        other => {
            bail!("KIRO_MAILER={other:?}: use \"outbox\", \"smtp\", \"ses\" or \"off\"")
        }
    };
    if backend == MailerBackend::Smtp && smtp_url.is_none() {
        bail!(
            "KIRO_MAILER=smtp needs KIRO_SMTP_URL (smtp://host:port, smtps://user:password@host)"
        );
    }
    let from = match (backend, vars.get("KIRO_MAIL_FROM")) {
        (_, Some(from)) => from,
        (MailerBackend::Ses, None) => bail!("KIRO_MAILER=ses needs KIRO_MAIL_FROM to be set"),
        (_, None) => "Kiro Access <kiro-access@localhost>".into(),
    };
    let from = from
        .parse::<Mailbox>()
        .map_err(|e| anyhow::anyhow!("KIRO_MAIL_FROM={from:?} is not a mail address ({e})"))?;
    let admin_emails = vars
        .list("KIRO_ADMIN_EMAILS")
        .into_iter()
        .map(|e| {
            app::domain::EmailAddress::parse(&e)
                .map(|e| e.to_string())
                .map_err(|why| anyhow::anyhow!("KIRO_ADMIN_EMAILS: {e:?}: {why}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let public_url = vars.get("KIRO_PUBLIC_URL");
    if let Some(url) = &public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("KIRO_PUBLIC_URL={url:?} must start with https:// (or http://)");
        }
    }
    Ok(MailSettings {
        backend,
        from,
        smtp_url: smtp_url.map(Secret::new),
        notices: Notices {
            admin_emails,
            public_url,
        },
    })
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(&|name| std::env::var(name).ok())
    }

    /// From any source of variables; the one place defaults are written.
    pub fn from_vars(source: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let vars = Vars(source);
        let rate_limits = RateLimits {
            per_second: vars.parse("KIRO_RATE_PER_SECOND", 1.0)?,
            burst: vars.parse("KIRO_RATE_BURST", 5)?,
            per_day: vars.parse("KIRO_RATE_PER_DAY", 10_000)?,
        };
        if !(rate_limits.per_second.is_finite() && rate_limits.per_second > 0.0) {
            bail!("KIRO_RATE_PER_SECOND must be above 0");
        }
        if rate_limits.burst == 0 || rate_limits.per_day == 0 {
            bail!("KIRO_RATE_BURST and KIRO_RATE_PER_DAY must be at least 1");
        }
        let cors_origins = vars
            .list("KIRO_CORS_ORIGINS")
            .iter()
            .map(|o| parse_origin("KIRO_CORS_ORIGINS", o))
            .collect::<anyhow::Result<_>>()?;
        let policy = Policy {
            allowed_domains: AllowedDomains::parse(&vars.or("KIRO_ALLOWED_DOMAINS", ""))
                .map_err(|e| anyhow::anyhow!("KIRO_ALLOWED_DOMAINS: {e}"))?,
            subaddresses: SubAddresses::parse(&vars.or("KIRO_SUBADDRESSES", ""))
                .map_err(|e| anyhow::anyhow!("KIRO_SUBADDRESSES: {e}"))?,
            max_seats: match vars.get("KIRO_MAX_SEATS") {
                None => None,
                Some(_) => Some(vars.parse::<u32>("KIRO_MAX_SEATS", 0)?),
            },
            // 0 turns the per-address limit off; each key's own limit stays.
            requests_per_address: Some(vars.parse::<u32>("KIRO_REQUESTS_PER_ADDRESS", 20)?)
                .filter(|&n| n > 0),
            verify_email: match vars.or("KIRO_VERIFY_EMAIL", "on").as_str() {
                "on" => true,
                "off" => false,
                other => bail!("KIRO_VERIFY_EMAIL={other:?}: use \"on\" or \"off\""),
            },
            seat_policy: SeatPolicy::parse(&vars.or("KIRO_SEAT_POLICY", "forever"))
                .map_err(|e| anyhow::anyhow!("KIRO_SEAT_POLICY={e}"))?,
            reminder_days: vars.parse("KIRO_SEAT_REMINDER_DAYS", 7)?,
        };
        let sweep_every = Duration::from_secs(vars.parse("KIRO_SWEEP_EVERY_SECS", 900)?);
        let test_clock = match vars.or("KIRO_TEST_CLOCK", "off").as_str() {
            "off" => false,
            "movable" => true,
            other => bail!("KIRO_TEST_CLOCK={other:?}: use \"off\" or \"movable\""),
        };
        let defaults = AnalysisLimits::default();
        let analysis_limits = AnalysisLimits {
            max_concurrent: vars.parse("KIRO_MAX_CONCURRENT_ANALYSES", defaults.max_concurrent)?,
            wait: vars.seconds("KIRO_ANALYSIS_WAIT_SECS", defaults.wait.as_secs_f64())?,
        };
        if analysis_limits.max_concurrent == 0 {
            bail!("KIRO_MAX_CONCURRENT_ANALYSES must be at least 1");
        }
        let directory = match vars.or("KIRO_DIRECTORY", "sqlite").as_str() {
            "sqlite" => DirectoryBackend::Sqlite,
            "identitystore" => DirectoryBackend::IdentityStore {
                store_id: vars
                    .required("KIRO_IDENTITY_STORE_ID", "KIRO_DIRECTORY=identitystore")?,
                region: vars.get("KIRO_IDENTITY_STORE_REGION"),
            },
            other => bail!("KIRO_DIRECTORY={other:?}: use \"sqlite\" or \"identitystore\""),
        };
        let audit_store = match vars.or("KIRO_AUDIT_STORE", "files").as_str() {
            "files" => AuditBackend::Files,
            "s3" => AuditBackend::S3 {
                bucket: vars.required("KIRO_S3_BUCKET", "KIRO_AUDIT_STORE=s3")?,
            },
            other => bail!("KIRO_AUDIT_STORE={other:?}: use \"files\" or \"s3\""),
        };
        let record_index = match vars.or("KIRO_RECORD_INDEX", "beside").as_str() {
            "beside" => IndexBackend::Beside,
            "dynamodb" => IndexBackend::DynamoDb {
                table: vars.required("KIRO_DYNAMODB_TABLE", "KIRO_RECORD_INDEX=dynamodb")?,
            },
            other => bail!("KIRO_RECORD_INDEX={other:?}: use \"beside\" or \"dynamodb\""),
        };
        let analyzer = match vars.or("KIRO_ANALYZER", "ppocr").as_str() {
            "ppocr" => AnalyzerBackend::PpOcr(crate::adapters::PpOcrSettings {
                dir: vars
                    .get("KIRO_PPOCR_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| default_ppocr_dir(vars.get("HOME"))),
                timeout: vars.seconds("KIRO_OCR_TIMEOUT_SECS", 20.0)?,
                threads: vars.parse("KIRO_PPOCR_THREADS", 1)?.max(1),
                second_opinion: match vars.or("KIRO_PPOCR_SECOND_OPINION", "tesseract").as_str() {
                    "tesseract" => Some(vars.or("KIRO_TESSERACT", "tesseract").into()),
                    "off" => None,
                    other => {
                        bail!("KIRO_PPOCR_SECOND_OPINION={other:?}: use \"tesseract\" or \"off\"")
                    }
                },
            }),
            "tesseract" => AnalyzerBackend::Tesseract {
                program: vars.or("KIRO_TESSERACT", "tesseract").into(),
                timeout: vars.seconds("KIRO_OCR_TIMEOUT_SECS", 20.0)?,
            },
            "bedrock" => {
                let max_attempts = vars.parse("KIRO_BEDROCK_MAX_ATTEMPTS", 3)?;
                if max_attempts == 0 {
                    bail!("KIRO_BEDROCK_MAX_ATTEMPTS must be at least 1");
                }
                let region = vars.get("KIRO_BEDROCK_REGION");
                let model_id = vars.get("KIRO_BEDROCK_MODEL_ID").unwrap_or_else(|| {
                    let effective = region.clone().or_else(|| vars.get("AWS_REGION"));
                    bedrock::default_model_for(effective.as_deref())
                });
                AnalyzerBackend::Bedrock(BedrockSettings {
                    model_id,
                    region,
                    timeout: vars.seconds("KIRO_BEDROCK_TIMEOUT_SECS", 30.0)?,
                    max_attempts,
                    initial_backoff: Duration::from_millis(
                        vars.parse("KIRO_BEDROCK_BACKOFF_MS", 500)?,
                    ),
                    prompt: vars.get("KIRO_PROMPT").as_deref().and_then(meaningful),
                    endpoint_url: vars.get("KIRO_BEDROCK_ENDPOINT_URL"),
                })
            }
            other => {
                bail!("KIRO_ANALYZER={other:?}: use \"ppocr\", \"tesseract\" or \"bedrock\"")
            }
        };
        let mail = mail_settings(&vars)?;
        let deployed = vars.get("AWS_LAMBDA_RUNTIME_API").is_some()
            || !matches!(directory, DirectoryBackend::Sqlite)
            || !matches!(audit_store, AuditBackend::Files)
            || record_index != IndexBackend::Beside
            || mail.backend == MailerBackend::Ses;
        if test_clock && deployed {
            bail!(
                "KIRO_TEST_CLOCK=movable lets a caller move seats' time: it is for tests of the \
                 embedded default, never with an AWS port or on Lambda"
            );
        }
        if policy.verify_email && mail.backend == MailerBackend::Off {
            bail!("KIRO_VERIFY_EMAIL=on mails codes: set KIRO_MAILER to outbox or ses, or KIRO_VERIFY_EMAIL=off");
        }
        Ok(Self {
            data_dir: vars.or("KIRO_DATA_DIR", "data").into(),
            member_keys: secrets(vars.list("KIRO_MEMBER_KEYS")),
            admin_keys: secrets(vars.list("KIRO_ADMIN_KEYS")),
            group_name: vars.or("KIRO_GROUP_NAME", "Kiro Pro"),
            group_id: vars.get("KIRO_GROUP_ID"),
            cors_origins,
            rate_limits,
            policy,
            sweep_every,
            test_clock,
            analysis_limits,
            directory,
            audit_store,
            record_index,
            analyzer,
            mail,
            aws: AwsSettings {
                ssm_path: vars.get("KIRO_SSM_PATH"),
                endpoint_url: vars.get("KIRO_AWS_ENDPOINT_URL"),
            },
        })
    }

    /// The embedded default in `data_dir` with the given keys (tests and benchmarks): the same
    /// defaults as an empty environment.
    pub fn local(data_dir: PathBuf, member_key: &str, admin_key: &str) -> Self {
        let vars: HashMap<&str, String> = HashMap::from([
            ("KIRO_DATA_DIR", data_dir.display().to_string()),
            ("KIRO_MEMBER_KEYS", member_key.to_owned()),
            ("KIRO_ADMIN_KEYS", admin_key.to_owned()),
        ]);
        Self::from_vars(&|name| vars.get(name).cloned()).expect("the defaults are valid")
    }

    /// Applies what Parameter Store holds under `KIRO_SSM_PATH` (read by `startup`):
    /// `member-keys`, `admin-keys` (comma-separated), `prompt`. Not the group: its id comes from
    /// the stack (`KIRO_GROUP_ID`), which also limits the role to that one group.
    pub fn apply_parameters(&mut self, found: &HashMap<String, String>) {
        if let Some(v) = found.get("member-keys") {
            self.member_keys = secrets(split_list(v));
        }
        if let Some(v) = found.get("admin-keys") {
            self.admin_keys = secrets(split_list(v));
        }
        if let AnalyzerBackend::Bedrock(settings) = &mut self.analyzer {
            if let Some(prompt) = found.get("prompt").and_then(|v| meaningful(v)) {
                settings.prompt = Some(prompt);
            }
        }
    }

    /// When no key is configured, makes a member key and an admin key once and keeps them in
    /// `data_dir/keys.json`. Returns true when it did.
    pub fn ensure_local_keys(&mut self) -> anyhow::Result<bool> {
        if !self.member_keys.is_empty() || !self.admin_keys.is_empty() {
            return Ok(false);
        }
        crate::private_files::private_dir(&self.data_dir)?;
        let path = self.data_dir.join("keys.json");
        let keys: serde_json::Value = match std::fs::read(&path) {
            Ok(bytes) => {
                crate::private_files::tighten(&path, crate::private_files::FILE_MODE)?;
                serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading {}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = serde_json::json!({
                    "member": format!("km_{}", uuid::Uuid::new_v4().simple()),
                    "admin": format!("ka_{}", uuid::Uuid::new_v4().simple()),
                });
                crate::private_files::write_private(&path, &serde_json::to_vec_pretty(&fresh)?)?;
                fresh
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let get = |role: &str| keys[role].as_str().map(|k| Secret::new(k.to_owned()));
        self.member_keys = get("member").into_iter().collect();
        self.admin_keys = get("admin").into_iter().collect();
        if self.member_keys.is_empty() || self.admin_keys.is_empty() {
            bail!("{} must hold a member and an admin key", path.display());
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(&|name| vars.get(name).cloned())
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        format!("{:#}", parse(pairs).unwrap_err())
    }

    #[test]
    fn an_empty_environment_is_the_embedded_default() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.directory, DirectoryBackend::Sqlite);
        assert_eq!(c.audit_store, AuditBackend::Files);
        assert_eq!(c.record_index, IndexBackend::Beside);
        let AnalyzerBackend::PpOcr(reader) = &c.analyzer else {
            panic!("the default analyzer is PP-OCR: {:?}", c.analyzer);
        };
        assert_eq!(reader.timeout, Duration::from_secs(20));
        assert_eq!(reader.threads, 1);
        assert_eq!(reader.second_opinion, Some(PathBuf::from("tesseract")));
        assert!(reader.dir.ends_with(".local/share/kiro-access/ppocr-v5"));
        let c = parse(&[("KIRO_ANALYZER", "tesseract")]).unwrap();
        assert!(
            matches!(c.analyzer, AnalyzerBackend::Tesseract { timeout, .. } if timeout == Duration::from_secs(20))
        );
        assert_eq!(c.group_name, "Kiro Pro");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.rate_limits.burst, 5);
    }

    #[test]
    fn the_policy_is_open_by_default_and_parsed_when_set() {
        let open = parse(&[]).unwrap().policy;
        assert!(open.allowed_domains.as_slice().is_empty());
        assert_eq!(open.max_seats, None);
        let set = parse(&[
            ("KIRO_ALLOWED_DOMAINS", "example.com,Example.org"),
            ("KIRO_MAX_SEATS", "25"),
        ])
        .unwrap()
        .policy;
        assert_eq!(
            set.allowed_domains.as_slice(),
            ["example.com", "example.org"]
        );
        assert_eq!(set.max_seats, Some(25));
        assert!(
            error(&[("KIRO_ALLOWED_DOMAINS", "*.example.com")]).contains("KIRO_ALLOWED_DOMAINS")
        );
        assert!(error(&[("KIRO_MAX_SEATS", "-1")]).contains("KIRO_MAX_SEATS"));
        assert!(error(&[("KIRO_MAX_SEATS", "many")]).contains("KIRO_MAX_SEATS"));
    }

    #[test]
    fn email_codes_are_on_by_default_and_need_a_mailer() {
        assert!(parse(&[]).unwrap().policy.verify_email);
        let off = parse(&[("KIRO_VERIFY_EMAIL", "off"), ("KIRO_MAILER", "off")]).unwrap();
        assert!(!off.policy.verify_email);
        assert!(error(&[("KIRO_MAILER", "off")]).contains("KIRO_VERIFY_EMAIL"));
        assert!(error(&[("KIRO_VERIFY_EMAIL", "yes")]).contains("KIRO_VERIFY_EMAIL"));
    }

    #[test]
    fn analysis_slots_default_to_the_cores_and_refuse_zero() {
        let default = parse(&[]).unwrap().analysis_limits;
        assert_eq!(default, AnalysisLimits::default());
        assert!(default.max_concurrent >= 1);
        let set = parse(&[
            ("KIRO_MAX_CONCURRENT_ANALYSES", "3"),
            ("KIRO_ANALYSIS_WAIT_SECS", "0.5"),
        ])
        .unwrap()
        .analysis_limits;
        assert_eq!(set.max_concurrent, 3);
        assert_eq!(set.wait, Duration::from_millis(500));
        assert!(error(&[("KIRO_MAX_CONCURRENT_ANALYSES", "0")])
            .contains("KIRO_MAX_CONCURRENT_ANALYSES"));
        assert!(error(&[("KIRO_ANALYSIS_WAIT_SECS", "0")]).contains("KIRO_ANALYSIS_WAIT_SECS"));
    }

    #[test]
    fn mail_goes_to_the_outbox_by_default_and_ses_needs_a_sender() {
        let default = parse(&[]).unwrap().mail;
        assert_eq!(default.backend, MailerBackend::Outbox);
        assert_eq!(default.from.email.to_string(), "kiro-access@localhost");
        assert!(default.notices.admin_emails.is_empty());
        let set = parse(&[
            ("KIRO_MAILER", "ses"),
            ("KIRO_MAIL_FROM", "Kiro Access <access@example.com>"),
            ("KIRO_ADMIN_EMAILS", "ops@example.com, Lead@Example.com"),
            ("KIRO_PUBLIC_URL", "https://access.example.com"),
        ])
        .unwrap()
        .mail;
        assert_eq!(set.backend, MailerBackend::Ses);
        assert_eq!(set.from.email.to_string(), "access@example.com");
        assert_eq!(
            set.notices.admin_emails,
            ["ops@example.com", "lead@example.com"]
        );
        assert!(error(&[("KIRO_MAILER", "ses")]).contains("KIRO_MAIL_FROM"));
        assert!(error(&[("KIRO_MAILER", "smtp")]).contains("KIRO_SMTP_URL"));
        assert!(error(&[("KIRO_MAILER", "pigeon")]).contains("KIRO_MAILER"));
        let smtp = parse(&[("KIRO_SMTP_URL", "smtps://mailer:s3cret@smtp.example.com")]).unwrap();
        assert_eq!(smtp.mail.backend, MailerBackend::Smtp);
        assert!(!format!("{smtp:?}").contains("s3cret"));
        assert!(error(&[("KIRO_MAIL_FROM", "not an address")]).contains("KIRO_MAIL_FROM"));
        assert!(error(&[("KIRO_ADMIN_EMAILS", "ops")]).contains("KIRO_ADMIN_EMAILS"));
        assert!(error(&[("KIRO_PUBLIC_URL", "access.example.com")]).contains("KIRO_PUBLIC_URL"));
    }

    #[test]
    fn aws_backends_carry_their_settings() {
        let c = parse(&[
            ("KIRO_DIRECTORY", "identitystore"),
            ("KIRO_IDENTITY_STORE_ID", "d-123"),
            ("KIRO_AUDIT_STORE", "s3"),
            ("KIRO_S3_BUCKET", "audit"),
            ("KIRO_RECORD_INDEX", "dynamodb"),
            ("KIRO_DYNAMODB_TABLE", "kiro-records"),
            ("KIRO_ANALYZER", "bedrock"),
            ("KIRO_BEDROCK_TIMEOUT_SECS", "2.5"),
        ])
        .unwrap();
        assert_eq!(
            c.directory,
            DirectoryBackend::IdentityStore {
                store_id: "d-123".into(),
                region: None,
            }
        );
        assert_eq!(
            c.audit_store,
            AuditBackend::S3 {
                bucket: "audit".into()
            }
        );
        assert_eq!(
            c.record_index,
            IndexBackend::DynamoDb {
                table: "kiro-records".into()
            }
        );
        let AnalyzerBackend::Bedrock(b) = c.analyzer else {
            panic!("bedrock expected")
        };
        assert_eq!(b.timeout, Duration::from_millis(2500));
        assert_eq!(b.model_id, bedrock::DEFAULT_MODEL_ID);
    }

    #[test]
    fn the_model_and_the_directory_follow_the_regions_they_live_in() {
        let bedrock_in = |pairs: &[(&str, &str)]| {
            let mut all = vec![("KIRO_ANALYZER", "bedrock")];
            all.extend_from_slice(pairs);
            match parse(&all).unwrap().analyzer {
                AnalyzerBackend::Bedrock(b) => b.model_id,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(bedrock_in(&[]), "us.amazon.nova-pro-v1:0");
        assert_eq!(
            bedrock_in(&[("AWS_REGION", "eu-central-1")]),
            "eu.amazon.nova-pro-v1:0"
        );
        assert_eq!(
            bedrock_in(&[
                ("AWS_REGION", "eu-central-1"),
                ("KIRO_BEDROCK_REGION", "ap-northeast-1")
            ]),
            "apac.amazon.nova-pro-v1:0"
        );
        assert_eq!(
            bedrock_in(&[
                ("AWS_REGION", "eu-west-1"),
                ("KIRO_BEDROCK_MODEL_ID", "my-profile")
            ]),
            "my-profile"
        );
        let c = parse(&[
            ("KIRO_DIRECTORY", "identitystore"),
            ("KIRO_IDENTITY_STORE_ID", "d-123"),
            ("KIRO_IDENTITY_STORE_REGION", "eu-west-1"),
        ])
        .unwrap();
        assert_eq!(
            c.directory,
            DirectoryBackend::IdentityStore {
                store_id: "d-123".into(),
                region: Some("eu-west-1".into()),
            }
        );
    }

    #[test]
    fn bad_values_fail_with_the_variables_name_and_never_panic() {
        for (pairs, needle) in [
            (&[("KIRO_CORS_ORIGINS", "*")][..], "KIRO_CORS_ORIGINS"),
            (
                &[("KIRO_CORS_ORIGINS", "https://a.example.com/path")][..],
                "KIRO_CORS_ORIGINS",
            ),
            (
                &[("KIRO_OCR_TIMEOUT_SECS", "-1")][..],
                "KIRO_OCR_TIMEOUT_SECS",
            ),
            (
                &[("KIRO_OCR_TIMEOUT_SECS", "NaN")][..],
                "KIRO_OCR_TIMEOUT_SECS",
            ),
            (
                &[("KIRO_OCR_TIMEOUT_SECS", "1e300")][..],
                "KIRO_OCR_TIMEOUT_SECS",
            ),
            (&[("KIRO_RATE_PER_SECOND", "0")][..], "KIRO_RATE_PER_SECOND"),
            (&[("KIRO_RATE_BURST", "0")][..], "KIRO_RATE_BURST"),
            (&[("KIRO_RATE_BURST", "lots")][..], "KIRO_RATE_BURST"),
            (&[("KIRO_DIRECTORY", "ldap")][..], "KIRO_DIRECTORY"),
            (
                &[("KIRO_DIRECTORY", "identitystore")][..],
                "KIRO_IDENTITY_STORE_ID",
            ),
            (&[("KIRO_AUDIT_STORE", "s3")][..], "KIRO_S3_BUCKET"),
            (
                &[("KIRO_RECORD_INDEX", "dynamodb")][..],
                "KIRO_DYNAMODB_TABLE",
            ),
            (&[("KIRO_RECORD_INDEX", "redis")][..], "KIRO_RECORD_INDEX"),
            (
                &[
                    ("KIRO_ANALYZER", "bedrock"),
                    ("KIRO_BEDROCK_MAX_ATTEMPTS", "0"),
                ][..],
                "KIRO_BEDROCK_MAX_ATTEMPTS",
            ),
        ] {
            let message = error(pairs);
            assert!(message.contains(needle), "{pairs:?}: {message}");
        }
        let ok = parse(&[(
            "KIRO_CORS_ORIGINS",
            "https://a.example.com, http://localhost:8080",
        )])
        .unwrap();
        assert_eq!(ok.cors_origins.len(), 2);
    }

    /// The function's variables that the template sets `!If [SendsMail, a, b]`: a or b.
    fn template_mail_variables(sends_mail: bool) -> Vec<(String, String)> {
        include_str!("../../infra/template.yaml")
            .lines()
            .filter_map(|line| {
                let (name, rest) = line.trim().split_once(": !If [SendsMail, ")?;
                let (when, otherwise) = rest.trim_end_matches(']').split_once(", ")?;
                let value = if sends_mail { when } else { otherwise };
                Some((name.to_owned(), value.trim_matches('"').to_owned()))
            })
            .collect()
    }

    #[test]
    fn the_stack_starts_with_and_without_mail_and_asks_for_codes_only_with() {
        for sends_mail in [true, false] {
            let mut vars = template_mail_variables(sends_mail);
            let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
            assert!(names.contains(&"KIRO_MAILER") && names.contains(&"KIRO_VERIFY_EMAIL"));
            if sends_mail {
                vars.push((
                    "KIRO_MAIL_FROM".into(),
                    "Kiro Access <a@example.com>".into(),
                ));
            }
            let pairs: Vec<(&str, &str)> =
                vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let config = parse(&pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
            assert_eq!(config.policy.verify_email, sends_mail, "{pairs:?}");
        }
    }

    /// The `Value:` the CloudFormation template gives the prompt parameter.
    fn template_prompt_value() -> String {
        let template = include_str!("../../infra/template.yaml");
        let resource = template
            .split("PromptParameter:")
            .nth(1)
            .expect("the template has a PromptParameter");
        let line = resource
            .lines()
            .find(|l| l.trim_start().starts_with("Value:"))
            .expect("the prompt parameter has a Value");
        line.trim_start()["Value:".len()..]
            .trim()
            .trim_matches('"')
            .to_owned()
    }

    fn bedrock_prompt(c: &Config) -> Option<String> {
        match &c.analyzer {
            AnalyzerBackend::Bedrock(b) => b.prompt.clone(),
            other => panic!("bedrock expected, not {other:?}"),
        }
    }

    #[test]
    fn the_stacks_prompt_placeholder_keeps_the_built_in_prompt() {
        let mut c = parse(&[("KIRO_ANALYZER", "bedrock")]).unwrap();
        let with_prompt = |v: &str| HashMap::from([("prompt".to_owned(), v.to_owned())]);
        c.apply_parameters(&with_prompt(&template_prompt_value()));
        assert_eq!(
            bedrock_prompt(&c),
            None,
            "the template's placeholder is not a prompt"
        );
        for blank in ["", "  ", "-", " - "] {
            c.apply_parameters(&with_prompt(blank));
            assert_eq!(bedrock_prompt(&c), None, "{blank:?}");
        }
        c.apply_parameters(&with_prompt("Read the page."));
        assert_eq!(bedrock_prompt(&c).as_deref(), Some("Read the page."));
        let c = parse(&[("KIRO_ANALYZER", "bedrock"), ("KIRO_PROMPT", "-")]).unwrap();
        assert_eq!(bedrock_prompt(&c), None);
    }

    #[test]
    fn keys_never_print() {
        let c = parse(&[
            ("KIRO_MEMBER_KEYS", "member-secret-1"),
            ("KIRO_ADMIN_KEYS", "admin-secret-2"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("member-secret-1"), "{shown}");
        assert!(!shown.contains("admin-secret-2"), "{shown}");
        assert_eq!(c.member_keys[0].expose(), "member-secret-1");
    }
}
