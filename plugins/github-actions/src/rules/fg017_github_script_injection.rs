//! FG-017: attacker-controlled expressions expanded into `actions/github-script` code.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::contexts::Tier;
use crate::taint;

pub const META: RuleMeta = RuleMeta {
    id: "FG-017",
    name: "github-script-injection",
    title: "GitHub Script injection: attacker-controlled expression expanded into JavaScript",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg017_github_script_injection.md"),
    remediation: "Read event data inside the script, where it is a JavaScript string and \
        never code: `const title = context.payload.issue.title;`. For inputs, pass them \
        through `env:` and read `process.env.TITLE`.",
    help_uri: "",
    tags: &["injection"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if !step.uses_action("actions/github-script") {
                continue;
            }
            let Some(script) = step.with.text("script") else {
                continue;
            };
            let mut seen: Vec<String> = Vec::new();
            for hit in taint::hits(script.value, file.definition) {
                let occurrence = seen.iter().filter(|e| **e == hit.expression).count();
                seen.push(hit.expression.clone());
                let mut key = format!("{}|{}", script.route(), hit.expression);
                if occurrence > 0 {
                    key.push_str(&format!("#{}", occurrence + 1));
                }
                let (severity, who) = match hit.tier {
                    Tier::Anyone => (Severity::High, "attacker-controlled"),
                    Tier::TriggerAccess => (Severity::Medium, "caller-controlled"),
                };
                let confidence = match (hit.tier, hit.reachable) {
                    (_, false) => Confidence::Low,
                    (Tier::Anyone, true) => Confidence::High,
                    (Tier::TriggerAccess, true) => Confidence::Medium,
                };
                let place = match job {
                    Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                    None => format!("step `{}`", step.label()),
                };
                let mut message = format!(
                    "`${{{{ {} }}}}` expands {who} `{}` into the JavaScript of \
                     `actions/github-script` in {place}",
                    hit.expression, hit.path
                );
                if !hit.reachable {
                    message.push_str(" (no trigger of this workflow sets it)");
                }
                let mut finding = Finding::new(&META, file.path, script.span_of(hit.range))
                    .severity(severity)
                    .confidence(confidence)
                    .message(message)
                    .fingerprint_key(key)
                    .property("step", step.label())
                    .property("context", hit.path);
                if let Some(job) = job {
                    finding = finding.property("job", job.id.value);
                }
                findings.push(finding);
            }
        }
    }
}
