//! FG-018: a third-party action pinned to a commit SHA that nothing here can tie to the repo.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, RefKind, Text, Uses, ref_kind};

pub const META: RuleMeta = RuleMeta {
    id: "FG-018",
    name: "impostor-commit",
    title: "Impostor commit: SHA pin not verifiable against the named repository",
    default_severity: Severity::Low,
    default_confidence: Confidence::Low,
    description: include_str!("fg018_impostor_commit.md"),
    remediation: "Confirm the SHA is on a branch or tag of the named repository \
        (`git ls-remote https://github.com/OWNER/REPO | grep SHA`, or the commit page shows \
        no \"This commit does not belong to any branch\" warning); keep the tag in a \
        comment beside the pin so updates can be reviewed.",
    help_uri: "",
    tags: &["supply-chain", "impostor-commit"],
};

const WELL_KNOWN: &[&str] = &[
    "actions",
    "github",
    "docker",
    "aws-actions",
    "azure",
    "google-github-actions",
    "hashicorp",
];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let mut references: Vec<Text<'_>> = Vec::new();
    if let Definition::Workflow(workflow) = file.definition {
        references.extend(workflow.jobs.iter().filter_map(|job| job.uses));
    }
    for (_, steps) in file.definition.step_groups() {
        references.extend(steps.iter().filter_map(|step| step.uses));
    }
    // (action lower-cased, sha lower-cased) seen so far, with the first reference.
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut pins: Vec<(String, String, Text<'_>)> = Vec::new();
    for uses in references {
        let Uses::Repository {
            owner,
            git_ref: Some(git_ref),
            ..
        } = Uses::parse(uses.value)
        else {
            continue;
        };
        if ref_kind(git_ref) != RefKind::CommitSha
            || WELL_KNOWN.iter().any(|o| owner.eq_ignore_ascii_case(o))
        {
            continue;
        }
        let Some(name) = Uses::parse(uses.value).repository_name() else {
            continue;
        };
        // Sub-actions of one repository (`org/actions/a`, `org/actions/b`) are versioned
        // independently, so pins are compared per action.
        let repository = name.to_ascii_lowercase();
        let sha = git_ref.to_ascii_lowercase();
        if seen.iter().any(|(r, s)| *r == repository && *s == sha) {
            continue;
        }
        seen.push((repository.clone(), sha.clone()));
        pins.push((repository, sha, uses));
    }
    for (repository, sha, uses) in &pins {
        let others: Vec<&str> = pins
            .iter()
            .filter(|(r, s, _)| r == repository && s != sha)
            .map(|(_, s, _)| s.as_str())
            .collect();
        if others.is_empty() {
            continue;
        }
        let reference = uses.value.trim();
        let finding = Finding::new(&META, file.path, uses.span())
            .fingerprint_key(format!("{}|{reference}", uses.route()))
            .property("uses", reference)
            .property("sha", sha.clone())
            .message(format!(
                "`{reference}` pins `{repository}` to commit `{sha}`, but this file also pins \
                 it to {}; at most one can be the reviewed release — confirm each commit \
                 belongs to the action's repository and not to a fork (not verifiable offline)",
                others
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        findings.push(finding);
    }
}
