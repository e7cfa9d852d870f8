//! In-memory fakes of the four ports, for tests: fast, and each can be told to fail a chosen
//! operation (`fail(Op::AddMember, Failure::Unavailable)`), so the workflow's failure branches
//! are tested directly. They pass the same contract tests as the real adapters.

mod analyzer;
mod audit_store;
mod directory;
mod mailer;

pub use analyzer::ScriptedAnalyzer;
pub use audit_store::{AuditOp, MemoryAuditStore};
pub use directory::{DirectoryOp, MemoryDirectory};
pub use mailer::MemoryMailer;

use app::ssr::ports::{PortError, PortResult};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How a fake operation fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Unavailable,
    Timeout,
    Upstream,
    /// Answers only after 30 s, longer than any deadline the tests set (a dependency that
    /// hangs; bounded, so that a test whose deadline is not kept fails instead of hanging).
    Hang,
}

/// The operations told to fail, shared by the fakes: each with how many calls still succeed
/// first, and how it then fails.
#[derive(Debug)]
struct Failures<Op> {
    service: &'static str,
    failing: Mutex<HashMap<Op, (usize, Failure)>>,
}

impl<Op: Copy + Eq + Hash + std::fmt::Debug> Failures<Op> {
    fn new(service: &'static str) -> Self {
        Self {
            service,
            failing: Mutex::new(HashMap::new()),
        }
    }

    /// `op` succeeds `successes` more times, then fails as `failure` says (`None`: never).
    fn set(&self, op: Op, successes: usize, failure: Option<Failure>) {
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        match failure {
            Some(f) => failing.insert(op, (successes, f)),
            None => failing.remove(&op),
        };
    }

    /// `Err` when `op` was told to fail and has no successes left (or never, for `Hang`).
    async fn check(&self, op: Op) -> PortResult<()> {
        let failure = {
            let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
            match failing.get_mut(&op) {
                None => return Ok(()),
                Some((successes, _)) if *successes > 0 => {
                    *successes -= 1;
                    return Ok(());
                }
                Some((_, failure)) => *failure,
            }
        };
        Err(match failure {
            Failure::Hang => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                PortError::timeout(self.service)
            }
            Failure::Timeout => PortError::timeout(self.service),
            Failure::Unavailable => {
                PortError::unavailable(self.service, format!("fake failure of {op:?}"))
            }
            Failure::Upstream => {
                PortError::upstream(self.service, format!("fake error answer to {op:?}"))
            }
        })
    }
}

/// Calls of an operation that wait for each other: `set(op, n)` makes the next `n` calls meet
/// (or give up after 5 s) before going on.
#[derive(Debug)]
struct Rendezvous<Op> {
    waiting: Mutex<HashMap<Op, (usize, std::sync::Arc<tokio::sync::Barrier>)>>,
}

impl<Op> Default for Rendezvous<Op> {
    fn default() -> Self {
        Self {
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

impl<Op: Copy + Eq + Hash> Rendezvous<Op> {
    fn set(&self, op: Op, callers: usize) {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(callers));
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(op, (callers, barrier));
    }

    async fn meet(&self, op: Op) {
        let barrier = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            match waiting.get_mut(&op) {
                Some((left, barrier)) if *left > 0 => {
                    *left -= 1;
                    Some(barrier.clone())
                }
                _ => None,
            }
        };
        if let Some(barrier) = barrier {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), barrier.wait()).await;
        }
    }
}
