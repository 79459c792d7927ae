//! Gates written in the pipeline that keep pull-request code away from a job or step.

use crate::model::{Condition, Job, Loc};

/// What a condition says about pull-request builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrGate {
    /// The job or step never runs for a pull request (`ne(variables['Build.Reason'],
    /// 'PullRequest')`, `eq(variables['Build.SourceBranch'], 'refs/heads/main')`, …).
    ExcludesPullRequests,
    /// It does not run for pull requests from forks (`eq(variables['System.PullRequest.IsFork'],
    /// 'False')`).
    ExcludesForks,
}

/// Lower-case, whitespace-free, double quotes turned single: one spelling to match.
fn canonical(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c == '"' {
                '\''
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The tests that must all hold: the arguments of top-level `and(…)`, recursively. A test
/// inside `or(…)` or `not(…)` may not hold, so it is never a gate.
fn conjuncts(text: &str) -> Vec<&str> {
    let text = text.trim();
    let inner = text
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .map_or(text, |t| t.trim().strip_prefix("if").unwrap_or(t).trim());
    let inner = inner.strip_prefix("elseif").unwrap_or(inner);
    let Some(arguments) = inner.strip_prefix("and(").and_then(|t| t.strip_suffix(')')) else {
        return vec![inner];
    };
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in arguments.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.extend(conjuncts(&arguments[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.extend(conjuncts(&arguments[start..]));
    parts
}

/// The gate one condition expresses, if any.
pub fn gate(condition: &str) -> Option<PrGate> {
    let canonical_text = canonical(condition);
    let mut best = None;
    for test in conjuncts(&canonical_text) {
        match test_gate(test) {
            Some(PrGate::ExcludesPullRequests) => return Some(PrGate::ExcludesPullRequests),
            Some(PrGate::ExcludesForks) => best = Some(PrGate::ExcludesForks),
            None => {}
        }
    }
    best
}

/// The gate of one test (no `and`).
fn test_gate(text: &str) -> Option<PrGate> {
    if text.starts_with("or(") || text.starts_with("not(") {
        return None;
    }
    let reason = [
        "variables['build.reason']",
        "variables.build.reason",
        "variables['build_reason']",
    ];
    for r in reason {
        if text.contains(&format!("ne({r},'pullrequest')"))
            || text.contains(&format!("ne('pullrequest',{r})"))
            || (text.starts_with("notin(") && text.contains(r) && text.contains("'pullrequest'"))
        {
            return Some(PrGate::ExcludesPullRequests);
        }
        for kind in [
            "individualci",
            "batchedci",
            "schedule",
            "manual",
            "resourcetrigger",
        ] {
            if text.contains(&format!("eq({r},'{kind}')")) {
                return Some(PrGate::ExcludesPullRequests);
            }
        }
        if text.contains(&format!("in({r},")) && !text.contains("'pullrequest'") {
            return Some(PrGate::ExcludesPullRequests);
        }
    }
    // Pull-request builds run on `refs/pull/N/merge`.
    for branch in [
        "variables['build.sourcebranch']",
        "variables.build.sourcebranch",
    ] {
        if text.contains(&format!("eq({branch},'refs/heads/"))
            || text.contains(&format!("eq({branch},'refs/tags/"))
            || text.contains(&format!("startswith({branch},'refs/tags/"))
            || text.contains(&format!("startswith({branch},'refs/heads/"))
        {
            return Some(PrGate::ExcludesPullRequests);
        }
    }
    for fork in [
        "variables['system.pullrequest.isfork']",
        "variables.system.pullrequest.isfork",
    ] {
        if text.contains(&format!("eq({fork},'false')"))
            || text.contains(&format!("ne({fork},'true')"))
        {
            return Some(PrGate::ExcludesForks);
        }
    }
    None
}

/// The strongest gate among conditions, with the condition that expresses it.
pub fn strongest<'c, 'a>(conditions: &'c [Condition<'a>]) -> Option<(PrGate, &'c Condition<'a>)> {
    let mut best: Option<(PrGate, &Condition<'a>)> = None;
    for condition in conditions {
        // `${{ if … }}` insertions are written with the same functions.
        match (gate(condition.text), best) {
            (Some(PrGate::ExcludesPullRequests), _) => {
                return Some((PrGate::ExcludesPullRequests, condition));
            }
            (Some(PrGate::ExcludesForks), None) => best = Some((PrGate::ExcludesForks, condition)),
            _ => {}
        }
    }
    best
}

/// The deployment job's environment name, when it has one (approvals and checks can gate it).
pub fn environment_name<'a>(job: &Job<'a>) -> Option<(String, Loc<'a>)> {
    let environment = job.environment?;
    let name = environment
        .node
        .as_str()
        .or_else(|| crate::model::yaml_ext::get_str(environment.node, "name"))?;
    Some((name.to_owned(), environment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates() {
        assert_eq!(
            gate("and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))"),
            Some(PrGate::ExcludesPullRequests)
        );
        assert_eq!(
            gate("eq(variables['Build.SourceBranch'], 'refs/heads/main')"),
            Some(PrGate::ExcludesPullRequests)
        );
        assert_eq!(
            gate("eq(variables['System.PullRequest.IsFork'], 'False')"),
            Some(PrGate::ExcludesForks)
        );
        assert_eq!(
            gate("or(ne(variables['Build.Reason'], 'PullRequest'), always())"),
            None
        );
        assert_eq!(gate("succeeded()"), None);
        assert_eq!(
            gate(
                "and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'), \
                 or(ne(variables['Build.Reason'], 'Manual'), eq(variables['runAsCI'], 'true')))"
            ),
            Some(PrGate::ExcludesPullRequests)
        );
        assert_eq!(
            gate("${{ if ne(variables['Build.Reason'], 'PullRequest') }}"),
            Some(PrGate::ExcludesPullRequests)
        );
        assert_eq!(gate("not(eq(variables['Build.Reason'], 'Schedule'))"), None);
        assert_eq!(
            gate(
                "${{ if and(ne(variables['System.TeamProject'], 'public'), notin(variables['Build.Reason'], 'PullRequest')) }}"
            ),
            Some(PrGate::ExcludesPullRequests)
        );
    }
}
