//! When a failed request is worth another try, and how long to wait first.
//!
//! GitHub asks for three different kinds of patience: a primary rate limit
//! (`X-RateLimit-Remaining: 0`) lasts until `X-RateLimit-Reset`, which can be most of an hour,
//! so by default we fail with the reset time instead of hanging; a secondary limit (403 or 429,
//! usually with `Retry-After`) lasts seconds to a minute; server errors and dropped connections
//! are usually gone a moment later. Every wait is bounded, and so is the number of tries.

use std::time::Duration;

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Further attempts after the first, for every retryable failure.
    pub retries: u32,
    /// First back-off for server errors and transport failures; doubles each attempt.
    pub backoff: Duration,
    /// The longest `Retry-After` (secondary limit) we wait for; longer ones fail.
    pub max_retry_after: Duration,
    /// The longest wait for a primary rate limit to reset (`--github-wait`); zero fails at once.
    pub wait_for_reset: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            wait_for_reset: Duration::ZERO,
        }
    }
}

/// What a failed attempt allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Asking again gives the same answer (404, 401, forbidden).
    Never,
    /// Transient (5xx, connection): exponential back-off.
    Backoff,
    /// The server said when (`Retry-After`, or GitHub's one minute for a secondary limit).
    After(Duration),
    /// Primary rate limit: not before this Unix time.
    Reset(u64),
}

/// GitHub's advice for a secondary limit that names no `Retry-After`: wait at least a minute.
pub(crate) const SECONDARY_DEFAULT: Duration = Duration::from_secs(60);

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`, or `None` to give up. `now` is Unix time.
    pub(crate) fn wait(&self, retry: Retry, attempts: u32, now: u64) -> Option<Duration> {
        if attempts > self.retries {
            return None;
        }
        match retry {
            Retry::Never => None,
            Retry::Backoff => {
                let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
                Some(self.backoff.saturating_mul(factor))
            }
            Retry::After(wait) => (wait <= self.max_retry_after).then_some(wait),
            Retry::Reset(at) => {
                // One second more: GitHub's reset is whole seconds and clocks drift.
                let wait = Duration::from_secs(at.saturating_sub(now) + 1);
                (wait <= self.wait_for_reset).then_some(wait)
            }
        }
    }
}

/// The current Unix time in seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded() {
        let policy = RetryPolicy::default();
        let ms = Duration::from_millis;
        assert_eq!(policy.wait(Retry::Backoff, 1, 0), Some(ms(500)));
        assert_eq!(policy.wait(Retry::Backoff, 3, 0), Some(ms(2000)));
        assert_eq!(
            policy.wait(Retry::Backoff, 4, 0),
            None,
            "three retries, then stop"
        );
        assert_eq!(policy.wait(Retry::Never, 1, 0), None);
        let secs = Duration::from_secs;
        assert_eq!(policy.wait(Retry::After(secs(5)), 1, 0), Some(secs(5)));
        assert_eq!(policy.wait(Retry::After(secs(3600)), 1, 0), None);
        assert_eq!(
            policy.wait(Retry::Reset(100), 1, 90),
            None,
            "no --github-wait"
        );
        let patient = RetryPolicy {
            wait_for_reset: secs(60),
            ..RetryPolicy::default()
        };
        assert_eq!(patient.wait(Retry::Reset(100), 1, 90), Some(secs(11)));
        assert_eq!(patient.wait(Retry::Reset(1000), 1, 90), None);
    }
}
