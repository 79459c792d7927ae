//! GL-003: configuration included from outside the repository without a pin.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::includes::IncludeKind;
use crate::pipeline::FileConfig;

pub const META: RuleMeta = RuleMeta {
    id: "GL-003",
    name: "unsafe-include",
    title: "Pipeline configuration included from a mutable or insecure source",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl003_unsafe_include.md"),
    remediation: "Pin `project:` includes and components to a full commit SHA (or at least \
        a protected release tag), add `integrity: sha256-…` to remote includes, and never \
        include over plain HTTP.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain"],
};

fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// `v1.2.3`, `1.2`, `release-1.4.0`-style refs that look like version tags.
fn is_version_tag(text: &str) -> bool {
    let trimmed = text.trim_start_matches(|c: char| !c.is_ascii_digit());
    !trimmed.is_empty()
        && trimmed.contains('.')
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && trimmed.starts_with(|c: char| c.is_ascii_digit())
}

pub fn check(file: &FileConfig<'_>, findings: &mut Vec<Finding>) {
    for include in &file.includes {
        let at = include.at;
        let (severity, confidence, message, key) = match include.kind {
            IncludeKind::Local(_) => continue,
            IncludeKind::Remote { url, integrity } => {
                if integrity {
                    continue;
                }
                if url.starts_with("http://") {
                    (
                        Severity::High,
                        Confidence::High,
                        format!(
                            "the pipeline includes `{url}` over plain HTTP: anyone on the \
                             network path can replace the jobs it defines"
                        ),
                        url,
                    )
                } else if sluice_pack_sdk::shell::download::has_commit_sha(url) {
                    (
                        Severity::Info,
                        Confidence::High,
                        format!(
                            "the pipeline includes remote configuration `{url}`, which names a \
                             commit SHA but is fetched without `integrity:`"
                        ),
                        url,
                    )
                } else {
                    (
                        Severity::Medium,
                        Confidence::High,
                        format!(
                            "the pipeline includes remote configuration `{url}` without \
                             `integrity:`: whoever controls that server controls these jobs"
                        ),
                        url,
                    )
                }
            }
            IncludeKind::Project { project, reference } => {
                let reference_text = reference.and_then(|r| r.node.as_str()).map(str::trim);
                match reference_text {
                    Some(r) if is_sha(r) => continue,
                    Some(r) if is_version_tag(r) => (
                        Severity::Low,
                        Confidence::High,
                        format!(
                            "the pipeline includes project `{project}` at tag `{r}`, which \
                             that project's maintainers can move; pin a commit SHA"
                        ),
                        project,
                    ),
                    Some(r) => (
                        Severity::Medium,
                        if r.contains('$') {
                            Confidence::Medium
                        } else {
                            Confidence::High
                        },
                        format!(
                            "the pipeline includes project `{project}` at `{r}`, a branch or \
                             run-time ref whose content changes with every push there"
                        ),
                        project,
                    ),
                    None => (
                        Severity::Medium,
                        Confidence::High,
                        format!(
                            "the pipeline includes project `{project}` without `ref:`, so it \
                             follows that project's default branch"
                        ),
                        project,
                    ),
                }
            }
            IncludeKind::Component(component) => {
                let version = component.rsplit_once('@').map(|(_, v)| v.trim());
                match version {
                    Some(v) if is_sha(v) => continue,
                    Some(v) if is_version_tag(v) && !v.starts_with('~') => (
                        Severity::Low,
                        Confidence::High,
                        format!(
                            "the pipeline uses component `{component}` at version tag `{v}`, \
                             which its maintainers can move; pin a commit SHA"
                        ),
                        component,
                    ),
                    Some(v) => (
                        Severity::Medium,
                        Confidence::High,
                        format!(
                            "the pipeline uses component `{component}` at `{v}`, which \
                             follows new releases or pushes"
                        ),
                        component,
                    ),
                    None => (
                        Severity::Medium,
                        Confidence::High,
                        format!("the pipeline uses component `{component}` without a version"),
                        component,
                    ),
                }
            }
            IncludeKind::Template(template) => (
                Severity::Info,
                Confidence::High,
                format!(
                    "the pipeline includes GitLab template `{template}`, which changes with \
                     GitLab upgrades"
                ),
                template,
            ),
        };
        let mut finding = Finding::new(&META, at.path, at.span())
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(format!("{}|{key}", at.route()));
        if let IncludeKind::Project {
            reference: Some(reference),
            ..
        } = include.kind
        {
            finding = finding.related(reference.path, reference.span(), "the `ref:`");
        }
        findings.push(finding);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert!(super::is_version_tag("v1.2.3"));
        assert!(super::is_version_tag("1.0"));
        assert!(!super::is_version_tag("main"));
        assert!(!super::is_version_tag("~latest"));
    }
}
