//! `owner/repo[@ref]` as given on the command line.

use std::fmt;

use crate::github::GithubError;

/// A repository and optionally a branch, tag or commit (the default branch when absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoSpec {
    pub owner: String,
    pub repo: String,
    pub git_ref: Option<String>,
}

impl RepoSpec {
    pub fn parse(text: &str) -> Result<RepoSpec, GithubError> {
        let bad = |why: &str| GithubError::BadSpec {
            spec: text.to_owned(),
            why: why.to_owned(),
        };
        let (name, git_ref) = match text.split_once('@') {
            Some((_, "")) => {
                return Err(bad("the ref after `@` is empty"));
            }
            Some((name, git_ref)) => (name, Some(git_ref.to_owned())),
            None => (text, None),
        };
        let Some((owner, repo)) = name.split_once('/') else {
            return Err(bad("expected owner/repo[@ref]"));
        };
        // GitHub's own alphabet for account and repository names; anything else would change
        // the request path.
        let valid = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid(owner) || !valid(repo) {
            return Err(bad(
                "owner and repository may contain only letters, digits, `-`, `_` and `.`",
            ));
        }
        if let Some(git_ref) = &git_ref
            && (git_ref.chars().any(|c| c.is_control() || c == ' ')
                || git_ref
                    .split('/')
                    .any(|part| part == ".." || part.is_empty()))
        {
            return Err(bad("not a valid git ref"));
        }
        Ok(RepoSpec {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            git_ref,
        })
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

impl fmt::Display for RepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)?;
        if let Some(git_ref) = &self.git_ref {
            write!(f, "@{git_ref}")?;
        }
        Ok(())
    }
}

/// Percent-encodes a ref for a path segment, keeping `/` (GitHub accepts `commits/feature/x`).
pub(crate) fn encode_ref(git_ref: &str) -> String {
    let mut out = String::with_capacity(git_ref.len());
    for byte in git_ref.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let spec = RepoSpec::parse("octo/hello-world@release/v1").expect("valid");
        assert_eq!(spec.owner, "octo");
        assert_eq!(spec.repo, "hello-world");
        assert_eq!(spec.git_ref.as_deref(), Some("release/v1"));
        assert_eq!(spec.to_string(), "octo/hello-world@release/v1");
        assert!(
            RepoSpec::parse("octo/hello")
                .expect("valid")
                .git_ref
                .is_none()
        );
        for bad in [
            "octo",
            "octo/",
            "/x",
            "a/b@",
            "a/../b",
            "a/b c",
            "a/b@x/../y",
            "a/b?x",
        ] {
            assert!(RepoSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(encode_ref("feat/a b#1"), "feat/a%20b%231");
    }
}
