//! The request's time budget. On Lambda it is the invocation's deadline (the stack gives the
//! function API Gateway's 29 s): the workflow stops itself in time to record and answer, instead
//! of being cut off between creating a user, adding the membership and updating the record.
//! Without a deadline (the local server) nothing is cut short here; each adapter has its own.

use super::ports::{PortError, PortResult};
use std::future::Future;
use std::time::{Duration, Instant};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// What the grant and the record update after it may need at most: the analysis must leave it.
pub const GRANT_RESERVE: Duration = Duration::from_secs(6);
/// What the record update after a grant needs: the grant must leave it.
pub const RECORD_RESERVE: Duration = Duration::from_secs(1);

/// Runs `f` with `deadline` as the request's deadline (the router does this on Lambda).
pub async fn with_deadline<F: Future>(deadline: Option<Instant>, f: F) -> F::Output {
    match deadline {
        Some(at) => DEADLINE.scope(at, f).await,
        None => f.await,
    }
}

/// Runs `f` so that it finishes `reserve` before the request's deadline, or fails as a timeout
/// of `service`. Without a deadline, just runs it.
pub async fn within<T>(
    reserve: Duration,
    service: &'static str,
    f: impl Future<Output = PortResult<T>>,
) -> PortResult<T> {
    let Ok(deadline) = DEADLINE.try_with(|d| *d) else {
        return f.await;
    };
    let budget = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(reserve);
    match tokio::time::timeout(budget, f).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                service,
                ?budget,
                "stopped to answer before the request's deadline"
            );
            Err(PortError::timeout(service))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_past_the_budget_is_a_timeout_and_work_within_it_is_not() {
        let soon = Some(Instant::now() + Duration::from_millis(1200));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let started = Instant::now();
        let cut = with_deadline(soon, within(Duration::from_secs(1), "the directory", slow)).await;
        assert!(matches!(
            cut,
            Err(PortError::Timeout {
                service: "the directory"
            })
        ));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );

        let quick = async { Ok(7) };
        let done = with_deadline(soon, within(Duration::from_secs(1), "x", quick)).await;
        assert_eq!(done.unwrap(), 7);
        let unbounded = within(Duration::from_secs(1), "x", async { Ok(8) }).await;
        assert_eq!(unbounded.unwrap(), 8);
    }
}
