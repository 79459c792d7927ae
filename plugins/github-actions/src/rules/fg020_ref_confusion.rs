//! FG-020: a `uses:` ref whose spelling does not say whether it is a tag or a branch.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, RefKind, Text, Uses, ref_kind};

pub const META: RuleMeta = RuleMeta {
    id: "FG-020",
    name: "ref-confusion",
    title: "Ref confusion: `uses:` ref may name a tag or a branch",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Low,
    description: include_str!("fg020_ref_confusion.md"),
    remediation: "Pin to a full commit SHA (with the tag in a comment), or at least use an \
        explicit, versioned tag; for a branch you deliberately track, write \
        `refs/heads/<name>`.",
    help_uri: "",
    tags: &["supply-chain", "unpinned-reference"],
};

const CONVENTIONAL_BRANCHES: &[&str] = &["main", "master", "dev", "develop"];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let mut references: Vec<(Text<'_>, String)> = Vec::new();
    if let Definition::Workflow(workflow) = file.definition {
        for job in &workflow.jobs {
            if let Some(uses) = job.uses {
                references.push((uses, format!("job `{}`", job.id.value)));
            }
        }
    }
    for (job, steps) in file.definition.step_groups() {
        for step in steps {
            if let Some(uses) = step.uses {
                let place = match job {
                    Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
                    None => format!("step `{}`", step.label()),
                };
                references.push((uses, place));
            }
        }
    }
    for (uses, place) in references {
        let parsed = Uses::parse(uses.value);
        let Uses::Repository {
            git_ref: Some(git_ref),
            ..
        } = parsed
        else {
            continue;
        };
        if parsed.is_first_party() || !is_ambiguous(git_ref) {
            continue;
        }
        let reference = uses.value.trim();
        findings.push(
            Finding::new(&META, file.path, uses.span())
                .message(format!(
                    "`{reference}` in {place} uses the ref `{git_ref}`, which may name a tag or \
                     a branch (whichever GitHub resolves first runs)"
                ))
                .fingerprint_key(format!("{}|{reference}", uses.route()))
                .property("uses", reference)
                .property("ref", git_ref),
        );
    }
}

fn is_ambiguous(git_ref: &str) -> bool {
    let git_ref = git_ref.trim();
    if git_ref.is_empty()
        || git_ref.contains("${{")
        || matches!(ref_kind(git_ref), RefKind::CommitSha | RefKind::ShortSha)
        || git_ref.starts_with("refs/heads/")
        || git_ref.starts_with("refs/tags/")
        || CONVENTIONAL_BRANCHES
            .iter()
            .any(|b| git_ref.eq_ignore_ascii_case(b))
    {
        return false;
    }
    !is_version(git_ref)
}

/// `v1`, `1.2`, `v1.2.3`, `v2.0.0-rc.1`, `v1.2.3+build`.
fn is_version(git_ref: &str) -> bool {
    let core = git_ref
        .strip_prefix('v')
        .or_else(|| git_ref.strip_prefix('V'))
        .unwrap_or(git_ref);
    let core = core.split(['-', '+']).next().unwrap_or(core);
    !core.is_empty()
        && core
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguity() {
        for ambiguous in ["release/v1", "stable", "latest", "feature-x", "nightly"] {
            assert!(is_ambiguous(ambiguous), "{ambiguous}");
        }
        for clear in [
            "v4",
            "1.2",
            "v1.2.3",
            "v2.0.0-rc.1",
            "main",
            "Master",
            "refs/heads/x",
            "refs/tags/v1",
            "8e5e7e5",
            "8e5e7e5ab8b370d6c329ec480221332ada57f0ab",
        ] {
            assert!(!is_ambiguous(clear), "{clear}");
        }
    }
}
