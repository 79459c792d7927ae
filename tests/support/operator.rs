//! Running the real operator in-process against the fake Kubernetes API server
//! (`tests/kube-fake`) and the fake GitHub API (`support/fake_github.rs`), shared by the
//! operator scenarios and the operator benchmark. Included with `#[path]` next to
//! `fake_github.rs`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sluice::github::{GithubAuth, GithubClient, GithubOptions, RetryPolicy};
use sluice::operator::leader::LeaseSettings;
use sluice::operator::{OperatorConfig, OperatorHandle, OperatorSettings, Scanner};
use sluice::pack::cache::CompileCache;
use sluice::pack::{PackEngineBuilder, PackRegistry, builtin};
use sluice::scan::{ResultCache, ScanOptions};
use sluice_kube_fake::FakeApiServer;
use tokio::sync::oneshot;

use super::fake_github::{Auth, FakeGithub};

pub const REPORTS: &str = "pipelinesecurityreports";
pub const SLUICE_API: &str = "sluice.dev/v1alpha1";

/// A workflow with a pull_request_target checkout of the PR head and a title injection.
pub const RISKY_WORKFLOW: &str = r#"on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: make test
      - run: echo "${{ github.event.pull_request.title }}"
"#;

/// A workflow with nothing to report.
pub const SAFE_WORKFLOW: &str = "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hello\n";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ lives in the repository root")
        .to_owned()
}

/// A fake cluster (with the upstream Argo CD, Flux and Tekton CRDs and sluice's own) and a
/// fake GitHub.
pub struct Harness {
    pub fake: FakeApiServer,
    /// The client the operator uses: the fake's, or a real cluster's (end-to-end runs).
    pub client: kube::Client,
    pub github: FakeGithub,
    /// The operator's cache directory (GitHub answers, pack results), shared by the operator
    /// instances of one harness like a persistent volume.
    pub cache: tempfile::TempDir,
    real_cluster: bool,
}

/// The identity of the operator's requests in the fake's log.
pub const OPERATOR: &str = "operator";

/// Where harnesses leave the operator's API accesses when set (`tests/rbac.rs` reads them).
pub const REQUEST_LOG_DIR: &str = "SLUICE_REQUEST_LOG_DIR";

impl Drop for Harness {
    fn drop(&mut self) {
        let Some(dir) = std::env::var_os(REQUEST_LOG_DIR) else {
            return;
        };
        let mut lines = String::new();
        for request in self.fake.all_requests() {
            if request.client.as_deref() != Some(OPERATOR) {
                continue;
            }
            if let Some(a) = request.access() {
                lines.push_str(&format!(
                    "{} {} {} {}\n",
                    a.verb,
                    if a.group.is_empty() { "core" } else { &a.group },
                    a.resource,
                    if a.namespace.is_empty() {
                        "*"
                    } else {
                        &a.namespace
                    }
                ));
            }
        }
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let file = Path::new(&dir).join(format!("{}-{n}.log", std::process::id()));
        std::fs::write(&file, lines).expect("the request log directory is writable");
    }
}

impl Harness {
    pub fn new() -> Harness {
        let harness = Harness::bare();
        harness.install_upstream_crds();
        harness
    }

    /// A harness whose operator talks to the cluster of `kubeconfig` (the fake API server is
    /// then unused); GitHub is still the fake, so no real repository is read.
    pub async fn real_cluster(kubeconfig: &Path) -> Harness {
        let config = kube::config::Kubeconfig::read_from(kubeconfig).expect("readable kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(config, &Default::default())
            .await
            .expect("usable kubeconfig");
        let mut harness = Harness::bare();
        harness.client = kube::Client::try_from(config).expect("client");
        harness.real_cluster = true;
        harness
    }

    /// Only sluice's CRDs installed.
    pub fn bare() -> Harness {
        let fake = FakeApiServer::new();
        fake.load_crds_from_dir(&repo_root().join("crds"))
            .expect("sluice's CRDs load");
        Harness {
            client: fake.client(),
            fake,
            github: FakeGithub::start("", Auth::Open),
            cache: tempfile::tempdir().expect("temporary cache"),
            real_cluster: false,
        }
    }

    pub fn install_upstream_crds(&self) {
        let dir = sluice_kube_fake::upstream_crds_dir().expect("the upstream CRDs are available");
        self.fake
            .load_crds_from_dir(&dir)
            .expect("the upstream CRDs load");
    }

    /// Settings for tests: long interval (only events re-trigger), quick failure retries.
    pub fn settings() -> OperatorSettings {
        OperatorSettings {
            default_interval: Duration::from_secs(3600),
            failure_backoff: Duration::from_millis(200),
            ..OperatorSettings::default()
        }
    }

    pub fn config(identity: &str) -> OperatorConfig {
        OperatorConfig {
            settings: Harness::settings(),
            identity: identity.to_owned(),
            lease: None,
            metrics_addr: None,
            health_addr: None,
        }
    }

    /// A lease for two-replica tests: short, so a take-over happens within a test.
    pub fn lease(identity: &str) -> LeaseSettings {
        LeaseSettings {
            namespace: "sluice-system".to_owned(),
            name: "sluice-operator".to_owned(),
            identity: identity.to_owned(),
            duration: Duration::from_secs(2),
            retry: Duration::from_millis(250),
        }
    }

    /// Starts an operator against this harness.
    pub async fn start(&self, config: OperatorConfig) -> Running {
        self.start_with(config, registry()).await
    }

    /// Starts an operator with its own pack registry.
    pub async fn start_with(&self, config: OperatorConfig, packs: Arc<PackRegistry>) -> Running {
        self.start_on(self.operator_client(), config, packs).await
    }

    /// Starts an operator that reaches the API through `client` (e.g. over HTTP with
    /// timeouts).
    pub async fn start_on(
        &self,
        client: kube::Client,
        config: OperatorConfig,
        packs: Arc<PackRegistry>,
    ) -> Running {
        let github = GithubClient::new(GithubOptions {
            api_url: self.github.url.clone(),
            auth: GithubAuth::Anonymous,
            cache_dir: Some(self.cache.path().to_owned()),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            ..GithubOptions::default()
        })
        .expect("GitHub client");
        let scanner = Scanner::new(
            packs,
            github,
            ScanOptions {
                results: Some(ResultCache::new(Some(self.cache.path()))),
                ..ScanOptions::default()
            },
            4,
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let (handle, run) = sluice::operator::start(client, scanner, config, async {
            let _ = stopped.await;
        })
        .await
        .expect("the operator starts");
        Running {
            handle,
            stop: Some(stop),
            task: tokio::spawn(run),
        }
    }

    /// The client the operator gets: on the fake, one whose requests the log attributes to
    /// the operator (the RBAC proof collects them).
    pub fn operator_client(&self) -> kube::Client {
        if self.real_cluster {
            self.client.clone()
        } else {
            self.fake.client_as(Some(OPERATOR))
        }
    }

    /// The report named `name` in `namespace`, once it has a status.
    pub async fn report(&self, namespace: &str, name: &str) -> Value {
        let fake = self.fake.clone();
        eventually(&format!("report {namespace}/{name} with a status"), || {
            fake.get(SLUICE_API, REPORTS, namespace, name)
                .filter(|r| r.pointer("/status/lastEvaluated").is_some())
        })
        .await
    }

    /// The most common setup: `octo/shop` serves a risky workflow and Application
    /// `argocd/shop` deploys it. Returns the commit.
    pub fn deployed_shop(&self) -> String {
        let commit = self.risky_repo("octo/shop");
        self.fake
            .insert(application(
                "argocd",
                "shop",
                "https://github.com/octo/shop",
                Some(&commit),
            ))
            .expect("application");
        commit
    }

    /// Serves `owner/repo` with one risky workflow; returns the commit.
    pub fn risky_repo(&self, name: &str) -> String {
        self.github
            .add_repo(name, &[(".github/workflows/ci.yml", RISKY_WORKFLOW)])
    }
}

/// A running operator.
pub struct Running {
    pub handle: OperatorHandle,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops it (releasing its lease) and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }

    pub fn is_leading(&self) -> bool {
        self.handle.shared.writes.is_open()
    }

    pub fn ready(&self) -> bool {
        self.handle.sync.lock().expect("sync lock").ready()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The built-in packs, compiled once per test binary into the shared test cache.
pub fn registry() -> Arc<PackRegistry> {
    static REGISTRY: std::sync::OnceLock<Arc<PackRegistry>> = std::sync::OnceLock::new();
    Arc::clone(REGISTRY.get_or_init(|| registry_with(Vec::new())))
}

/// The built-in packs plus `extra` (e.g. a third-party pack file).
pub fn registry_with(extra: Vec<sluice::pack::PackSource>) -> Arc<PackRegistry> {
    let dir = std::env::current_exe()
        .expect("test binary path")
        .parent()
        .expect("test binary has a directory")
        .join("sluice-test-cache");
    let cache = CompileCache::open(dir).expect("compile cache");
    let engine = PackEngineBuilder::new()
        .cache(Some(cache))
        .build()
        .expect("engine");
    let mut sources = builtin::sources();
    sources.extend(extra);
    Arc::new(PackRegistry::new(engine, sources))
}

/// Polls `check` until it gives a value (30 s at most; the failure names `what`).
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Forces every watch to re-list (history compacted, streams dropped), waits until `subjects`
/// more evaluations hit the scan cache (the subjects were evaluated again), then until the
/// operator is quiet.
pub async fn relist_all(h: &Harness, running: &Running, subjects: u64) {
    let hits = running.handle.shared.scanner.counts().cache_hits;
    h.fake.compact();
    h.fake.drop_watches();
    let shared = running.handle.shared.clone();
    eventually(&format!("{subjects} subject(s) evaluated again"), || {
        (shared.scanner.counts().cache_hits >= hits + subjects).then_some(())
    })
    .await;
    settled(&h.fake, Duration::from_millis(500)).await;
}

/// Waits until nothing has been written for `quiet` (the operator has settled).
pub async fn settled(fake: &FakeApiServer, quiet: Duration) {
    let mut last = fake.writes().len();
    let mut since = tokio::time::Instant::now();
    let deadline = since + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = fake.writes().len();
        if now != last {
            last = now;
            since = tokio::time::Instant::now();
        } else if since.elapsed() >= quiet {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the operator never settled"
        );
    }
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// An Argo CD Application deploying `url` (status: the deployed commit and resources).
pub fn application(namespace: &str, name: &str, url: &str, deployed: Option<&str>) -> Value {
    let mut app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
            "syncPolicy": {"automated": {"prune": true}}
        }
    });
    if let Some(commit) = deployed {
        app["status"] = json!({
            "sync": {"status": "Synced", "revision": commit},
            "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
                {"group": "", "version": "v1", "kind": "Service", "namespace": "shop", "name": "web"}
            ]
        });
    }
    app
}

/// A Flux GitRepository at `url`, with an artifact for `deployed` when given.
pub fn git_repository(namespace: &str, name: &str, url: &str, deployed: Option<&str>) -> Value {
    let mut source = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "1m", "url": url, "ref": {"branch": "main"}}
    });
    if let Some(commit) = deployed {
        source["status"] = json!({"artifact": {"revision": format!("main@sha1:{commit}")}});
    }
    source
}

/// A Flux Kustomization applying GitRepository `source`, with an inventory.
pub fn kustomization(namespace: &str, name: &str, source: &str, inventory: &[&str]) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "5m", "prune": true, "path": "./deploy",
                 "sourceRef": {"kind": "GitRepository", "name": source}},
        "status": {"inventory": {"entries": inventory.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()}}
    })
}

/// The GitHub requests for `owner/repo` the fake saw.
pub fn github_requests_for(github: &FakeGithub, repo: &str) -> usize {
    github
        .seen()
        .iter()
        .filter(|s| s.path.contains(&format!("/repos/{repo}/")))
        .count()
}

/// Argo CD Applications in `namespace`, through `client`.
pub fn applications(client: &kube::Client, namespace: &str) -> kube::Api<kube::api::DynamicObject> {
    let resource = kube::core::ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
        "applications",
    );
    kube::Api::namespaced_with(client.clone(), namespace, &resource)
}
