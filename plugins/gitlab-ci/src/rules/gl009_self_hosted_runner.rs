//! GL-009: merge request code on a shell or self-hosted runner.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure;

pub const META: RuleMeta = RuleMeta {
    id: "GL-009",
    name: "self-hosted-runner-on-mr",
    title: "Merge request pipeline job on a shell or self-hosted runner",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("gl009_self_hosted_runner.md"),
    remediation: "Run merge request pipelines on ephemeral, isolated runners (Docker or \
        autoscaled VMs), and keep shell/self-hosted runners for protected branches \
        (register them as protected runners).",
    help_uri: "",
    tags: &["runner", "untrusted-code"],
};

fn is_persistent_runner_tag(tag: &str) -> bool {
    let lower = tag.trim().to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| part == "shell")
        || matches!(
            lower.as_str(),
            "self-hosted" | "selfhosted" | "bare-metal" | "baremetal"
        )
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    if !context.exposure.on_mr() {
        return;
    }
    let Some(tags) = job.config.get("tags") else {
        return;
    };
    for tag in tags.flat_items() {
        let Some(text) = tag.as_str() else {
            continue;
        };
        if !is_persistent_runner_tag(text) {
            continue;
        }
        let at = tag.at();
        let severity = exposure::base(context.exposure, Severity::High, Severity::Medium);
        let finding = Finding::new(&META, at.path, at.span())
            .severity(severity)
            .message(format!(
                "job `{}` {} on a runner tagged `{text}`, a shell or self-hosted executor",
                job.name,
                exposure::describe(context.exposure)
            ))
            .fingerprint_key(format!("{}|{text}|{}", at.route(), job.name))
            .property("job", job.name)
            .property("tag", text);
        findings.push(exposure::apply_gates(finding, context.exposure));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags() {
        assert!(super::is_persistent_runner_tag("shell"));
        assert!(super::is_persistent_runner_tag("linux-shell"));
        assert!(super::is_persistent_runner_tag("self-hosted"));
        assert!(!super::is_persistent_runner_tag("docker"));
        assert!(!super::is_persistent_runner_tag("shellcheck"));
    }
}
