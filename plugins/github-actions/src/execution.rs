//! Does a job run the code it checked out?
//!
//! After fork code lands on disk, the steps that follow are classified one by one: build and
//! test tools, install commands and scripts run from the fork's directory execute it
//! (**confirmed**); tools that load configuration files from the working directory may
//! (**likely**); actions we know nothing about might (**opaque**). The analysis follows
//! directories: fork code checked out into `pr/` is only executed by commands that run in or
//! point into `pr/`, not by `npm ci` at the workspace root.

mod actions;
mod commands;

use sluice_pack_sdk::Span;

use self::actions::{Behaviour, action_behaviour};
use self::commands::{Verdict, classify_command, is_harmless, summary};
use crate::checkout::{
    ForkCheckout, TrustedCheckout, change_directory, is_within, step_directory, workspace_path,
};
use crate::model::{Job, Step, Workflow};
use crate::repository::Repository;
use crate::shell;

/// How sure we are that fork code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A tool that loads configuration (and so possibly code) from the checkout.
    Likely,
    /// The fork's code is built, installed, tested or run.
    Confirmed,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Likely => "likely",
            Level::Confirmed => "confirmed",
        }
    }
}

/// The first step that runs fork code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub level: Level,
    pub step_index: usize,
    /// The command or the `uses:` value.
    pub span: Span,
    /// What runs, for messages (`npm install`, `./build.sh`, `the local action ./x`).
    pub what: String,
    /// Where the code runs when that is inside a local composite action of the repository:
    /// (action path, span there). [`Execution::span`] is then the calling `uses:`.
    pub remote: Option<(String, Span)>,
}

/// What follows a fork checkout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The first execution of fork code, if any was recognised.
    pub execution: Option<Execution>,
    /// The first later step whose behaviour is unknown (a third-party action), as
    /// (step index, `uses:` value).
    pub opaque: Option<(usize, String)>,
}

/// Where fork code is, and which subdirectories were overwritten by trusted checkouts.
#[derive(Debug, Clone)]
pub struct Region {
    pub fork: String,
    pub trusted: Vec<String>,
}

impl Region {
    /// Where `fork` put pull request code, less the subdirectories that trusted checkouts
    /// replaced: a trusted checkout into a subdirectory of the fork checkout replaces that part,
    /// unless the fork checkout ran later (and cleaned it away).
    pub fn after_checkout(fork: &ForkCheckout<'_, '_>, trusted: &[TrustedCheckout]) -> Region {
        Region {
            fork: fork.path.clone(),
            trusted: trusted
                .iter()
                .filter(|t| {
                    t.path != fork.path
                        && (t.step_index > fork.step.index || !is_within(&t.path, &fork.path))
                })
                .map(|t| t.path.clone())
                .collect(),
        }
    }

    /// Whether `dir` (workspace-relative) holds fork code.
    pub fn contains(&self, dir: &str) -> bool {
        is_within(dir, &self.fork)
            && !self
                .trusted
                .iter()
                .any(|t| t.len() > self.fork.len() && is_within(dir, t))
    }
}

/// Classifies the steps after `checkout`.
pub fn analyze(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    checkout: &ForkCheckout<'_, '_>,
    region: &Region,
) -> Analysis {
    analyze_in(workflow, job, checkout, region, None)
}

/// [`analyze`], also looking into the steps of local composite actions found in
/// `repository` (the workflow's file is `path`).
pub fn analyze_in(
    workflow: &Workflow<'_>,
    job: &Job<'_>,
    checkout: &ForkCheckout<'_, '_>,
    region: &Region,
    repository: Option<(&str, &Repository<'_>)>,
) -> Analysis {
    let mut analysis = Analysis::default();
    // A toolchain installed before the checkout serves the commands after it just the same.
    let mut setup: Option<String> = job
        .steps
        .iter()
        .filter(|s| s.index < checkout.step.index && s.uses.is_some())
        .find(|s| action_behaviour(s, region) == Behaviour::Setup)
        .and_then(|s| s.uses)
        .map(|uses| uses.value.trim().to_owned());
    let mut inert_locals: Vec<(String, Option<String>)> = Vec::new();
    for step in job.steps.iter().filter(|s| s.index >= checkout.step.index) {
        let same_step = step.index == checkout.step.index;
        if same_step && checkout.script_rest.is_none() {
            continue;
        }
        let found = if let Some(run) = step.run {
            let start = if same_step {
                checkout.script_rest.unwrap_or(0)
            } else {
                0
            };
            let mut cwd = step_directory(workflow, job, step);
            if same_step {
                // The checkout command ran somewhere; replay `cd`s before it.
                for command in shell::commands(&run.value[..start]) {
                    if command.program().is_some_and(|p| p.text == "cd") {
                        cwd = change_directory(cwd.as_deref(), &command);
                    }
                }
            }
            script_execution(&run.value[start..], cwd, region, setup.as_deref()).map(
                |(level, range, what)| Execution {
                    level,
                    step_index: step.index,
                    span: run.span_of(range.start + start..range.end + start),
                    what,
                    remote: None,
                },
            )
        } else if let Some(uses) = step.uses
            && let Some(found) = repository.and_then(|(path, repository)| {
                // The same local action called again finds nothing again.
                let key = (uses.value.trim().to_owned(), setup.clone());
                if inert_locals.contains(&key) {
                    return None;
                }
                let found =
                    local_action_execution(path, repository, step, region, setup.as_deref());
                if found.is_none() {
                    inert_locals.push(key);
                }
                found
            })
        {
            Some(Execution {
                level: found.0,
                step_index: step.index,
                span: uses.span(),
                what: format!("{} in the local action `{}`", found.1, uses.value.trim()),
                remote: Some(found.2),
            })
        } else if let Some(uses) = step.uses {
            match action_behaviour(step, region) {
                Behaviour::Executes(level, what) => Some(Execution {
                    level,
                    step_index: step.index,
                    span: uses.span(),
                    what,
                    remote: None,
                }),
                Behaviour::Setup => {
                    setup.get_or_insert_with(|| uses.value.trim().to_owned());
                    None
                }
                Behaviour::Inert => None,
                Behaviour::Opaque => {
                    analysis
                        .opaque
                        .get_or_insert_with(|| (step.index, uses.value.trim().to_owned()));
                    None
                }
            }
        } else {
            None
        };
        if let Some(found) = found {
            analysis.execution = Some(found);
            break;
        }
    }
    analysis
}

/// The first step of the local composite action `step` calls (through nested local actions)
/// that runs fork code: (level, description, (action path, span)).
fn local_action_execution(
    path: &str,
    repository: &Repository<'_>,
    step: &Step<'_>,
    region: &Region,
    setup: Option<&str>,
) -> Option<(Level, String, (String, Span))> {
    repository
        .expand_action(path_in(repository, path)?, step, &[])
        .into_iter()
        .find_map(|reached| {
            let inner = reached.step;
            if let Some(run) = inner.run {
                // Composite steps start in the caller's workspace.
                let cwd = match inner.working_directory {
                    Some(dir) => workspace_path(dir.value, ""),
                    None => Some(String::new()),
                };
                let (level, range, what) = script_execution(run.value, cwd, region, setup)?;
                Some((level, what, (reached.path.to_owned(), run.span_of(range))))
            } else if let Behaviour::Executes(level, what) = action_behaviour(inner, region) {
                let uses = inner.uses?;
                Some((level, what, (reached.path.to_owned(), uses.span())))
            } else {
                None
            }
        })
}

/// The repository's own copy of `path` (so resolved paths borrow from it).
fn path_in<'a>(repository: &Repository<'a>, path: &str) -> Option<&'a str> {
    repository.entries().map(|(p, _)| p).find(|p| *p == path)
}

/// The first command of a script that runs fork code: (level, byte range, description).
pub(super) fn script_execution(
    script: &str,
    mut cwd: Option<String>,
    region: &Region,
    setup: Option<&str>,
) -> Option<(Level, std::ops::Range<usize>, String)> {
    // A recognised command anywhere in the script beats the setup-action guess.
    let mut guess = None;
    for command in shell::commands(script) {
        let Some(program) = command.program() else {
            continue;
        };
        if program.text == "cd" || program.text == "pushd" {
            cwd = change_directory(cwd.as_deref(), &command);
            continue;
        }
        let in_fork = cwd.as_deref().is_some_and(|dir| region.contains(dir));
        let verdict = classify_command(&command, cwd.as_deref(), in_fork, region);
        if let Verdict::Runs(level, what) = verdict {
            return Some((level, command.range.clone(), what));
        }
        if let Some(setup) = setup
            && verdict == Verdict::Unknown
            && guess.is_none()
            && in_fork
            && !is_harmless(&command)
        {
            guess = Some((
                Level::Likely,
                command.range.clone(),
                format!("`{}` after `{setup}`", summary(&command)),
            ));
        }
    }
    guess
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Region {
        Region {
            fork: String::new(),
            trusted: Vec::new(),
        }
    }

    fn sub(fork: &str) -> Region {
        Region {
            fork: fork.to_owned(),
            trusted: Vec::new(),
        }
    }

    fn first(script: &str, region: &Region) -> Option<(Level, String)> {
        script_execution(script, Some(String::new()), region, None)
            .map(|(level, range, _)| (level, script[range].to_owned()))
    }

    #[test]
    fn build_commands_run_fork_code() {
        let region = root();
        for script in [
            "npm install",
            "npm ci && npm test",
            "yarn",
            "pnpm install --frozen-lockfile",
            "pip install -e .",
            "pip install -r requirements.txt",
            "python -m pip install .",
            "make test",
            "sudo make install",
            "./gradlew build",
            "bash scripts/ci.sh",
            "python setup.py test",
            "cargo test --all",
            "go test ./...",
            "docker build -t x .",
            "pytest",
        ] {
            assert_eq!(
                first(script, &region).map(|(level, _)| level),
                Some(Level::Confirmed),
                "{script}"
            );
        }
    }

    #[test]
    fn config_loading_tools_are_likely() {
        assert_eq!(
            first("npx eslint .", &root()).map(|(l, _)| l),
            Some(Level::Likely)
        );
        assert_eq!(
            first("eslint .", &root()).map(|(l, _)| l),
            Some(Level::Likely)
        );
    }

    #[test]
    fn harmless_scripts_do_not_run_fork_code() {
        for script in [
            "echo make",
            "git diff --name-only origin/main",
            "pip install black flake8",
            "npm install -g yarn",
            "cat package.json | jq .version",
            "# npm install\necho done",
            "python -c 'print(1)'",
            "cargo fmt --check",
            "go install golang.org/x/tools/cmd/goimports@latest",
        ] {
            assert_eq!(first(script, &root()), None, "{script}");
        }
    }

    #[test]
    fn directories_are_followed() {
        let region = sub("pr");
        assert_eq!(first("npm ci", &region), None);
        assert_eq!(first("python base/check.py pr/", &region), None);
        assert_eq!(
            first("cd pr && npm ci", &region),
            Some((Level::Confirmed, "npm ci".to_owned()))
        );
        assert_eq!(
            first("npm --prefix ./pr install", &region),
            Some((Level::Confirmed, "npm --prefix ./pr install".to_owned()))
        );
        assert_eq!(
            first("python pr/setup.py", &region),
            Some((Level::Confirmed, "python pr/setup.py".to_owned()))
        );
        assert_eq!(first("cd /tmp && make", &region), None);
    }

    #[test]
    fn trusted_subdirectories_are_excluded() {
        let region = Region {
            fork: String::new(),
            trusted: vec!["base".to_owned()],
        };
        assert!(region.contains("src"));
        assert!(!region.contains("base/scripts"));
        assert_eq!(first("bash base/scripts/check.sh", &region), None);
        assert!(first("bash scripts/check.sh", &region).is_some());
    }

    #[test]
    fn setup_actions_make_unknown_commands_likely() {
        let hit = script_execution(
            "some-tool generate",
            Some(String::new()),
            &root(),
            Some("actions/setup-node@v4"),
        );
        assert_eq!(hit.map(|(level, _, _)| level), Some(Level::Likely));
        let none = script_execution(
            "echo hi && node --version",
            Some(String::new()),
            &root(),
            Some("actions/setup-node@v4"),
        );
        assert_eq!(none, None);
    }
}
