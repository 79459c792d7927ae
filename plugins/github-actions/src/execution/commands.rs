//! Classifying one shell command: does it run code from the checkout?

use super::{Level, Region};
use crate::checkout::workspace_path;
use crate::shell::{Command, Word};

/// What a command does with fork code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Runs(Level, String),
    /// Recognised, and does not run fork code as invoked.
    Safe,
    /// Not recognised.
    Unknown,
}

/// Whether one command runs fork code. `in_fork`: the command runs inside fork code.
pub(super) fn classify_command(
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
pub(super) fn is_harmless(command: &Command<'_>) -> bool {
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

/// `./build.sh`, `scripts/x`, `../y`.
fn looks_like_path(word: &str) -> bool {
    word.starts_with("./")
        || word.starts_with("../")
        || (word.contains('/') && !word.contains("://") && !word.starts_with('-'))
}

/// The command as shown in messages, shortened.
pub(super) fn summary(command: &Command<'_>) -> String {
    const LIMIT: usize = 60;
    let text = command.text();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}
