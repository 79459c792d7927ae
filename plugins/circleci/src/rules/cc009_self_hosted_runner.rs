//! CC-009: a job on a self-hosted runner that fork pull requests reach.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{FileContext, apply_gates};
use crate::Text;
use crate::expansion::JobInstance;
use crate::model::{Config, Environment};

pub const META: RuleMeta = RuleMeta {
    id: "CC-009",
    name: "self-hosted-runner",
    title: "Self-hosted runner reachable by fork pull requests",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("cc009_self_hosted_runner.md"),
    remediation: "Run pull request builds on CircleCI-hosted resource classes; restrict \
        self-hosted jobs to protected branches (`filters: branches: only: main`) or put a \
        `type: approval` job before them, and use ephemeral runners.",
    help_uri: "",
    tags: &["self-hosted-runner", "persistence"],
};

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for instance in &file.expansion.jobs {
        let Some((scope, job)) = instance.job else {
            continue;
        };
        let Some((class, runs_on)) = self_hosted_class(file.config, scope, &job.runs_on) else {
            continue;
        };
        let kind = if runs_on.machine.is_some_and(is_enabled) {
            "machine runner"
        } else if !runs_on.images.is_empty() {
            "container runner"
        } else {
            "runner"
        };
        let finding = Finding::new(&META, file.path, class.span())
            .message(format!(
                "job `{}` runs on the self-hosted {kind} `{}`{}",
                instance.label,
                class.value,
                match (instance.invoked, instance.exposure.excluded.first()) {
                    (false, _) => " (no workflow in this file runs it)".to_owned(),
                    (true, Some(gate)) => format!(
                        "; fork pull requests do not reach it ({})",
                        gate.description
                    ),
                    (true, None) => ", which fork pull requests can reach".to_owned(),
                }
            ))
            .fingerprint_key(format!("{}|{}", job.name.value, class.value))
            .property("job", instance.label.clone())
            .property("resource_class", class.value);
        findings.push(gated(finding, instance));
    }
}

fn gated(finding: Finding, instance: &JobInstance<'_, '_>) -> Finding {
    if !instance.invoked {
        return finding.severity(Severity::Low).confidence(Confidence::Low);
    }
    apply_gates(finding, &instance.exposure, 1)
}

/// The namespaced resource class of a job, or of the executor it uses.
fn self_hosted_class<'c, 'a>(
    config: &'c Config<'a>,
    scope: usize,
    runs_on: &'c Environment<'a>,
) -> Option<(Text<'a>, &'c Environment<'a>)> {
    if let Some(class) = runs_on.resource_class {
        return is_namespaced(class.value).then_some((class, runs_on));
    }
    let executor = runs_on.executor?;
    let name = executor
        .as_str()
        .or_else(|| executor.get("name").and_then(Node::as_str))?;
    let (_, executor) = config.executor(scope, name)?;
    let class = executor.runs_on.resource_class?;
    is_namespaced(class.value).then_some((class, &executor.runs_on))
}

fn is_namespaced(class: &str) -> bool {
    let class = class.trim();
    class.contains('/') && !class.contains("<<") && !class.contains('$')
}

fn is_enabled(machine: &Node) -> bool {
    machine.as_str() != Some("false")
}
