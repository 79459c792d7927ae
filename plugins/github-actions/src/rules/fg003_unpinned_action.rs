//! FG-003: actions and reusable workflows referenced by a movable ref.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, RefKind, Text, Uses, ref_kind};

pub const META: RuleMeta = RuleMeta {
    id: "FG-003",
    name: "unpinned-action",
    title: "Action not pinned to a full commit SHA",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg003_unpinned_action.md"),
    remediation: "Pin to the full 40-character commit SHA of the release you reviewed and \
        keep the tag in a comment for humans and update bots: \
        `uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1`. \
        Pin Docker images by digest: `docker://alpine@sha256:…`.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    if let Definition::Workflow(workflow) = file.definition {
        for job in &workflow.jobs {
            if let Some(uses) = job.uses {
                let place = format!("job `{}`", job.id.value);
                report(file, uses, &place, Some(job.id.value), findings);
            }
        }
    }
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            let Some(uses) = step.uses else { continue };
            let place = match job {
                Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                None => format!("step `{}`", step.label()),
            };
            report(file, uses, &place, job.map(|j| j.id.value), findings);
        }
    }
}

/// How a reference fails to be pinned, for severity and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weakness {
    Tag,
    ShortSha,
    Branch,
    NoRef,
    ImageTag,
    NoImageTag,
}

fn report(
    file: &FileContext<'_, '_>,
    uses: Text<'_>,
    place: &str,
    job: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    let parsed = Uses::parse(uses.value);
    if parsed.is_pinned() {
        return;
    }
    let weakness = match parsed {
        Uses::Local { .. } => return,
        Uses::Docker { tag: Some(_), .. } => Weakness::ImageTag,
        Uses::Docker { tag: None, .. } => Weakness::NoImageTag,
        Uses::Repository { git_ref: None, .. } => Weakness::NoRef,
        Uses::Repository {
            git_ref: Some(git_ref),
            ..
        } => match ref_kind(git_ref) {
            // A full SHA is pinned; reaching here means the ref is something else.
            RefKind::CommitSha | RefKind::Tag => Weakness::Tag,
            RefKind::ShortSha => Weakness::ShortSha,
            RefKind::Branch => Weakness::Branch,
        },
        // Not a reference GitHub can resolve; the workflow fails before anything runs.
        Uses::Unknown(_) => return,
    };
    let reference = uses.value.trim();
    let git_ref = match parsed {
        Uses::Repository { git_ref, .. } => git_ref.unwrap_or(""),
        Uses::Docker { tag, .. } => tag.unwrap_or(""),
        _ => "",
    };
    let problem = match weakness {
        Weakness::Tag => format!("is pinned to the tag or ref `{git_ref}`, which can be moved"),
        Weakness::ShortSha => format!(
            "is pinned to the short SHA `{git_ref}`, which can become ambiguous; use the full 40-character SHA"
        ),
        Weakness::Branch => format!("follows the mutable branch ref `{git_ref}`"),
        Weakness::NoRef => "has no `@ref` and follows the default branch".to_owned(),
        Weakness::ImageTag => format!("uses the image tag `{git_ref}` instead of a digest"),
        Weakness::NoImageTag => {
            "uses an image without tag or digest (implicitly `latest`)".to_owned()
        }
    };
    let mut severity = match weakness {
        Weakness::Branch | Weakness::NoRef | Weakness::NoImageTag => Severity::High,
        Weakness::Tag | Weakness::ShortSha | Weakness::ImageTag => Severity::Medium,
    };
    let mut finding = Finding::new(&META, file.path, uses.span());
    if parsed.is_first_party() {
        // GitHub's own actions move only through GitHub's release process; still a moving
        // target, so reported, one level lower.
        severity = severity.downgrade(1);
        finding = finding.mitigation(
            "first-party",
            format!("`{reference}` is published by GitHub (`actions/*` or `github/*`)"),
        );
    }
    let kind = match weakness {
        Weakness::ImageTag | Weakness::NoImageTag => "image",
        _ if parsed
            .repository_name()
            .is_some_and(|name| name.contains("/.github/workflows/")) =>
        {
            "reusable workflow"
        }
        _ => "action",
    };
    if let Some(job) = job {
        finding = finding.property("job", job);
    }
    findings.push(
        finding
            .severity(severity)
            .message(format!("{kind} `{reference}` in {place} {problem}"))
            // The full reference (not just the action name): moving to a new tag is a new
            // decision to trust new code, so it should surface again rather than stay
            // baselined under the old one.
            .fingerprint_key(format!("{}|{reference}", uses.route()))
            .property("uses", reference)
            .property("ref", git_ref),
    );
}
