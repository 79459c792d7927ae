//! The compliance state of a subject, shared by reports, policy results and triggers.

use std::cmp::Ordering;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a subject's pipelines measure up against the policies that select it.
///
/// `Unknown` means the pipelines could not be evaluated (the scan failed, the host is not
/// supported). It is deliberately not comparable with the other states: it must never trigger
/// enforcement, never reverse it, and never be mistaken for `Compliant`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ComplianceState {
    /// No counted finding.
    Compliant,
    /// Counted findings exist, all within the thresholds.
    Warning,
    /// A threshold other than `maxCritical` is exceeded.
    NonCompliant,
    /// More critical findings than `maxCritical` allows.
    Critical,
    /// The pipelines could not be evaluated; see `reason` and the `ScanFailed` condition.
    #[default]
    Unknown,
}

impl ComplianceState {
    /// Every state, `Unknown` last.
    pub const ALL: [ComplianceState; 5] = [
        ComplianceState::Compliant,
        ComplianceState::Warning,
        ComplianceState::NonCompliant,
        ComplianceState::Critical,
        ComplianceState::Unknown,
    ];

    /// Position on the scale Compliant (0) < Warning < NonCompliant < Critical (3); `None` for
    /// `Unknown`, which is not on that scale.
    pub fn severity_rank(self) -> Option<u8> {
        match self {
            ComplianceState::Compliant => Some(0),
            ComplianceState::Warning => Some(1),
            ComplianceState::NonCompliant => Some(2),
            ComplianceState::Critical => Some(3),
            ComplianceState::Unknown => None,
        }
    }

    /// The worse of two states. Any `Unknown` makes the result `Unknown`: a subject one of whose
    /// evaluations failed cannot be called Compliant, nor acted upon as Critical.
    pub fn worst(a: ComplianceState, b: ComplianceState) -> ComplianceState {
        match (a.severity_rank(), b.severity_rank()) {
            (Some(x), Some(y)) => {
                if x >= y {
                    a
                } else {
                    b
                }
            }
            _ => ComplianceState::Unknown,
        }
    }

    /// `worst` over many states; `None` when there are none (no policy selects the subject).
    pub fn worst_of(states: impl IntoIterator<Item = ComplianceState>) -> Option<ComplianceState> {
        states.into_iter().reduce(ComplianceState::worst)
    }

    /// Whether the state is at least `threshold` on the severity scale. Always false when
    /// either side is `Unknown`.
    pub fn at_least(self, threshold: ComplianceState) -> bool {
        matches!(
            self.partial_cmp(&threshold),
            Some(Ordering::Greater | Ordering::Equal)
        )
    }

    /// The name as serialized (and shown by `kubectl get psr`).
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceState::Compliant => "Compliant",
            ComplianceState::Warning => "Warning",
            ComplianceState::NonCompliant => "NonCompliant",
            ComplianceState::Critical => "Critical",
            ComplianceState::Unknown => "Unknown",
        }
    }
}

/// Orders the known states; `Unknown` compares with nothing but itself, so `<`, `>=` and
/// friends are false whenever it is involved (no accidental enforcement on a failed scan).
impl PartialOrd for ComplianceState {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.severity_rank(), other.severity_rank()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            (None, None) => Some(Ordering::Equal),
            _ => None,
        }
    }
}

impl fmt::Display for ComplianceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ComplianceState::{self, *};

    #[test]
    fn worst_wins_on_the_known_scale() {
        assert_eq!(ComplianceState::worst(Compliant, Warning), Warning);
        assert_eq!(ComplianceState::worst(Critical, NonCompliant), Critical);
        assert_eq!(ComplianceState::worst(NonCompliant, Warning), NonCompliant);
        assert_eq!(
            ComplianceState::worst_of([Warning, Compliant, NonCompliant]),
            Some(NonCompliant)
        );
        assert_eq!(ComplianceState::worst_of([]), None);
    }

    #[test]
    fn unknown_poisons_worst_and_never_reaches_a_threshold() {
        for state in ComplianceState::ALL {
            assert_eq!(ComplianceState::worst(state, Unknown), Unknown);
            assert_eq!(ComplianceState::worst(Unknown, state), Unknown);
            assert!(!Unknown.at_least(state) || state == Unknown, "{state}");
        }
        assert!(!Unknown.at_least(Warning));
        assert!(!Critical.at_least(Unknown));
        assert!(Critical.at_least(Warning));
        assert!(Warning.at_least(Warning));
        assert!(!Compliant.at_least(Warning));
    }

    #[test]
    fn serializes_as_the_documented_names_with_unknown_default() {
        for state in ComplianceState::ALL {
            let json = serde_json::to_value(state).expect("serializable");
            assert_eq!(json, serde_json::json!(state.as_str()));
            let back: ComplianceState = serde_json::from_value(json).expect("round trip");
            assert_eq!(back, state);
        }
        assert_eq!(ComplianceState::default(), Unknown);
    }
}
