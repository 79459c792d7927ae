//! `--github`: the GitHub client for a scan, its token, and the fetch the scan calls.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;

use sluice::github::{GithubClient, GithubOptions, RepoSpec, RetryPolicy, Token};
use sluice::pack::cache::CompileCache;
use sluice::scan::RemoteSource;
use sluice::scan::remote::fetch_all;

use crate::cli::args::{GithubArgs, PackArgs};

/// The repositories to fetch and what fetches them. The runtime lives as long as the client:
/// octocrab's connection workers run on it.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: GithubClient,
    specs: Vec<RepoSpec>,
}

impl Remote {
    /// `None` without `--github`.
    pub fn new(args: &GithubArgs, packs: &PackArgs) -> anyhow::Result<Option<Remote>> {
        if args.repos.is_empty() {
            return Ok(None);
        }
        let specs = args
            .repos
            .iter()
            .map(|text| RepoSpec::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        let cache_dir: Option<PathBuf> = if packs.no_cache {
            None
        } else {
            packs.cache_dir.clone().or_else(CompileCache::default_dir)
        };
        let options = GithubOptions {
            api_url: args.github_api_url.clone(),
            token: token(args)?,
            cache_dir,
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
        }))
    }

    /// The scan's view: fetch every repository with the packs' matchers.
    pub fn source(&self) -> RemoteSource<'_> {
        RemoteSource {
            names: self.specs.iter().map(ToString::to_string).collect(),
            fetch: Box::new(|matchers, options| {
                self.runtime
                    .block_on(fetch_all(&self.client, &self.specs, matchers, options))
                    .map_err(|e| e.to_string())
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

/// `--github-token-file`, else `GITHUB_TOKEN`, else `GH_TOKEN`. Messages name the file or the
/// variable, never the value.
fn token(args: &GithubArgs) -> anyhow::Result<Option<Token>> {
    token_from(args.github_token_file.as_deref())
}

/// The token from `file`, else `GITHUB_TOKEN`, else `GH_TOKEN` (shared with the operator).
pub fn token_from(file: Option<&std::path::Path>) -> anyhow::Result<Option<Token>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the GitHub token file {}", path.display()))?;
        return Token::new(&text)
            .map(Some)
            .with_context(|| format!("the GitHub token file {} is empty", path.display()));
    }
    Ok(["GITHUB_TOKEN", "GH_TOKEN"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find_map(|value| Token::new(&value)))
}
