//! Whether code runs on change-request (pull/merge request) builds: declarative `when { }`
//! conditions and scripted `if (…)` tests.
//!
//! In a multibranch job a change-request build has `BRANCH_NAME` `PR-<n>` (`MR-<n>` on
//! GitLab) and `CHANGE_ID` set; `changeRequest()` is true exactly then.

use std::ops::Range;

use crate::syntax::{Call, Expr, ExprKind, File};

/// Which builds reach a piece of the pipeline, as far as change requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Only change-request builds.
    Only,
    /// Change-request builds among others (`anyOf { changeRequest(); branch 'main' }`).
    Possible,
    /// Exactly the builds that are not change requests (`not { changeRequest() }`,
    /// `!env.CHANGE_ID`): its negation is [`Reach::Only`].
    NotChangeRequests,
    /// Never change-request builds, and not all others either (`branch 'main'`): its negation
    /// says nothing.
    Excluded,
    /// Nothing says.
    Unknown,
}

impl Reach {
    pub fn negate(self) -> Reach {
        match self {
            Reach::Only => Reach::NotChangeRequests,
            Reach::NotChangeRequests => Reach::Only,
            Reach::Excluded | Reach::Possible | Reach::Unknown => Reach::Unknown,
        }
    }

    /// Change-request builds never run this.
    pub fn is_excluded(self) -> bool {
        matches!(self, Reach::Excluded | Reach::NotChangeRequests)
    }

    /// Both conditions hold (nested scopes, implicit `allOf` of a `when` block).
    pub fn and(self, other: Reach) -> Reach {
        use Reach::{Excluded, NotChangeRequests, Only, Possible, Unknown};
        match (self, other) {
            // An unknown condition adds nothing (and `Unknown` starts every fold).
            (Unknown, reach) | (reach, Unknown) => reach,
            (NotChangeRequests, NotChangeRequests) => NotChangeRequests,
            (Excluded | NotChangeRequests, _) | (_, Excluded | NotChangeRequests) => Excluded,
            (Only, _) | (_, Only) => Only,
            (Possible, Possible) => Possible,
        }
    }

    /// Either condition holds.
    pub fn or(self, other: Reach) -> Reach {
        use Reach::{Excluded, NotChangeRequests, Only, Possible, Unknown};
        match (self, other) {
            (NotChangeRequests, NotChangeRequests) => NotChangeRequests,
            (Excluded | NotChangeRequests, Excluded | NotChangeRequests) => Excluded,
            (Only, Only) => Only,
            (Only | Possible, _) | (_, Only | Possible) => Possible,
            _ => Unknown,
        }
    }

    /// Change-request builds run this, as written.
    pub fn includes_change_requests(self) -> bool {
        matches!(self, Reach::Only | Reach::Possible)
    }
}

/// A reach with the condition that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub reach: Reach,
    /// Source of the deciding condition (the `when` block, the `if` test).
    pub evidence: Option<Range<usize>>,
    /// A condition keeps change requests from forks out (`env.CHANGE_FORK == null`): only
    /// branches of the repository itself, pushed by people with write access, get here.
    pub fork_guard: Option<Range<usize>>,
}

impl Gate {
    pub const UNKNOWN: Gate = Gate {
        reach: Reach::Unknown,
        evidence: None,
        fork_guard: None,
    };

    /// A scope nested in `self` with its own condition.
    #[must_use]
    pub fn within(&self, inner: Reach, evidence: Range<usize>) -> Gate {
        let reach = self.reach.and(inner);
        if reach == self.reach && self.evidence.is_some() {
            return self.clone();
        }
        Gate {
            reach,
            evidence: (inner != Reach::Unknown)
                .then_some(evidence)
                .or_else(|| self.evidence.clone()),
            fork_guard: self.fork_guard.clone(),
        }
    }

    /// The same gate, with `text` (a condition at `range`) checked for a fork guard.
    #[must_use]
    pub fn with_fork_guard(mut self, text: &str, range: Range<usize>) -> Gate {
        if self.fork_guard.is_none() && excludes_forks(text) {
            self.fork_guard = Some(range);
        }
        self
    }
}

/// `env.CHANGE_FORK == null`, `!env.CHANGE_FORK`: true only for change requests from the
/// repository itself (and for non-change-request builds).
pub fn excludes_forks(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("CHANGE_FORK==null")
        || compact.contains("!env.CHANGE_FORK")
        || compact.contains("CHANGE_FORK==''")
        || compact.contains("CHANGE_FORK==\"\"")
}

/// The reach of a declarative `when { … }` block (its conditions all must hold).
pub fn when_block(file: &File, block: &[Expr]) -> Reach {
    block
        .iter()
        .map(|statement| match &statement.kind {
            ExprKind::Call(call) => when_condition(file, call),
            _ => Reach::Unknown,
        })
        .fold(Reach::Unknown, Reach::and)
}

fn when_condition(file: &File, call: &Call) -> Reach {
    let nested = || call.body().map(|b| b.as_slice()).unwrap_or_default();
    match call.name.as_str() {
        "changeRequest" => Reach::Only,
        "not" => when_block(file, nested()).negate(),
        "allOf" => nested()
            .iter()
            .map(|s| match &s.kind {
                ExprKind::Call(c) => when_condition(file, c),
                _ => Reach::Unknown,
            })
            .fold(Reach::Unknown, Reach::and),
        "anyOf" => {
            let mut reaches = nested().iter().map(|s| match &s.kind {
                ExprKind::Call(c) => when_condition(file, c),
                _ => Reach::Unknown,
            });
            let first = reaches.next().unwrap_or(Reach::Unknown);
            reaches.fold(first, Reach::or)
        }
        "branch" => {
            let pattern = call
                .positional(0)
                .or_else(|| call.named("pattern"))
                .and_then(|e| file.constant(e));
            let regexp = call
                .named("comparator")
                .and_then(|e| file.constant(e))
                .is_some_and(|c| c.eq_ignore_ascii_case("REGEXP"));
            pattern.map_or(Reach::Unknown, |p| branch_pattern(p, regexp))
        }
        "buildingTag" | "tag" => Reach::Excluded,
        "triggeredBy" => {
            let cause = call.positional(0).and_then(|e| file.constant(e));
            match cause {
                Some(c) if !c.contains("Branch") => Reach::Excluded,
                _ => Reach::Unknown,
            }
        }
        "expression" => {
            let text = call.body().map_or("", |block| block_text(file, block));
            expression(text)
        }
        _ => Reach::Unknown,
    }
}

/// `branch 'PR-*'`: change-request builds have branch names `PR-<n>` / `MR-<n>`.
fn branch_pattern(pattern: &str, regexp: bool) -> Reach {
    let trimmed = pattern.trim_start_matches('^');
    if trimmed.starts_with("PR-") || trimmed.starts_with("MR-") {
        Reach::Only
    } else if regexp {
        if pattern.contains("PR") || pattern.contains(".*") && !pattern.contains('/') {
            Reach::Unknown
        } else {
            Reach::Excluded
        }
    } else if pattern.starts_with('*') || pattern.starts_with('?') {
        Reach::Unknown
    } else {
        Reach::Excluded
    }
}

/// The source text of a block's statements (for `expression { … }`).
fn block_text<'f>(file: &'f File, block: &[Expr]) -> &'f str {
    match (block.first(), block.last()) {
        (Some(first), Some(last)) => file
            .source
            .get(first.range.start..last.range.end)
            .unwrap_or(""),
        _ => "",
    }
}

/// The reach of a Groovy boolean expression, from its text (whitespace removed): tests of
/// `CHANGE_ID` and other change-request variables, and comparisons of `BRANCH_NAME`.
pub fn expression(text: &str) -> Reach {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut atoms = Vec::new();
    for variable in ["CHANGE_ID", "CHANGE_TARGET", "CHANGE_BRANCH", "CHANGE_URL"] {
        let mut from = 0;
        while let Some(found) = compact[from..].find(variable) {
            let at = from + found;
            from = at + variable.len();
            let before = &compact[..at];
            let after = &compact[from..];
            let negated = before.ends_with("!env.")
                || before.ends_with('!')
                || before.ends_with("!(env.")
                || after.starts_with("==null")
                || after.starts_with("==''")
                || after.starts_with("==\"\"")
                || after.starts_with("?.isEmpty()") && !before.ends_with('!');
            atoms.push(if negated {
                Reach::NotChangeRequests
            } else {
                Reach::Only
            });
        }
    }
    for variable in ["BRANCH_NAME", "GIT_BRANCH"] {
        let mut from = 0;
        while let Some(found) = compact[from..].find(variable) {
            let at = from + found;
            from = at + variable.len();
            let negated = compact[..at].ends_with("!env.") || compact[..at].ends_with('!');
            let after = &compact[from..];
            let verdict = if let Some(rest) = after
                .strip_prefix(".startsWith(")
                .or_else(|| after.strip_prefix("==~/"))
                .or_else(|| after.strip_prefix("=~/"))
                .or_else(|| after.strip_prefix("==~'"))
                .or_else(|| after.strip_prefix("==~\""))
            {
                let rest = rest.trim_start_matches(['\'', '"', '^']);
                if rest.starts_with("PR") || rest.starts_with("MR") {
                    Reach::Only
                } else {
                    Reach::Excluded
                }
            } else if let Some(rest) = after.strip_prefix("==") {
                let rest = rest.trim_start_matches(['\'', '"']);
                if rest.starts_with("PR-") || rest.starts_with("MR-") {
                    Reach::Only
                } else if rest.starts_with(['\'', '"']) || rest.starts_with(char::is_alphanumeric) {
                    Reach::Excluded
                } else {
                    Reach::Unknown
                }
            } else if let Some(rest) = after.strip_prefix("!=") {
                let rest = rest.trim_start_matches(['\'', '"']);
                if rest.starts_with("PR-") {
                    Reach::NotChangeRequests
                } else {
                    Reach::Unknown
                }
            } else if after.starts_with("in[") {
                Reach::Excluded
            } else {
                Reach::Unknown
            };
            atoms.push(if negated { verdict.negate() } else { verdict });
        }
    }
    if atoms.is_empty() {
        return Reach::Unknown;
    }
    if compact.contains("||") {
        let first = atoms[0];
        atoms[1..].iter().copied().fold(first, Reach::or)
    } else {
        atoms.into_iter().fold(Reach::Unknown, Reach::and)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn when(source: &str) -> Reach {
        let file = parse(source).expect("parses");
        match &file.statements[0].kind {
            ExprKind::Call(call) => when_block(&file, call.body().expect("block")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn when_blocks() {
        assert_eq!(when("when { changeRequest() }"), Reach::Only);
        assert_eq!(when("when { changeRequest target: 'main' }"), Reach::Only);
        assert_eq!(
            when("when { not { changeRequest() } }"),
            Reach::NotChangeRequests
        );
        assert_eq!(
            when("when { not { not { changeRequest() } } }"),
            Reach::Only
        );
        // Not `main` includes change requests and every other branch: says nothing.
        assert_eq!(when("when { not { branch 'main' } }"), Reach::Unknown);
        assert_eq!(when("when { branch 'main' }"), Reach::Excluded);
        assert_eq!(when("when { branch 'PR-*' }"), Reach::Only);
        assert_eq!(
            when("when { anyOf { changeRequest(); branch 'main' } }"),
            Reach::Possible
        );
        assert_eq!(
            when("when { allOf { changeRequest(); environment name: 'X', value: 'y' } }"),
            Reach::Only
        );
        assert_eq!(
            when("when { anyOf { branch 'main'; buildingTag() } }"),
            Reach::Excluded
        );
        assert_eq!(
            when("when { environment name: 'X', value: 'y' }"),
            Reach::Unknown
        );
    }

    #[test]
    fn expressions() {
        assert_eq!(expression("env.CHANGE_ID"), Reach::Only);
        assert_eq!(expression("env.CHANGE_ID != null"), Reach::Only);
        assert_eq!(expression("!env.CHANGE_ID"), Reach::NotChangeRequests);
        assert_eq!(
            expression("env.CHANGE_ID == null"),
            Reach::NotChangeRequests
        );
        assert_eq!(expression("env.BRANCH_NAME == 'master'"), Reach::Excluded);
        assert_eq!(expression("env.BRANCH_NAME.startsWith('PR-')"), Reach::Only);
        assert_eq!(
            expression("env.BRANCH_NAME == 'master' || env.CHANGE_ID"),
            Reach::Possible
        );
        assert_eq!(expression("params.DEPLOY"), Reach::Unknown);
        assert!(excludes_forks("env.CHANGE_FORK == null"));
        assert!(excludes_forks("env.CHANGE_ID && !env.CHANGE_FORK"));
        assert!(!excludes_forks("env.CHANGE_FORK"));
    }
}
