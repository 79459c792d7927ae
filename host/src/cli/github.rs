//! `--github` and `--github-org`: the GitHub client for a scan, its credentials, and the fetch
//! the scan calls.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;

use sluice::github::{GithubClient, GithubOptions, RepoSpec, RetryPolicy};
use sluice::pack::cache::CompileCache;
use sluice::scan::RemoteSource;
use sluice::scan::remote::{fetch_all, resolve_targets};

use crate::cli::args::{GithubArgs, PackArgs};

/// The repositories to fetch and what fetches them. The runtime lives as long as the client:
/// octocrab's connection workers run on it.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: GithubClient,
    specs: Vec<RepoSpec>,
    orgs: Vec<String>,
}

/// The sluice cache directory, as `--cache-dir`, `--no-cache` and the default decide.
pub fn cache_dir(packs: &PackArgs) -> Option<PathBuf> {
    if packs.no_cache {
        None
    } else {
        packs.cache_dir.clone().or_else(CompileCache::default_dir)
    }
}

impl Remote {
    /// `None` without `--github` or `--github-org`.
    pub fn new(args: &GithubArgs, packs: &PackArgs) -> anyhow::Result<Option<Remote>> {
        if !args.has_targets() {
            // The auth flags carry no clap requirement (the operator shares them): say here
            // that a scan needs something to read with them.
            if let Some(flag) = args.auth.first_given() {
                anyhow::bail!("{flag} needs --github or --github-org");
            }
            return Ok(None);
        }
        let specs = args
            .repos
            .iter()
            .map(|text| RepoSpec::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        let options = GithubOptions {
            api_url: args.github_api_url.clone(),
            auth: args.auth.resolve()?,
            cache_dir: cache_dir(packs),
            timeout: args.github_timeout,
            retry: RetryPolicy {
                wait_for_reset: args.github_wait.unwrap_or_default(),
                ..RetryPolicy::default()
            },
            ..GithubOptions::default()
        };
        // One thread is plenty: the work is waiting on the network, and the packs run after
        // every fetch is done.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the network runtime")?;
        let client = {
            let _inside = runtime.enter();
            GithubClient::new(options)?
        };
        Ok(Some(Remote {
            runtime,
            client,
            specs,
            orgs: args.org.clone(),
        }))
    }

    /// The scan's view: list the organisations, then fetch every repository with the packs'
    /// matchers.
    pub fn source(&self) -> RemoteSource<'_> {
        let mut names: Vec<String> = self.specs.iter().map(ToString::to_string).collect();
        names.extend(self.orgs.iter().map(|org| format!("organisation {org}")));
        RemoteSource {
            names,
            fetch: Box::new(|matchers, options| {
                self.runtime.block_on(async {
                    let targets = resolve_targets(&self.client, &self.specs, &self.orgs)
                        .await
                        .map_err(|e| e.to_string())?;
                    let bar = progress_bar(!self.orgs.is_empty(), targets.len());
                    let progress = |done: usize, _total: usize| {
                        bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
                    };
                    let fetched =
                        fetch_all(&self.client, &targets, matchers, options, &progress).await;
                    bar.finish_and_clear();
                    fetched.map_err(|e| e.to_string())
                })
            }),
        }
    }

    /// The request counts, for `-v`.
    pub fn log_stats(&self) {
        let stats = self.client.stats();
        let requests = stats.requests.load(Ordering::Relaxed);
        tracing::info!(
            "GitHub: {requests} request{} ({} conditional, {} not modified, {} retried); rate limit remaining: {}",
            if requests == 1 { "" } else { "s" },
            stats.conditional.load(Ordering::Relaxed),
            stats.not_modified.load(Ordering::Relaxed),
            stats.retries.load(Ordering::Relaxed),
            stats.rate_limit_remaining.load(Ordering::Relaxed),
        );
    }
}

/// Repositories fetched so far, on stderr, for organisation scans on a terminal only: a log
/// file or a test's captured stderr stays free of control sequences.
fn progress_bar(wanted: bool, total: usize) -> indicatif::ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} fetching repositories {pos}/{len} [{bar:30}] {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
