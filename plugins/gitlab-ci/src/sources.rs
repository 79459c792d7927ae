//! Attacker-controlled predefined variables: the one list every rule uses.
//!
//! A variable is listed when someone who can only open a merge request (or push a branch) can
//! choose its text freely. Not listed, on purpose:
//! - `CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`, `CI_COMMIT_SHA`, `CI_COMMIT_SHORT_SHA`: hexadecimal.
//! - `CI_COMMIT_REF_SLUG`, `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME` slugs: GitLab lower-cases
//!   them and replaces everything but `0-9a-z` with `-`, so they carry no shell syntax.
//! - `CI_MERGE_REQUEST_IID`, `CI_MERGE_REQUEST_ID`, project ids: numbers.
//! - `CI_MERGE_REQUEST_LABELS`: labels are created by project members (Reporter and up), not by
//!   whoever opens the merge request.

/// One attacker-controlled variable.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    /// Why the attacker controls it.
    pub why: &'static str,
    /// Tag names need push rights to create tags, which outsiders do not have.
    pub needs_push_rights: bool,
}

pub const SOURCES: &[Source] = &[
    Source {
        name: "CI_MERGE_REQUEST_TITLE",
        why: "the merge request title, written by its author",
        needs_push_rights: false,
    },
    Source {
        name: "CI_MERGE_REQUEST_DESCRIPTION",
        why: "the merge request description, written by its author",
        needs_push_rights: false,
    },
    Source {
        name: "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
        why: "the source branch name, chosen by the author (may be in a fork)",
        needs_push_rights: false,
    },
    Source {
        name: "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
        why: "the source branch of an external (GitHub) pull request, chosen by its author",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_MESSAGE",
        why: "the commit message, written by whoever made the commit",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_TITLE",
        why: "the first line of the commit message",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_DESCRIPTION",
        why: "the commit message after its first line",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_REF_NAME",
        why: "the branch or tag name, chosen by whoever pushed it",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_BRANCH",
        why: "the branch name, chosen by whoever pushed it",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_AUTHOR",
        why: "the commit author (`Name <email>`), set freely in git",
        needs_push_rights: false,
    },
    Source {
        name: "CI_COMMIT_TAG",
        why: "the tag name; creating tags needs push rights",
        needs_push_rights: true,
    },
    Source {
        name: "CI_COMMIT_TAG_MESSAGE",
        why: "the tag message; creating tags needs push rights",
        needs_push_rights: true,
    },
];

/// The source named `name`, if it is attacker-controlled.
pub fn source(name: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.name == name)
}

/// The attacker-controlled source behind variable `name` in `job`: the variable itself, or a
/// job/top-level variable whose value references one (`TITLE: $CI_MERGE_REQUEST_TITLE`).
pub fn attacker_source(job: &crate::pipeline::Job<'_>, name: &str) -> Option<&'static Source> {
    if let Some(found) = source(name) {
        return Some(found);
    }
    let (_, value) = job.variable(name)?;
    crate::scripts::referenced_names(value)
        .iter()
        .find_map(|n| source(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_and_shas_are_not_sources() {
        assert!(super::source("CI_COMMIT_REF_SLUG").is_none());
        assert!(super::source("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA").is_none());
        assert!(super::source("CI_MERGE_REQUEST_TITLE").is_some());
    }
}
