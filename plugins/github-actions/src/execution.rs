//! Does a job run the code it checked out?
//!
//! After fork code lands on disk, the steps that follow are classified one by one: build and
//! test tools, install commands and scripts run from the fork's directory execute it
//! (**confirmed**); tools that load configuration files from the working directory may
//! (**likely**); actions we know nothing about might (**opaque**). The analysis follows
//! directories: fork code checked out into `pr/` is only executed by commands that run in or
//! point into `pr/`, not by `npm ci` at the workspace root.

use sluice_pack_sdk::Span;

use crate::checkout::{ForkCheckout, change_directory, is_within, step_directory, workspace_path};
use crate::model::{Job, Step, Uses, Workflow};
use crate::shell::{self, Command, Word};

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
    let mut analysis = Analysis::default();
    let mut setup: Option<String> = None;
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
                },
            )
        } else if let Some(uses) = step.uses {
            match action_behaviour(step, region) {
                Behaviour::Executes(level, what) => Some(Execution {
                    level,
                    step_index: step.index,
                    span: uses.span(),
                    what,
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

/// The first command of a script that runs fork code: (level, byte range, description).
fn script_execution(
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

/// What a command does with fork code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Runs(Level, String),
    /// Recognised, and does not run fork code as invoked.
    Safe,
    /// Not recognised.
    Unknown,
}

/// Whether one command runs fork code. `in_fork`: the command runs inside fork code.
fn classify_command(
    command: &Command<'_>,
    cwd: Option<&str>,
    in_fork: bool,
    region: &Region,
) -> Verdict {
    let Some(program) = command.program() else {
        return Verdict::Safe;
    };
    let name = program.text.as_str();
    let args = command.args();
    let runs = |level| Verdict::Runs(level, format!("`{}`", summary(command)));
    // A program given as a path runs that file.
    if looks_like_path(name) {
        let in_region = cwd
            .and_then(|cwd| workspace_path(name, cwd))
            .is_some_and(|resolved| region.contains(&resolved));
        return if in_region {
            runs(Level::Confirmed)
        } else {
            Verdict::Safe
        };
    }
    if let Some(found) = interpreter(name, args, cwd, in_fork, region) {
        return match found {
            Some((level, what)) => Verdict::Runs(level, what),
            None => Verdict::Safe,
        };
    }
    let Some(level) = tool_level(name, args) else {
        return Verdict::Unknown;
    };
    let Some(level) = level else {
        return Verdict::Safe;
    };
    let targets_fork = in_fork
        || args.iter().any(|arg| {
            let value = arg
                .text
                .split_once('=')
                .map_or(arg.text.as_str(), |(_, v)| v);
            looks_like_path(value)
                && cwd
                    .and_then(|cwd| workspace_path(value, cwd))
                    .is_some_and(|p| region.contains(&p))
        });
    if targets_fork {
        runs(level)
    } else {
        Verdict::Safe
    }
}

/// `python x.py`, `node build.js`, `bash ./ci.sh`, `python -m pytest`: the script argument
/// decides. `None` when the program is not an interpreter.
fn interpreter(
    name: &str,
    args: &[Word<'_>],
    cwd: Option<&str>,
    in_fork: bool,
    region: &Region,
) -> Option<Option<(Level, String)>> {
    const INTERPRETERS: &[&str] = &[
        "python",
        "python3",
        "python2",
        "py",
        "node",
        "ruby",
        "perl",
        "bash",
        "sh",
        "zsh",
        "php",
        "pwsh",
        "powershell",
        "source",
        ".",
        "deno",
        "ts-node",
        "tsx",
    ];
    let base = name.rsplit('/').next().unwrap_or(name);
    let is_python =
        base.starts_with("python") && base[6..].chars().all(|c| c.is_ascii_digit() || c == '.');
    if !INTERPRETERS.contains(&base) && !is_python {
        return None;
    }
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        let text = arg.text.as_str();
        let shell = matches!(base, "bash" | "sh" | "zsh");
        match text {
            // Inline code written in the workflow: trusted.
            "-c" | "--eval" | "-Command" | "-command" => return Some(None),
            "-e" | "-E" | "-p" if !shell => return Some(None),
            "-m" if is_python => {
                let module = args.get(index + 1)?.text.as_str();
                let rest = &args[index + 2..];
                let level = match module {
                    "pip" => pip_install_level(rest),
                    "build" | "setuptools" | "unittest" => Some(Level::Confirmed),
                    // Standard-library helpers that never look at the project.
                    "venv" | "http.server" | "json.tool" | "ensurepip" | "site" | "zipfile"
                    | "tarfile" | "pip_audit" | "twine" => None,
                    // Python resolves `-m` modules from the working directory first.
                    other => tool_level(other, rest).unwrap_or(Some(Level::Likely)),
                };
                return Some(
                    level
                        .filter(|_| in_fork)
                        .map(|level| (level, format!("`{name} -m {module}`"))),
                );
            }
            "run" if base == "deno" => {}
            _ if text.starts_with('-') => {}
            script => {
                let resolved = cwd.and_then(|cwd| workspace_path(script, cwd));
                return Some(
                    resolved
                        .filter(|p| region.contains(p))
                        .map(|_| (Level::Confirmed, format!("`{name} {script}`"))),
                );
            }
        }
        index += 1;
    }
    Some(None)
}

/// How surely a known tool runs code from its working directory (`Some(None)`: it does not,
/// as invoked); `None` for tools we do not know.
fn tool_level(name: &str, args: &[Word<'_>]) -> Option<Option<Level>> {
    // Options that take a value before the subcommand (`npm --prefix pr install`).
    const VALUE_OPTIONS: &[&str] = &[
        "--prefix",
        "-C",
        "--cwd",
        "--dir",
        "--directory",
        "--filter",
        "-F",
        "--workspace",
        "-w",
        "--project",
        "--manifest-path",
        "-f",
        "--file",
    ];
    let words: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
    let mut sub = "";
    let mut position = 0;
    while let Some(word) = words.get(position) {
        if VALUE_OPTIONS.contains(word) {
            position += 2;
        } else if word.starts_with('-') {
            position += 1;
        } else {
            sub = word;
            break;
        }
    }
    let global = words.iter().any(|w| matches!(*w, "-g" | "--global"));
    let confirmed = |yes: bool| yes.then_some(Level::Confirmed);
    let level = match name {
        "npm" => confirmed(
            !global
                && matches!(
                    sub,
                    "install"
                        | "i"
                        | "ci"
                        | "run"
                        | "run-script"
                        | "test"
                        | "t"
                        | "start"
                        | "exec"
                        | "rebuild"
                        | "pack"
                        | "publish"
                        | "build"
                        | "restart"
                        | "stop"
                        | "install-test"
                        | "it"
                        | "install-ci-test"
                        | "cit"
                ),
        ),
        "yarn" => confirmed(
            !matches!(
                sub,
                "--version"
                    | "-v"
                    | "config"
                    | "cache"
                    | "global"
                    | "info"
                    | "why"
                    | "list"
                    | "audit"
                    | "set"
                    | "policies"
                    | "dlx"
                    | "npm"
                    | "version"
            ) && !global,
        ),
        "pnpm" => confirmed(!matches!(
            sub,
            "--version"
                | "-v"
                | "config"
                | "store"
                | "audit"
                | "list"
                | "ls"
                | "why"
                | "dlx"
                | "setup"
                | "env"
                | "outdated"
        )),
        "bun" => confirmed(!matches!(sub, "--version" | "-v" | "upgrade" | "x")),
        "npx" | "pnpx" | "bunx" => Some(Level::Likely),
        "pip" | "pip3" => pip_install_level(args),
        "uv" => match sub {
            "sync" | "run" | "build" => Some(Level::Confirmed),
            "pip" => pip_install_level(&args[1..]),
            _ => None,
        },
        "poetry" | "pipenv" | "pdm" | "hatch" => confirmed(matches!(
            sub,
            "install" | "run" | "build" | "sync" | "test" | "shell"
        )),
        "tox" | "nox" | "pytest" | "py.test" => Some(Level::Confirmed),
        "bundle" => confirmed(matches!(sub, "install" | "exec" | "")),
        "rake" | "make" | "gmake" | "cmake" | "ninja" | "meson" | "bazel" | "bazelisk" | "buck"
        | "buck2" | "just" | "task" | "mage" | "scons" | "earthly" | "autoreconf" => {
            Some(Level::Confirmed)
        }
        "gem" => confirmed(sub == "build"),
        "cargo" => confirmed(
            matches!(
                sub,
                "build"
                    | "b"
                    | "test"
                    | "t"
                    | "run"
                    | "r"
                    | "check"
                    | "c"
                    | "clippy"
                    | "bench"
                    | "doc"
                    | "nextest"
                    | "miri"
                    | "llvm-cov"
                    | "tarpaulin"
                    | "publish"
                    | "package"
            ) || (sub == "install" && words.contains(&"--path")),
        ),
        "go" => confirmed(
            matches!(sub, "build" | "test" | "run" | "generate" | "vet")
                || (sub == "install" && !words.iter().any(|w| w.contains('@'))),
        ),
        "mvn" | "gradle" | "ant" | "sbt" | "lein" | "mill" | "msbuild" | "xcodebuild" => {
            Some(Level::Confirmed)
        }
        "dotnet" => confirmed(matches!(
            sub,
            "build" | "test" | "run" | "restore" | "pack" | "publish" | "msbuild"
        )),
        "swift" => confirmed(matches!(sub, "build" | "test" | "run")),
        "flutter" | "dart" => confirmed(matches!(sub, "test" | "run" | "build" | "pub")),
        "mix" => Some(Level::Confirmed),
        "composer" => confirmed(matches!(
            sub,
            "install" | "update" | "run" | "run-script" | "i"
        )),
        "docker" => confirmed(
            matches!(sub, "build" | "compose") || (sub == "buildx" && words.contains(&"build")),
        ),
        "docker-compose" => Some(Level::Confirmed),
        "pre-commit" => confirmed(matches!(sub, "run" | "")),
        "terraform" | "terragrunt" | "tofu" => confirmed(matches!(
            sub,
            "init" | "plan" | "apply" | "validate" | "test"
        )),
        "ansible-playbook" => Some(Level::Confirmed),
        "lerna" | "nx" | "turbo" | "rush" => Some(Level::Confirmed),
        "jest" | "vitest" | "mocha" | "karma" | "playwright" | "cypress" | "ava" | "tap" => {
            Some(Level::Confirmed)
        }
        "eslint" | "stylelint" | "prettier" | "webpack" | "rollup" | "vite" | "next" | "nuxt"
        | "tsup" | "babel" | "commitlint" | "semantic-release" | "golangci-lint" | "mypy"
        | "pylint" | "flake8" | "rubocop" | "danger" | "tsc" => Some(Level::Likely),
        _ => return None,
    };
    Some(level)
}

/// `pip install` of the project itself, a requirements file or a local path runs code the
/// checkout chose; a named package from the index does not.
fn pip_install_level(args: &[Word<'_>]) -> Option<Level> {
    let words: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
    if words.first() != Some(&"install") {
        return None;
    }
    const WITH_VALUE: &[&str] = &[
        "--target",
        "-t",
        "--prefix",
        "--root",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--constraint",
        "-c",
        "--find-links",
        "-f",
        "--python-version",
        "--platform",
    ];
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        match *word {
            "-r" | "--requirement" | "-e" | "--editable" => return Some(Level::Confirmed),
            w if WITH_VALUE.contains(&w) => {
                rest.next();
            }
            w if w.starts_with("--requirement=") || w.starts_with("-r") && w.len() > 2 => {
                return Some(Level::Confirmed);
            }
            w if w.starts_with('-') => {}
            // `.`, `./pkg`, `.[dev]`, `.$EXTRAS`: the project in the working directory.
            w if w.starts_with('.') || looks_like_path(w) => {
                return Some(Level::Confirmed);
            }
            _ => {}
        }
    }
    None
}

/// Commands that only read or report.
fn is_harmless(command: &Command<'_>) -> bool {
    const HARMLESS: &[&str] = &[
        "echo",
        "printf",
        "cat",
        "grep",
        "egrep",
        "head",
        "tail",
        "wc",
        "sha256sum",
        "md5sum",
        "jq",
        "yq",
        "ls",
        "test",
        "[",
        "[[",
        "stat",
        "file",
        "diff",
        "cmp",
        "git",
        "gh",
        "curl",
        "wget",
        "mkdir",
        "cp",
        "mv",
        "rm",
        "ln",
        "touch",
        "chmod",
        "tee",
        "sed",
        "awk",
        "sort",
        "uniq",
        "cut",
        "tr",
        "find",
        "export",
        "set",
        "exit",
        "true",
        "false",
        "pwd",
        "date",
        "sleep",
        "base64",
        "tar",
        "unzip",
        "zip",
        "gzip",
        "which",
        "whoami",
        "env",
        "unset",
        "fi",
        "done",
        "esac",
        "for",
        "case",
        "read",
        "local",
        "shift",
        "return",
        "black",
        "autopep8",
        "yapf",
        "isort",
        "gofmt",
        "goimports",
        "gofumpt",
        "rustfmt",
        "clang-format",
        "shfmt",
        "markdownlint",
        "shellcheck",
        "actionlint",
        "zizmor",
        "apt-get",
        "apt",
        "yum",
        "dnf",
        "apk",
        "brew",
        "choco",
        "snap",
        "systemctl",
        "df",
        "free",
        "du",
        "uname",
        "id",
        "corepack",
        "rustup",
        "nvm",
        "sdk",
        "pipx",
        "conda",
        "az",
        "aws",
        "gcloud",
        "kubectl",
        "helm",
        "kind",
        "minikube",
        "ssh",
        "scp",
        "rsync",
        "openssl",
        "gpg",
        "sha1sum",
        "shasum",
        "xargs",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "printenv",
        "hostname",
    ];
    let Some(program) = command.program() else {
        return true;
    };
    let name = program.text.as_str();
    if HARMLESS.contains(&name) {
        return true;
    }
    // `node --version`, `python -V`: an interpreter with only flags runs nothing.
    let only_flags = command.args().iter().all(|a| a.text.starts_with('-'));
    only_flags && !command.args().is_empty()
}

/// What an action step does with the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Behaviour {
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

fn action_behaviour(step: &Step<'_>, region: &Region) -> Behaviour {
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

/// `./build.sh`, `scripts/x`, `../y`.
fn looks_like_path(word: &str) -> bool {
    word.starts_with("./")
        || word.starts_with("../")
        || (word.contains('/') && !word.contains("://") && !word.starts_with('-'))
}

/// The command as shown in messages, shortened.
fn summary(command: &Command<'_>) -> String {
    const LIMIT: usize = 60;
    let text = command.text();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
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
