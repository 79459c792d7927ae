//! FG-026: dependency installation (with lifecycle scripts) in the job that later publishes
//! or authenticates.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::FileContext;
use crate::conditions::normalise;
use crate::model::{Job, Map, Step, Workflow};
use crate::shell::{self, Command};

pub const META: RuleMeta = RuleMeta {
    id: "FG-026",
    name: "lifecycle-install-before-credentialed-operation",
    title: "Dependency install scripts run in the job that later uses publishing credentials",
    default_severity: Severity::High,
    default_confidence: Confidence::Medium,
    description: include_str!("fg026_lifecycle_install_before_credentials.md"),
    remediation: "Build and test in one job, upload the package as an artifact, and publish \
        from a separate job that installs nothing (or installs with `--ignore-scripts`), \
        gated by a protected environment and a tag. Prefer trusted publishing (OIDC) over \
        long-lived registry tokens.",
    help_uri: "",
    tags: &["supply-chain", "secrets"],
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    GithubToken,
    Cloud,
    Registry,
}

struct Install {
    step_index: usize,
    span: Span,
    what: String,
}

struct Operation<'s, 'a> {
    step: &'s Step<'a>,
    span: Span,
    what: String,
    class: Class,
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        let mut installs: Vec<Install> = Vec::new();
        let mut operations: Vec<Operation<'_, '_>> = Vec::new();
        let mut scripts_disabled = env_disables_scripts(&[workflow.env, job.env]);
        for step in &job.steps {
            if let Some(run) = step.run {
                let lower = run.value.to_ascii_lowercase();
                if lower.contains("npm config set ignore-scripts true")
                    || lower.contains("pnpm config set ignore-scripts true")
                {
                    scripts_disabled = true;
                }
                let step_disabled = scripts_disabled || env_disables_scripts(&[step.env]);
                for command in shell::commands(run.value) {
                    if let Some(what) = install(&command, step_disabled) {
                        installs.push(Install {
                            step_index: step.index,
                            span: run.span_of(command.range.clone()),
                            what,
                        });
                    } else if let Some((what, class)) = run_operation(&command) {
                        operations.push(Operation {
                            step,
                            span: run.span_of(command.range.clone()),
                            what,
                            class,
                        });
                    }
                }
            } else if let Some(uses) = step.uses {
                if step.uses_action("bahmutov/npm-install")
                    && !step
                        .with
                        .text("install-command")
                        .is_some_and(|c| c.value.contains("--ignore-scripts"))
                    && !scripts_disabled
                {
                    installs.push(Install {
                        step_index: step.index,
                        span: uses.span(),
                        what: "`bahmutov/npm-install`".to_owned(),
                    });
                } else if let Some((what, class)) = action_operation(step) {
                    operations.push(Operation {
                        step,
                        span: uses.span(),
                        what,
                        class,
                    });
                }
            }
        }
        for install in &installs {
            let Some(operation) = operations
                .iter()
                .filter(|o| o.step.index > install.step_index)
                .max_by_key(|o| (o.class, std::cmp::Reverse(o.step.index)))
            else {
                continue;
            };
            findings.push(finding(file, workflow, job, install, operation));
        }
    }
}

fn finding(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    install: &Install,
    operation: &Operation<'_, '_>,
) -> Finding {
    let names: Vec<&str> = workflow.triggers.names().collect();
    let has = |e: &str| names.contains(&e);
    let op_condition = operation
        .step
        .condition
        .map(|c| normalise(c.value))
        .unwrap_or_default();
    let job_condition = job
        .condition
        .map(|c| normalise(c.value))
        .unwrap_or_default();
    let publish_guarded = [
        "github.event_name=='push'",
        "github.ref=='refs/heads/main'",
        "github.ref=='refs/heads/master'",
        "github.event_name!='pull_request_target'",
    ]
    .iter()
    .any(|g| op_condition.contains(g));
    let external = (has("pull_request_target") || has("workflow_run") || has("issue_comment"))
        && !publish_guarded;
    let tag_only_push = workflow.triggers.get("push").is_some_and(|push| {
        (push.get("tags").is_some() || push.get("tags-ignore").is_some())
            && push.get("branches").is_none()
            && push.get("branches-ignore").is_none()
    });
    let gated = !names.is_empty()
        && names.iter().all(|n| {
            matches!(*n, "release" | "workflow_dispatch") || (*n == "push" && tag_only_push)
        });
    let (mut severity, tier) = if external {
        (Severity::Critical, "a trigger outsiders can start")
    } else if gated {
        (Severity::Medium, "a release, tag or manual trigger")
    } else {
        (Severity::High, "an ordinary trigger")
    };
    let mut mitigations: Vec<(&str, String)> = Vec::new();
    if let Some(environment) = job.environment.filter(|e| e.is_named()) {
        mitigations.push((
            "environment",
            format!(
                "job runs in environment `{}`, which may require approval",
                environment.name.map_or("", |n| n.value)
            ),
        ));
    }
    let tag_guards = ["refs/tags/", "github.ref_type=='tag'"];
    if tag_guards
        .iter()
        .any(|g| job_condition.contains(g) || op_condition.contains(g))
    {
        mitigations.push((
            "tag-guard",
            "the publishing step only runs for tags".to_owned(),
        ));
    }
    let allowlist = [
        "author_association",
        "user.login=='",
        "github.actor=='",
        "sender.login=='",
    ];
    if allowlist.iter().any(|g| job_condition.contains(g)) {
        mitigations.push((
            "actor-allowlist",
            "job `if:` restricts who can start it".to_owned(),
        ));
    }
    if publish_guarded && !external {
        mitigations.push((
            "publish-guard",
            "the publishing step only runs for pushes".to_owned(),
        ));
    }
    let steps = mitigations
        .iter()
        .filter(|(k, _)| *k != "publish-guard")
        .count();
    severity = severity.downgrade(u8::try_from(steps).unwrap_or(u8::MAX));
    let mut confidence = Confidence::Medium;
    if operation.class == Class::GithubToken && !other_secrets(workflow, job) {
        severity = Severity::Info;
        confidence = Confidence::Low;
        mitigations.push((
            "github-token-only",
            "the release only uses `GITHUB_TOKEN`; no other secret is in reach".to_owned(),
        ));
    }
    let mut message = format!(
        "{} in job `{}` runs dependency install-time code before {} (step `{}`) in the same \
         job, on {tier}: any dependency can steal the credential",
        install.what,
        job.id.value,
        operation.what,
        operation.step.label()
    );
    if !mitigations.is_empty() {
        let lowered: Vec<&str> = mitigations.iter().map(|(_, d)| d.as_str()).collect();
        message.push_str(&format!(" (mitigated: {})", lowered.join("; ")));
    }
    let mut finding = Finding::new(&META, file.path, install.span)
        .severity(severity)
        .confidence(confidence)
        .message(message)
        .fingerprint_key(format!(
            "jobs.{}|{}|{}",
            job.id.value, install.what, operation.what
        ))
        .related(
            file.path,
            operation.span,
            format!("{} uses credentials here", operation.what),
        )
        .property("job", job.id.value)
        .property("operation", operation.what.clone());
    for (kind, description) in mitigations {
        finding = finding.mitigation(kind, description);
    }
    finding
}

fn words<'c>(command: &'c Command<'_>) -> Vec<&'c str> {
    let Some(index) = command.program_index() else {
        return Vec::new();
    };
    command.words[index..]
        .iter()
        .map(|w| w.text.as_str())
        .collect()
}

/// An install command that runs dependency code, described for messages.
fn install(command: &Command<'_>, scripts_disabled: bool) -> Option<String> {
    let words = words(command);
    let (program, args) = words.split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    let verb = args.iter().find(|a| !a.starts_with('-')).copied();
    let has = |flag: &str| args.iter().any(|a| a.starts_with(flag));
    let js = match program {
        "npm" => matches!(
            verb,
            Some("install" | "i" | "ci" | "add" | "it" | "install-test")
        ),
        "pnpm" => matches!(verb, Some("install" | "i" | "add")),
        "yarn" => matches!(verb, None | Some("install" | "add")),
        _ => false,
    };
    if js {
        if scripts_disabled || has("--ignore-scripts") || has("--mode=skip-build") {
            return None;
        }
        let global = has("-g") || has("--global") || args.contains(&"global");
        let packages: Vec<&str> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .skip(1)
            .copied()
            .collect();
        let tooling = !packages.is_empty()
            && packages.iter().all(|p| {
                let name = p.split('@').next().unwrap_or(p);
                matches!(name, "npm" | "pnpm" | "yarn" | "corepack")
            });
        if global && tooling {
            return None;
        }
        return Some(format!("`{}`", words.join(" ")));
    }
    let pip_args: Option<&[&str]> = match program {
        "pip" | "pip3" => Some(args),
        p if p.starts_with("python") => {
            (args.len() >= 2 && args[0] == "-m" && args[1].starts_with("pip")).then(|| &args[2..])
        }
        _ => None,
    };
    if let Some(pip_args) = pip_args {
        if pip_args.first() != Some(&"install") {
            return None;
        }
        if pip_args
            .iter()
            .any(|a| a.contains("--only-binary") && a.contains(":all:"))
            || pip_args
                .windows(2)
                .any(|w| w[0] == "--only-binary" && w[1] == ":all:")
        {
            return None;
        }
        let packages: Vec<&str> = pip_args[1..]
            .iter()
            .filter(|a| !a.starts_with('-'))
            .copied()
            .collect();
        if !packages.is_empty()
            && packages.iter().all(|p| {
                let name = p.split(['=', '<', '>', '~', '[']).next().unwrap_or(p);
                matches!(name, "pip" | "setuptools" | "wheel" | "build" | "twine")
            })
        {
            return None;
        }
        return Some(format!("`{}`", words.join(" ")));
    }
    match (program, verb) {
        ("gem", Some("install")) | ("bundle", Some("install")) | ("bundle", None) => {
            Some(format!("`{}`", words.join(" ")))
        }
        _ => None,
    }
}

fn run_operation(command: &Command<'_>) -> Option<(String, Class)> {
    let words = words(command);
    let text = words.join(" ");
    let registry = [
        "npm publish",
        "pnpm publish",
        "yarn npm publish",
        "yarn publish",
        "twine upload",
        "python -m twine upload",
        "python3 -m twine upload",
        "uv publish",
        "poetry publish",
        "pdm publish",
        "hatch publish",
        "gem push",
        "bundle exec gem push",
        "rake release",
        "bundle exec rake release",
        "cargo publish",
    ];
    if let Some(op) = registry.iter().find(|p| text.starts_with(*p)) {
        return Some((format!("`{op}`"), Class::Registry));
    }
    if text.starts_with("gh release create") || text.starts_with("gh release upload") {
        return Some(("`gh release`".to_owned(), Class::GithubToken));
    }
    None
}

fn action_operation(step: &Step<'_>) -> Option<(String, Class)> {
    let table: &[(&str, Class)] = &[
        ("pypa/gh-action-pypi-publish", Class::Registry),
        ("js-devtools/npm-publish", Class::Registry),
        ("rubygems/release-gem", Class::Registry),
        ("aws-actions/configure-aws-credentials", Class::Cloud),
        ("google-github-actions/auth", Class::Cloud),
        ("azure/login", Class::Cloud),
        ("hashicorp/vault-action", Class::Cloud),
        ("softprops/action-gh-release", Class::GithubToken),
        ("ncipollo/release-action", Class::GithubToken),
        ("actions/upload-release-asset", Class::GithubToken),
    ];
    table
        .iter()
        .find(|(name, _)| step.uses_action(name))
        .map(|(name, class)| (format!("`{name}`"), *class))
}

fn env_disables_scripts(envs: &[Map<'_>]) -> bool {
    envs.iter().any(|env| {
        env.iter().any(|(key, value)| {
            let value = value.as_str().unwrap_or("").trim().to_ascii_lowercase();
            let key = key.value.to_ascii_uppercase();
            ((key == "NPM_CONFIG_IGNORE_SCRIPTS" || key == "PNPM_CONFIG_IGNORE_SCRIPTS")
                && (value == "true" || value == "1"))
                || (key == "YARN_ENABLE_SCRIPTS" && (value == "false" || value == "0"))
        })
    })
}

/// Whether a secret other than the job's own token is in reach of the job.
fn other_secrets(workflow: &Workflow<'_>, job: &Job<'_>) -> bool {
    let mut nodes = crate::model::scalars(job.node);
    if let Some(env) = workflow.env.node {
        nodes.extend(crate::model::scalars(env));
    }
    nodes.iter().filter_map(|n| n.as_str()).any(|text| {
        let lower = text.to_ascii_lowercase();
        lower.match_indices("secrets.").any(|(at, _)| {
            let name: String = lower[at + 8..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            !name.is_empty() && name != "github_token"
        })
    })
}
