//! FG-033: `allow-unsafe-pr-checkout: true`, and pull request code handed to build tools
//! FG-001 does not classify ("living off the pipeline").

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use super::fg001_pwn_request::assess;
use crate::checkout::{self, ForkCheckout, change_directory, step_directory, workspace_path};
use crate::execution::{self, Level, Region};
use crate::exposure::{self, PRIVILEGED};
use crate::mitigations::{self, Effect, Safeguard};
use crate::model::{Job, Workflow};
use crate::shell;

pub const META: RuleMeta = RuleMeta {
    id: "FG-033",
    name: "unsafe-checkout",
    title: "Checkout fork guard disabled, or pull request code handed to a build tool",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("fg033_unsafe_checkout_lotp.md"),
    remediation: "Remove `allow-unsafe-pr-checkout: true`; build pull requests under \
        `pull_request` and pass results to a privileged `workflow_run` job as data. If a \
        privileged job must inspect pull request code, check it out into a subdirectory, \
        never run tools in it, and give the job `permissions: {}`.",
    help_uri: "",
    tags: &[
        "pwn-request",
        "untrusted-checkout",
        "living-off-the-pipeline",
    ],
};

/// Tools FG-001's analysis leaves out: (program, subcommands that run code (empty = any),
/// level, what loads).
const TOOLS: &[(&str, &[&str], Level, &str)] = &[
    ("sphinx-build", &[], Level::Confirmed, "`conf.py`"),
    ("sphinx-autobuild", &[], Level::Confirmed, "`conf.py`"),
    (
        "mkdocs",
        &["build", "serve", "gh-deploy"],
        Level::Likely,
        "`mkdocs.yml` hooks and plugins",
    ),
    (
        "pod",
        &["install", "update"],
        Level::Confirmed,
        "the Ruby `Podfile`",
    ),
    ("fastlane", &[], Level::Confirmed, "the Ruby `Fastfile`"),
    (
        "conan",
        &["install", "create", "build"],
        Level::Confirmed,
        "`conanfile.py`",
    ),
    ("zig", &["build"], Level::Confirmed, "`build.zig`"),
    (
        "cabal",
        &["build", "test", "run", "install"],
        Level::Confirmed,
        "`Setup.hs` and the package",
    ),
    (
        "stack",
        &["build", "test", "run", "install"],
        Level::Confirmed,
        "`Setup.hs` and the package",
    ),
    (
        "nix",
        &["build", "develop", "run", "shell", "flake"],
        Level::Confirmed,
        "the repository's flake",
    ),
    ("nix-build", &[], Level::Confirmed, "`default.nix`"),
    ("nix-shell", &[], Level::Confirmed, "`shell.nix`"),
    (
        "mise",
        &["install", "run", "exec", "x"],
        Level::Likely,
        "`mise.toml` tasks and hooks",
    ),
    (
        "asdf",
        &["install"],
        Level::Likely,
        "plugins named in `.tool-versions`",
    ),
    (
        "tflint",
        &[],
        Level::Likely,
        "plugins named in `.tflint.hcl`",
    ),
    (
        "checkov",
        &[],
        Level::Likely,
        "external checks from the repository",
    ),
    ("cspell", &[], Level::Likely, "JavaScript configuration"),
    (
        "markdownlint-cli2",
        &[],
        Level::Likely,
        "JavaScript configuration",
    ),
    (
        "lint-staged",
        &[],
        Level::Likely,
        "JavaScript configuration",
    ),
    (
        "phpunit",
        &[],
        Level::Confirmed,
        "the test suite and its bootstrap",
    ),
    (
        "phpstan",
        &[],
        Level::Likely,
        "bootstrap files and extensions",
    ),
    ("psalm", &[], Level::Likely, "plugins"),
    (
        "rspec",
        &[],
        Level::Confirmed,
        "`spec_helper.rb` and the specs",
    ),
    (
        "dprint",
        &[],
        Level::Likely,
        "plugins named in `dprint.json`",
    ),
    (
        "packer",
        &["init", "build"],
        Level::Likely,
        "plugins named in the templates",
    ),
    ("rebar3", &[], Level::Confirmed, "`rebar.config.script`"),
    (
        "dune",
        &["build", "test", "exec"],
        Level::Confirmed,
        "`dune` rules",
    ),
    (
        "opam",
        &["install", "pin"],
        Level::Confirmed,
        "the package's build instructions",
    ),
    ("waf", &[], Level::Confirmed, "the Python `wscript`"),
    (
        "vcpkg",
        &["install"],
        Level::Confirmed,
        "port files from the manifest",
    ),
];

/// Actions that run such tools on the workspace.
const ACTIONS: &[(&str, &str)] = &[
    (
        "actions/jekyll-build-pages",
        "Jekyll (plugins in `_plugins/` are Ruby)",
    ),
    ("ammaraskar/sphinx-action", "`sphinx-build` (`conf.py`)"),
    ("sphinx-notes/pages", "`sphinx-build` (`conf.py`)"),
    (
        "mhausenblas/mkdocs-deploy-gh-pages",
        "`mkdocs` (hooks and plugins)",
    ),
    ("bridgecrewio/checkov-action", "`checkov` (external checks)"),
    (
        "maxim-lobanov/setup-cocoapods",
        "`pod install` (Ruby `Podfile`)",
    ),
    ("maierj/fastlane-action", "`fastlane` (Ruby `Fastfile`)"),
    (
        "helaili/jekyll-action",
        "Jekyll (plugins in `_plugins/` are Ruby)",
    ),
];

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let events = exposure::job_events(workflow, job, PRIVILEGED);
        if events.is_empty() {
            continue;
        }
        let candidates = checkout::fork_checkouts(workflow, job);
        opt_outs(file, workflow, job, &events, &candidates, findings);
        living_off_the_pipeline(file, workflow, job, &events, &candidates, findings);
    }
}

fn safeguards(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    step: &crate::model::Step<'_>,
    events: &[&str],
) -> Vec<Safeguard> {
    let mut found = Vec::new();
    if let Some(condition) = &job.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("job `{}` `if:`", job.id.value),
        ));
    }
    if let Some(condition) = &step.condition {
        found.extend(mitigations::condition_safeguards(
            condition.value,
            &format!("step `{}` `if:`", step.label()),
        ));
    }
    if events == ["pull_request_target"] {
        found.extend(mitigations::label_trigger(workflow));
    }
    found.extend(mitigations::environment(job));
    found.extend(mitigations::needs_gates(workflow, job));
    found
}

/// Steps before `before` (other than `skip`) that verify the actor and stop the job.
fn actor_checks(job: &Job<'_>, skip: usize, before: usize) -> Vec<Safeguard> {
    job.steps
        .iter()
        .filter(|s| s.index < before && s.index != skip && mitigations::checks_actor(s))
        .map(|s| {
            Safeguard::new(
                "maintainer-check",
                Effect::MaintainerCheck,
                format!(
                    "step `{}` verifies the actor and stops the job for outsiders",
                    s.label()
                ),
            )
        })
        .collect()
}

fn opt_outs(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    events: &[&str],
    candidates: &[ForkCheckout<'_, '_>],
    findings: &mut Vec<Finding>,
) {
    for step in job.steps.iter().filter(|s| checkout::is_checkout_action(s)) {
        let Some((key, value)) = step
            .with
            .iter()
            .find(|(k, _)| k.value.trim() == "allow-unsafe-pr-checkout")
        else {
            continue;
        };
        let Some(text) = value.as_str() else { continue };
        let literal = text.trim();
        let expression = literal.contains("${{");
        if !expression && !literal.eq_ignore_ascii_case("true") {
            continue;
        }
        let fork = candidates.iter().any(|c| c.step.index == step.index);
        let (mut severity, confidence) = match (fork, expression) {
            (true, false) => (Severity::Medium, Confidence::High),
            (true, true) => (Severity::Medium, Confidence::Medium),
            (false, _) => (Severity::Low, Confidence::Medium),
        };
        let base = severity;
        let mut found = safeguards(workflow, job, step, events);
        found.extend(actor_checks(job, step.index, step.index));
        let has = |e: Effect| found.iter().any(|s| s.effect == e);
        if has(Effect::ForkGuard) {
            severity = Severity::Info;
        } else if found.iter().any(|s| {
            matches!(
                s.effect,
                Effect::LabelGate
                    | Effect::Environment
                    | Effect::AuthorAssociation
                    | Effect::HumanActor
                    | Effect::PermissionGateJob
                    | Effect::MaintainerCheck
            )
        }) {
            severity = severity.downgrade(1);
        }
        let what = if fork {
            let reference = step
                .with
                .text("ref")
                .or_else(|| step.with.text("repository"));
            format!(
                "checks out the pull request head (`{}`) with `actions/checkout`'s fork guard switched off",
                reference.map_or("", |r| r.value.trim())
            )
        } else {
            "switches off `actions/checkout`'s fork guard; the checked-out ref is not a pull request head today, but any later change to it goes unguarded".to_owned()
        };
        let trigger = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let mut what = what;
        if !found.is_empty() && severity != base {
            let list: Vec<&str> = found.iter().map(|s| s.description.as_str()).collect();
            what.push_str(&format!(" (mitigated: {})", list.join("; ")));
        }
        let mut finding = Finding::new(&META, file.path, key.span().cover(value.span))
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "`allow-unsafe-pr-checkout: {literal}` in step `{}` of {trigger} job `{}` {what}",
                step.label(),
                job.id.value
            ))
            .fingerprint_key(format!(
                "{}|allow-unsafe-pr-checkout={literal}",
                value.route
            ))
            .property("job", job.id.value)
            .property("pattern", "unsafe-checkout-opt-in");
        for safeguard in &found {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

fn living_off_the_pipeline(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    events: &[&str],
    candidates: &[ForkCheckout<'_, '_>],
    findings: &mut Vec<Finding>,
) {
    let trusted = checkout::trusted_checkouts(workflow, job);
    for candidate in candidates.iter().take(16) {
        let region = Region::after_checkout(candidate, &trusted);
        let analysis = execution::analyze(workflow, job, candidate, &region);
        if analysis.execution.is_some() {
            // FG-001 reports this checkout.
            continue;
        }
        let Some((level, span, what, step_index)) = tool_run(workflow, job, candidate, &region)
        else {
            continue;
        };
        let step = job.step(step_index).unwrap_or(candidate.step);
        let mut found = safeguards(workflow, job, candidate.step, events);
        found.extend(actor_checks(job, candidate.step.index, step_index));
        found.extend(mitigations::token(workflow, job));
        let (severity, confidence, mitigated) = assess(Some(level), &found);
        let trigger = events
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join("/");
        let mut message = format!(
            "{trigger} job `{}` checks out the pull request head (`{}`) and step `{}` then runs {what}",
            job.id.value,
            candidate.reference,
            step.label()
        );
        if mitigated {
            let list: Vec<&str> = found.iter().map(|s| s.description.as_str()).collect();
            message.push_str(&format!(" (mitigated: {})", list.join("; ")));
        }
        let mut finding = Finding::new(&META, file.path, span)
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(format!(
                "{}|{}|{}",
                candidate.route, candidate.reference, what
            ))
            .property("job", job.id.value)
            .property("pattern", "living-off-the-pipeline")
            .related(file.path, candidate.span, "the pull request checkout");
        for safeguard in &found {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
        // One per job, like FG-001.
        return;
    }
}

/// The first later command or action that runs one of [`TOOLS`]/[`ACTIONS`] on fork code.
fn tool_run(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    candidate: &ForkCheckout<'_, '_>,
    region: &Region,
) -> Option<(Level, Span, String, usize)> {
    for step in job.steps.iter().filter(|s| s.index >= candidate.step.index) {
        let same = step.index == candidate.step.index;
        if same && candidate.script_rest.is_none() {
            continue;
        }
        if let Some(run) = step.run {
            let start = if same {
                candidate.script_rest.unwrap_or(0)
            } else {
                0
            };
            let mut cwd = step_directory(workflow, job, step);
            for command in shell::commands(&run.value[start..]) {
                let Some(program) = command.program() else {
                    continue;
                };
                if program.text == "cd" || program.text == "pushd" {
                    cwd = change_directory(cwd.as_deref(), &command);
                    continue;
                }
                let base = program.text.rsplit('/').next().unwrap_or(&program.text);
                let args = command.args();
                let sub = args
                    .iter()
                    .find(|a| !a.text.starts_with('-'))
                    .map(|a| a.text.as_str());
                let Some((name, _, level, loads)) = TOOLS.iter().find(|(name, subs, _, _)| {
                    *name == base && (subs.is_empty() || sub.is_some_and(|s| subs.contains(&s)))
                }) else {
                    continue;
                };
                let in_fork = cwd.as_deref().is_some_and(|d| region.contains(d))
                    || args.iter().any(|a| {
                        (a.text.contains('/') || a.text.starts_with('.'))
                            && cwd
                                .as_deref()
                                .and_then(|c| workspace_path(&a.text, c))
                                .is_some_and(|p| !p.is_empty() && region.contains(&p))
                    });
                if !in_fork {
                    continue;
                }
                let range = start + command.range.start..start + command.range.end;
                return Some((
                    *level,
                    run.span_of(range),
                    format!(
                        "`{}`, which loads {loads} from the checkout ({name})",
                        command.text()
                    ),
                    step.index,
                ));
            }
        } else if let Some(uses) = step.uses {
            let name = step
                .action()
                .and_then(|u| u.repository_name())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let Some((_, what)) = ACTIONS.iter().find(|(a, _)| *a == name) else {
                continue;
            };
            let into_fork = region.fork.is_empty()
                || step.with.iter().any(|(_, v)| {
                    v.as_str()
                        .and_then(|v| workspace_path(v, ""))
                        .is_some_and(|p| !p.is_empty() && region.contains(&p))
                });
            if into_fork {
                return Some((
                    Level::Confirmed,
                    uses.span(),
                    format!("`{}`, which runs {what} on the checkout", uses.value.trim()),
                    step.index,
                ));
            }
        }
    }
    None
}
