//! FG-023: an artifact upload that includes `.git`, where `actions/checkout` left the token.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::checkout::{is_checkout_action, workspace_path};
use crate::model::{Job, Step, Uses};

pub const META: RuleMeta = RuleMeta {
    id: "FG-023",
    name: "artifact-credential-leak",
    title: "Artifact upload may include the persisted Git credentials",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg023_artifact_credential_leak.md"),
    remediation: "Set `persist-credentials: false` on `actions/checkout` when later steps do \
        not push, and upload only the build outputs you need (`path: dist/`), never the \
        workspace or `.git`.",
    help_uri: "",
    tags: &["secrets", "artifacts"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        for step in job
            .steps
            .iter()
            .filter(|s| s.uses_action("actions/upload-artifact"))
        {
            check_upload(file, job, step, findings);
        }
    }
}

fn check_upload(
    file: &FileContext<'_, '_>,
    job: &Job<'_>,
    step: &Step<'_>,
    findings: &mut Vec<Finding>,
) {
    let Some(path) = step.with.text("path") else {
        return;
    };
    let checkouts: Vec<&Step<'_>> = job
        .steps
        .iter()
        .filter(|s| s.index < step.index && is_checkout_action(s))
        .collect();
    let checkout_dirs: Vec<String> = checkouts
        .iter()
        .filter_map(|c| c.with.text("path"))
        .filter_map(|p| workspace_path(p.value, ""))
        .filter(|p| !p.is_empty())
        .collect();
    let lines: Vec<(usize, &str)> = {
        let mut offset = 0;
        path.value
            .split_inclusive('\n')
            .map(|line| {
                let start = offset + (line.len() - line.trim_start().len());
                offset += line.len();
                (start, line.trim())
            })
            .filter(|(_, line)| !line.is_empty())
            .collect()
    };
    let excludes_git = lines
        .iter()
        .any(|(_, l)| l.starts_with('!') && l[1..].split('/').any(|part| part == ".git"));
    for (start, line) in &lines {
        if line.starts_with('!') {
            continue;
        }
        let reason = if line.split('/').any(|part| part == ".git") {
            Some((
                "git-dir",
                format!("uploads `{line}`, part of the `.git` directory"),
            ))
        } else if is_whole_workspace(line) {
            Some((
                "workspace",
                format!("uploads the whole workspace (`{line}`), including `.git`"),
            ))
        } else {
            workspace_path(line.trim_end_matches("/**").trim_end_matches("/*"), "")
                .filter(|d| checkout_dirs.contains(d))
                .map(|dir| {
                    (
                        "checkout-dir",
                        format!("uploads the checkout directory `{dir}/`, including its `.git`"),
                    )
                })
        };
        let Some((kind, what)) = reason else { continue };
        let mut severity = Severity::Medium;
        let mut confidence = Confidence::High;
        let mut mitigations: Vec<(&str, String)> = Vec::new();
        let persisting: Vec<&&Step<'_>> = checkouts
            .iter()
            .filter(|c| {
                !c.with
                    .text("persist-credentials")
                    .is_some_and(|v| v.value.trim().eq_ignore_ascii_case("false"))
            })
            .collect();
        let credentials = if checkouts.is_empty() {
            severity = Severity::Low;
            confidence = Confidence::Low;
            "no earlier checkout in this job persists credentials, but something else may have"
                .to_owned()
        } else if persisting.is_empty() {
            mitigations.push((
                "persist-credentials-false",
                "every earlier `actions/checkout` sets `persist-credentials: false`".to_owned(),
            ));
            String::new()
        } else if persisting.iter().all(|c| major(c).is_some_and(|m| m >= 6)) {
            mitigations.push((
                "credentials-outside-git",
                "`actions/checkout` v6 or later keeps persisted credentials outside `.git`"
                    .to_owned(),
            ));
            String::new()
        } else {
            format!(
                "`{}` persists the token in `.git/config`",
                persisting[0]
                    .uses
                    .map_or("actions/checkout", |u| u.value.trim())
            )
        };
        if skips_hidden_files(step) {
            mitigations.push((
                "hidden-files-excluded",
                "`actions/upload-artifact` v4.4+ skips hidden files such as `.git` unless \
                 `include-hidden-files: true`"
                    .to_owned(),
            ));
        }
        if kind != "git-dir" && excludes_git {
            mitigations.push((
                "git-excluded",
                "the `path:` list excludes `.git`".to_owned(),
            ));
        }
        if !mitigations.is_empty() {
            severity = Severity::Info;
            confidence = Confidence::Low;
        }
        let mut message = format!(
            "`actions/upload-artifact` in step `{}` of job `{}` {what}",
            step.label(),
            job.id.value
        );
        if !credentials.is_empty() {
            message.push_str(&format!("; {credentials}"));
        }
        if !mitigations.is_empty() {
            let lowered: Vec<&str> = mitigations.iter().map(|(_, d)| d.as_str()).collect();
            message.push_str(&format!(" (mitigated: {})", lowered.join("; ")));
        }
        let mut finding = Finding::new(&META, file.path, path.span_of(*start..*start + line.len()))
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(format!("{}|{line}", path.route()))
            .property("job", job.id.value)
            .property("path", *line);
        if let Some(checkout) = persisting.first() {
            finding = finding.related(
                file.path,
                checkout.uses.map_or(checkout.node.span, |u| u.span()),
                "this checkout persists the token in `.git/config`",
            );
        }
        for (kind, description) in mitigations {
            finding = finding.mitigation(kind, description);
        }
        findings.push(finding);
    }
}

fn is_whole_workspace(line: &str) -> bool {
    let trimmed = line.trim_end_matches('/');
    matches!(
        trimmed,
        "" | "." | "*" | "**" | "./*" | "./**" | "**/*" | "./**/*"
    ) || [
        "${{ github.workspace }}",
        "${{github.workspace}}",
        "$GITHUB_WORKSPACE",
        "${GITHUB_WORKSPACE}",
    ]
    .iter()
    .any(|w| {
        trimmed
            .strip_prefix(w)
            .is_some_and(|rest| matches!(rest.trim_start_matches('/'), "" | "*" | "**" | "**/*"))
    })
}

/// The major version of an action reference's tag (`v4.1.2` → 4); `None` for SHAs and
/// branches.
fn major(step: &Step<'_>) -> Option<u64> {
    let Some(Uses::Repository {
        git_ref: Some(git_ref),
        ..
    }) = step.action()
    else {
        return None;
    };
    let core = git_ref.trim().strip_prefix(['v', 'V'])?;
    core.split('.').next()?.parse().ok()
}

/// `actions/upload-artifact` v4.4+ (by tag) without `include-hidden-files: true`.
fn skips_hidden_files(step: &Step<'_>) -> bool {
    if step
        .with
        .text("include-hidden-files")
        .is_some_and(|v| v.value.trim().eq_ignore_ascii_case("true"))
    {
        return false;
    }
    let Some(Uses::Repository {
        git_ref: Some(git_ref),
        ..
    }) = step.action()
    else {
        return false;
    };
    let Some(core) = git_ref.trim().strip_prefix(['v', 'V']) else {
        return false;
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    match (parts.next().flatten(), parts.next()) {
        (Some(major), _) if major >= 5 => true,
        // A bare `v4` follows the newest 4.x release.
        (Some(4), None) => true,
        (Some(4), Some(minor)) => minor.is_some_and(|m| m >= 4),
        _ => false,
    }
}
