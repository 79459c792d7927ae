//! Prometheus metrics (`/metrics`), all prefixed `sluice_`. Labels are bounded: per subject
//! (kind, namespace, name), never per finding.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use prometheus_client::encoding::{EncodeLabelSet, text::encode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::github::Stats;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SubjectLabels {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabels {
    kind: String,
    namespace: String,
    name: String,
    state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SeverityLabels {
    kind: String,
    namespace: String,
    name: String,
    severity: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PackLabels {
    pack: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
    pub result: String,
}

/// The states a subject can be in, for the one-hot state gauge.
pub const STATES: [&str; 5] = [
    "Compliant",
    "Warning",
    "NonCompliant",
    "Critical",
    "Unknown",
];
/// Severities, worst first.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// Every metric the operator exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    compliance: Family<StateLabels, Gauge>,
    findings: Family<SeverityLabels, Gauge>,
    discovered: Family<KindLabels, Gauge>,
    evaluation: Family<KindLabels, Histogram>,
    scans: Counter,
    cache_hits: Counter,
    github_requests: Family<EndpointLabels, Counter>,
    github_rate_limit: Gauge,
    pack_errors: Family<PackLabels, Counter>,
    pub enforcement_actions: Family<ActionLabels, Counter>,
    /// GitHub counters already exported, so the cumulative client stats become increments.
    github_seen: Mutex<BTreeMap<(&'static str, u16), u64>>,
    scans_seen: Mutex<(u64, u64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sluice");
        let compliance = Family::<StateLabels, Gauge>::default();
        registry.register(
            "compliance_state",
            "1 for the subject's current compliance state (Compliant, Warning, NonCompliant, Critical, Unknown)",
            compliance.clone(),
        );
        let findings = Family::<SeverityLabels, Gauge>::default();
        registry.register(
            "findings",
            "Findings in the pipelines feeding the subject, by severity",
            findings.clone(),
        );
        let discovered = Family::<KindLabels, Gauge>::default();
        registry.register(
            "subjects_discovered",
            "Subjects the operator watches, by kind",
            discovered.clone(),
        );
        let evaluation = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.5, 12))
        });
        registry.register(
            "evaluation_duration_seconds",
            "Time to evaluate one subject (resolve, scan or cache hit, write)",
            evaluation.clone(),
        );
        let scans = Counter::default();
        registry.register("scans", "Scans run (cache misses)", scans.clone());
        let cache_hits = Counter::default();
        registry.register(
            "scan_cache_hits",
            "Evaluations answered from the scan cache",
            cache_hits.clone(),
        );
        let github_requests = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "github_api_requests",
            "GitHub API requests by endpoint and HTTP status (304s are free under the rate limit)",
            github_requests.clone(),
        );
        let github_rate_limit = Gauge::default();
        registry.register(
            "github_rate_limit_remaining",
            "The last X-RateLimit-Remaining GitHub sent (-1 before the first answer)",
            github_rate_limit.clone(),
        );
        github_rate_limit.set(-1);
        let pack_errors = Family::<PackLabels, Counter>::default();
        registry.register(
            "pack_errors",
            "Rule pack failures (crash, time-out, bad output) by pack",
            pack_errors.clone(),
        );
        let enforcement_actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "enforcement_actions",
            "Enforcement actions applied or reversed, by action and result",
            enforcement_actions.clone(),
        );
        Metrics {
            registry,
            compliance,
            findings,
            discovered,
            evaluation,
            scans,
            cache_hits,
            github_requests,
            github_rate_limit,
            pack_errors,
            enforcement_actions,
            github_seen: Mutex::new(BTreeMap::new()),
            scans_seen: Mutex::new((0, 0)),
        }
    }

    /// Records a subject's state and finding counts (severity order of [`SEVERITIES`]).
    pub fn set_subject(&self, subject: &SubjectLabels, state: &str, counts: [u32; 5]) {
        for candidate in STATES {
            let labels = state_labels(subject, candidate);
            if candidate == state {
                self.compliance.get_or_create(&labels).set(1);
            } else {
                self.compliance.remove(&labels);
            }
        }
        for (severity, count) in SEVERITIES.iter().zip(counts) {
            self.findings
                .get_or_create(&severity_labels(subject, severity))
                .set(i64::from(count));
        }
    }

    /// Forgets a subject that no longer exists.
    pub fn remove_subject(&self, subject: &SubjectLabels) {
        for state in STATES {
            self.compliance.remove(&state_labels(subject, state));
        }
        for severity in SEVERITIES {
            self.findings.remove(&severity_labels(subject, severity));
        }
    }

    pub fn set_discovered(&self, kind: &str, count: usize) {
        self.discovered
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn observe_evaluation(&self, kind: &str, seconds: f64) {
        self.evaluation
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .observe(seconds);
    }

    pub fn pack_error(&self, pack: &str) {
        self.pack_errors
            .get_or_create(&PackLabels {
                pack: pack.to_owned(),
            })
            .inc();
    }

    /// Brings the counters kept elsewhere (scanner, GitHub client) up to date; called before
    /// every scrape.
    pub fn sync(&self, scans: u64, cache_hits: u64, github: &Stats) {
        {
            let mut seen = self.scans_seen.lock().expect("scans lock");
            self.scans.inc_by(scans.saturating_sub(seen.0));
            self.cache_hits.inc_by(cache_hits.saturating_sub(seen.1));
            *seen = (scans.max(seen.0), cache_hits.max(seen.1));
        }
        let current = github.by_endpoint.lock().expect("stats lock").clone();
        let mut seen = self.github_seen.lock().expect("github lock");
        for (key, count) in current {
            let before = seen.insert(key, count).unwrap_or(0);
            self.github_requests
                .get_or_create(&EndpointLabels {
                    endpoint: key.0.to_owned(),
                    status: key.1.to_string(),
                })
                .inc_by(count.saturating_sub(before));
        }
        self.github_rate_limit
            .set(github.rate_limit_remaining.load(Ordering::Relaxed));
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

fn state_labels(subject: &SubjectLabels, state: &str) -> StateLabels {
    StateLabels {
        kind: subject.kind.clone(),
        namespace: subject.namespace.clone(),
        name: subject.name.clone(),
        state: state.to_owned(),
    }
}

fn severity_labels(subject: &SubjectLabels, severity: &str) -> SeverityLabels {
    SeverityLabels {
        kind: subject.kind.clone(),
        namespace: subject.namespace.clone(),
        name: subject.name.clone(),
        severity: severity.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> SubjectLabels {
        SubjectLabels {
            kind: "Application".into(),
            namespace: "argocd".into(),
            name: "shop".into(),
        }
    }

    #[test]
    fn one_state_series_per_subject_and_removal_forgets_it() {
        let metrics = Metrics::new();
        metrics.set_subject(&subject(), "Warning", [0, 1, 2, 0, 0]);
        metrics.set_subject(&subject(), "Critical", [1, 1, 2, 0, 0]);
        let text = metrics.encode();
        assert!(text.contains(
            r#"sluice_compliance_state{kind="Application",namespace="argocd",name="shop",state="Critical"} 1"#
        ), "{text}");
        assert!(!text.contains(r#"state="Warning""#), "{text}");
        assert!(text.contains(
            r#"sluice_findings{kind="Application",namespace="argocd",name="shop",severity="medium"} 2"#
        ));
        metrics.remove_subject(&subject());
        assert!(!metrics.encode().contains("name=\"shop\""));
    }

    #[test]
    fn cumulative_counters_become_increments() {
        let metrics = Metrics::new();
        let stats = Stats::default();
        stats
            .by_endpoint
            .lock()
            .expect("lock")
            .insert(("commits", 304), 3);
        stats.rate_limit_remaining.store(4999, Ordering::Relaxed);
        metrics.sync(2, 5, &stats);
        metrics.sync(2, 7, &stats);
        let text = metrics.encode();
        assert!(text.contains("sluice_scans_total 2"), "{text}");
        assert!(text.contains("sluice_scan_cache_hits_total 7"), "{text}");
        assert!(
            text.contains(r#"sluice_github_api_requests_total{endpoint="commits",status="304"} 3"#)
        );
        assert!(text.contains("sluice_github_rate_limit_remaining 4999"));
    }
}
