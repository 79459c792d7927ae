//! Questions about job scripts: which commands build or run the checked-out code, where
//! `$[[ inputs.x ]]` is interpolated, positions of substrings.

use std::ops::Range;

use sluice_pack_sdk::Span;
use sluice_pack_sdk::shell::{self, Command};

use crate::model::At;

/// The span of `range` of a script scalar, or the scalar's span when it cannot be mapped.
pub fn span_in(at: &At<'_>, range: Range<usize>) -> Span {
    at.node.span_of(range).unwrap_or(at.node.span)
}

/// Programs that run code from the repository (build tools, package managers running
/// lifecycle scripts, interpreters on project files).
const BUILD_PROGRAMS: &[&str] = &[
    "make",
    "cmake",
    "ninja",
    "meson",
    "cargo",
    "go",
    "mvn",
    "mvnw",
    "gradle",
    "gradlew",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "bun",
    "pip",
    "pip3",
    "poetry",
    "pipenv",
    "tox",
    "nox",
    "pytest",
    "python",
    "python3",
    "node",
    "ruby",
    "bundle",
    "rake",
    "composer",
    "php",
    "dotnet",
    "msbuild",
    "bazel",
    "bazelisk",
    "sbt",
    "ant",
    "mix",
    "rebar3",
    "swift",
    "xcodebuild",
    "flutter",
    "dart",
    "deno",
    "perl",
    "uv",
    "hatch",
    "pdm",
    "just",
    "task",
    "scons",
];

/// The first command of `script` that runs repository code, with its byte range.
pub fn build_command(script: &str) -> Option<(Range<usize>, String)> {
    shell::commands(script)
        .into_iter()
        .find(|command| runs_repository_code(command))
        .map(|command| (command.range.clone(), short(&command.text())))
}

/// The first build command of a job's script lines that runs in the job's own checkout:
/// commands after `cd` into a directory the job cloned with `git clone` build that other
/// repository, not the merge request's code.
pub fn build_in_checkout<'a>(
    lines: &[(&'static str, At<'a>)],
) -> Option<(At<'a>, Range<usize>, String)> {
    let mut clones: Vec<String> = Vec::new();
    let mut in_clone = false;
    for (_, at) in lines {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        for command in shell::commands(script) {
            let Some(program) = command.program() else {
                continue;
            };
            let args: Vec<&str> = command.args().iter().map(|w| w.text.as_str()).collect();
            if program.text == "git" && args.first() == Some(&"clone") {
                let operands: Vec<&str> = args[1..]
                    .iter()
                    .copied()
                    .filter(|a| !a.starts_with('-'))
                    .collect();
                // `--branch x`, `--depth 1` take values: the URL is the operand with `/` or `:`.
                if let Some(url_index) = operands
                    .iter()
                    .position(|o| o.contains("://") || o.contains('@'))
                {
                    let directory = operands.get(url_index + 1).map_or_else(
                        || {
                            operands[url_index]
                                .trim_end_matches('/')
                                .rsplit('/')
                                .next()
                                .unwrap_or_default()
                                .trim_end_matches(".git")
                                .to_owned()
                        },
                        |d| (*d).to_owned(),
                    );
                    clones.push(directory.trim_end_matches('/').to_owned());
                }
                continue;
            }
            if program.text == "cd" || program.text == "pushd" {
                let target = args
                    .first()
                    .copied()
                    .unwrap_or_default()
                    .trim_end_matches('/');
                in_clone = clones.iter().any(|c| {
                    !c.is_empty() && (target == c || target.starts_with(&format!("{c}/")))
                });
                continue;
            }
            if !in_clone && runs_repository_code(&command) {
                return Some((*at, command.range.clone(), short(&command.text())));
            }
        }
    }
    None
}

/// A command for messages: at most 60 characters.
pub fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn runs_repository_code(command: &Command<'_>) -> bool {
    let Some(program) = command.program() else {
        return false;
    };
    let text = program.text.as_str();
    if text.contains('$') {
        return false;
    }
    // `./configure`, `scripts/build.sh`: a file of the repository.
    if text.starts_with("./") || (text.contains('/') && !text.starts_with('/')) {
        return true;
    }
    let name = text.rsplit('/').next().unwrap_or(text);
    let args = command.args();
    let first = args.first().map(|w| w.text.as_str()).unwrap_or_default();
    if first == "--version" || first == "-v" || first == "version" {
        return false;
    }
    if matches!(name, "sh" | "bash" | "zsh") {
        // `bash build.sh` runs a repository file; `bash -c "…"` runs its argument.
        return !first.is_empty() && !first.starts_with('-');
    }
    if name == "docker" || name == "podman" || name == "buildah" {
        return matches!(first, "build" | "buildx" | "compose" | "bud");
    }
    let words: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    // Installing a named tool from a registry runs the tool's code, not the repository's.
    let installs_from_registry = |words: &[&str]| {
        words.first() == Some(&"install")
            && !words[1..].iter().any(|w| {
                matches!(
                    *w,
                    "." | "-e" | "--editable" | "-r" | "--requirement" | "--path"
                ) || w.starts_with("./")
                    || w.starts_with("-r")
            })
            && words.len() > 1
    };
    match name {
        "go" => {
            return matches!(first, "build" | "test" | "run" | "generate" | "vet")
                || (first == "install" && !words.iter().any(|w| w.contains('@')));
        }
        "pip" | "pip3" | "cargo" | "uv" | "gem" => return !installs_from_registry(&words),
        "python" | "python3" if words.first() == Some(&"-m") => {
            let module = words.get(1).copied().unwrap_or_default();
            return !(matches!(module, "pip" | "venv" | "ensurepip")
                && (module != "pip" || installs_from_registry(&words[2..])));
        }
        "python" | "python3" if first == "-c" => return false,
        "npm" | "yarn" | "pnpm" => {
            return !words
                .iter()
                .any(|w| *w == "-g" || *w == "--global" || *w == "global");
        }
        _ => {}
    }
    BUILD_PROGRAMS.contains(&name)
}

/// One `$[[ inputs.name ]]` interpolation in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRef {
    pub name: String,
    pub range: Range<usize>,
}

/// Every `$[[ inputs.x ]]` (also with functions: `$[[ inputs.x | expand_vars ]]`).
pub fn input_refs(text: &str) -> Vec<InputRef> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("$[[") {
        let start = from + offset;
        let Some(close) = text[start..].find("]]") else {
            break;
        };
        let end = start + close + 2;
        let inner = text[start + 3..start + close].trim();
        if let Some(rest) = inner.strip_prefix("inputs.") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if !name.is_empty() {
                found.push(InputRef {
                    name,
                    range: start..end,
                });
            }
        }
        from = end;
    }
    found
}

pub use sluice_pack_sdk::text::dollar_variables as dollar_expressions;

/// Names of variables a text references (`$X`, `${X}`).
pub fn referenced_names(text: &str) -> Vec<String> {
    dollar_expressions(text)
        .into_iter()
        .map(|r| {
            text[r]
                .trim_start_matches('$')
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_owned()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_build_commands() {
        assert!(build_command("npm ci && npm test").is_some());
        assert!(build_command("./configure --prefix=/usr").is_some());
        assert!(build_command("echo make; ls").is_none());
        assert!(build_command("bash -c 'echo hi'").is_none());
        assert!(build_command("python --version").is_none());
        assert!(build_command("go install example.com/tool@latest").is_none());
        assert!(build_command("pip install tox").is_none());
        assert!(build_command("pip install -r requirements.txt").is_some());
        assert!(build_command("python -m pip install -e .").is_some());
        assert!(build_command("npm install -g yarn").is_none());
        assert!(build_command("go test ./...").is_some());
    }

    #[test]
    fn builds_in_a_cloned_repository_are_not_checkout_builds() {
        let docs = sluice_pack_sdk::yaml::parse(
            "- git clone --depth 1 --branch main https://gitlab.com/o/docs.git\n- cd docs\n- make icons\n- cd ..\n- make\n",
        )
        .expect("valid");
        let items = docs[0].root.as_sequence().expect("list");
        let lines: Vec<(&'static str, At<'_>)> = items
            .iter()
            .map(|node| ("script", At { path: "f", node }))
            .collect();
        let (at, _, text) = build_in_checkout(&lines).expect("the second make builds the checkout");
        assert_eq!(text, "make");
        assert_eq!(at.node.span.start_line, 5);
    }

    #[test]
    fn finds_inputs() {
        let refs = input_refs("echo $[[ inputs.title ]] $[[inputs.n | expand_vars]]");
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].name, "title");
        assert_eq!(refs[1].name, "n");
    }
}
