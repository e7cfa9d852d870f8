//! How many screenshots are decoded and read at once: a decoded screenshot is tens of MB and an
//! OCR run takes a core, so a burst of uploads waits for a slot instead of exhausting memory;
//! one that waits longer than the bound is told to come back (503 with `Retry-After`).

use super::error::{AppError, AppResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a request refused for a full house is told to wait before trying again.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

/// `KIRO_MAX_CONCURRENT_ANALYSES` and `KIRO_ANALYSIS_WAIT_SECS`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnalysisLimits {
    /// Screenshots decoded or read at the same time, at most.
    pub max_concurrent: usize,
    /// How long a request waits for a slot before it is refused.
    pub wait: Duration,
}

impl Default for AnalysisLimits {
    /// One slot per core, ten seconds' wait.
    fn default() -> Self {
        Self {
            max_concurrent: std::thread::available_parallelism().map_or(1, |n| n.get()),
            wait: Duration::from_secs(10),
        }
    }
}

/// The slots themselves, shared by every request of the process.
#[derive(Clone, Debug)]
pub struct AnalysisSlots {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl AnalysisSlots {
    pub fn new(limits: AnalysisLimits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            wait: limits.wait,
        }
    }

    /// A slot, held until the permit is dropped (move it into a blocking task that outlives
    /// the request), or `Busy` when none came free within the wait.
    pub async fn acquire(&self) -> AppResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or closed (never: nothing closes it).
            _ => {
                tracing::warn!(wait = ?self.wait, "no analysis slot came free; request refused");
                Err(AppError::Busy {
                    retry_after_secs: BUSY_RETRY_AFTER_SECS,
                })
            }
        }
    }
}

impl Default for AnalysisSlots {
    fn default() -> Self {
        Self::new(AnalysisLimits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_house_refuses_after_the_wait_and_a_freed_slot_is_taken_again() {
        let slots = AnalysisSlots::new(AnalysisLimits {
            max_concurrent: 1,
            wait: Duration::from_millis(50),
        });
        let held = slots.acquire().await.expect("the one slot");
        let refused = slots.acquire().await;
        assert!(
            matches!(refused, Err(AppError::Busy { retry_after_secs }) if retry_after_secs == BUSY_RETRY_AFTER_SECS),
            "{refused:?}"
        );
        drop(held);
        assert!(slots.acquire().await.is_ok());
    }
}
