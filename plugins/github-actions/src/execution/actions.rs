//! Classifying one action step: does it run code from the workspace?

use super::{Level, Region, script_execution};
use crate::checkout::workspace_path;
use crate::model::{Step, Uses};

/// What an action step does with the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Behaviour {
    Executes(Level, String),
    /// Installs a toolchain; later commands in the fork may use its tools.
    Setup,
    /// Known not to run workspace code.
    Inert,
    /// Unknown.
    Opaque,
}

/// Actions that build, install or test the project in their working directory.
const EXECUTING_ACTIONS: &[&str] = &[
    "bahmutov/npm-install",
    "borales/actions-yarn",
    "gradle/gradle-build-action",
    "eskatos/gradle-command-action",
    "cypress-io/github-action",
    "pre-commit/action",
    "goreleaser/goreleaser-action",
    "changesets/action",
    "github/codeql-action/autobuild",
    "docker/bake-action",
    "py-actions/py-dependency-install",
    "andresz1/size-limit-action",
    "preactjs/compressed-size-action",
    "artiomtr/jest-coverage-report-action",
    "chromaui/action",
    "treosh/lighthouse-ci-action",
];

/// Actions that run a linter whose configuration comes from the workspace.
const CONFIG_LOADING_ACTIONS: &[&str] = &[
    "golangci/golangci-lint-action",
    "super-linter/super-linter",
    "github/super-linter",
    "oxsecurity/megalinter",
    "wearerequired/lint-action",
];

/// Actions that run a shell command given as an input.
const COMMAND_ACTIONS: &[(&str, &str)] = &[
    ("nick-fields/retry", "command"),
    ("nick-invision/retry", "command"),
    ("wandalen/wretry.action", "command"),
    ("gabrielbb/xvfb-action", "run"),
    ("coactions/setup-xvfb", "run"),
];

/// Actions known not to run workspace code.
const INERT_ACTIONS: &[&str] = &[
    "actions/checkout",
    "actions/upload-artifact",
    "actions/download-artifact",
    "actions/cache",
    "actions/cache/restore",
    "actions/cache/save",
    "actions/labeler",
    "actions/stale",
    "actions/create-github-app-token",
    "actions/upload-pages-artifact",
    "actions/deploy-pages",
    "actions/add-to-project",
    "actions/first-interaction",
    "actions/dependency-review-action",
    "github/codeql-action/upload-sarif",
    "peter-evans/create-or-update-comment",
    "peter-evans/find-comment",
    "peter-evans/create-pull-request",
    "peter-evans/repository-dispatch",
    "marocchino/sticky-pull-request-comment",
    "thollander/actions-comment-pull-request",
    "mshick/add-pr-comment",
    "dorny/paths-filter",
    "tj-actions/changed-files",
    "codecov/codecov-action",
    "stefanzweifel/git-auto-commit-action",
    "endbug/add-and-commit",
    "ad-m/github-push-action",
    "softprops/action-gh-release",
    "slackapi/slack-github-action",
    "rtcamp/action-slack-notify",
    "dawidd6/action-download-artifact",
    "aws-actions/configure-aws-credentials",
    "docker/login-action",
    "docker/setup-buildx-action",
    "docker/setup-qemu-action",
    "docker/metadata-action",
    "google-github-actions/auth",
    "azure/login",
    "swatinem/rust-cache",
    "dtolnay/rust-toolchain",
    "actions-rs/toolchain",
    "step-security/harden-runner",
    "mxschmitt/action-tmate",
    "jamesives/github-pages-deploy-action",
    "peaceiris/actions-gh-pages",
    "amannn/action-semantic-pull-request",
];

pub(super) fn action_behaviour(step: &Step<'_>, region: &Region) -> Behaviour {
    let Some(uses) = step.action() else {
        return Behaviour::Opaque;
    };
    let shown = step
        .uses
        .map_or(String::new(), |u| u.value.trim().to_owned());
    let name = match uses {
        Uses::Local { path } => {
            return match workspace_path(path, "") {
                Some(dir) if region.contains(&dir) => Behaviour::Executes(
                    Level::Confirmed,
                    format!("the local action `{shown}` from the checkout"),
                ),
                _ => Behaviour::Inert,
            };
        }
        Uses::Docker { .. } | Uses::Unknown(_) => return Behaviour::Opaque,
        Uses::Repository { .. } => uses
            .repository_name()
            .unwrap_or_default()
            .to_ascii_lowercase(),
    };
    // Where the action works: its inputs may point into a subdirectory.
    let points_into_fork = || {
        region.fork.is_empty()
            || step.with.iter().any(|(_, value)| {
                value
                    .as_str()
                    .and_then(|v| workspace_path(v, ""))
                    .is_some_and(|p| !p.is_empty() && region.contains(&p))
            })
    };
    if let Some((_, input)) = COMMAND_ACTIONS.iter().find(|(action, _)| *action == name) {
        let script = step.with.text(input).map_or("", |t| t.value);
        let dir = step
            .with
            .text("working-directory")
            .and_then(|d| workspace_path(d.value, ""))
            .unwrap_or_default();
        return match script_execution(script, Some(dir), region, None) {
            Some((level, _, what)) => Behaviour::Executes(level, format!("{what} via `{shown}`")),
            None => Behaviour::Inert,
        };
    }
    if EXECUTING_ACTIONS.contains(&name.as_str()) {
        return if points_into_fork() {
            Behaviour::Executes(Level::Confirmed, format!("`{shown}`"))
        } else {
            Behaviour::Inert
        };
    }
    if CONFIG_LOADING_ACTIONS.contains(&name.as_str()) {
        return if points_into_fork() {
            Behaviour::Executes(Level::Likely, format!("`{shown}`"))
        } else {
            Behaviour::Inert
        };
    }
    match name.as_str() {
        // Without `context:` it builds from the event's Git ref, not the checkout.
        "docker/build-push-action" => {
            let context = step
                .with
                .text("context")
                .and_then(|c| workspace_path(c.value, ""));
            return match context {
                Some(dir) if region.contains(&dir) => {
                    Behaviour::Executes(Level::Confirmed, format!("`{shown}`"))
                }
                _ => Behaviour::Inert,
            };
        }
        "ruby/setup-ruby" => {
            let caches = step
                .with
                .text("bundler-cache")
                .is_some_and(|v| v.value.trim() == "true");
            return if caches && points_into_fork() {
                Behaviour::Executes(
                    Level::Confirmed,
                    format!("`{shown}` with `bundler-cache: true`"),
                )
            } else {
                Behaviour::Setup
            };
        }
        "pnpm/action-setup" => {
            let installs = step
                .with
                .get("run_install")
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.trim() != "false");
            return if installs && points_into_fork() {
                Behaviour::Executes(Level::Confirmed, format!("`{shown}` with `run_install`"))
            } else {
                Behaviour::Setup
            };
        }
        "actions/github-script" => {
            let script = step.with.text("script").map_or("", |t| t.value);
            let requires_checkout = [
                "require('./",
                "require(\"./",
                "require(`./",
                "process.cwd()",
            ]
            .iter()
            .any(|m| script.contains(m));
            return if requires_checkout && region.fork.is_empty() {
                Behaviour::Executes(
                    Level::Confirmed,
                    format!("`{shown}` loading a script from the checkout"),
                )
            } else {
                Behaviour::Inert
            };
        }
        _ => {}
    }
    if INERT_ACTIONS.contains(&name.as_str()) || name.starts_with("github/codeql-action/") {
        return Behaviour::Inert;
    }
    let action = name.rsplit('/').next().unwrap_or("");
    if action.starts_with("setup-") || name.contains("/setup-") {
        return Behaviour::Setup;
    }
    Behaviour::Opaque
}
