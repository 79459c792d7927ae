//! FG-030: a privileged workflow downloads another run's artifacts and runs them or feeds
//! them to `$GITHUB_ENV` / `$GITHUB_PATH`.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use super::fg001_pwn_request::assess;
use crate::checkout::{ForkCheckout, Method, change_directory, step_directory, workspace_path};
use crate::env_settings;
use crate::execution::{self, Level, Region};
use crate::exposure::{self, PRIVILEGED};
use crate::mitigations::{self, Effect, Safeguard};
use crate::model::{Job, Step, Text, Workflow};
use crate::shell;

pub const META: RuleMeta = RuleMeta {
    id: "FG-030",
    name: "artifact-poisoning",
    title: "Privileged workflow runs or trusts artifacts from another run",
    default_severity: Severity::Critical,
    default_confidence: Confidence::High,
    description: include_str!("fg030_artifact_poisoning.md"),
    remediation: "Treat artifacts from other runs as untrusted data: extract them to \
        `${{ runner.temp }}`, never into the workspace; validate what you read (e.g. that a \
        PR number is numeric) before using it; never `source` them, execute them or append \
        them to `$GITHUB_ENV`/`$GITHUB_PATH`. Gate the job on \
        `github.event.workflow_run.head_repository.full_name == github.repository` when it \
        must act only on same-repository runs.",
    help_uri: "",
    tags: &["artifact-poisoning", "untrusted-input"],
};

/// Marks a download directory outside the workspace (`${{ runner.temp }}/x`).
const OUTSIDE: &str = "\u{0}outside";

/// Actions that download artifacts of other runs by design.
const CROSS_RUN_DOWNLOADERS: &[&str] = &[
    "dawidd6/action-download-artifact",
    "aochmann/actions-download-artifact",
    "bettermarks/action-artifact-download",
    "blablacar/action-download-last-artifact",
    "levonet/action-download-last-artifact",
    "ishworkh/container-image-artifact-download",
];

/// One cross-run download.
struct Download<'s, 'a> {
    step: &'s Step<'a>,
    span: Span,
    route: String,
    /// What downloads, for messages.
    what: String,
    /// Workspace directory it lands in.
    dir: String,
    /// For `gh run download`: offset in the script after the command.
    script_rest: Option<usize>,
    safeguard: Option<Safeguard>,
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let events = exposure::job_events(workflow, job, PRIVILEGED);
        if events.is_empty() {
            continue;
        }
        for download in downloads(workflow, job) {
            if let Some(finding) = examine(file, workflow, job, &events, &download) {
                findings.push(finding);
                // One finding per job: later downloads usually feed the same sink.
                break;
            }
        }
    }
}

fn downloads<'s, 'a>(workflow: &Workflow<'a>, job: &'s Job<'a>) -> Vec<Download<'s, 'a>> {
    let mut found = Vec::new();
    for step in &job.steps {
        if let Some(uses) = step.uses {
            let name = step
                .action()
                .and_then(|u| u.repository_name())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let dir = match step.with.text("path") {
                Some(path) => workspace_path(path.value, "").unwrap_or_else(|| OUTSIDE.to_owned()),
                None => String::new(),
            };
            let shown = uses.value.trim().to_owned();
            if name == "actions/download-artifact" {
                let Some(run_id) = step
                    .with
                    .text("run-id")
                    .filter(|r| !r.value.trim().is_empty())
                else {
                    continue;
                };
                found.push(Download {
                    step,
                    span: run_id.span(),
                    route: run_id.route().to_string(),
                    what: format!("`{shown}` with `run-id: {}`", run_id.value.trim()),
                    dir,
                    script_rest: None,
                    safeguard: None,
                });
            } else if CROSS_RUN_DOWNLOADERS.contains(&name.as_str()) {
                found.push(Download {
                    step,
                    span: uses.span(),
                    route: uses.route().to_string(),
                    what: format!("`{shown}`"),
                    dir,
                    script_rest: None,
                    safeguard: fork_filter(step, &name, uses),
                });
            } else if name == "actions/github-script"
                && let Some(script) = step.with.text("script")
                && let Some(at) = script.value.find("downloadArtifact")
            {
                found.push(Download {
                    step,
                    span: script.span_of(at..at + "downloadArtifact".len()),
                    route: script.route().to_string(),
                    what: format!("`downloadArtifact` in `{shown}`"),
                    dir: String::new(),
                    script_rest: None,
                    safeguard: None,
                });
            }
        } else if let Some(run) = step.run {
            let mut cwd = step_directory(workflow, job, step);
            for command in shell::commands(run.value) {
                let Some(program) = command.program() else {
                    continue;
                };
                if program.text == "cd" {
                    cwd = change_directory(cwd.as_deref(), &command);
                    continue;
                }
                let args = command.args();
                if program.text == "gh"
                    && args.first().is_some_and(|a| a.text == "run")
                    && args.get(1).is_some_and(|a| a.text == "download")
                {
                    let base = cwd.clone().unwrap_or_default();
                    let dir = args
                        .iter()
                        .position(|a| a.text == "-D" || a.text == "--dir")
                        .and_then(|i| args.get(i + 1))
                        .map(|d| {
                            workspace_path(&d.text, &base).unwrap_or_else(|| OUTSIDE.to_owned())
                        })
                        .unwrap_or(base);
                    found.push(Download {
                        step,
                        span: run.span_of(command.range.clone()),
                        route: run.route().to_string(),
                        what: format!("`{}`", command.text()),
                        dir,
                        script_rest: Some(command.range.end),
                        safeguard: None,
                    });
                }
            }
        }
    }
    found
}

/// `dawidd6/action-download-artifact` v3+ skips runs from forks unless `allow_forks: true`.
fn fork_filter(step: &Step<'_>, name: &str, uses: Text<'_>) -> Option<Safeguard> {
    if name != "dawidd6/action-download-artifact" {
        return None;
    }
    let allows = step
        .with
        .text("allow_forks")
        .is_some_and(|v| v.value.trim().eq_ignore_ascii_case("true"));
    let version = uses.value.split('@').nth(1)?.trim_start_matches('v');
    let major: u32 = version.split('.').next()?.parse().ok()?;
    (!allows && major >= 3).then(|| {
        Safeguard::new(
            "fork-filter",
            Effect::ForkGuard,
            format!(
                "`{}` skips artifacts of runs from forks (`allow_forks` is not set)",
                uses.value.trim()
            ),
        )
    })
}

/// What the job does with the download, and the finding if it matters.
fn examine(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    events: &[&str],
    download: &Download<'_, '_>,
) -> Option<Finding> {
    if download.dir == OUTSIDE {
        // Extracted outside the workspace: only execution by path could reach it; ignore.
        return env_sink(workflow, job, download)
            .map(|sink| build(file, workflow, job, events, download, Sink::Env(sink)));
    }
    let region = Region {
        fork: download.dir.clone(),
        trusted: Vec::new(),
    };
    let pseudo = ForkCheckout {
        step: download.step,
        method: if download.script_rest.is_some() {
            Method::Script
        } else {
            Method::Action
        },
        span: download.span,
        route: download.route.clone(),
        reference: download.what.clone(),
        events: Vec::new(),
        path: download.dir.clone(),
        script_rest: download.script_rest,
        unsafe_opt_in: false,
    };
    let analysis = execution::analyze(workflow, job, &pseudo, &region);
    let sink = match analysis.execution {
        Some(run) => Sink::Runs(run),
        None => Sink::Env(env_sink(workflow, job, download)?),
    };
    Some(build(file, workflow, job, events, download, sink))
}

enum Sink {
    Runs(execution::Execution),
    /// (step index, span, description) of a write to `$GITHUB_ENV`/`$GITHUB_PATH`.
    Env((usize, Span, String)),
}

/// The first later command that appends file content to `$GITHUB_ENV` or `$GITHUB_PATH`.
fn env_sink(
    _workflow: &Workflow<'_>,
    job: &Job<'_>,
    download: &Download<'_, '_>,
) -> Option<(usize, Span, String)> {
    for step in job.steps.iter().filter(|s| s.index >= download.step.index) {
        let same = step.index == download.step.index;
        if let Some(run) = step.run {
            let start = if same { download.script_rest? } else { 0 };
            for command in shell::commands(&run.value[start..]) {
                let text = &run.value[start + command.range.start..start + command.range.end];
                let Some(target) = env_settings::appends_to(&run.value[start..], &command) else {
                    continue;
                };
                let reads_file = command.program().is_some_and(|p| p.text == "cat")
                    || text.contains("$(")
                    || text.contains('`')
                    || text.contains(" < ")
                    || text.contains("$(<");
                if reads_file {
                    return Some((
                        step.index,
                        run.span_of(start + command.range.start..start + command.range.end),
                        format!(
                            "writes file content to `{target}` with `{}`",
                            command.text()
                        ),
                    ));
                }
            }
        } else if !same
            && step.uses_action("actions/github-script")
            && let Some(script) = step.with.text("script")
            && script.value.contains("readFileSync")
            && let Some(at) = script
                .value
                .find("exportVariable")
                .or_else(|| script.value.find("addPath"))
        {
            return Some((
                step.index,
                script.span_of(at..at + 14.min(script.value.len() - at)),
                "reads a file and exports it with `core.exportVariable`/`core.addPath`".to_owned(),
            ));
        }
    }
    None
}

fn build(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    events: &[&str],
    download: &Download<'_, '_>,
    sink: Sink,
) -> Finding {
    let mut safeguards: Vec<Safeguard> = Vec::new();
    if let Some(condition) = &job.condition {
        safeguards.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("job `{}` `if:`", job.id.value),
        ));
    }
    if let Some(condition) = &download.step.condition {
        safeguards.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("download step `{}` `if:`", download.step.label()),
        ));
    }
    safeguards.extend(download.safeguard.clone());
    safeguards.extend(mitigations::environment(job));
    safeguards.extend(mitigations::needs_gates(workflow, job));
    safeguards.extend(mitigations::token(workflow, job));
    let (level, sink_span, sink_text) = match &sink {
        Sink::Runs(run) => (
            run.level,
            run.span,
            match run.level {
                Level::Confirmed => format!("then runs {}", run.what),
                Level::Likely => format!("then runs {}, which may load code from it", run.what),
            },
        ),
        Sink::Env((_, span, text)) => (Level::Likely, *span, format!("then {text}")),
    };
    let sink_step = match &sink {
        Sink::Runs(run) => run.step_index,
        Sink::Env((index, _, _)) => *index,
    };
    for step in job
        .steps
        .iter()
        .filter(|s| s.index < sink_step && s.index != download.step.index)
        .filter(|s| mitigations::checks_actor(s))
    {
        safeguards.push(Safeguard::new(
            "maintainer-check",
            Effect::MaintainerCheck,
            format!(
                "step `{}` verifies the actor and stops the job for outsiders",
                step.label()
            ),
        ));
    }
    let (severity, mut confidence, mitigated) = assess(Some(level), &safeguards);
    let overwrite = download.dir.is_empty() && matches!(sink, Sink::Runs(_));
    if overwrite {
        // The command runs workspace code; the artifact only reaches it by replacing files.
        confidence = confidence.min(Confidence::Medium);
    }
    let trigger = events
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join("/");
    let place = if download.dir.is_empty() {
        "the workspace".to_owned()
    } else if download.dir == OUTSIDE {
        "a directory outside the workspace".to_owned()
    } else {
        format!("`{}/`", download.dir)
    };
    let mut message = format!(
        "{trigger} job `{}` downloads another run's artifacts ({}) into {place} and {sink_text}",
        job.id.value, download.what
    );
    if overwrite {
        message.push_str(" (files extracted into the workspace can replace the code it runs)");
    }
    if mitigated {
        let list: Vec<&str> = safeguards.iter().map(|s| s.description.as_str()).collect();
        message.push_str(&format!(" (mitigated: {})", list.join("; ")));
    }
    let mut finding = Finding::new(&META, file.path, download.span)
        .severity(severity)
        .confidence(confidence)
        .message(message)
        .fingerprint_key(format!("{}|{}", download.route, download.what))
        .property("job", job.id.value)
        .property("trigger", events.join(","))
        .related(file.path, sink_span, sink_text);
    for safeguard in &safeguards {
        finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
    }
    finding
}
