//! Which expression contexts an outsider controls.
//!
//! Paths are the SDK's normalised context paths (`github.event.commits.*.message`), compared
//! case-insensitively because GitHub resolves context properties that way.

use sluice_pack_sdk::expr::ContextRef;

/// How much access an attacker needs to control a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Whoever can trigger the workflow chooses the value, and triggering already needs write
    /// access or a caller that forwards it (`inputs.*`, `client_payload`).
    TriggerAccess,
    /// Anyone who can open an issue, a pull request, a comment or push a branch to a fork.
    Anyone,
}

/// A context whose value an attacker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tainted {
    /// Normalised path; `*` matches any one segment, a trailing `.**` any deeper path.
    pub path: &'static str,
    pub tier: Tier,
    /// Events whose payload fills this context; empty means "whatever triggered the caller"
    /// (inputs), so always reachable.
    pub events: &'static [&'static str],
}

const PR: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
];
const ISSUE: &[&str] = &["issues", "issue_comment"];
const COMMENT: &[&str] = &[
    "issue_comment",
    "commit_comment",
    "discussion_comment",
    "pull_request_review_comment",
];
const DISCUSSION: &[&str] = &["discussion", "discussion_comment"];
const PUSH: &[&str] = &["push"];
const WORKFLOW_RUN: &[&str] = &["workflow_run"];
const CHECK_SUITE: &[&str] = &["check_suite"];
const CHECK_RUN: &[&str] = &["check_run"];
const MERGE_GROUP: &[&str] = &["merge_group"];

const fn anyone(path: &'static str, events: &'static [&'static str]) -> Tainted {
    Tainted {
        path,
        tier: Tier::Anyone,
        events,
    }
}

/// Free text an outsider writes. Deliberately absent: logins and repository names (GitHub
/// restricts them to `[A-Za-z0-9._-]`, which cannot break out of a shell word), SHAs,
/// numbers and URLs built by GitHub, and release/label/milestone fields (writing them needs
/// triage or write access).
pub const TAINTED: &[Tainted] = &[
    anyone("github.head_ref", PR),
    anyone("github.event.issue.title", ISSUE),
    anyone("github.event.issue.body", ISSUE),
    anyone("github.event.pull_request.title", PR),
    anyone("github.event.pull_request.body", PR),
    anyone("github.event.pull_request.head.ref", PR),
    anyone("github.event.pull_request.head.label", PR),
    anyone("github.event.pull_request.head.repo.description", PR),
    anyone("github.event.pull_request.head.repo.default_branch", PR),
    anyone("github.event.comment.body", COMMENT),
    anyone("github.event.review.body", &["pull_request_review"]),
    anyone(
        "github.event.review_comment.body",
        &["pull_request_review_comment"],
    ),
    anyone("github.event.discussion.title", DISCUSSION),
    anyone("github.event.discussion.body", DISCUSSION),
    anyone("github.event.answer.body", DISCUSSION),
    anyone("github.event.pages.*.page_name", &["gollum"]),
    anyone("github.event.pages.*.title", &["gollum"]),
    anyone("github.event.commits.*.message", PUSH),
    anyone("github.event.commits.*.author.name", PUSH),
    anyone("github.event.commits.*.author.email", PUSH),
    anyone("github.event.commits.*.committer.name", PUSH),
    anyone("github.event.commits.*.committer.email", PUSH),
    anyone("github.event.head_commit.message", PUSH),
    anyone("github.event.head_commit.author.name", PUSH),
    anyone("github.event.head_commit.author.email", PUSH),
    anyone("github.event.head_commit.committer.name", PUSH),
    anyone("github.event.head_commit.committer.email", PUSH),
    anyone("github.event.workflow_run.head_branch", WORKFLOW_RUN),
    anyone("github.event.workflow_run.display_title", WORKFLOW_RUN),
    anyone(
        "github.event.workflow_run.head_commit.message",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.head_commit.author.name",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.head_commit.author.email",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.head_commit.committer.name",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.head_commit.committer.email",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.head_repository.description",
        WORKFLOW_RUN,
    ),
    anyone(
        "github.event.workflow_run.pull_requests.*.head.ref",
        WORKFLOW_RUN,
    ),
    anyone("github.event.check_suite.head_branch", CHECK_SUITE),
    anyone("github.event.check_suite.head_commit.message", CHECK_SUITE),
    anyone(
        "github.event.check_suite.head_commit.author.name",
        CHECK_SUITE,
    ),
    anyone(
        "github.event.check_suite.head_commit.author.email",
        CHECK_SUITE,
    ),
    anyone("github.event.check_run.check_suite.head_branch", CHECK_RUN),
    anyone("github.event.merge_group.head_commit.message", MERGE_GROUP),
    anyone(
        "github.event.merge_group.head_commit.author.name",
        MERGE_GROUP,
    ),
    anyone(
        "github.event.merge_group.head_commit.author.email",
        MERGE_GROUP,
    ),
    Tainted {
        path: "inputs.**",
        tier: Tier::TriggerAccess,
        events: &[],
    },
    Tainted {
        path: "github.event.inputs.**",
        tier: Tier::TriggerAccess,
        events: &[],
    },
    Tainted {
        path: "github.event.client_payload.**",
        tier: Tier::TriggerAccess,
        events: &["repository_dispatch"],
    },
];

/// The tainted contexts a reference reads: one for a field, several when a parent object is
/// serialised whole.
///
/// `dumped` says the reference is serialised whole (`toJSON(github.event.issue)`): then a
/// parent of a tainted field counts too, because its JSON contains the field.
pub fn tainted(path: &str, dumped: bool) -> Vec<&'static Tainted> {
    let path = path.to_ascii_lowercase();
    let segments: Vec<&str> = path.split('.').collect();
    let matches = |t: &&Tainted| {
        let pattern: Vec<&str> = t.path.split('.').collect();
        let (pattern, deep) = match pattern.split_last() {
            Some((&"**", parent)) => (parent, true),
            _ => (pattern.as_slice(), false),
        };
        let common = pattern.len().min(segments.len());
        let prefix_matches = pattern[..common]
            .iter()
            .zip(&segments[..common])
            .all(|(p, s)| p == s || *p == "*" || *s == "*");
        if !prefix_matches {
            return false;
        }
        match segments.len().cmp(&pattern.len()) {
            std::cmp::Ordering::Equal => !deep || dumped,
            std::cmp::Ordering::Greater => deep,
            std::cmp::Ordering::Less => dumped,
        }
    };
    TAINTED.iter().filter(matches).collect()
}

/// Whether a reference's value reaches the expression's result as text.
///
/// `${{ github.event.issue.title == 'x' }}`, `${{ contains(github.event.issue.body, 'y') }}`
/// and `${{ !github.head_ref }}` produce booleans an attacker cannot turn into code. Anything
/// else (plain use, `format`, `join`, `toJSON`, `a || b`) passes the text through.
pub fn is_text_position(expression: &str, reference: &ContextRef) -> bool {
    let before = expression[..reference.range.start].trim_end();
    let after = expression[reference.range.end..].trim_start();
    let comparison = ["==", "!=", "<=", ">=", "<", ">"];
    if comparison
        .iter()
        .any(|op| before.ends_with(op) || after.starts_with(op))
    {
        return false;
    }
    if before.ends_with('!') {
        return false;
    }
    !matches!(
        enclosing_call(before).as_deref(),
        Some("contains" | "startswith" | "endswith")
    )
}

/// Whether the reference is the argument of `toJSON(…)` and so serialised whole.
pub fn is_dumped(expression: &str, reference: &ContextRef) -> bool {
    enclosing_call(&expression[..reference.range.start]).as_deref() == Some("tojson")
}

/// The (lower-cased) name of the innermost function call still open at the end of `before`.
fn enclosing_call(before: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut quote = false;
    for (at, c) in before.char_indices().rev() {
        match c {
            '\'' => quote = !quote,
            ')' if !quote => depth += 1,
            '(' if !quote => {
                if depth == 0 {
                    let name: String = before[..at]
                        .trim_end()
                        .chars()
                        .rev()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    return Some(name.to_ascii_lowercase());
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Contexts that name the pull request head (fork code) when used as a checkout ref, with the
/// privileged events that fill them.
const PR_HEAD: &[(&str, &[&str])] = &[
    (
        "github.event.pull_request.head.sha",
        &["pull_request_target"],
    ),
    (
        "github.event.pull_request.head.ref",
        &["pull_request_target"],
    ),
    ("github.head_ref", &["pull_request_target"]),
    (
        "github.event.pull_request.merge_commit_sha",
        &["pull_request_target"],
    ),
    ("github.event.workflow_run.head_sha", &["workflow_run"]),
    ("github.event.workflow_run.head_branch", &["workflow_run"]),
    (
        "github.event.workflow_run.head_commit.id",
        &["workflow_run"],
    ),
    (
        "github.event.workflow_run.pull_requests.*.head.sha",
        &["workflow_run"],
    ),
    (
        "github.event.workflow_run.pull_requests.*.head.ref",
        &["workflow_run"],
    ),
];

/// Contexts that name the fork repository when used as `repository:`.
const PR_HEAD_REPOSITORY: &[(&str, &[&str])] = &[
    (
        "github.event.pull_request.head.repo.full_name",
        &["pull_request_target"],
    ),
    (
        "github.event.workflow_run.head_repository.full_name",
        &["workflow_run"],
    ),
];

/// Pull request numbers, which name fork code inside `refs/pull/<n>/head|merge`.
const PR_NUMBER: &[(&str, &[&str])] = &[
    ("github.event.pull_request.number", &["pull_request_target"]),
    ("github.event.number", &["pull_request_target"]),
    ("github.event.issue.number", &["issue_comment"]),
    (
        "github.event.workflow_run.pull_requests.*.number",
        &["workflow_run"],
    ),
];

/// Privileged events under which a reference can name fork code, or `None` if it cannot.
/// An empty list means "any privileged event" (a value computed by an earlier step).
pub fn pr_head_events(path: &str, in_pull_ref: bool) -> Option<&'static [&'static str]> {
    let path = path.to_ascii_lowercase();
    let find = |table: &[(&'static str, &'static [&'static str])]| {
        table.iter().find(|(p, _)| *p == path).map(|(_, e)| *e)
    };
    if let Some(events) = find(PR_HEAD) {
        return Some(events);
    }
    if in_pull_ref && let Some(events) = find(PR_NUMBER) {
        return Some(events);
    }
    // `steps.pr.outputs.head_sha`, `needs.info.outputs.head-ref`, `env.PR_HEAD`: values a
    // bot workflow looked up from the pull request.
    let derived =
        path.starts_with("steps.") || path.starts_with("needs.") || path.starts_with("env.");
    (derived && path.contains("head")).then_some(&[][..])
}

/// Privileged events under which a `repository:` reference names the fork.
pub fn pr_head_repository_events(path: &str) -> Option<&'static [&'static str]> {
    let path = path.to_ascii_lowercase();
    PR_HEAD_REPOSITORY
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_pack_sdk::expr::context_refs;

    fn tier(path: &str) -> Option<Tier> {
        tainted(path, false).iter().map(|t| t.tier).max()
    }

    fn dumped_tier(path: &str) -> Option<Tier> {
        tainted(path, true).iter().map(|t| t.tier).max()
    }

    #[test]
    fn attacker_controlled_fields() {
        assert_eq!(tier("github.event.issue.title"), Some(Tier::Anyone));
        assert_eq!(tier("github.head_ref"), Some(Tier::Anyone));
        assert_eq!(
            tier("github.event.pull_request.head.ref"),
            Some(Tier::Anyone)
        );
        assert_eq!(
            tier("github.event.pull_request.head.label"),
            Some(Tier::Anyone)
        );
        assert_eq!(tier("github.event.review_comment.body"), Some(Tier::Anyone));
        assert_eq!(tier("github.event.discussion.body"), Some(Tier::Anyone));
        assert_eq!(
            tier("github.event.commits.*.author.email"),
            Some(Tier::Anyone)
        );
        assert_eq!(
            tier("github.event.workflow_run.display_title"),
            Some(Tier::Anyone)
        );
        assert_eq!(tier("GitHub.Event.Issue.Title"), Some(Tier::Anyone));
        assert_eq!(tier("github.event.pages.*.page_name"), Some(Tier::Anyone));
    }

    #[test]
    fn safe_fields() {
        for path in [
            "github.event.pull_request.head.sha",
            "github.event.pull_request.number",
            "github.event.pull_request.head.repo.full_name",
            "github.event.issue.user.login",
            "github.sha",
            "github.repository",
            "github.event.issue",
            "github.event",
            "steps.x.outputs.y",
        ] {
            assert_eq!(tier(path), None, "{path}");
        }
    }

    #[test]
    fn inputs_need_trigger_access() {
        assert_eq!(tier("inputs.version"), Some(Tier::TriggerAccess));
        assert_eq!(
            tier("github.event.inputs.version"),
            Some(Tier::TriggerAccess)
        );
        assert_eq!(
            tier("github.event.client_payload.ref"),
            Some(Tier::TriggerAccess)
        );
        // The bare object is only text when serialised.
        assert_eq!(tier("inputs"), None);
        assert_eq!(dumped_tier("inputs"), Some(Tier::TriggerAccess));
    }

    #[test]
    fn dumps_of_parents_count() {
        for path in [
            "github.event.issue",
            "github.event",
            "github",
            "github.event.commits",
        ] {
            assert_eq!(dumped_tier(path), Some(Tier::Anyone), "{path}");
        }
        assert_eq!(dumped_tier("github.event.pull_request.head.sha"), None);
        // A dump of the whole event carries fields of every event.
        assert!(tainted("github.event", true).len() > 10);
    }

    fn text_position(expression: &str) -> bool {
        let refs = context_refs(expression);
        let reference = refs
            .iter()
            .find(|r| r.path.starts_with("github.event"))
            .expect("expression has a github.event reference");
        is_text_position(expression, reference)
    }

    #[test]
    fn boolean_uses_are_not_text() {
        assert!(text_position("github.event.issue.title"));
        assert!(text_position("format('{0}', github.event.issue.title)"));
        assert!(text_position("github.event.issue.title || 'none'"));
        assert!(text_position("toJSON(github.event.issue)"));
        assert!(!text_position("github.event.issue.title == 'x'"));
        assert!(!text_position("'x' != github.event.issue.title"));
        assert!(!text_position("contains(github.event.issue.body, 'lgtm')"));
        assert!(!text_position(
            "startsWith(github.event.comment.body, '/test')"
        ));
        assert!(!text_position("!github.event.issue.title"));
        // Only the reference inside `contains` is boolean; the title after `&&` is the result.
        let expression = "contains(github.event.issue.body, 'x') && github.event.issue.title";
        let positions: Vec<bool> = context_refs(expression)
            .iter()
            .map(|r| is_text_position(expression, r))
            .collect();
        assert_eq!(positions, [false, true]);
    }

    #[test]
    fn pr_head_references() {
        assert_eq!(
            pr_head_events("github.event.pull_request.head.sha", false),
            Some(&["pull_request_target"][..])
        );
        assert_eq!(
            pr_head_events("github.event.workflow_run.head_sha", false),
            Some(&["workflow_run"][..])
        );
        assert_eq!(
            pr_head_events("github.event.pull_request.number", false),
            None
        );
        assert_eq!(
            pr_head_events("github.event.pull_request.number", true),
            Some(&["pull_request_target"][..])
        );
        assert_eq!(
            pr_head_events("github.event.issue.number", true),
            Some(&["issue_comment"][..])
        );
        assert_eq!(
            pr_head_events("steps.pr.outputs.head_sha", false),
            Some(&[][..])
        );
        assert_eq!(
            pr_head_events("github.event.pull_request.base.sha", false),
            None
        );
        assert_eq!(pr_head_events("github.sha", false), None);
    }
}
