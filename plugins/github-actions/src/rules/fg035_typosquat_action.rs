//! FG-035: `uses:` names an action one or two typos away from a popular one.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, Text, Uses};

pub const META: RuleMeta = RuleMeta {
    id: "FG-035",
    name: "typosquat-action",
    title: "Action name resembles a popular action (possible typosquat)",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("fg035_typosquat_action.md"),
    remediation: "Check the owner and name against the Marketplace page of the action you \
        meant, fix the typo and pin the real action by commit SHA. If the look-alike is \
        intentional (a fork you maintain), pin it by SHA and suppress the finding with a \
        reason.",
    help_uri: "",
    tags: &["supply-chain", "typosquat"],
};

const DATA: &str = include_str!("../../data/popular-actions.txt");

/// The popular `owner/repo` names (lower case).
pub fn popular() -> impl Iterator<Item = &'static str> {
    DATA.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
}

/// The popular action `name` (lower-cased `owner/repo`) imitates, and the distance.
pub fn resembles(name: &str) -> Option<(&'static str, usize)> {
    let name = name.to_ascii_lowercase();
    let (owner, _) = name.split_once('/')?;
    if name.len() < 8 {
        return None;
    }
    let mut best: Option<(&'static str, usize)> = None;
    for known in popular() {
        if known == name {
            return None;
        }
        if known.split('/').next() == Some(owner) {
            // The real owner publishes under its own name: not a squat of its siblings.
            return None;
        }
        if known.len() < 8 {
            continue;
        }
        let distance = osa_distance(&name, known, 2);
        if distance <= 2 && best.is_none_or(|(_, d)| distance < d) {
            best = Some((known, distance));
        }
    }
    best
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent swaps), or `limit + 1` when
/// the strings differ in length by more than `limit`.
fn osa_distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = value;
        }
    }
    d[a.len() * width + b.len()]
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    if let Definition::Workflow(workflow) = file.definition {
        for job in &workflow.jobs {
            if let Some(uses) = job.uses {
                report(file, uses, &format!("job `{}`", job.id.value), findings);
            }
        }
    }
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            let Some(uses) = step.uses else { continue };
            let place = match job {
                Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                None => format!("step `{}`", step.label()),
            };
            report(file, uses, &place, findings);
        }
    }
}

fn report(file: &FileContext<'_, '_>, uses: Text<'_>, place: &str, findings: &mut Vec<Finding>) {
    let Uses::Repository { owner, repo, .. } = Uses::parse(uses.value) else {
        return;
    };
    let name = format!("{owner}/{repo}");
    let Some((known, distance)) = resembles(&name) else {
        return;
    };
    let confidence = if distance <= 1 {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let start = uses.value.find(&name).unwrap_or(0);
    let span = uses.span_of(start..start + name.len());
    findings.push(
        Finding::new(&META, file.path, span)
            .severity(Severity::High)
            .confidence(confidence)
            .message(format!(
                "`{name}` in {place} is {distance} edit{} away from the popular action `{known}`; check that it is not a typosquat",
                if distance == 1 { "" } else { "s" }
            ))
            .fingerprint_key(format!("{}|{}", uses.route(), name.to_ascii_lowercase()))
            .property("resembles", known)
            .property("distance", distance.to_string()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(osa_distance("actions", "actoins", 2), 1);
        assert_eq!(osa_distance("abc", "abc", 2), 0);
        assert_eq!(osa_distance("abc", "abcdef", 2), 3);
    }

    #[test]
    fn squats() {
        assert_eq!(resembles("actoins/checkout"), Some(("actions/checkout", 1)));
        assert_eq!(
            resembles("action/setup-node"),
            Some(("actions/setup-node", 1))
        );
        assert_eq!(resembles("actions/checkout"), None);
        assert_eq!(resembles("actions/setup-ruby"), None);
        assert_eq!(resembles("octo-org/deploy"), None);
        assert!(popular().count() > 100);
        // The list itself has no entry within two edits of another owner's entry.
        for name in popular() {
            assert_eq!(resembles(name), None, "{name}");
        }
    }
}
