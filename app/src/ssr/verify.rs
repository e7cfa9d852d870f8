//! Proof of the address: a six-digit one-time code mailed to the requester, asked back with the
//! request for Pro. Only a salted hash of a code is kept, in the record index as the address
//! digest's item `{minute}.json` (so one code per address per minute). Every try first takes
//! the next numbered item beside it (`….try-N`, written once) and a right one then marks its
//! slot (`….ok-N`): only wrong tries count against the limit, and tries that race cannot get
//! past it. A right code keeps working until it expires (a member may send a second
//! screenshot). Items are kept a day (`KEPT_FOR_SECS`), then the index lets them go. The code
//! is never logged. Turned off with `KIRO_VERIFY_EMAIL=off` (`Policy::verify_email`).

use super::access::same;
use super::error::{AppError, AppResult, Field};
use super::ports::PortError;
use super::{Role, Services};
use crate::api::CodeSent;
use crate::domain::EmailAddress;
use sha2::{Digest, Sha256};

/// How long a code proves the address.
pub const VALID_FOR_SECS: i64 = 10 * 60;
/// Wrong tries a code allows.
pub const TRIES: usize = 5;
/// Codes one address is mailed in a UTC day: a mailbox is not flooded, nor the sender's quota
/// spent on one address. (Two asks racing at the cap may both pass: it bounds, it does not count.)
pub const CODES_PER_DAY: usize = 10;
/// How long a code and its tries are kept: long enough to count a UTC day's codes.
pub const KEPT_FOR_SECS: i64 = 86_400;

/// A code as kept: its hash and when it was sent.
#[derive(serde::Serialize, serde::Deserialize)]
struct IssuedCode {
    hash: String,
    issued_at: i64,
}

/// A request for a code, as received.
#[derive(Clone, Debug)]
pub struct SendCodeRequest {
    pub api_key: Option<String>,
    pub email: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whose code items these are: the address's digest, the address itself not in the index.
fn owner(email: &EmailAddress) -> String {
    hex(&Sha256::digest(email.as_str().as_bytes()))
}

/// The minute a code's item (`{minute:012}.json`) was issued in; `None` for a try's marker.
fn issued_minute(name: &str) -> Option<i64> {
    let minute = name.strip_suffix(".json")?;
    (minute.len() == 12).then(|| minute.parse().ok()).flatten()
}

/// Salted by the address and the minute, so one table of six-digit hashes does not fit all.
fn code_hash(email: &EmailAddress, minute: i64, code: &str) -> String {
    let salted = format!("kiro-access code\n{}\n{minute}\n{code}", email.as_str());
    hex(&Sha256::digest(salted.as_bytes()))
}

/// Six decimal digits from the operating system's random source.
fn new_code() -> AppResult<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no random numbers: {e}")))?;
    Ok(format!("{:06}", u64::from_le_bytes(bytes) % 1_000_000))
}

impl Services {
    /// Mails a new code to the address (member key, allowed domain, one per address a minute).
    pub async fn send_code(&self, req: SendCodeRequest) -> AppResult<CodeSent> {
        self.authorize(req.api_key.as_deref(), Role::Member)?;
        let email =
            EmailAddress::parse(&req.email).map_err(|m| AppError::invalid(Field::Email, m))?;
        let email = self.admit(email)?;
        if !self.policy.verify_email {
            return Err(AppError::NotFound(
                "This Kiro Access does not use email codes: send your request without one.".into(),
            ));
        }
        let now = chrono::Utc::now().timestamp();
        let minute = now / 60;
        let today = (now / 86_400) * 1_440..(now / 86_400 + 1) * 1_440;
        let owner = owner(&email);
        let sent_today = self
            .index
            .code_item_names(&owner)
            .await?
            .iter()
            .filter_map(|name| issued_minute(name))
            .filter(|m| today.contains(m))
            .count();
        if sent_today >= CODES_PER_DAY {
            return Err(AppError::CodesPerDay {
                retry_after_secs: (86_400 - now % 86_400) as u64,
            });
        }
        let code = new_code()?;
        let issued = IssuedCode {
            hash: code_hash(&email, minute, &code),
            issued_at: now,
        };
        let json = serde_json::to_vec(&issued).map_err(|e| AppError::Internal(e.to_string()))?;
        let name = format!("{minute:012}.json");
        let kept_until = now + KEPT_FOR_SECS;
        if !self
            .index
            .put_code_item(&owner, &name, &json, kept_until)
            .await?
        {
            return Err(AppError::CodeTooSoon {
                retry_after_secs: (60 - now % 60) as u64,
            });
        }
        self.send_code_mail(email.as_str(), &code, VALID_FOR_SECS / 60)
            .await?;
        Ok(CodeSent {
            email: email.to_string(),
            expires_in_secs: VALID_FOR_SECS as u64,
            message: format!(
                "We mailed a 6-digit code to {email}. Enter it below; it works for {} minutes.",
                VALID_FOR_SECS / 60
            ),
        })
    }

    /// Whether `code` proves `email` (always, when codes are off). Each call takes a try.
    pub(super) async fn check_code(
        &self,
        email: &EmailAddress,
        code: Option<&str>,
    ) -> AppResult<()> {
        if !self.policy.verify_email {
            return Ok(());
        }
        let code = code.map(str::trim).unwrap_or_default();
        if code.is_empty() {
            return Err(AppError::invalid(
                Field::Code,
                format!("Enter the 6-digit code we mail to {email}: ask for one with “Send code”."),
            ));
        }
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid(
                Field::Code,
                "The code is the 6 digits in the email.",
            ));
        }
        let refused = |message: &str| AppError::CodeRefused(message.to_owned());
        let owner = owner(email);
        let names = self.index.code_item_names(&owner).await?;
        let Some(latest) = names.iter().filter(|n| n.ends_with(".json")).max() else {
            return Err(refused(
                "No code was sent to this address yet: ask for one with “Send code”.",
            ));
        };
        let issued: IssuedCode = match self.index.code_item(&owner, latest).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| PortError::upstream("the record index", format!("{latest}: {e}")))?,
            None => {
                return Err(refused(
                    "No code was sent to this address yet: ask for one.",
                ))
            }
        };
        let minute = issued.issued_at / 60;
        if chrono::Utc::now().timestamp() - issued.issued_at > VALID_FOR_SECS {
            return Err(refused(
                "That code has expired (a code works for 10 minutes): ask for a new one.",
            ));
        }
        let stem = latest.trim_end_matches(".json");
        let count = |kind: &str| {
            let prefix = format!("{stem}.{kind}-");
            names.iter().filter(|n| n.starts_with(&prefix)).count()
        };
        let (mut slot, right_before) = (count("try"), count("ok"));
        // A try's marker goes with its code.
        let kept_until = issued.issued_at + KEPT_FOR_SECS;
        let wrong_so_far = loop {
            slot += 1;
            let wrong_so_far = slot - 1 - right_before;
            if wrong_so_far >= TRIES {
                return Err(refused(
                    "That code was tried too many times: ask for a new one.",
                ));
            }
            if self
                .index
                .put_code_item(&owner, &format!("{stem}.try-{slot}"), b"", kept_until)
                .await?
            {
                break wrong_so_far;
            }
        };
        if same(&issued.hash, &code_hash(email, minute, code)) {
            self.index
                .put_code_item(&owner, &format!("{stem}.ok-{slot}"), b"", kept_until)
                .await?;
            return Ok(());
        }
        Err(refused(&match TRIES - wrong_so_far - 1 {
            0 => "That code is not right, and it was the last try: ask for a new one.".to_owned(),
            1 => "That code is not right: one more try, then ask for a new one.".to_owned(),
            left => format!("That code is not right: {left} more tries."),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_codes_own_key_names_its_minute() {
        assert_eq!(issued_minute("000029000001.json"), Some(29_000_001));
        assert_eq!(issued_minute("000029000001.json.try-1"), None);
        assert_eq!(issued_minute("1.json"), None);
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| new_code().unwrap()).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 40, "{codes:?}");
    }

    #[test]
    fn a_hash_depends_on_the_address_the_minute_and_the_code() {
        let a = EmailAddress::parse("a@example.com").unwrap();
        let b = EmailAddress::parse("b@example.com").unwrap();
        let h = code_hash(&a, 1, "123456");
        assert_eq!(h, code_hash(&a, 1, "123456"));
        assert_ne!(h, code_hash(&b, 1, "123456"));
        assert_ne!(h, code_hash(&a, 2, "123456"));
        assert_ne!(h, code_hash(&a, 1, "123457"));
        assert!(!owner(&a).contains("example"));
    }
}
