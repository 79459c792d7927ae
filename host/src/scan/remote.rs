//! Repositories read through the GitHub API become collected roots like directories on disk,
//! so every pack and every triage step works on them unchanged. Paths are shown as
//! `owner/repo@<commit>:path`, which names the commit the report is about.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::file::is_config_path;
use crate::github::{
    FetchedRepo, GithubClient, GithubError, RepoError, RepoSpec, fetch_repository, list_org_repos,
};
use crate::report::{ErrorKind, ScanError, ScannedRepository};
use crate::scan::collect::{
    CollectOptions, Collected, CollectedFile, CollectedRoot, RootOrigin, wanted_by,
};
use crate::scan::matcher::PackMatcher;

/// A repository to fetch.
#[derive(Debug, Clone)]
pub struct RemoteTarget {
    pub spec: RepoSpec,
    /// Named as a member of an organisation: if it cannot be read, the report gets an error
    /// entry for it and the other repositories are still scanned. A repository the user named
    /// itself fails the whole scan instead.
    pub tolerate_failure: bool,
}

/// Why the remote part of a scan could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("organisation {org}: {error}")]
    Org {
        org: String,
        #[source]
        error: GithubError,
    },
    #[error(
        "organisation {org} has no repository to scan ({archived} archived repositor{} skipped)",
        if *.archived == 1 { "y" } else { "ies" }
    )]
    EmptyOrg { org: String, archived: usize },
}

/// The repositories named with `--github`, then every non-archived repository of each
/// organisation (at its default branch) not already named.
pub async fn resolve_targets(
    client: &GithubClient,
    repos: &[RepoSpec],
    orgs: &[String],
) -> Result<Vec<RemoteTarget>, RemoteError> {
    let mut targets: Vec<RemoteTarget> = repos
        .iter()
        .map(|spec| RemoteTarget {
            spec: spec.clone(),
            tolerate_failure: false,
        })
        .collect();
    for org in orgs {
        let listed = list_org_repos(client, org)
            .await
            .map_err(|error| RemoteError::Org {
                org: org.clone(),
                error,
            })?;
        if listed.repos.is_empty() {
            return Err(RemoteError::EmptyOrg {
                org: org.clone(),
                archived: listed.archived,
            });
        }
        tracing::info!(
            "organisation {org}: {} repositories to scan, {} archived skipped",
            listed.repos.len(),
            listed.archived
        );
        for spec in listed.repos {
            if !targets.iter().any(|t| t.spec == spec) {
                targets.push(RemoteTarget {
                    spec,
                    tolerate_failure: true,
                });
            }
        }
    }
    Ok(targets)
}

/// Fetches every repository (concurrently, within the client's request limit) and collects
/// the files the packs want. `progress(done, total)` is called as each repository is fetched.
/// A repository that cannot be read fails the whole scan unless it is tolerated (an
/// organisation's), in which case it becomes an error entry: a partial remote scan must never
/// look like a clean one.
pub async fn fetch_all(
    client: &GithubClient,
    targets: &[RemoteTarget],
    matchers: &[PackMatcher],
    options: &CollectOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Collected, RepoError> {
    let matchers: Arc<[PackMatcher]> = Arc::from(matchers);
    let mut fetches = JoinSet::new();
    for (index, target) in targets.iter().enumerate() {
        let client = client.clone();
        let spec = target.spec.clone();
        let matchers = Arc::clone(&matchers);
        let max_size = options.max_file_size;
        fetches.spawn(async move {
            let wanted = |path: &str| wants_path(&matchers, path);
            (
                index,
                fetch_repository(&client, &spec, wanted, max_size).await,
            )
        });
    }
    let mut fetched: Vec<(usize, FetchedRepo)> = Vec::new();
    let mut failed: Vec<(usize, RepoError)> = Vec::new();
    let mut done = 0;
    while let Some(joined) = fetches.join_next().await {
        let (index, result) = joined.map_err(|e| RepoError {
            spec: "github".to_owned(),
            error: GithubError::InvalidResponse {
                endpoint: "fetch".to_owned(),
                message: format!("fetch task failed: {e}"),
            },
        })?;
        done += 1;
        progress(done, targets.len());
        match result {
            Ok(repo) => fetched.push((index, repo)),
            Err(error) if targets[index].tolerate_failure => failed.push((index, error)),
            Err(error) => return Err(error),
        }
    }
    // The order the user named them in, whatever order the answers came in.
    fetched.sort_by_key(|(index, _)| *index);
    failed.sort_by_key(|(index, _)| *index);
    let mut collected = Collected::default();
    for (index, error) in failed {
        tracing::warn!("{error}; the other repositories are scanned");
        collected.errors.push(
            ScanError::new(
                ErrorKind::Repository,
                format!("cannot read the repository: {}", error.error),
            )
            .path(targets[index].spec.full_name())
            .reason(error.error.reason()),
        );
    }
    for (_, repo) in &fetched {
        tracing::info!("{}: scanning commit {}", repo.spec, repo.commit);
        collect_fetched(repo, &matchers, options, &mut collected);
    }
    Ok(collected)
}

/// Does some pack (or the configuration loader) read `path`? Decides which blobs are fetched.
pub fn wants_path(matchers: &[PackMatcher], path: &str) -> bool {
    is_config_path(path) || !wanted_by(matchers, path).is_empty()
}

/// The root of one fetched repository, with the same rules as a directory on disk: files a
/// pack wants by path that cannot be read (too large, not UTF-8, a symbolic link) are errors;
/// files only a content pattern might want are skipped quietly.
pub fn collect_fetched(
    repo: &FetchedRepo,
    matchers: &[PackMatcher],
    options: &CollectOptions,
    collected: &mut Collected,
) {
    let root = format!("{}@{}", repo.spec.full_name(), repo.commit);
    let display = |path: &str| format!("{root}:{path}");
    collected.files_seen += repo.files_seen;
    collected.repositories.push(ScannedRepository {
        repository: repo.spec.full_name(),
        git_ref: repo.spec.git_ref.clone(),
        commit: repo.commit.clone(),
    });
    for large in &repo.too_large {
        if wanted_by(matchers, &large.path).by_path.is_empty() {
            continue;
        }
        collected.errors.push(
            ScanError::new(
                ErrorKind::TooLarge,
                format!(
                    "file is {} bytes, over the {}-byte limit (raise it with --max-file-size)",
                    large.size, options.max_file_size
                ),
            )
            .path(display(&large.path)),
        );
    }
    for link in &repo.symlinks {
        if wanted_by(matchers, link).by_path.is_empty() {
            continue;
        }
        collected.errors.push(
            ScanError::new(
                ErrorKind::Io,
                "symbolic link in the repository; not followed".to_owned(),
            )
            .path(display(link)),
        );
    }
    let mut files = Vec::new();
    let mut config_files = BTreeMap::new();
    for file in &repo.files {
        let text = std::str::from_utf8(&file.bytes);
        if is_config_path(&file.path) {
            match text {
                Ok(text) => {
                    config_files.insert(file.path.clone(), text.to_owned());
                }
                Err(_) => collected.errors.push(
                    ScanError::new(ErrorKind::Encoding, "file is not valid UTF-8".to_owned())
                        .path(display(&file.path)),
                ),
            }
            continue;
        }
        let wanted = wanted_by(matchers, &file.path);
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                if !wanted.by_path.is_empty() {
                    collected.errors.push(
                        ScanError::new(
                            ErrorKind::Encoding,
                            format!(
                                "file is not valid UTF-8 (first invalid byte at offset {})",
                                e.valid_up_to()
                            ),
                        )
                        .path(display(&file.path)),
                    );
                }
                continue;
            }
        };
        let packs = wanted.settle(text);
        if packs.is_empty() {
            continue;
        }
        files.push(CollectedFile {
            relative: file.path.clone(),
            display: display(&file.path),
            content: text.to_owned(),
            packs,
        });
    }
    collected.roots.push(CollectedRoot {
        root: PathBuf::from(root),
        files,
        origin: RootOrigin::Fetched {
            config_files,
            repository: repo.spec.full_name(),
            commit: repo.commit.clone(),
        },
    });
}
