//! AZ-010: pipeline caches written or read by pull-request builds.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::exposure::{self, Question};
use crate::model::{Unit, describe_job};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-010",
    name: "cache-poisoning",
    title: "Cache shared between pull-request builds and trusted builds",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("az010_cache_poisoning.md"),
    remediation: "Skip cache saving in pull-request runs (`condition: \
        ne(variables['Build.Reason'], 'PullRequest')` on the save step), include \
        `$(Build.SourceBranch)` in the key, and verify restored content (lockfile hashes in \
        the key, checksums).",
    help_uri: "",
    tags: &["pull-request", "cache-poisoning"],
};

const SCOPED_CACHE_TASKS: &[&str] = &["cache", "cachebeta"];
const SHARED_CACHE_TASKS: &[&str] = &["restorecache", "savecache", "restoreandsavecache"];

const PR_SEPARATING_KEYS: &[&str] = &[
    "build.sourcebranch",
    "system.pullrequest.",
    "build.reason",
    "build_sourcebranch",
];

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for job in &unit.jobs {
        for step in &job.steps {
            let Some(task) = step.task_base() else {
                continue;
            };
            let scoped = SCOPED_CACHE_TASKS.contains(&task.as_str());
            if !scoped && !SHARED_CACHE_TASKS.contains(&task.as_str()) {
                continue;
            }
            let Some(exposure) = exposure::pull_request(
                unit,
                job,
                &step.conditions,
                Question {
                    base: Severity::Medium,
                    needs_secrets: false,
                    environment_gates: false,
                },
            ) else {
                continue;
            };
            let Some(task_node) = step.task() else {
                continue;
            };
            let key = step
                .input("key")
                .and_then(|(_, v)| v.as_str())
                .map(|k| k.trim().to_owned());
            let mut finding = exposure.apply(Finding::new(&META, step.path, task_node.span));
            let mut severity = finding.severity;
            if scoped {
                severity = severity.downgrade(1);
                finding = finding.mitigation(
                    "pipeline-cache-scope",
                    "Pipeline Caching keeps entries saved by a pull-request run in that pull \
                     request's scope"
                        .to_owned(),
                );
            }
            if key.as_deref().is_some_and(|k| {
                let lower = k.to_ascii_lowercase();
                PR_SEPARATING_KEYS.iter().any(|p| lower.contains(p))
            }) {
                severity = severity.downgrade(1);
                finding = finding.mitigation(
                    "pr-scoped-key",
                    "the cache key separates pull requests from trusted builds".to_owned(),
                );
            }
            let key_text = key
                .as_deref()
                .map(|k| format!(" with key `{k}`"))
                .unwrap_or_default();
            let task_name = task_node.as_str().unwrap_or_default();
            let message = format!(
                "task `{task_name}`{key_text} in {} shares a cache with pull-request builds {}{}",
                describe_job(job),
                exposure.trigger,
                exposure.mitigation_note()
            );
            let confidence = super::context_confidence(unit, finding.confidence);
            findings.push(
                finding
                    .severity(severity)
                    .confidence(confidence)
                    .message(message)
                    .fingerprint_key(format!(
                        "{}|{task_name}|{}",
                        task_node.route,
                        key.unwrap_or_default()
                    ))
                    .property("job", job.id.clone()),
            );
        }
    }
}
