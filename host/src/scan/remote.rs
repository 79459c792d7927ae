//! Repositories read through the GitHub API become collected roots like directories on disk,
//! so every pack and every triage step works on them unchanged. Paths are shown as
//! `owner/repo@<commit>:path`, which names the commit the report is about.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::file::is_config_path;
use crate::github::{
    FetchedRepo, GithubClient, GithubError, RepoError, RepoSpec, fetch_repository,
};
use crate::report::{ErrorKind, ScanError, ScannedRepository};
use crate::scan::collect::{
    CollectOptions, Collected, CollectedFile, CollectedRoot, RootOrigin, wanted_by,
};
use crate::scan::matcher::PackMatcher;

/// Fetches every repository (concurrently, within the client's request limit) and collects
/// the files the packs want. The first repository that cannot be read fails the whole scan:
/// a partial remote scan must not look like a clean one.
pub async fn fetch_all(
    client: &GithubClient,
    specs: &[RepoSpec],
    matchers: &[PackMatcher],
    options: &CollectOptions,
) -> Result<Collected, RepoError> {
    let matchers: Arc<[PackMatcher]> = Arc::from(matchers);
    let mut fetches = JoinSet::new();
    for (index, spec) in specs.iter().enumerate() {
        let client = client.clone();
        let spec = spec.clone();
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
    while let Some(joined) = fetches.join_next().await {
        let (index, result) = joined.map_err(|e| RepoError {
            spec: "github".to_owned(),
            error: GithubError::InvalidResponse {
                endpoint: "fetch".to_owned(),
                message: format!("fetch task failed: {e}"),
            },
        })?;
        fetched.push((index, result?));
    }
    // The order the user named them in, whatever order the answers came in.
    fetched.sort_by_key(|(index, _)| *index);
    let mut collected = Collected::default();
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
        origin: RootOrigin::Fetched { config_files },
    });
}
