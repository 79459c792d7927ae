//! What to scan for a subject: a repository at a revision, or the cluster object itself.
//!
//! Pure functions over the upstream objects' JSON (field paths in
//! `shared/research/operator.md` Part B), so every precedence rule is unit-tested without a
//! cluster.

mod argo;
mod flux;
mod tekton;

use serde_json::Value;

use crate::operator::kinds::WatchedKind;
use crate::operator::repo_url::{RepoUrl, RepoUrlError};

pub use argo::resolve_application;
pub use flux::{parse_artifact_revision, resolve_git_repository, resolve_oci_repository};
pub use tekton::resolve_pipeline;

/// Which commit to scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Revision {
    /// The deployed (or pinned) commit, when the object records one.
    pub commit: Option<String>,
    /// Branch, tag or other ref to resolve when no commit is known; `None` is the default
    /// branch.
    pub git_ref: Option<String>,
}

/// A repository to read through the GitHub API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryTarget {
    /// The URL as the subject writes it.
    pub url: String,
    pub repo: RepoUrl,
    pub revision: Revision,
    /// The directory the subject deploys from, for the report (every pipeline file of the
    /// repository is scanned regardless).
    pub path: Option<String>,
}

/// What a subject asks to be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Repository(RepositoryTarget),
    /// The subject is itself a pipeline definition (Tekton): its YAML is scanned.
    Inline {
        file_name: String,
        document: String,
    },
    /// Nothing scannable; the report says why (state `Unknown`).
    Unscannable {
        reason: Unscannable,
        message: String,
    },
}

/// Why a subject has nothing to scan. The names are the report's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unscannable {
    /// A Helm chart repository, not a Git repository.
    HelmChartSource,
    /// An OCI artifact without a recorded source repository.
    OciSource,
    /// No repository URL at all.
    NoRepository,
    /// A URL that names no owner/repository.
    InvalidRepositoryUrl,
    /// A ref the operator cannot turn into a commit (a semver range with no artifact yet).
    RevisionUnresolved,
}

impl Unscannable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unscannable::HelmChartSource => "HelmChartSource",
            Unscannable::OciSource => "OciSource",
            Unscannable::NoRepository => "NoRepository",
            Unscannable::InvalidRepositoryUrl => "InvalidRepositoryUrl",
            Unscannable::RevisionUnresolved => "RevisionUnresolved",
        }
    }
}

/// Resolves any subject kind.
pub fn resolve(kind: WatchedKind, object: &Value) -> Resolution {
    match kind {
        WatchedKind::Application => resolve_application(object),
        WatchedKind::GitRepository => resolve_git_repository(object),
        WatchedKind::OciRepository => resolve_oci_repository(object),
        WatchedKind::Pipeline => resolve_pipeline(object),
        WatchedKind::Kustomization | WatchedKind::HelmRelease => Resolution::Unscannable {
            reason: Unscannable::NoRepository,
            message: format!("{} objects are appliers, not subjects", kind.kind()),
        },
    }
}

/// A repository target from a URL, or the reason it is not one.
fn repository(url: &str, revision: Revision, path: Option<String>) -> Resolution {
    match RepoUrl::parse(url) {
        Ok(repo) => Resolution::Repository(RepositoryTarget {
            url: url.to_owned(),
            repo,
            revision,
            path,
        }),
        Err(RepoUrlError::Oci(_)) => Resolution::Unscannable {
            reason: Unscannable::OciSource,
            message: format!("`{url}` is an OCI artifact, not a Git repository"),
        },
        Err(error) => Resolution::Unscannable {
            reason: Unscannable::InvalidRepositoryUrl,
            message: error.to_string(),
        },
    }
}

/// A 40-hex-digit commit SHA (lowercased).
fn commit_sha(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

use crate::operator::str_at;

/// A ref as the GitHub commits API takes it: `refs/heads/x` → `x`, `refs/tags/v1` → `v1`.
fn api_ref(git_ref: &str) -> String {
    let git_ref = git_ref.trim();
    git_ref
        .strip_prefix("refs/heads/")
        .or_else(|| git_ref.strip_prefix("refs/tags/"))
        .or_else(|| git_ref.strip_prefix("refs/"))
        .unwrap_or(git_ref)
        .to_owned()
}
