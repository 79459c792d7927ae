//! Attacker-controlled values of a Jenkins build, in one place.
//!
//! Jenkins exposes build metadata as environment variables, readable from Groovy as
//! `env.NAME`, `env['NAME']`, or the bare name `NAME`, and from the shell as `$NAME`. The
//! values below come from whoever opened a pull request or pushed a branch, not from the
//! people who configured the job.

/// How far a value is under an outsider's control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Anyone who can open a pull request (including from a fork) chooses it freely.
    Anyone,
    /// Someone with push access or permission to start the job chooses it, or the platform
    /// restricts its characters.
    Limited,
}

/// One attacker-controlled environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub name: &'static str,
    pub tier: Tier,
    /// Set only on change-request (pull/merge request) builds.
    pub change_request_only: bool,
    /// Why an attacker controls it.
    pub why: &'static str,
}

const fn anyone(name: &'static str, why: &'static str) -> Source {
    Source {
        name,
        tier: Tier::Anyone,
        change_request_only: true,
        why,
    }
}

/// Every attacker-controlled environment variable the pack knows.
pub const SOURCES: &[Source] = &[
    // Branch API / multibranch change requests (GitHub, Bitbucket, GitLab, Gitea branch sources).
    anyone(
        "CHANGE_TITLE",
        "the pull request title: free text typed by its author",
    ),
    anyone(
        "CHANGE_BRANCH",
        "the pull request's source branch: a fork author names it, and git allows `$`, `;`, \
         backquotes and parentheses in branch names",
    ),
    anyone(
        "CHANGE_AUTHOR_DISPLAY_NAME",
        "the author's display name on the SCM: free text of the author's profile",
    ),
    anyone(
        "CHANGE_AUTHOR_EMAIL",
        "the author's e-mail as the SCM reports it: the local part may hold quotes and shell \
         metacharacters",
    ),
    Source {
        name: "CHANGE_AUTHOR",
        tier: Tier::Limited,
        change_request_only: true,
        why: "the author's login: chosen by the author, restricted characters on GitHub but \
              freer on some SCMs",
    },
    Source {
        name: "CHANGE_FORK",
        tier: Tier::Limited,
        change_request_only: true,
        why: "the fork's owner or repository name, chosen by the fork's author within the \
              SCM's naming rules",
    },
    // GitHub Pull Request Builder plugin.
    anyone(
        "ghprbPullTitle",
        "the pull request title (GitHub PR Builder)",
    ),
    anyone(
        "ghprbPullDescription",
        "the pull request description (GitHub PR Builder)",
    ),
    anyone(
        "ghprbPullLongDescription",
        "the full pull request body (GitHub PR Builder)",
    ),
    anyone(
        "ghprbSourceBranch",
        "the pull request's source branch (GitHub PR Builder)",
    ),
    anyone(
        "ghprbCommentBody",
        "the text of the comment that triggered the build (GitHub PR Builder)",
    ),
    anyone(
        "ghprbPullAuthorLoginMention",
        "the author's login as a mention (GitHub PR Builder)",
    ),
    anyone(
        "ghprbActualCommitAuthor",
        "the commit author's name, free text in the commit (GitHub PR Builder)",
    ),
    anyone(
        "ghprbActualCommitAuthorEmail",
        "the commit author's e-mail, free text in the commit (GitHub PR Builder)",
    ),
    // GitLab plugin (merge request hooks).
    anyone(
        "gitlabMergeRequestTitle",
        "the merge request title (GitLab plugin)",
    ),
    anyone(
        "gitlabMergeRequestDescription",
        "the merge request description (GitLab plugin)",
    ),
    anyone(
        "gitlabSourceBranch",
        "the merge request's source branch (GitLab plugin)",
    ),
    anyone(
        "gitlabUserName",
        "the display name of the user who triggered the hook (GitLab plugin)",
    ),
    // Git plugin: commit metadata of the commit being built (the PR head on PR builds).
    Source {
        name: "GIT_AUTHOR_NAME",
        tier: Tier::Anyone,
        change_request_only: false,
        why: "the author name recorded in the built commit: any text the committer chose",
    },
    Source {
        name: "GIT_COMMITTER_NAME",
        tier: Tier::Anyone,
        change_request_only: false,
        why: "the committer name recorded in the built commit",
    },
    Source {
        name: "GIT_AUTHOR_EMAIL",
        tier: Tier::Anyone,
        change_request_only: false,
        why: "the author e-mail recorded in the built commit",
    },
    Source {
        name: "GIT_COMMITTER_EMAIL",
        tier: Tier::Anyone,
        change_request_only: false,
        why: "the committer e-mail recorded in the built commit",
    },
    Source {
        name: "GIT_COMMIT_MESSAGE",
        tier: Tier::Anyone,
        change_request_only: false,
        why: "set by some setups from `git log`: the commit message is the committer's text",
    },
    // Branch and tag names: chosen by anyone with push access to the repository.
    Source {
        name: "BRANCH_NAME",
        tier: Tier::Limited,
        change_request_only: false,
        why: "the branch being built (`PR-<n>` on change requests): whoever can push a branch \
              names it",
    },
    Source {
        name: "GIT_BRANCH",
        tier: Tier::Limited,
        change_request_only: false,
        why: "the branch the git plugin checked out, named by whoever pushed it",
    },
    Source {
        name: "GIT_LOCAL_BRANCH",
        tier: Tier::Limited,
        change_request_only: false,
        why: "the local branch name the git plugin derived from the remote branch",
    },
    Source {
        name: "TAG_NAME",
        tier: Tier::Limited,
        change_request_only: false,
        why: "the tag being built, named by whoever pushed it",
    },
];

/// Build parameters (`params.X`) come from whoever starts the build — anyone with the Build
/// permission, or a remote trigger — so they are treated like contributor input.
pub const PARAMETER_TIER: Tier = Tier::Limited;

/// Why `params.*` are attacker-controlled, for messages and docs.
pub const PARAMETER_WHY: &str =
    "build parameters are typed by whoever starts the build (Build permission or a remote trigger)";

/// The source named `name` (case-sensitive, as Jenkins' environment is).
pub fn source(name: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.name == name)
}

/// A Groovy expression's attacker-controlled origin, if it is a plain reference to one:
/// `env.CHANGE_TITLE`, `CHANGE_TITLE`, `env['CHANGE_TITLE']` (already a path), `params.X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The value's name as written for messages (`env.CHANGE_TITLE`, `params.VERSION`).
    pub display: String,
    pub tier: Tier,
    pub change_request_only: bool,
    pub why: String,
}

/// Classifies a dotted path (`["env", "CHANGE_TITLE"]`).
pub fn origin_of_path(segments: &[&str]) -> Option<Origin> {
    match segments {
        ["env", name, ..] | [name] | [name, ..] if source(name).is_some() => {
            let found = source(name)?;
            let display = if segments.first() == Some(&"env") {
                format!("env.{name}")
            } else {
                (*name).to_owned()
            };
            Some(Origin {
                display,
                tier: found.tier,
                change_request_only: found.change_request_only,
                why: found.why.to_owned(),
            })
        }
        ["params", name, ..] => Some(Origin {
            display: format!("params.{name}"),
            tier: PARAMETER_TIER,
            change_request_only: false,
            why: PARAMETER_WHY.to_owned(),
        }),
        _ => None,
    }
}

/// Splits the text of a GString interpolation (`env.CHANGE_TITLE`, `params['X']`,
/// `env.CHANGE_TITLE.trim()`) into its leading dotted path.
pub fn leading_path(expr: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = expr.trim();
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        if let Some(after) = rest.strip_prefix(name.as_str())
            && !name.is_empty()
        {
            segments.push(name.clone());
            rest = after;
        } else if let Some(after) = rest.strip_prefix('[') {
            // `env['X']` / `params["X"]`
            let quote = after.chars().next();
            if let Some(q @ ('\'' | '"')) = quote
                && let Some(end) = after[1..].find(q)
                && after[1 + end..].starts_with(&format!("{q}]"))
            {
                segments.push(after[1..1 + end].to_owned());
                rest = &after[1 + end + 2..];
                continue;
            }
            break;
        } else {
            break;
        }
        if let Some(after) = rest.strip_prefix("?.").or_else(|| rest.strip_prefix('.')) {
            rest = after;
        } else if !rest.starts_with('[') {
            break;
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_tiers() {
        let o = origin_of_path(&["env", "CHANGE_TITLE"]).expect("source");
        assert_eq!(
            (o.display.as_str(), o.tier),
            ("env.CHANGE_TITLE", Tier::Anyone)
        );
        assert_eq!(
            origin_of_path(&["params", "V"]).map(|o| o.tier),
            Some(Tier::Limited)
        );
        assert!(origin_of_path(&["env", "BUILD_NUMBER"]).is_none());
        assert!(origin_of_path(&["change_title"]).is_none());
    }

    #[test]
    fn leading_paths() {
        assert_eq!(
            leading_path("env.CHANGE_TITLE.trim()"),
            ["env", "CHANGE_TITLE", "trim"]
        );
        assert_eq!(
            leading_path("env['CHANGE_BRANCH']"),
            ["env", "CHANGE_BRANCH"]
        );
        assert_eq!(leading_path(" params.X "), ["params", "X"]);
    }

    #[test]
    fn every_source_says_why() {
        assert!(SOURCES.iter().all(|s| s.why.len() > 20));
    }
}
