//! The file list of a commit: one `git/trees/{sha}?recursive=1` request, or, when GitHub
//! truncates that answer (over 100,000 entries or 7 MB), a walk of the subtrees one level at a
//! time. The list is immutable for a commit and cached by it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::github::cache::key;
use crate::github::{GithubClient, GithubError, RepoSpec};

/// A file of the tree (blobs only; subtrees are flattened into paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// Git file mode: `100644`, `100755`, `120000` (symbolic link).
    pub mode: String,
    /// Blob SHA.
    pub sha: String,
    pub size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct TreeAnswer {
    #[serde(default)]
    tree: Vec<RawEntry>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    size: Option<u64>,
}

const ACCEPT: &str = "application/vnd.github+json";

/// Every blob of `commit`'s tree.
pub async fn list(
    client: &GithubClient,
    spec: &RepoSpec,
    commit: &str,
) -> Result<Arc<Vec<TreeEntry>>, GithubError> {
    let tree_key = key(&[&spec.full_name(), commit]);
    if let Some(cached) = client.cache().tree(&tree_key) {
        return Ok(cached);
    }
    let base = format!("/repos/{}/{}/git/trees", spec.owner, spec.repo);
    let path = format!("{base}/{commit}?recursive=1");
    let answer = parse(&path, &client.get("tree", &path, ACCEPT, false).await?.body)?;
    let mut entries = if answer.truncated {
        tracing::info!(
            "{spec}: the recursive tree is truncated; listing it directory by directory"
        );
        walk(client, &base, commit).await?
    } else {
        blobs(answer.tree, "")
    };
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let entries = Arc::new(entries);
    client.cache().put_tree(&tree_key, &entries);
    Ok(entries)
}

/// Lists each directory with its own non-recursive request, concurrently per level.
async fn walk(
    client: &GithubClient,
    base: &str,
    commit: &str,
) -> Result<Vec<TreeEntry>, GithubError> {
    let mut files = Vec::new();
    let mut level = vec![(String::new(), commit.to_owned())];
    while !level.is_empty() {
        let mut requests = JoinSet::new();
        for (prefix, sha) in level.drain(..) {
            let client = client.clone();
            let path = format!("{base}/{sha}");
            requests.spawn(async move {
                let answer = client.get("tree", &path, ACCEPT, false).await?;
                Ok::<_, GithubError>((prefix, parse(&path, &answer.body)?))
            });
        }
        while let Some(joined) = requests.join_next().await {
            let (prefix, answer) = joined.map_err(|e| GithubError::InvalidResponse {
                endpoint: base.to_owned(),
                message: format!("listing task failed: {e}"),
            })??;
            for entry in &answer.tree {
                if entry.kind == "tree" {
                    level.push((format!("{prefix}{}/", entry.path), entry.sha.clone()));
                }
            }
            files.extend(blobs(answer.tree, &prefix));
        }
    }
    Ok(files)
}

fn parse(endpoint: &str, body: &str) -> Result<TreeAnswer, GithubError> {
    serde_json::from_str(body).map_err(|e| GithubError::InvalidResponse {
        endpoint: endpoint.to_owned(),
        message: e.to_string(),
    })
}

/// The blobs of an answer, under `prefix`. Submodules (`commit`) and subtrees are not files.
fn blobs(raw: Vec<RawEntry>, prefix: &str) -> Vec<TreeEntry> {
    raw.into_iter()
        .filter(|e| e.kind == "blob")
        .map(|e| TreeEntry {
            path: format!("{prefix}{}", e.path),
            mode: e.mode,
            sha: e.sha,
            size: e.size,
        })
        .collect()
}
