//! AZ-003: templates or checkouts from a repository resource that is not pinned.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::model::{RepositoryUse, Unit};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-003",
    name: "unpinned-repository-resource",
    title: "Template or checkout from an unpinned repository resource",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("az003_unpinned_repository.md"),
    remediation: "Pin the resource: `ref: refs/tags/<release>` at least, or a commit SHA \
        where the repository type allows it, and protect that ref in the other repository. \
        For `extends:` templates that enforce policy, also require the template with a \
        \"required template\" check on the protected resources.",
    help_uri: "",
    tags: &["supply-chain", "unpinned-reference"],
};

enum Pin {
    Commit,
    Tag,
    Branch,
    Missing,
}

fn pin(reference: Option<&str>) -> Pin {
    let Some(reference) = reference.map(str::trim) else {
        return Pin::Missing;
    };
    let tail = reference.rsplit('/').next().unwrap_or(reference);
    if tail.len() == 40 && tail.chars().all(|c| c.is_ascii_hexdigit()) {
        Pin::Commit
    } else if reference.starts_with("refs/tags/") {
        Pin::Tag
    } else {
        Pin::Branch
    }
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    let mut uses: Vec<RepositoryUse<'_>> = unit.repository_uses.clone();
    for job in &unit.jobs {
        for step in &job.steps {
            if let Some(checkout) = step.checkout()
                && let Some(alias) = checkout.as_str()
                && !matches!(alias.trim().to_ascii_lowercase().as_str(), "self" | "none")
            {
                uses.push(RepositoryUse {
                    path: step.path,
                    alias: alias.trim().to_owned(),
                    node: checkout,
                    kind: "checkout",
                });
            }
        }
    }
    for resource in &unit.repositories {
        let Some(alias) = resource.alias.as_str() else {
            continue;
        };
        let mine: Vec<&RepositoryUse<'_>> = uses
            .iter()
            .filter(|u| u.alias.eq_ignore_ascii_case(alias))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let reference = resource.reference.and_then(|r| r.as_str());
        let template = mine.iter().any(|u| u.kind == "template");
        let (mut severity, what) = match pin(reference) {
            Pin::Commit => continue,
            Pin::Tag => (
                Severity::Low,
                format!("tag `{}`", reference.unwrap_or_default()),
            ),
            Pin::Branch => (
                if template {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                format!("branch `{}`", reference.unwrap_or_default()),
            ),
            Pin::Missing => (
                if template {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                "its default branch (no `ref:`)".to_owned(),
            ),
        };
        let name = resource
            .name
            .and_then(|n| n.as_str())
            .unwrap_or(alias)
            .to_owned();
        let usage = if template {
            "templates from it become part of this pipeline"
        } else {
            "this pipeline checks it out"
        };
        let span = resource.reference.map_or(resource.alias.span, |r| r.span);
        let mut finding = Finding::new(&META, resource.path, span);
        if matches!(pin(reference), Pin::Tag) {
            severity = Severity::Low;
            finding = finding.mitigation(
                "tag-ref",
                "a tag moves only when someone deliberately re-tags".to_owned(),
            );
        }
        for u in &mine {
            finding = finding.related(u.path, u.node.span, format!("used by `{}`", u.kind));
        }
        findings.push(
            finding
                .severity(severity)
                .confidence(super::context_confidence(unit, Confidence::High))
                .message(format!(
                    "repository resource `{alias}` ({name}) follows {what}, and {usage}"
                ))
                .fingerprint_key(format!("{}|{alias}", resource.alias.route))
                .property("repository", name),
        );
    }
}
