//! Scanning for the operator: the CLI's GitHub module and scan engine, with one result per
//! (repository, commit, pack set) shared by every subject that points at it.
//!
//! A subject whose deployed commit is known and already scanned costs no request at all; one
//! that names a branch costs a conditional request (a 304, free under the rate limit) to learn
//! the commit. Concurrent subjects on the same commit wait for one scan instead of starting
//! their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use crate::github::{GithubClient, GithubError, RepoSpec, fetch_repository, resolve_commit};
use crate::pack::PackRegistry;
use crate::report::{ErrorKind, Report};
use crate::scan::collect::{Collected, CollectedFile, CollectedRoot, RootOrigin, wanted_by};
use crate::scan::matcher::PackMatcher;
use crate::scan::remote::{collect_fetched, wants_path};
use crate::scan::{RemoteSource, ScanOptions, ScanSetupError, scan_with};

/// The result of scanning one commit (or one inline pipeline).
#[derive(Debug)]
pub struct ScanOutcome {
    /// The scanned commit; `None` for an inline pipeline.
    pub commit: Option<String>,
    /// Findings, errors and packs; file contents and rule metadata are dropped to keep the
    /// cache small.
    pub report: Report,
}

impl ScanOutcome {
    /// Pack failures (crash, time-out, bad output) and files a pack could not read: the scan
    /// is incomplete, so the subject's state is `Unknown`.
    pub fn incomplete(&self) -> Option<String> {
        let first = self.report.errors.first()?;
        let what = match first.kind {
            ErrorKind::Pack => format!(
                "pack {} failed: {}",
                first.pack.as_deref().unwrap_or("?"),
                first.message
            ),
            _ => format!(
                "{}: {}",
                first.path.as_deref().unwrap_or("?"),
                first.message
            ),
        };
        let more = self.report.errors.len() - 1;
        Some(if more == 0 {
            what
        } else {
            format!("{what} (and {more} more)")
        })
    }
}

/// Why a scan could not produce a result. `reason` is the condition reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ScanFailure {
    pub reason: &'static str,
    pub message: String,
}

impl ScanFailure {
    fn github(error: &GithubError) -> ScanFailure {
        let reason = match error {
            GithubError::NotFound => "RepositoryNotFound",
            GithubError::BadCredentials => "BadCredentials",
            GithubError::Forbidden { .. } => "Forbidden",
            GithubError::RateLimited { .. } => "RateLimited",
            GithubError::Transport { .. } => "GitHubUnreachable",
            _ => "GitHubError",
        };
        ScanFailure {
            reason,
            message: error.to_string(),
        }
    }
}

type Shared = Arc<OnceCell<Result<Arc<ScanOutcome>, ScanFailure>>>;

/// Counts for metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanCounts {
    pub scans: u64,
    pub cache_hits: u64,
}

/// Shared by every reconcile.
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Arc<PackRegistry>,
    github: GithubClient,
    options: ScanOptions,
    matchers: Arc<[PackMatcher]>,
    pack_set: String,
    limit: Semaphore,
    results: Mutex<HashMap<String, Shared>>,
    counts: Mutex<ScanCounts>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("pack_set", &self.inner.pack_set)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    pub fn new(
        registry: Arc<PackRegistry>,
        github: GithubClient,
        options: ScanOptions,
        max_concurrent: usize,
    ) -> Scanner {
        let usable: Vec<_> = registry.packs().iter().filter_map(|p| p.usable()).collect();
        let matchers: Arc<[PackMatcher]> = usable
            .iter()
            .filter_map(|info| PackMatcher::for_patterns(info).ok())
            .collect();
        let mut hasher = Sha256::new();
        for pack in registry.packs() {
            hasher.update(pack.source.label().as_bytes());
            if let Some(info) = pack.usable() {
                hasher.update(format!("\0{}@{}\0", info.id, info.version).as_bytes());
            }
        }
        hasher.update(format!("{:?}", options.pack_options).as_bytes());
        Scanner {
            inner: Arc::new(Inner {
                registry,
                github,
                options,
                matchers,
                pack_set: hex::encode(&hasher.finalize()[..8]),
                limit: Semaphore::new(max_concurrent.max(1)),
                results: Mutex::new(HashMap::new()),
                counts: Mutex::new(ScanCounts::default()),
            }),
        }
    }

    pub fn github(&self) -> &GithubClient {
        &self.inner.github
    }

    /// The id of the pack set results are cached under.
    pub fn pack_set(&self) -> &str {
        &self.inner.pack_set
    }

    pub fn counts(&self) -> ScanCounts {
        *self.inner.counts.lock().expect("counts lock")
    }

    /// The commit `spec` names: itself when it is a SHA the caller already knows, else one
    /// conditional request.
    pub async fn resolve(&self, spec: &RepoSpec) -> Result<String, ScanFailure> {
        resolve_commit(&self.inner.github, spec)
            .await
            .map_err(|e| ScanFailure::github(&e))
    }

    /// Scans `owner/repo` at `commit`, or returns the cached result.
    pub async fn scan_commit(
        &self,
        owner: &str,
        repo: &str,
        commit: &str,
    ) -> Result<Arc<ScanOutcome>, ScanFailure> {
        let key = format!("{owner}/{repo}@{commit}#{}", self.inner.pack_set);
        let spec = RepoSpec {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            git_ref: Some(commit.to_owned()),
        };
        let this = self.clone();
        self.shared(key, async move { this.fetch_and_scan(spec).await })
            .await
    }

    /// Scans a pipeline document from the cluster (Tekton), cached by its content.
    pub async fn scan_inline(
        &self,
        file_name: &str,
        document: &str,
    ) -> Result<Arc<ScanOutcome>, ScanFailure> {
        let digest = hex::encode(Sha256::digest(document.as_bytes()));
        let key = format!("inline:{file_name}@{digest}#{}", self.inner.pack_set);
        let digest = digest.clone();
        let this = self.clone();
        let (file_name, document) = (file_name.to_owned(), document.to_owned());
        self.shared(key, async move {
            let root = inline_root(&this.inner.matchers, &file_name, document, &digest);
            this.run_scan(None, root).await
        })
        .await
    }

    /// One computation per key; concurrent callers share it. Failures are not kept, so the
    /// next attempt retries.
    async fn shared(
        &self,
        key: String,
        compute: impl Future<Output = Result<Arc<ScanOutcome>, ScanFailure>>,
    ) -> Result<Arc<ScanOutcome>, ScanFailure> {
        let cell: Shared = {
            let mut results = self.inner.results.lock().expect("results lock");
            Arc::clone(results.entry(key.clone()).or_default())
        };
        let mut computed = false;
        let result = cell
            .get_or_init(|| {
                computed = true;
                compute
            })
            .await
            .clone();
        let mut counts = self.inner.counts.lock().expect("counts lock");
        if computed {
            counts.scans += 1;
        } else {
            counts.cache_hits += 1;
        }
        drop(counts);
        if result.is_err() {
            let mut results = self.inner.results.lock().expect("results lock");
            if results.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                results.remove(&key);
            }
        }
        result
    }

    async fn fetch_and_scan(&self, spec: RepoSpec) -> Result<Arc<ScanOutcome>, ScanFailure> {
        let _permit = self.inner.limit.acquire().await.expect("never closed");
        let matchers = Arc::clone(&self.inner.matchers);
        let max_size = self.inner.options.collect.max_file_size;
        let fetched = fetch_repository(
            &self.inner.github,
            &spec,
            |path: &str| wants_path(&matchers, path),
            max_size,
        )
        .await
        .map_err(|e| ScanFailure::github(&e.error))?;
        let commit = fetched.commit.clone();
        let options = self.inner.options.collect.clone();
        let mut collected = Collected::default();
        collect_fetched(&fetched, &matchers, &options, &mut collected);
        self.run_scan(Some(commit), collected).await
    }

    /// Runs the scan engine (blocking: wasm) on collected roots.
    async fn run_scan(
        &self,
        commit: Option<String>,
        collected: Collected,
    ) -> Result<Arc<ScanOutcome>, ScanFailure> {
        let inner = Arc::clone(&self.inner);
        let names = collected
            .repositories
            .iter()
            .map(|r| r.repository.clone())
            .collect();
        let joined = tokio::task::spawn_blocking(move || {
            let mut collected = Some(collected);
            let source = RemoteSource {
                names,
                fetch: Box::new(move |_, _| Ok(collected.take().unwrap_or_default())),
            };
            scan_with(&inner.registry, &[], Some(source), &inner.options)
        })
        .await
        .map_err(|e| ScanFailure {
            reason: "ScanPanicked",
            message: format!("the scan task failed: {e}"),
        })?;
        let mut report = match joined {
            Ok(report) => report,
            // A repository without pipeline files is scanned and clean.
            Err(ScanSetupError::NothingToScan(_)) => Report::default(),
            Err(e) => {
                return Err(ScanFailure {
                    reason: "ScanError",
                    message: e.to_string(),
                });
            }
        };
        report.sources.clear();
        report.rules.clear();
        Ok(Arc::new(ScanOutcome { commit, report }))
    }
}

/// A collected root holding one in-memory pipeline document.
fn inline_root(
    matchers: &[PackMatcher],
    file_name: &str,
    document: String,
    digest: &str,
) -> Collected {
    let packs = wanted_by(matchers, file_name).settle(&document);
    Collected {
        roots: vec![CollectedRoot {
            root: "cluster".into(),
            files: vec![CollectedFile {
                relative: file_name.to_owned(),
                display: format!("cluster:{file_name}"),
                content: document,
                packs,
            }],
            // The cluster has no configuration file; the document's digest stands in for a
            // commit in the result cache's key.
            origin: RootOrigin::Fetched {
                config_files: Default::default(),
                repository: "cluster".to_owned(),
                commit: digest.to_owned(),
            },
        }],
        files_seen: 1,
        ..Collected::default()
    }
}
