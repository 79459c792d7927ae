//! Every attacker-controlled value of CircleCI, in one place, with why.
//!
//! Two kinds: pipeline values CircleCI substitutes into the configuration before the shell
//! runs (`<< pipeline.git.branch >>`: an injection wherever it lands in a script), and
//! environment variables the shell expands itself (`$CIRCLE_BRANCH`: data, unless the script
//! evaluates it a second time). Values that are not free text are deliberately absent:
//! `CIRCLE_PULL_REQUEST(S)` are URLs CircleCI builds, `CIRCLE_PR_NUMBER` and
//! `CIRCLE_BUILD_NUM` are numbers, `CIRCLE_SHA1` and `pipeline.git.revision` are hex commit
//! ids, `pipeline.id`/`pipeline.number` are CircleCI's own.

use sluice_pack_sdk::Severity;

/// An attacker-controlled value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// `pipeline.git.branch` or `CIRCLE_BRANCH`.
    pub name: &'static str,
    /// How bad it is when the value reaches code.
    pub severity: Severity,
    /// Why an attacker controls it, for messages and docs.
    pub why: &'static str,
}

/// Pipeline values substituted into the configuration (`<< … >>`).
pub const PIPELINE_VALUES: &[Source] = &[
    Source {
        name: "pipeline.git.branch",
        severity: Severity::High,
        // Fork pull requests build under the fork's branch name; git allows `$`, `;`, `(`,
        // `` ` `` and quotes in branch names.
        why: "the branch name, chosen by whoever opens a pull request from a fork",
    },
    Source {
        name: "pipeline.git.tag",
        severity: Severity::Medium,
        // Only people with push access create tags, but their names are free text too.
        why: "the tag name, chosen by whoever can push a tag",
    },
    Source {
        name: "pipeline.trigger_parameters.github_app.branch",
        severity: Severity::High,
        why: "the branch name of a GitHub App pipeline, chosen by the pull request's author",
    },
    Source {
        name: "pipeline.trigger_parameters.github_app.commit_message",
        severity: Severity::High,
        why: "the commit message, written by whoever authored the commit",
    },
    Source {
        name: "pipeline.trigger_parameters.github_app.commit_title",
        severity: Severity::High,
        why: "the commit title, written by whoever authored the commit",
    },
    Source {
        name: "pipeline.trigger_parameters.github_app.commit_author_name",
        severity: Severity::High,
        why: "the commit author's name, free text set by whoever made the commit",
    },
    Source {
        name: "pipeline.trigger_parameters.gitlab.branch",
        severity: Severity::High,
        why: "the branch name of a GitLab pipeline, chosen by the merge request's author",
    },
    Source {
        name: "pipeline.trigger_parameters.gitlab.commit_message",
        severity: Severity::High,
        why: "the commit message, written by whoever authored the commit",
    },
    Source {
        name: "pipeline.trigger_parameters.gitlab.commit_title",
        severity: Severity::High,
        why: "the commit title, written by whoever authored the commit",
    },
    Source {
        name: "pipeline.trigger_parameters.gitlab.commit_author_name",
        severity: Severity::High,
        why: "the commit author's name, free text set by whoever made the commit",
    },
];

/// Environment variables CircleCI sets from attacker-controlled text (expanded by the shell).
pub const ENVIRONMENT: &[Source] = &[
    Source {
        name: "CIRCLE_BRANCH",
        severity: Severity::High,
        why: "the branch name, chosen by whoever opens a pull request from a fork",
    },
    Source {
        name: "CIRCLE_TAG",
        severity: Severity::Medium,
        why: "the tag name, chosen by whoever can push a tag",
    },
    Source {
        name: "CIRCLE_PR_USERNAME",
        // GitHub logins are `[A-Za-z0-9-]`: attacker-chosen, but cannot carry shell syntax.
        severity: Severity::Low,
        why: "the fork owner's login, chosen by the pull request's author",
    },
    Source {
        name: "CIRCLE_PR_REPONAME",
        // Repository names are `[A-Za-z0-9._-]`: attacker-chosen, little room for syntax.
        severity: Severity::Low,
        why: "the fork's repository name, chosen by the pull request's author",
    },
    Source {
        name: "CIRCLE_USERNAME",
        severity: Severity::Low,
        why: "the login of whoever triggered the pipeline",
    },
];

/// The pipeline value named by a `<< … >>` expression's content, if attacker-controlled.
pub fn pipeline_value(content: &str) -> Option<&'static Source> {
    PIPELINE_VALUES.iter().find(|s| s.name == content)
}

/// The environment variable `name`, if CircleCI fills it with attacker-controlled text.
pub fn environment_variable(name: &str) -> Option<&'static Source> {
    ENVIRONMENT.iter().find(|s| s.name == name)
}
