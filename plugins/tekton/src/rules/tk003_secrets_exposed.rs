//! TK-003: secrets reachable from a run that outsiders start.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{Context, with_scope};
use crate::exposure::Trigger;
use crate::model::{items, task::TaskSpec};
use crate::walk::{Scope, Visit};

pub const META: RuleMeta = RuleMeta {
    id: "TK-003",
    name: "secret-exposed-to-external-trigger",
    title: "Secret reachable from a run started by an outside event",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("tk003_secrets_exposed.md"),
    remediation: "Do not give pull request pipelines deployment or registry credentials: \
        split the pipeline so the part that runs pull request code has no secrets, and move \
        signing and pushing to a `push` pipeline. Where a secret is needed, scope it to a \
        task that never runs the pull request's code.",
    help_uri: "",
    tags: &["secrets", "untrusted-trigger"],
};

pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for visit in context.visits {
        match visit {
            Visit::Run {
                path,
                resource,
                scope,
            } if scope.exposure.is_external() => {
                let Some(spec) = resource.spec() else {
                    continue;
                };
                for workspace in items(spec.get("workspaces")) {
                    let Some(secret) = workspace.get("secret").and_then(|s| s.get("secretName"))
                    else {
                        continue;
                    };
                    let workspace_name =
                        workspace.get("name").and_then(Node::as_str).unwrap_or("?");
                    let place = format!(
                        "{} binds workspace `{workspace_name}` to the secret",
                        resource.label()
                    );
                    report(path, &place, secret, scope, findings);
                }
            }
            Visit::Task {
                path,
                owner,
                spec,
                scope,
            } if scope.exposure.is_external() => check_task(path, owner, spec, scope, findings),
            _ => {}
        }
    }
}

fn check_task(
    path: &str,
    owner: &str,
    spec: &TaskSpec<'_>,
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    for container in spec.containers() {
        let place = container.place(owner);
        for entry in container.env() {
            if let Some(name) = entry
                .get("valueFrom")
                .and_then(|v| v.get("secretKeyRef"))
                .and_then(|r| r.get("name"))
            {
                let variable = entry.get("name").and_then(Node::as_str).unwrap_or("?");
                let what = format!("{place} reads env `{variable}` from the secret");
                report(path, &what, name, scope, findings);
            }
        }
        for entry in container.env_from() {
            if let Some(name) = entry.get("secretRef").and_then(|r| r.get("name")) {
                let what = format!("{place} loads every key of the secret");
                report(path, &what, name, scope, findings);
            }
        }
    }
    for volume in spec.volumes() {
        let volume_name = volume.get("name").and_then(Node::as_str).unwrap_or("?");
        let place = format!("volume `{volume_name}` of {owner} mounts the secret");
        if let Some(name) = volume.get("secret").and_then(|s| s.get("secretName")) {
            report(path, &place, name, scope, findings);
        }
        for source in items(volume.get("projected").and_then(|p| p.get("sources"))) {
            if let Some(name) = source.get("secret").and_then(|s| s.get("name")) {
                report(path, &place, name, scope, findings);
            }
        }
    }
}

fn report(path: &str, place: &str, secret: &Node, scope: &Scope, findings: &mut Vec<Finding>) {
    let name = secret.as_str().unwrap_or_default();
    let pac_token = name.contains("git_auth_secret");
    let (severity, confidence) = match scope.exposure.trigger {
        _ if pac_token => (Severity::Info, Confidence::High),
        Trigger::PullRequest | Trigger::Comment => (Severity::High, Confidence::High),
        Trigger::Webhook if scope.exposure.confirmed => (Severity::High, Confidence::High),
        Trigger::Webhook => (Severity::High, Confidence::Medium),
        _ => (Severity::Medium, Confidence::Medium),
    };
    let mut finding = Finding::new(&META, path, secret.span)
        .severity(severity)
        .confidence(confidence)
        .message(format!(
            "{place} `{name}`, and the run is started by {}",
            scope.exposure.origin
        ))
        .fingerprint_key(format!("{}|{name}", secret.route))
        .property("secret", name);
    if pac_token {
        finding = finding.mitigation(
            "pac-git-auth",
            "`{{ git_auth_secret }}` is the short-lived repository token Pipelines-as-Code \
             creates for this run",
        );
    }
    findings.push(with_scope(finding, scope));
}
