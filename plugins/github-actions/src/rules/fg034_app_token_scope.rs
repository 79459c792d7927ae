//! FG-034: GitHub App installation tokens minted with every permission of the installation.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::Step;

pub const META: RuleMeta = RuleMeta {
    id: "FG-034",
    name: "app-token-scope",
    title: "GitHub App token not scoped to permissions or repositories",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg034_app_token_scope.md"),
    remediation: "Request only what the step needs: `permission-contents: read`, \
        `permission-pull-requests: write`, … and name the repositories explicitly \
        (`repositories: repo-a,repo-b`) when `owner:` is set.",
    help_uri: "",
    tags: &["excessive-permissions", "github-app"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            let Some(uses) = step.uses else { continue };
            let (unscoped_permissions, all_repositories) =
                if step.uses_action("actions/create-github-app-token") {
                    (
                        !step
                            .with
                            .iter()
                            .any(|(k, _)| k.value.trim().starts_with("permission-")),
                        owner_without_repositories(step, "owner", "repositories"),
                    )
                } else if step.uses_action("tibdex/github-app-token") {
                    (
                        step.with.get("permissions").is_none(),
                        step.with.get("installation_retrieval_payload").is_some()
                            && step.with.get("repositories").is_none()
                            && step.with.get("repository").is_none(),
                    )
                } else {
                    continue;
                };
            if !unscoped_permissions && !all_repositories {
                continue;
            }
            let mut problems = Vec::new();
            if unscoped_permissions {
                problems.push("every permission the app installation has".to_owned());
            }
            if all_repositories {
                let owner = step
                    .with
                    .text("owner")
                    .or_else(|| step.with.text("installation_retrieval_payload"))
                    .map_or("", |t| t.value.trim());
                problems.push(format!(
                    "access to every repository of `{owner}` the app is installed on"
                ));
            }
            let severity = if unscoped_permissions && all_repositories {
                Severity::High
            } else {
                Severity::Medium
            };
            let place = match job {
                Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                None => format!("step `{}`", step.label()),
            };
            let kinds = match (unscoped_permissions, all_repositories) {
                (true, true) => "permissions+repositories",
                (true, false) => "permissions",
                _ => "repositories",
            };
            let action = uses.value.trim();
            let name = action.split('@').next().unwrap_or(action);
            let mut finding = Finding::new(&META, file.path, uses.span())
                .severity(severity)
                .confidence(Confidence::High)
                .message(format!(
                    "`{action}` in {place} mints a token with {}",
                    problems.join(" and ")
                ))
                .fingerprint_key(format!("{}|{name}|{kinds}", uses.route()))
                .property("unscoped", kinds);
            if let Some(job) = job {
                finding = finding.property("job", job.id.value);
            }
            findings.push(finding);
        }
    }
}

fn owner_without_repositories(step: &Step<'_>, owner: &str, repositories: &str) -> bool {
    step.with
        .text(owner)
        .is_some_and(|o| !o.value.trim().is_empty())
        && step
            .with
            .text(repositories)
            .is_none_or(|r| r.value.trim().is_empty())
}
