//! `uses:` references: actions, reusable workflows and Docker images.

/// A parsed `uses:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uses<'a> {
    /// `./path/to/action` or `./.github/workflows/x.yml`: code from the checked-out tree.
    Local { path: &'a str },
    /// `docker://image[:tag][@digest]`.
    Docker {
        image: &'a str,
        tag: Option<&'a str>,
        digest: Option<&'a str>,
    },
    /// `owner/repo[/path]@ref`; `git_ref` is `None` when there is no `@`.
    Repository {
        owner: &'a str,
        repo: &'a str,
        path: Option<&'a str>,
        git_ref: Option<&'a str>,
    },
    /// Anything else (an empty string, a bare name).
    Unknown(&'a str),
}

/// What kind of thing a `@ref` looks like. Without network access a tag and a branch of the
/// same name cannot be told apart, so this is a guess from the spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// 40 hexadecimal digits: an immutable commit.
    CommitSha,
    /// 7–39 hexadecimal digits: a commit abbreviation, ambiguous and resolvable to a
    /// different commit later.
    ShortSha,
    /// A name conventionally used for a branch (`main`, `master`, `develop` …).
    Branch,
    /// Anything else (`v4`, `v1.2.3`, `release-2024`): most likely a tag.
    Tag,
}

/// Branch names common enough that a ref spelled like this is almost certainly a branch.
const BRANCH_NAMES: &[&str] = &[
    "main",
    "master",
    "dev",
    "develop",
    "development",
    "trunk",
    "next",
    "canary",
    "nightly",
    "stable",
    "head",
    "latest",
];

impl<'a> Uses<'a> {
    pub fn parse(text: &'a str) -> Uses<'a> {
        let text = text.trim();
        if text.starts_with("./") || text.starts_with(".\\") {
            return Uses::Local { path: text };
        }
        if let Some(reference) = text.strip_prefix("docker://") {
            let (name, digest) = match reference.split_once('@') {
                Some((name, digest)) => (name, Some(digest)),
                None => (reference, None),
            };
            // A `:` after the last `/` is a tag; one before it is a registry port.
            let last_slash = name.rfind('/').map_or(0, |i| i + 1);
            let (image, tag) = match name[last_slash..].find(':') {
                Some(colon) => (
                    &name[..last_slash + colon],
                    Some(&name[last_slash + colon + 1..]),
                ),
                None => (name, None),
            };
            return Uses::Docker { image, tag, digest };
        }
        let (name, git_ref) = match text.split_once('@') {
            Some((name, git_ref)) => (name, Some(git_ref)),
            None => (text, None),
        };
        let mut parts = name.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(owner), Some(repo), path) if !owner.is_empty() && !repo.is_empty() => {
                Uses::Repository {
                    owner,
                    repo,
                    path: path.filter(|p| !p.is_empty()),
                    git_ref,
                }
            }
            _ => Uses::Unknown(text),
        }
    }

    /// `owner/repo[/path]` of a repository reference.
    pub fn repository_name(&self) -> Option<String> {
        match self {
            Uses::Repository {
                owner, repo, path, ..
            } => Some(match path {
                Some(path) => format!("{owner}/{repo}/{path}"),
                None => format!("{owner}/{repo}"),
            }),
            _ => None,
        }
    }

    /// Published by GitHub itself (`actions/*`, `github/*`).
    pub fn is_first_party(&self) -> bool {
        matches!(self, Uses::Repository { owner, .. }
            if owner.eq_ignore_ascii_case("actions") || owner.eq_ignore_ascii_case("github"))
    }

    /// Whether the reference names immutable content: a full commit SHA, an image digest, or
    /// a path in the same repository (which moves with the workflow itself).
    pub fn is_pinned(&self) -> bool {
        match self {
            Uses::Local { .. } => true,
            Uses::Docker { digest, .. } => digest.is_some_and(is_image_digest),
            Uses::Repository { git_ref, .. } => {
                git_ref.is_some_and(|r| ref_kind(r) == RefKind::CommitSha)
            }
            Uses::Unknown(_) => false,
        }
    }
}

/// Classifies the ref after `@`.
pub fn ref_kind(git_ref: &str) -> RefKind {
    let is_hex = !git_ref.is_empty() && git_ref.chars().all(|c| c.is_ascii_hexdigit());
    match git_ref.len() {
        40 if is_hex => RefKind::CommitSha,
        7..=39 if is_hex => RefKind::ShortSha,
        _ if BRANCH_NAMES.iter().any(|b| git_ref.eq_ignore_ascii_case(b))
            || git_ref.starts_with("refs/heads/") =>
        {
            RefKind::Branch
        }
        _ => RefKind::Tag,
    }
}

/// `sha256:` followed by 64 hexadecimal digits.
fn is_image_digest(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "8e5e7e5ab8b370d6c329ec480221332ada57f0ab";

    #[test]
    fn parses_repository_references() {
        assert_eq!(
            Uses::parse("actions/checkout@v4"),
            Uses::Repository {
                owner: "actions",
                repo: "checkout",
                path: None,
                git_ref: Some("v4")
            }
        );
        assert_eq!(
            Uses::parse("octo/workflows/.github/workflows/ci.yml@main"),
            Uses::Repository {
                owner: "octo",
                repo: "workflows",
                path: Some(".github/workflows/ci.yml"),
                git_ref: Some("main")
            }
        );
        assert_eq!(
            Uses::parse("github/codeql-action/init@v3").repository_name(),
            Some("github/codeql-action/init".to_owned())
        );
        assert!(matches!(
            Uses::parse("actions/checkout"),
            Uses::Repository { git_ref: None, .. }
        ));
        assert!(matches!(Uses::parse("checkout"), Uses::Unknown(_)));
    }

    #[test]
    fn parses_docker_references() {
        assert_eq!(
            Uses::parse("docker://ghcr.io:443/org/img:1.2@sha256:abc"),
            Uses::Docker {
                image: "ghcr.io:443/org/img",
                tag: Some("1.2"),
                digest: Some("sha256:abc")
            }
        );
        assert_eq!(
            Uses::parse("docker://localhost:5000/alpine"),
            Uses::Docker {
                image: "localhost:5000/alpine",
                tag: None,
                digest: None
            }
        );
    }

    #[test]
    fn pin_detection() {
        assert!(Uses::parse(&format!("actions/checkout@{SHA}")).is_pinned());
        assert!(Uses::parse(&format!("actions/checkout@{}", SHA.to_uppercase())).is_pinned());
        assert!(!Uses::parse("actions/checkout@v4").is_pinned());
        assert!(!Uses::parse("actions/checkout@8e5e7e5").is_pinned());
        assert!(!Uses::parse(&format!("actions/checkout@{SHA}0")).is_pinned());
        assert!(!Uses::parse("actions/checkout").is_pinned());
        assert!(Uses::parse("./.github/actions/setup").is_pinned());
        let digest = "a".repeat(64);
        assert!(Uses::parse(&format!("docker://alpine@sha256:{digest}")).is_pinned());
        assert!(Uses::parse(&format!("docker://alpine:3.20@sha256:{digest}")).is_pinned());
        assert!(!Uses::parse("docker://alpine@sha256:abc").is_pinned());
        assert!(!Uses::parse("docker://alpine:3.20").is_pinned());
        assert!(!Uses::parse("docker://alpine").is_pinned());
    }

    #[test]
    fn ref_kinds() {
        assert_eq!(ref_kind(SHA), RefKind::CommitSha);
        assert_eq!(ref_kind("8e5e7e5"), RefKind::ShortSha);
        assert_eq!(ref_kind("main"), RefKind::Branch);
        assert_eq!(ref_kind("Master"), RefKind::Branch);
        assert_eq!(ref_kind("refs/heads/release"), RefKind::Branch);
        assert_eq!(ref_kind("v4"), RefKind::Tag);
        assert_eq!(ref_kind("v4.1.0"), RefKind::Tag);
        // All-digit tags are short enough to never be taken for a SHA.
        assert_eq!(ref_kind("2024"), RefKind::Tag);
    }

    #[test]
    fn first_party() {
        assert!(Uses::parse("actions/checkout@v4").is_first_party());
        assert!(Uses::parse("GitHub/codeql-action/init@v3").is_first_party());
        assert!(!Uses::parse("actions-rs/toolchain@v1").is_first_party());
        assert!(!Uses::parse("docker://actions/img").is_first_party());
    }
}
