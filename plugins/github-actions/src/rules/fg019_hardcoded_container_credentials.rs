//! FG-019: registry credentials written into a job's `container:` or `services:`.

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Job, Text};

pub const META: RuleMeta = RuleMeta {
    id: "FG-019",
    name: "hardcoded-container-credentials",
    title: "Hardcoded container registry credentials",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg019_hardcoded_container_credentials.md"),
    remediation: "Rotate the password now, then store it as a secret and reference it: \
        `credentials: { username: ${{ github.actor }}, password: ${{ secrets.GITHUB_TOKEN }} }` \
        (for GHCR) or `${{ secrets.REGISTRY_PASSWORD }}`.",
    help_uri: "",
    tags: &["secrets", "credentials"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        if let Some(container) = job.container {
            check_container(file, job, container, "`container`", findings);
        }
        if let Some(services) = job.services.and_then(Node::as_mapping) {
            for (name, service) in services.iter() {
                let label = format!("service `{}`", name.as_str().unwrap_or("?"));
                check_container(file, job, service, &label, findings);
            }
        }
    }
}

fn check_container(
    file: &FileContext<'_, '_>,
    job: &Job<'_>,
    node: &Node,
    label: &str,
    findings: &mut Vec<Finding>,
) {
    let image = Text::from_node(node).or_else(|| node.get("image").and_then(Text::from_node));
    if let Some(image) = image
        && let Some(userinfo) = embedded_credentials(image.value)
    {
        let user = userinfo.split(':').next().unwrap_or("");
        findings.push(
            Finding::new(&META, file.path, image.span())
                .message(format!(
                    "{label} of job `{}` names its image with embedded credentials for user \
                     `{user}` (`user:password@registry/…`)",
                    job.id.value
                ))
                .fingerprint_key(format!("{}|image-userinfo|{user}", image.route()))
                .property("job", job.id.value),
        );
    }
    let Some(credentials) = node.get("credentials") else {
        return;
    };
    let username = credentials.get("username").and_then(Text::from_node);
    let Some(password) = credentials.get("password").and_then(Text::from_node) else {
        return;
    };
    if !is_literal(password.value) {
        return;
    }
    let both = username.is_some_and(|u| is_literal(u.value));
    let what = if both {
        "a literal username and password"
    } else {
        "a literal password"
    };
    let mut finding = Finding::new(&META, file.path, password.span())
        .message(format!(
            "{label} of job `{}` has {what} in its `credentials:` block",
            job.id.value
        ))
        .fingerprint_key(format!("{}|literal-password", password.route()))
        .property("job", job.id.value);
    if let Some(username) = username {
        finding = finding.related(file.path, username.span(), "registry username");
    }
    findings.push(finding);
}

/// A non-empty value that is not (only) an expression.
fn is_literal(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && !value.contains("${{")
}

/// `user:password` from `[scheme://]user:password@registry/image…`, unless the `@` starts a
/// digest.
fn embedded_credentials(image: &str) -> Option<&str> {
    let image = image.trim();
    let rest = image.split_once("://").map_or(image, |(_, r)| r);
    let (userinfo, after) = rest.split_once('@')?;
    if after.starts_with("sha256:") || userinfo.contains('/') || userinfo.contains("${{") {
        return None;
    }
    let (user, password) = userinfo.split_once(':')?;
    (!user.is_empty() && !password.is_empty()).then_some(userinfo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo() {
        assert_eq!(
            embedded_credentials("bob:hunter2@registry.example.com/app:1"),
            Some("bob:hunter2")
        );
        assert_eq!(embedded_credentials("node:20@sha256:abc"), None);
        assert_eq!(embedded_credentials("ghcr.io/org/app:1@sha256:abc"), None);
        assert_eq!(embedded_credentials("postgres:16"), None);
    }
}
