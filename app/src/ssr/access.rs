//! API keys with roles, and the per-key rate limit (token bucket plus a daily quota).

use super::error::{AppError, AppResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a key may do. An admin key may also do everything a member key may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Admin,
}

/// A value that must never reach a log: `Debug` prints `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    /// The value itself, for the one place that compares or prints it on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The configured keys.
#[derive(Clone, Debug)]
pub struct KeyRing {
    member: Vec<Secret>,
    admin: Vec<Secret>,
}

impl KeyRing {
    pub fn new(member: Vec<Secret>, admin: Vec<Secret>) -> Self {
        let keep = |keys: Vec<Secret>| keys.into_iter().filter(|k| !k.0.is_empty()).collect();
        Self {
            member: keep(member),
            admin: keep(admin),
        }
    }

    pub fn role_of(&self, key: &str) -> Option<Role> {
        // Check every key, in constant time each, so timing says nothing about which matched.
        let admin = self.admin.iter().fold(false, |m, k| m | same(&k.0, key));
        let member = self.member.iter().fold(false, |m, k| m | same(&k.0, key));
        if admin {
            Some(Role::Admin)
        } else if member {
            Some(Role::Member)
        } else {
            None
        }
    }

    /// 401 without a key, 403 with a wrong key or a member key where admin is needed.
    pub fn require(&self, key: Option<&str>, needed: Role) -> AppResult<Role> {
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(AppError::MissingKey);
        };
        match self.role_of(key) {
            None => Err(AppError::WrongKey),
            Some(role) if role < needed => Err(AppError::AdminOnly),
            Some(role) => Ok(role),
        }
    }
}

/// A name for a key that records can carry and logs can show: the role and the first 8 hex
/// digits of the key's SHA-256 (`admin-1a2b3c4d`). Never the key, and not enough to guess it.
pub fn key_id(role: Role, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.trim().as_bytes());
    let prefix: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let role = match role {
        Role::Member => "member",
        Role::Admin => "admin",
    };
    format!("{role}-{prefix}")
}

/// Compares the keys' SHA-256 digests, every byte: the time taken depends neither on where
/// the keys first differ nor on either key's length.
pub(super) fn same(configured: &str, given: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (
        Sha256::digest(configured.as_bytes()),
        Sha256::digest(given.as_bytes()),
    );
    let difference = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Limits per key: `per_second` sustained, `burst` at once, `per_day` per UTC day.
#[derive(Clone, Copy, Debug)]
pub struct RateLimits {
    pub per_second: f64,
    pub burst: u32,
    pub per_day: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_second: 1.0,
            burst: 5,
            per_day: 10_000,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    day: i64,
    used_today: u64,
}

/// An in-process limiter. On Lambda, API Gateway's usage plan enforces the same limits across
/// instances; this one keeps a local run (and each instance) honest.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s allowance now.
    pub fn check(&self, key: &str) -> AppResult<()> {
        let day = chrono::Utc::now().timestamp().div_euclid(86_400);
        self.check_at(key, Instant::now(), day)
    }

    /// The same, at a given instant and day number (for tests).
    pub fn check_at(&self, key: &str, now: Instant, day: i64) -> AppResult<()> {
        let RateLimits {
            per_second,
            burst,
            per_day,
        } = self.limits;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(burst),
            refilled: now,
            day,
            used_today: 0,
        });
        if bucket.day != day {
            bucket.day = day;
            bucket.used_today = 0;
        }
        if bucket.used_today >= per_day {
            let secs_left = (day + 1) * 86_400 - chrono::Utc::now().timestamp();
            return Err(AppError::RateLimited {
                retry_after_secs: secs_left.clamp(1, 86_400) as u64,
            });
        }
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(f64::from(burst));
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            let wait = ((1.0 - bucket.tokens) / per_second).ceil().max(1.0);
            return Err(AppError::RateLimited {
                retry_after_secs: wait as u64,
            });
        }
        bucket.tokens -= 1.0;
        bucket.used_today += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ring() -> KeyRing {
        KeyRing::new(
            vec![Secret::new("m-key".into())],
            vec![Secret::new("a-key".into())],
        )
    }

    #[test]
    fn keys_map_to_roles_and_admin_covers_member() {
        let keys = ring();
        assert_eq!(
            keys.require(Some("m-key"), Role::Member).ok(),
            Some(Role::Member)
        );
        assert_eq!(
            keys.require(Some("a-key"), Role::Member).ok(),
            Some(Role::Admin)
        );
        assert_eq!(
            keys.require(Some("a-key"), Role::Admin).ok(),
            Some(Role::Admin)
        );
        assert!(matches!(
            keys.require(Some("m-key"), Role::Admin),
            Err(AppError::AdminOnly)
        ));
        assert!(matches!(
            keys.require(Some("nope"), Role::Member),
            Err(AppError::WrongKey)
        ));
        assert!(matches!(
            keys.require(None, Role::Member),
            Err(AppError::MissingKey)
        ));
        assert!(matches!(
            keys.require(Some("  "), Role::Member),
            Err(AppError::MissingKey)
        ));
    }

    #[test]
    fn key_ids_name_a_key_without_showing_it() {
        let id = key_id(Role::Admin, "admin-secret-key");
        assert!(
            id.starts_with("admin-") && id.len() == "admin-".len() + 8,
            "{id}"
        );
        assert!(!id.contains("secret"));
        assert_eq!(id, key_id(Role::Admin, " admin-secret-key "));
        assert_ne!(id, key_id(Role::Admin, "another-admin-key"));
    }

    #[test]
    fn keys_match_exactly_whatever_their_lengths() {
        let keys = ring();
        for near in ["m-ke", "m-keyy", "M-key", "m-key\0", "a-key m-key"] {
            assert_eq!(keys.role_of(near), None, "{near:?}");
        }
        assert_eq!(keys.role_of(&"m".repeat(10_000)), None);
    }

    #[test]
    fn empty_configured_keys_never_match() {
        let keys = KeyRing::new(vec![Secret::new(String::new())], vec![]);
        assert_eq!(keys.role_of(""), None);
    }

    #[test]
    fn burst_then_one_per_second() {
        let limiter = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        for _ in 0..5 {
            limiter.check_at("k", t0, 0).unwrap();
        }
        assert!(matches!(
            limiter.check_at("k", t0, 0),
            Err(AppError::RateLimited {
                retry_after_secs: 1
            })
        ));
        // Other keys are not affected.
        limiter.check_at("other", t0, 0).unwrap();
        // One second later there is exactly one more.
        let t1 = t0 + Duration::from_secs(1);
        limiter.check_at("k", t1, 0).unwrap();
        assert!(limiter.check_at("k", t1, 0).is_err());
        // Long idle refills only up to the burst.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..5 {
            limiter.check_at("k", t2, 0).unwrap();
        }
        assert!(limiter.check_at("k", t2, 0).is_err());
    }

    #[test]
    fn daily_quota_resets_on_a_new_day() {
        let limiter = RateLimiter::new(RateLimits {
            per_second: 1000.0,
            burst: 1000,
            per_day: 3,
        });
        let t = Instant::now();
        for _ in 0..3 {
            limiter.check_at("k", t, 7).unwrap();
        }
        assert!(matches!(
            limiter.check_at("k", t, 7),
            Err(AppError::RateLimited { .. })
        ));
        limiter.check_at("k", t, 8).unwrap();
    }
}
