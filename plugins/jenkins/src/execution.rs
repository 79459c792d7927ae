//! Does a script run code from the workspace (the change request's checkout)?
//!
//! Build tools, package managers with lifecycle scripts, interpreters given a file, and
//! programs named by a relative path all execute files the pull request controls. Commands
//! such as `curl`, `docker login`, `echo` or `git push` do not. Unrecognised programs are not
//! counted: a rule needing "runs workspace code" then stays silent rather than guess.

use sluice_pack_sdk::shell::{self, Command};

use crate::lexer::PLACEHOLDER;
use crate::model::ScriptStep;
use crate::syntax::File;

/// Tools that run project files (build definitions, tests, lifecycle scripts) whatever their
/// arguments.
const BUILD_TOOLS: &[&str] = &[
    "make",
    "gmake",
    "cmake",
    "ninja",
    "mvn",
    "gradle",
    "ant",
    "sbt",
    "lein",
    "bazel",
    "bazelisk",
    "buck",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "bun",
    "deno",
    "cargo",
    "go",
    "dotnet",
    "msbuild",
    "nuget",
    "pip",
    "pip3",
    "pipenv",
    "poetry",
    "uv",
    "tox",
    "nox",
    "pytest",
    "bundle",
    "rake",
    "rspec",
    "composer",
    "mix",
    "swift",
    "xcodebuild",
    "pod",
    "fastlane",
    "flutter",
    "dart",
    "docker-compose",
    "terraform",
    "tofu",
    "packer",
    "ansible-playbook",
    "helmfile",
    "conan",
    "meson",
    "scons",
    "phpunit",
    "jest",
    "mocha",
    "grunt",
    "gulp",
];

/// Interpreters: they run workspace code when given a file (not `-c`/`-e` code alone).
const INTERPRETERS: &[&str] = &[
    "python",
    "python3",
    "python2",
    "node",
    "ruby",
    "perl",
    "php",
    "bash",
    "sh",
    "zsh",
    "pwsh",
    "powershell",
    "groovy",
    "java",
    "Rscript",
    "lua",
];

/// The first command of a script step that runs workspace code, as written; `None` when no
/// recognised command does. A script that is not a literal (a variable, a call) counts as
/// running code: nothing shows it does not.
pub fn runs_workspace_code(file: &File, step: &ScriptStep<'_>) -> Option<String> {
    let Some(script) = step.script.and_then(|s| file.string(s)) else {
        return Some(format!("`{}` with a computed script", step.call.name));
    };
    shell::commands(&script.cooked)
        .iter()
        .find(|command| command_runs_code(command))
        .map(|command| format!("`{}`", summary(command)))
}

fn command_runs_code(command: &Command<'_>) -> bool {
    let Some(program) = command.program() else {
        return false;
    };
    let name = program.text.as_str();
    let args = command.args();
    let version_only = !args.is_empty()
        && args.iter().all(|a| {
            matches!(
                a.text.as_str(),
                "-v" | "-V" | "-version" | "--version" | "version"
            )
        });
    if version_only {
        return false;
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    // `./gradlew`, `ci/build.sh`, `.\build.ps1`: a file of the workspace.
    if (name.contains('/') || name.contains('\\'))
        && !name.starts_with('/')
        && !name.starts_with('$')
    {
        return true;
    }
    if matches!(base, "mvnw" | "gradlew") || BUILD_TOOLS.contains(&base) {
        return true;
    }
    if base == "docker" || base == "podman" || base == "buildah" {
        return command
            .args()
            .first()
            .is_some_and(|a| matches!(a.text.as_str(), "build" | "buildx" | "compose"));
    }
    if INTERPRETERS.contains(&base) {
        let inline_only = args.iter().any(|a| {
            matches!(
                a.text.as_str(),
                "-c" | "-e" | "--eval" | "-Command" | "--version" | "-version" | "-V"
            )
        });
        return !inline_only && args.iter().any(|a| !a.text.starts_with('-'));
    }
    false
}

fn summary(command: &Command<'_>) -> String {
    let text = command.text().replace(PLACEHOLDER, "${…}");
    if text.chars().count() > 50 {
        format!("{}…", text.chars().take(49).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::syntax::parse;

    fn runs(script: &str) -> bool {
        let source = format!("sh '''{script}'''");
        let file = parse(&source).expect("parses");
        let model = Model::build(&file, "Jenkinsfile");
        runs_workspace_code(&file, &model.scripts[0]).is_some()
    }

    #[test]
    fn classifies_commands() {
        assert!(runs("mvn -B verify"));
        assert!(runs("./gradlew build"));
        assert!(runs("cd x && make"));
        assert!(runs("python3 ci/check.py"));
        assert!(runs("sudo -E npm ci"));
        assert!(runs("docker build -t x ."));
        assert!(!runs(
            "curl -sf -H \"Authorization: Bearer $TOKEN\" https://example.com"
        ));
        assert!(!runs("docker login -u bot -p $KEY"));
        assert!(!runs("python3 -c 'print(1)'"));
        assert!(!runs("java -version"));
        assert!(!runs("/usr/bin/env"));
        assert!(!runs("mvn -version"));
    }
}
