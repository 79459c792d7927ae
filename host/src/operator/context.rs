//! What every reconcile shares: the client, the scanner, metrics, events, the write gate and
//! the caches of watched objects.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kube::api::DynamicObject;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use crate::operator::clock::Clock;
use crate::operator::enforce::alert::AlertSender;
use crate::operator::kinds::WatchedKind;
use crate::operator::metrics::{Metrics, SubjectLabels};
use crate::operator::policy::PolicyStores;
use crate::operator::policy_report::PolicyReportCrd;
use crate::operator::scanner::Scanner;

/// `--enforcement`: off (nothing is changed or sent), dry-run (Events and report entries say
/// what would be done), on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnforcementMode {
    #[default]
    Off,
    DryRun,
    On,
}

/// The operator's settings (flags and environment).
#[derive(Debug, Clone)]
pub struct OperatorSettings {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// How often a subject is re-evaluated when nothing triggers it.
    pub default_interval: Duration,
    /// Findings listed in a report (worst first); the rest are counted.
    pub findings_cap: usize,
    /// Hosts whose repositories go to the GitHub API (github.com or a GitHub Enterprise
    /// host). Any other host is `Unknown` / `UnsupportedHost`.
    pub github_hosts: Vec<String>,
    pub enforcement: EnforcementMode,
    /// Retry delay after a failed scan, doubled per consecutive failure up to the interval.
    pub failure_backoff: Duration,
    /// Subjects of one kind reconciled at once (scans are limited separately).
    pub reconcile_concurrency: u16,
    /// Where alert Secrets are read (the operator's own namespace, from POD_NAMESPACE).
    pub operator_namespace: Option<String>,
    /// Report time stamps and grace periods.
    pub clock: Clock,
    /// `--policy-reports`: also write a wgpolicyk8s.io PolicyReport per subject.
    pub policy_reports: bool,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        OperatorSettings {
            namespaces: Vec::new(),
            default_interval: Duration::from_secs(600),
            findings_cap: crate::api::report_status::DEFAULT_FINDINGS_CAP,
            github_hosts: vec!["github.com".to_owned()],
            enforcement: EnforcementMode::Off,
            failure_backoff: Duration::from_secs(10),
            reconcile_concurrency: 16,
            operator_namespace: None,
            clock: Clock::default(),
            policy_reports: false,
        }
    }
}

/// Subjects are keyed by kind, namespace and name.
pub type SubjectKey = (WatchedKind, String, String);

/// What the operator remembers about a subject between evaluations (lost on restart; the
/// report is the durable record).
#[derive(Debug, Default, Clone)]
pub struct SubjectMemory {
    pub fingerprints: HashSet<String>,
    pub failures: u32,
    /// Consecutive passes in which an enforcement action failed (backoff).
    pub enforcement_failures: u32,
}

/// Only the leader writes. The flag is checked right before every write, so losing the lease
/// stops writes at once, even for a reconcile already under way.
#[derive(Debug, Clone, Default)]
pub struct WriteGate(Arc<AtomicBool>);

impl WriteGate {
    pub fn open(&self, open: bool) {
        self.0.store(open, Ordering::SeqCst);
    }

    pub fn is_open(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Shared by every controller.
pub struct Shared {
    pub client: kube::Client,
    pub settings: OperatorSettings,
    pub scanner: Scanner,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub writes: WriteGate,
    /// Caches of the watched kinds, filled while their CRDs are installed.
    pub stores: RwLock<HashMap<WatchedKind, Vec<Store<DynamicObject>>>>,
    pub memory: Mutex<HashMap<SubjectKey, SubjectMemory>>,
    /// Policy and namespace caches, and the signal that re-evaluates every subject.
    pub policies: PolicyStores,
    pub alerts: AlertSender,
    /// Whether the installed Application CRD has `automated.enabled`, and when that was read.
    pub argo_enabled: Mutex<Option<(Instant, bool)>>,
    /// Whether the PolicyReport CRD is installed (`--policy-reports`).
    pub policy_report_crd: PolicyReportCrd,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Every cached object of `kind` (all watched namespaces).
    pub fn objects(&self, kind: WatchedKind) -> Vec<Arc<DynamicObject>> {
        self.stores
            .read()
            .expect("stores lock")
            .get(&kind)
            .map(|stores| stores.iter().flat_map(Store::state).collect())
            .unwrap_or_default()
    }

    /// Forgets the subjects of a kind that is no longer watched.
    pub fn forget_kind(&self, kind: WatchedKind) {
        let mut memory = self.memory.lock().expect("memory lock");
        memory.retain(|(k, namespace, name), _| {
            if *k == kind {
                self.metrics.remove_subject(&SubjectLabels {
                    kind: kind.kind().to_owned(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                });
            }
            *k != kind
        });
    }

    /// Forgets subjects that were deleted (their reports go with them; their metric series
    /// must too), and counts what is watched.
    pub fn prune(&self) {
        let stores = self.stores.read().expect("stores lock");
        let mut present: HashSet<SubjectKey> = HashSet::new();
        for kind in WatchedKind::SUBJECTS {
            let objects: Vec<Arc<DynamicObject>> = stores
                .get(&kind)
                .map(|s| s.iter().flat_map(Store::state).collect())
                .unwrap_or_default();
            self.metrics.set_discovered(kind.kind(), objects.len());
            present.extend(objects.iter().map(|o| {
                (
                    kind,
                    o.metadata.namespace.clone().unwrap_or_default(),
                    o.metadata.name.clone().unwrap_or_default(),
                )
            }));
        }
        drop(stores);
        let mut memory = self.memory.lock().expect("memory lock");
        memory.retain(|key, _| {
            let keep = present.contains(key);
            if !keep {
                self.metrics.remove_subject(&SubjectLabels {
                    kind: key.0.kind().to_owned(),
                    namespace: key.1.clone(),
                    name: key.2.clone(),
                });
            }
            keep
        });
    }

    pub fn accepts_host(&self, host: &str) -> bool {
        self.settings
            .github_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host) || format!("www.{h}") == host)
    }
}

/// A controller's context: its kind and the shared state.
#[derive(Debug)]
pub struct KindContext {
    pub kind: WatchedKind,
    pub shared: Arc<Shared>,
}

/// A spawned task that ends when its handle is dropped: the operator's tasks must not outlive
/// the future that started them (a stopped replica that kept renewing its lease or writing
/// reports would be a second leader).
#[derive(Debug)]
pub struct Owned(pub tokio::task::JoinHandle<()>);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.abort();
    }
}
