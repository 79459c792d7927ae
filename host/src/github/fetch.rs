//! One repository: ref → commit, commit → file list, wanted paths → blobs.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use tokio::task::JoinSet;

use crate::github::spec::encode_ref;
use crate::github::{GithubClient, GithubError, RepoError, RepoSpec, TreeEntry, tree};

/// A file fetched from the repository.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    /// Repository-relative, `/`-separated.
    pub path: String,
    pub bytes: Arc<[u8]>,
}

/// A wanted file over the size limit, not fetched.
#[derive(Debug, Clone)]
pub struct LargeFile {
    pub path: String,
    pub size: u64,
}

/// What was read from one repository at one commit.
#[derive(Debug, Clone)]
pub struct FetchedRepo {
    pub spec: RepoSpec,
    /// The commit the ref resolved to.
    pub commit: String,
    /// Files in the tree (wanted or not), to say what was searched when nothing matched.
    pub files_seen: usize,
    pub files: Vec<FetchedFile>,
    pub too_large: Vec<LargeFile>,
    /// Wanted paths that are symbolic links: their blob is the link target, not the file.
    pub symlinks: Vec<String>,
}

/// Fetches the files of `spec` for which `wanted(path)` is true. Files over `max_size` bytes
/// are listed in `too_large` instead.
pub async fn fetch_repository(
    client: &GithubClient,
    spec: &RepoSpec,
    wanted: impl Fn(&str) -> bool,
    max_size: u64,
) -> Result<FetchedRepo, RepoError> {
    let with_spec = |error| RepoError {
        spec: spec.to_string(),
        error,
    };
    let commit = resolve(client, spec).await.map_err(with_spec)?;
    let entries = tree::list(client, spec, &commit).await.map_err(with_spec)?;
    let mut repo = FetchedRepo {
        spec: spec.clone(),
        commit,
        files_seen: entries.len(),
        files: Vec::new(),
        too_large: Vec::new(),
        symlinks: Vec::new(),
    };
    // Identical files (a workflow copied to another name) share a blob: fetch it once.
    let mut paths_of: BTreeMap<&str, (&TreeEntry, Vec<String>)> = BTreeMap::new();
    for entry in entries.iter().filter(|e| wanted(&e.path)) {
        if entry.mode == "120000" {
            repo.symlinks.push(entry.path.clone());
            continue;
        }
        if let Some(size) = entry.size.filter(|size| *size > max_size) {
            repo.too_large.push(LargeFile {
                path: entry.path.clone(),
                size,
            });
            continue;
        }
        paths_of
            .entry(entry.sha.as_str())
            .or_insert_with(|| (entry, Vec::new()))
            .1
            .push(entry.path.clone());
    }
    let mut fetches = JoinSet::new();
    for (entry, paths) in paths_of.into_values() {
        let client = client.clone();
        let spec = spec.clone();
        let entry = entry.clone();
        fetches.spawn(async move {
            let bytes = blob(&client, &spec, &entry).await?;
            Ok::<_, GithubError>((paths, bytes))
        });
    }
    while let Some(joined) = fetches.join_next().await {
        let (paths, bytes) = joined
            .map_err(|e| GithubError::InvalidResponse {
                endpoint: "git/blobs".to_owned(),
                message: format!("fetch task failed: {e}"),
            })
            .and_then(|r| r)
            .map_err(with_spec)?;
        repo.files.extend(paths.into_iter().map(|path| FetchedFile {
            path,
            bytes: Arc::clone(&bytes),
        }));
    }
    repo.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(repo)
}

/// The commit SHA of the ref (the default branch's `HEAD` when none is given). The request is
/// conditional: on an unchanged branch GitHub answers 304, which costs no rate limit.
pub async fn resolve_commit(client: &GithubClient, spec: &RepoSpec) -> Result<String, GithubError> {
    resolve(client, spec).await
}

async fn resolve(client: &GithubClient, spec: &RepoSpec) -> Result<String, GithubError> {
    let git_ref = spec
        .git_ref
        .as_deref()
        .map_or_else(|| "HEAD".to_owned(), encode_ref);
    let path = format!("/repos/{}/{}/commits/{git_ref}", spec.owner, spec.repo);
    // The `sha` media type answers with the bare SHA instead of the whole commit.
    let answer = client
        .get("commit", &path, "application/vnd.github.sha", true)
        .await?;
    let sha = answer.body.trim();
    if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(GithubError::InvalidResponse {
            endpoint: path,
            message: "expected a commit SHA".to_owned(),
        })
    }
}

#[derive(Debug, Deserialize)]
struct BlobAnswer {
    content: String,
    encoding: String,
}

/// Git's id of a blob: SHA-1 over `blob <length>\0` and the content.
fn git_blob_id(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex::encode(hasher.finalize())
}

/// A blob by SHA, from the cache when seen before (blobs are immutable). Content is checked
/// against its id both ways, so neither a damaged cache file nor a wrong answer is scanned as
/// the file.
async fn blob(
    client: &GithubClient,
    spec: &RepoSpec,
    entry: &TreeEntry,
) -> Result<Arc<[u8]>, GithubError> {
    if let Some(bytes) = client.cache().blob(&entry.sha) {
        if git_blob_id(&bytes).eq_ignore_ascii_case(&entry.sha) {
            return Ok(bytes);
        }
        tracing::warn!(
            "cached blob {} does not match its id; fetching it again",
            entry.sha
        );
    }
    let path = format!(
        "/repos/{}/{}/git/blobs/{}",
        spec.owner, spec.repo, entry.sha
    );
    let answer = client
        .get("blob", &path, "application/vnd.github+json", false)
        .await?;
    let invalid = |message: String| GithubError::InvalidResponse {
        endpoint: path.clone(),
        message,
    };
    let parsed: BlobAnswer =
        serde_json::from_str(&answer.body).map_err(|e| invalid(e.to_string()))?;
    if parsed.encoding != "base64" {
        return Err(invalid(format!(
            "unsupported blob encoding `{}`",
            parsed.encoding
        )));
    }
    // GitHub wraps the base64 text at 60 columns.
    let compact: String = parsed.content.split_ascii_whitespace().collect();
    let bytes: Arc<[u8]> = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| invalid(format!("invalid base64: {e}")))?
        .into();
    if !git_blob_id(&bytes).eq_ignore_ascii_case(&entry.sha) {
        return Err(invalid(
            "the blob's content does not match its SHA".to_owned(),
        ));
    }
    client.cache().put_blob(&entry.sha, &bytes);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            super::git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}
