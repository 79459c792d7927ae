//! Git repository URLs in every form the upstream objects use, reduced to host + owner + repo.
//!
//! The host is kept exactly so the caller can refuse anything that is not a GitHub host it was
//! configured for: a GitLab URL must never turn into a github.com request.

use std::fmt;

/// A parsed repository URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoUrl {
    /// Lowercased host without port or credentials.
    pub host: String,
    pub owner: String,
    pub repo: String,
}

/// Why a URL names no scannable repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoUrlError {
    #[error("`{0}` is an OCI reference, not a Git repository")]
    Oci(String),
    #[error("`{url}` is not a Git repository URL: {why}")]
    Invalid { url: String, why: &'static str },
}

impl RepoUrl {
    /// Parses `https://host/org/repo(.git)(/)`, `http://…`, `ssh://git@host(:port)/org/repo`,
    /// `git://host/org/repo` and scp-like `git@host:org/repo`.
    pub fn parse(url: &str) -> Result<RepoUrl, RepoUrlError> {
        let text = url.trim();
        let invalid = |why| RepoUrlError::Invalid {
            url: url.to_owned(),
            why,
        };
        if text.starts_with("oci://") {
            return Err(RepoUrlError::Oci(url.to_owned()));
        }
        let (authority, path) = if let Some((scheme, rest)) = text.split_once("://") {
            if !matches!(
                scheme.to_ascii_lowercase().as_str(),
                "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
            ) {
                return Err(invalid("unsupported scheme"));
            }
            rest.split_once('/')
                .ok_or_else(|| invalid("no repository path"))?
        } else if let Some((authority, path)) = scp_like(text) {
            (authority, path)
        } else {
            return Err(invalid("expected https://, ssh:// or git@host:org/repo"));
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = strip_port(host_port).to_ascii_lowercase();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if let Some(last) = parts.last_mut() {
            *last = last.strip_suffix(".git").unwrap_or(last);
        }
        // GitHub Enterprise sometimes serves repositories under a `/scm` style prefix, but the
        // GitHub API only knows owner/repo; deeper paths (GitLab subgroups) are not GitHub.
        match parts.as_slice() {
            [owner, repo] if valid_name(owner) && valid_name(repo) => Ok(RepoUrl {
                host,
                owner: (*owner).to_owned(),
                repo: (*repo).to_owned(),
            }),
            [_, _] => Err(invalid(
                "owner or repository has characters GitHub does not allow",
            )),
            _ => Err(invalid("expected exactly owner/repository after the host")),
        }
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.owner, self.repo)
    }
}

/// `user@host:path` (no scheme, a colon before the first slash).
fn scp_like(text: &str) -> Option<(&str, &str)> {
    let (authority, path) = text.split_once(':')?;
    if authority.contains('/') || path.starts_with("//") || authority.is_empty() {
        return None;
    }
    Some((authority, path))
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

fn valid_name(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, String, String) {
        let u = RepoUrl::parse(url).expect(url);
        (u.host, u.owner, u.repo)
    }

    #[test]
    fn every_form_upstream_objects_use_names_the_same_repository() {
        let want = ("github.com".to_owned(), "octo".to_owned(), "app".to_owned());
        for url in [
            "https://github.com/octo/app",
            "https://github.com/octo/app.git",
            "https://github.com/octo/app/",
            "https://github.com/octo/app.git/",
            "HTTPS://GitHub.com/octo/app",
            "https://user:secret@github.com/octo/app.git",
            "http://github.com/octo/app",
            "ssh://git@github.com/octo/app.git",
            "ssh://git@github.com:22/octo/app",
            "git@github.com:octo/app.git",
            "git@github.com:octo/app",
            "git@github.com:/octo/app.git",
            "git://github.com/octo/app",
            " https://github.com/octo/app ",
        ] {
            assert_eq!(parsed(url), want, "{url}");
        }
    }

    #[test]
    fn the_host_is_kept_so_other_forges_can_be_refused() {
        assert_eq!(parsed("https://gitlab.com/group/app").0, "gitlab.com");
        assert_eq!(
            parsed("git@ghe.corp.example:team/app.git").0,
            "ghe.corp.example"
        );
        assert_eq!(
            parsed("https://ghe.corp.example:8443/team/app").0,
            "ghe.corp.example"
        );
    }

    #[test]
    fn oci_and_unparseable_urls_are_errors_with_reasons() {
        assert!(matches!(
            RepoUrl::parse("oci://ghcr.io/octo/charts"),
            Err(RepoUrlError::Oci(_))
        ));
        for url in [
            "https://gitlab.com/group/sub/app",
            "https://github.com/octo",
            "ftp://github.com/octo/app",
            "registry-1.docker.io",
            "",
            "https://github.com/octo/a%20b",
        ] {
            assert!(
                matches!(RepoUrl::parse(url), Err(RepoUrlError::Invalid { .. })),
                "{url}"
            );
        }
    }
}
