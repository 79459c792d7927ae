//! The operator's wall clock. Report time stamps and grace periods read it; tests move it
//! forward instead of sleeping (Tokio's paused time would not move a wall clock, and its
//! `test-util` feature would build the whole dependency tree a second time).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use k8s_openapi::jiff::civil::Date;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// System time plus an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// Now, to the second (status time stamps need no more, and equal seconds compare equal).
    pub fn now(&self) -> Timestamp {
        let seconds = Timestamp::now().as_second() + self.offset_seconds.load(Ordering::SeqCst);
        Timestamp::from_second(seconds).expect("the current time is in range")
    }

    /// Today in UTC: override `expires` dates are UTC days.
    pub fn today(&self) -> Date {
        self.now().to_zoned(TimeZone::UTC).date()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let seconds =
            i64::try_from(by.as_secs()).expect("a test advances by less than 292 billion years");
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    /// How long from now until `at` (zero when it has passed).
    pub fn until(&self, at: Timestamp) -> Duration {
        let left: SignedDuration = at.duration_since(self.now());
        left.try_into().unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::from_secs(3600));
        let after = copy.now();
        let moved = after.duration_since(before).as_secs();
        assert!((3600..3605).contains(&moved), "moved {moved} s");
        assert_eq!(clock.until(before), Duration::ZERO);
        let later = after + SignedDuration::from_secs(90);
        assert!((85..=90).contains(&clock.until(later).as_secs()));
    }
}
