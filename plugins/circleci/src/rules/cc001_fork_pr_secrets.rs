//! CC-001: code from a fork pull request runs in a job that holds secrets.

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{FileContext, apply_gates};
use crate::expansion::JobInstance;

pub const META: RuleMeta = RuleMeta {
    id: "CC-001",
    name: "fork-pr-code-with-secrets",
    title: "Fork pull request code runs in a job with secrets",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("cc001_fork_pr_secrets.md"),
    remediation: "Keep \"Pass secrets to builds from forked pull requests\" off; give jobs that \
        need secrets a branch filter (`filters: branches: only: main`) or put a \
        `type: approval` job before them, and restrict their contexts to a security group.",
    help_uri: "",
    tags: &["fork-pr", "secrets"],
};

/// Words of variable names (split at `_`) that denote credentials.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "PAT",
];

/// Words that make a following `KEY` a credential (`API_KEY`, `AWS_ACCESS_KEY_ID`), unlike
/// `CACHE_KEY`.
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "ACCESS",
    "PRIVATE",
    "SECRET",
    "SIGNING",
    "DEPLOY",
    "RECORD",
    "LICENSE",
    "ENCRYPTION",
];

/// Whether an environment variable's name says it holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    words.iter().any(|w| SECRET_WORDS.contains(w))
        || words
            .windows(2)
            .any(|pair| pair[1] == "KEY" && KEY_QUALIFIERS.contains(&pair[0]))
}

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for instance in &file.expansion.jobs {
        let (true, Some(checkout), Some((executes_node, executes))) = (
            instance.invoked,
            instance.checkout,
            instance.executes_after_checkout.as_ref(),
        ) else {
            continue;
        };
        let contexts = instance
            .entry
            .map(|e| e.contexts.as_slice())
            .unwrap_or_default();
        let secrets = secrets(instance);
        if secrets.is_empty() {
            continue;
        }
        let confidence = if contexts.is_empty() {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        let mut finding = Finding::new(&META, file.path, checkout.span)
            .confidence(confidence)
            .message(format!(
                "job `{}` checks out the code being built and {executes}, with {} available; {}",
                instance.label,
                secrets.join(", "),
                match instance.exposure.excluded.first() {
                    Some(gate) =>
                        format!("fork pull requests do not reach it ({})", gate.description),
                    None => "a fork pull request's code would run with them if the project \
                             builds forks with secrets"
                        .to_owned(),
                }
            ))
            .fingerprint_key(format!("{}|checkout", job_name(instance)))
            .property("job", instance.label.clone())
            .related(file.path, executes_node.span, "code runs here");
        for context in contexts {
            finding = finding.related(file.path, context.span(), "context with secrets");
        }
        findings.push(apply_gates(finding, &instance.exposure, 2));
    }
}

/// What secrets the job holds, for the message.
fn secrets(instance: &JobInstance<'_, '_>) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(entry) = instance.entry {
        for context in &entry.contexts {
            found.push(format!("context `{}`", context.value));
        }
    }
    if instance.ssh_keys.is_some() {
        found.push("SSH keys (`add_ssh_keys`)".to_owned());
    }
    let defined = |name: &str| {
        instance
            .job
            .and_then(|(_, job)| job.runs_on.variables)
            .is_some_and(|v| v.get(name).is_some())
    };
    let mut variables: Vec<String> = Vec::new();
    for site in &instance.runs {
        let Some(command) = site.run.command else {
            continue;
        };
        for reference in reeval::expanded_refs(command.value, 0) {
            let upper = reference.name.to_ascii_uppercase();
            let secret = is_secret_name(&reference.name);
            let local = site
                .run
                .environment
                .is_some_and(|v| v.get(&reference.name).is_some());
            if secret
                && !local
                && !defined(&reference.name)
                && !upper.starts_with("CIRCLE_")
                && !variables.contains(&reference.name)
            {
                variables.push(reference.name);
            }
        }
    }
    if !variables.is_empty() {
        let shown: Vec<String> = variables
            .iter()
            .take(3)
            .map(|v| format!("`${v}`"))
            .collect();
        let more = if variables.len() > 3 {
            format!(" and {} more", variables.len() - 3)
        } else {
            String::new()
        };
        found.push(format!("project variables {}{more}", shown.join(", ")));
    }
    found
}

/// The job definition's name: one finding per definition, however many workflows run it.
fn job_name(instance: &JobInstance<'_, '_>) -> String {
    match instance.job {
        Some((_, job)) => job.name.value.to_owned(),
        None => instance.label.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn secret_names() {
        for name in [
            "NPM_TOKEN",
            "DOCKER_PASSWORD_RW",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "CYPRESS_RECORD_KEY",
            "gh_pat",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "GIT_AUTHOR_NAME",
            "CACHE_KEY",
            "TOKENIZER_PATH",
            "PATH",
            "KEYS_DIR",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
