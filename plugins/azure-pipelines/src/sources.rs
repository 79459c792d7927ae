//! The predefined variables whose text someone outside the project's maintainers chooses.
//!
//! This is the ONE list the pack uses (AZ-002 and the alias tracking behind it). Names are
//! compared case-insensitively, because Azure Pipelines variable names are.

/// Who controls a source, which decides the severity of an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Control {
    /// Only among existing names (target branches): low.
    Restricted,
    /// Someone with push access, or the person who queues the run, or the user's own profile.
    Contributor,
    /// Anyone who can open a pull request, fork included.
    PullRequestAuthor,
}

/// One attacker-controlled predefined variable.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// The variable name as documented.
    pub name: &'static str,
    pub control: Control,
    /// Whether only pull-request builds fill it (an empty value elsewhere).
    pub pull_request_only: bool,
    /// Why it is attacker-controlled.
    pub why: &'static str,
}

/// Every attacker-controlled predefined variable.
///
/// Deliberately absent: `Build.SourceVersion` and `System.PullRequest.SourceCommitId` (hex
/// SHAs), `System.PullRequest.PullRequestId`/`Number` (numbers), `Build.Reason` (a fixed
/// set), and names that are not predefined variables (`System.PullRequest.SourceBranchName`,
/// `Build.SourceVersionAuthor`): an undefined `$(x)` is left in the script as written, which
/// is not a substitution.
pub const SOURCES: &[Source] = &[
    Source {
        name: "System.PullRequest.SourceBranch",
        control: Control::PullRequestAuthor,
        pull_request_only: true,
        why: "the pull request's source branch: a fork author names it freely, and git \
              branch names may hold `$`, `(`, `)`, `;`, `|`, `&` and backquotes",
    },
    Source {
        name: "Build.SourceVersionMessage",
        control: Control::PullRequestAuthor,
        pull_request_only: false,
        why: "the commit message of the built commit: written by whoever authored the \
              commit, a pull-request author included",
    },
    Source {
        name: "Build.SourceBranch",
        control: Control::Contributor,
        pull_request_only: false,
        why: "the branch or tag being built (`refs/heads/…`, `refs/tags/…`): chosen by \
              whoever pushes a branch or tag (for pull-request builds it is \
              `refs/pull/N/merge`)",
    },
    Source {
        name: "Build.SourceBranchName",
        control: Control::Contributor,
        pull_request_only: false,
        why: "the last segment of `Build.SourceBranch`: a branch or tag name chosen by whoever \
              pushes it",
    },
    Source {
        name: "Build.RequestedFor",
        control: Control::Contributor,
        pull_request_only: false,
        why: "the display name of the user who triggered the run (for GitHub pull requests, \
              the author): users choose their own display name",
    },
    Source {
        name: "Build.RequestedForEmail",
        control: Control::Contributor,
        pull_request_only: false,
        why: "the e-mail address of the user who triggered the run: chosen by that user",
    },
    Source {
        name: "Build.SourceVersionAuthor",
        control: Control::Contributor,
        pull_request_only: false,
        why: "the author name of the built commit, set in the commit by whoever wrote it \
              (listed for pipelines and agents that define it)",
    },
    Source {
        name: "System.PullRequest.SourceRepositoryURI",
        control: Control::Contributor,
        pull_request_only: true,
        why: "the URL of the repository the pull request comes from: a fork's owner and name \
              are chosen by the fork's owner (limited characters)",
    },
    Source {
        name: "System.PullRequest.TargetBranch",
        control: Control::Restricted,
        pull_request_only: true,
        why: "the pull request's target branch: the author picks it, but only among branches \
              that already exist in the repository",
    },
    Source {
        name: "System.PullRequest.targetBranchName",
        control: Control::Restricted,
        pull_request_only: true,
        why: "short name of the target branch: an existing branch only",
    },
];

/// The source named `name` (case-insensitive), if any.
pub fn source(name: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The source whose environment-variable form (`BUILD_SOURCEBRANCHNAME`) is `name`.
pub fn source_by_env_name(name: &str) -> Option<&'static Source> {
    SOURCES
        .iter()
        .find(|s| env_name(s.name).eq_ignore_ascii_case(name))
}

/// How the agent names a variable in the environment: upper case, `.` → `_`.
pub fn env_name(variable: &str) -> String {
    variable
        .chars()
        .map(|c| {
            if c == '.' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        assert!(source("build.sourcebranchname").is_some());
        assert!(source_by_env_name("BUILD_SOURCEVERSIONMESSAGE").is_some());
        assert!(source("Build.SourceVersion").is_none());
    }
}
