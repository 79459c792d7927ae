//! The repositories of an organisation: `GET /orgs/{org}/repos`, page by page along the `Link`
//! header, each page a conditional request (an unchanged organisation costs only 304s).

use serde::Deserialize;

use crate::github::{GithubClient, GithubError, RepoSpec};

/// An organisation's repositories to scan, and how many were left out as archived.
#[derive(Debug, Clone)]
pub struct OrgRepos {
    /// Non-archived repositories, at their default branch, in GitHub's order.
    pub repos: Vec<RepoSpec>,
    pub archived: usize,
}

#[derive(Debug, Deserialize)]
struct Listed {
    full_name: String,
    #[serde(default)]
    archived: bool,
}

/// A hostile or broken server could send pages forever.
const MAX_PAGES: usize = 1000;

/// Lists the repositories of `org`.
pub async fn list_org_repos(client: &GithubClient, org: &str) -> Result<OrgRepos, GithubError> {
    // GitHub's login alphabet; anything else would change the request path.
    if org.is_empty()
        || !org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || org.starts_with('.')
    {
        return Err(GithubError::BadOrg {
            org: org.to_owned(),
        });
    }
    let mut listed = OrgRepos {
        repos: Vec::new(),
        archived: 0,
    };
    let mut path = Some(format!("/orgs/{org}/repos?per_page=100&type=all"));
    let mut pages = 0;
    while let Some(current) = path.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(GithubError::InvalidResponse {
                endpoint: format!("/orgs/{org}/repos"),
                message: format!("more than {MAX_PAGES} pages"),
            });
        }
        let answer = client
            .get("org_repos", &current, "application/vnd.github+json", true)
            .await?;
        let page: Vec<Listed> =
            serde_json::from_str(&answer.body).map_err(|e| GithubError::InvalidResponse {
                endpoint: current.clone(),
                message: e.to_string(),
            })?;
        for repo in page {
            if repo.archived {
                listed.archived += 1;
                continue;
            }
            listed.repos.push(RepoSpec::parse(&repo.full_name)?);
        }
        path = match answer.next {
            None => None,
            Some(next) => {
                Some(
                    client
                        .under_api_url(&next)
                        .ok_or_else(|| GithubError::Redirected {
                            location: next.clone(),
                        })?,
                )
            }
        };
    }
    Ok(listed)
}
