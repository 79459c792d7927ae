//! TK-009: privileged steps, root, privilege escalation and host access.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{Context, with_scope};
use crate::model::{Step, is_true, items};
use crate::walk::{Scope, Visit};

pub const META: RuleMeta = RuleMeta {
    id: "TK-009",
    name: "privileged-step",
    title: "Step or pod runs privileged, as root, or with host access",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("tk009_privileged_step.md"),
    remediation: "Build images without privileges (buildah with `--storage-driver=vfs`, \
        kaniko, or a remote builder), run as a non-root user (`runAsNonRoot: true`, \
        `runAsUser: 65532`), set `allowPrivilegeEscalation: false`, and use workspaces \
        instead of host paths. If a privileged step is unavoidable, keep it out of pipelines \
        that pull requests can start.",
    help_uri: "",
    tags: &["privilege", "container"],
};

pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for visit in context.visits {
        match visit {
            Visit::Task {
                path,
                owner,
                spec,
                scope,
            } => {
                for container in spec.containers() {
                    check_container(path, owner, &container, scope, findings);
                }
                check_volumes(path, owner, spec.volumes(), scope, findings);
            }
            Visit::StepAction {
                path,
                owner,
                step,
                scope,
            } => check_container(path, owner, step, scope, findings),
            Visit::Run {
                path,
                resource,
                scope,
            } => {
                let Some(spec) = resource.spec() else {
                    continue;
                };
                let owner = resource.label();
                let mut templates: Vec<&Node> = Vec::new();
                templates.extend(spec.get("podTemplate"));
                templates.extend(
                    spec.get("taskRunTemplate")
                        .and_then(|t| t.get("podTemplate")),
                );
                for task_spec in items(spec.get("taskRunSpecs")) {
                    templates.extend(task_spec.get("podTemplate"));
                    templates.extend(task_spec.get("taskPodTemplate"));
                }
                for template in templates {
                    check_pod_template(path, &owner, template, scope, findings);
                }
            }
            Visit::Reference { .. } => {}
        }
    }
}

fn check_container(
    path: &str,
    owner: &str,
    container: &Step<'_>,
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    let Some(context) = container.security_context() else {
        return;
    };
    let place = container.place(owner);
    if let Some(entry) = context
        .entry("privileged")
        .filter(|e| is_true(Some(&e.value)))
    {
        report(
            path,
            &place,
            "runs privileged (`privileged: true`)",
            &entry.value,
            Severity::Medium,
            scope,
            findings,
        );
    }
    check_root(path, &place, context, scope, findings);
    if let Some(entry) = context
        .entry("allowPrivilegeEscalation")
        .filter(|e| is_true(Some(&e.value)))
    {
        report(
            path,
            &place,
            "allows privilege escalation (`allowPrivilegeEscalation: true`)",
            &entry.value,
            Severity::Low,
            scope,
            findings,
        );
    }
}

fn check_root(path: &str, place: &str, context: &Node, scope: &Scope, findings: &mut Vec<Finding>) {
    if let Some(entry) = context
        .entry("runAsUser")
        .filter(|e| e.value.as_str().map(str::trim) == Some("0"))
    {
        report(
            path,
            place,
            "runs as root (`runAsUser: 0`)",
            &entry.value,
            Severity::Low,
            scope,
            findings,
        );
    }
}

fn check_volumes(
    path: &str,
    owner: &str,
    volumes: &[Node],
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    for volume in volumes {
        if let Some(host_path) = volume.get("hostPath") {
            let name = volume.get("name").and_then(Node::as_str).unwrap_or("?");
            let target = host_path.get("path").and_then(Node::as_str).unwrap_or("?");
            let node = host_path.get("path").unwrap_or(host_path);
            report(
                path,
                &format!("volume `{name}` of {owner}"),
                &format!("mounts the node's `{target}` (`hostPath`)"),
                node,
                Severity::Medium,
                scope,
                findings,
            );
        }
    }
}

fn check_pod_template(
    path: &str,
    owner: &str,
    template: &Node,
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    let place = format!("the pod template of {owner}");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some(entry) = template.entry(key).filter(|e| is_true(Some(&e.value))) {
            report(
                path,
                &place,
                &format!("shares the node's namespaces (`{key}: true`)"),
                &entry.value,
                Severity::Medium,
                scope,
                findings,
            );
        }
    }
    if let Some(context) = template.get("securityContext") {
        check_root(path, &place, context, scope, findings);
    }
    check_volumes(path, owner, items(template.get("volumes")), scope, findings);
}

fn report(
    path: &str,
    place: &str,
    what: &str,
    node: &Node,
    base: Severity,
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    let external = scope.exposure.is_external();
    let severity = if external {
        match base {
            Severity::Low => Severity::Medium,
            _ => Severity::High,
        }
    } else {
        base
    };
    let trigger = if external {
        format!(", in a run started by {}", scope.exposure.origin)
    } else {
        String::new()
    };
    let finding = Finding::new(&META, path, node.span)
        .severity(severity)
        .confidence(Confidence::High)
        .message(format!("{place} {what}{trigger}"))
        .fingerprint_key(format!("{}|{what}", node.route));
    findings.push(with_scope(finding, scope));
}
