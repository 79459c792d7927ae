//! Which Groovy values carry attacker-controlled text: the sources of [`crate::sources`] and
//! the variables that copy them (`environment { TITLE = "${env.CHANGE_TITLE}" }`,
//! `def title = env.CHANGE_TITLE`, `withEnv(["T=${env.CHANGE_TITLE}"])`, and the output of
//! `sh(script: 'git log -1 --pretty=%B', returnStdout: true)`).
//!
//! Aliases are collected over the whole file, not per scope: a name assigned from a source
//! anywhere counts everywhere (Jenkinsfiles rarely reuse a name for unrelated values).

use std::collections::BTreeMap;

use crate::lexer::StrLit;
use crate::sources::{self, Origin, Tier};
use crate::syntax::{Call, Expr, ExprKind, File, visit_calls};

/// A variable holding attacker-controlled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub origin: Origin,
    /// Set in the build environment (visible to the shell as `$NAME`), not only in Groovy.
    pub environment: bool,
}

/// Every alias of a file.
#[derive(Debug, Clone, Default)]
pub struct Taint {
    aliases: BTreeMap<String, Alias>,
    /// Parameters that cannot hold free text: `booleanParam`, `choice` (Jenkins rejects a
    /// value outside the choices).
    closed_parameters: Vec<String>,
}

/// Parameter definitions whose values are not free text.
const CLOSED_PARAMETER_TYPES: &[&str] = &["booleanParam", "choice", "choiceParam"];

/// Parameter definitions holding free text. Jenkins also exposes every parameter as an
/// environment variable of the same name, so `${NAME}`, `env.NAME` and the shell's `$NAME`
/// carry it too.
const OPEN_PARAMETER_TYPES: &[&str] = &["string", "text", "password", "stringParam", "textParam"];

/// Methods that return their receiver's text (or part of it) unchanged in kind.
const PRESERVING: &[&str] = &[
    "trim",
    "strip",
    "toString",
    "toLowerCase",
    "toUpperCase",
    "capitalize",
    "take",
    "drop",
    "substring",
    "stripIndent",
    "readLines",
    "join",
    "replace",
    "replaceAll",
    "replaceFirst",
];

/// Methods whose result is not text (a test or a number).
const NOT_TEXT: &[&str] = &[
    "startsWith",
    "endsWith",
    "contains",
    "equals",
    "matches",
    "isEmpty",
    "length",
    "size",
    "toInteger",
    "toLong",
    "hashCode",
    "asBoolean",
    "isNumber",
    "isInteger",
];

impl Taint {
    /// Collects the aliases of `file` (two passes, so an alias of an alias is found).
    pub fn collect(file: &File) -> Taint {
        let mut taint = Taint::default();
        let mut open_parameters = Vec::new();
        // Only this job's own definitions: `parameters { … }` / `properties([parameters([…])])`,
        // not `build job: …, parameters: [string(name: …, value: …)]` for another job.
        let mut definitions = Vec::new();
        visit_calls(&file.statements, &mut |call| {
            if call.name == "parameters" && call.receiver.is_none() {
                let mut inside = |definition: &Call| definitions.push(definition.clone());
                for arg in &call.args {
                    crate::syntax::visit_expr_calls(&arg.value, &mut inside);
                }
                if let Some(block) = &call.closure {
                    visit_calls(block, &mut inside);
                }
            }
        });
        for call in &definitions {
            let Some(name) = call.named("name").and_then(|e| file.constant(e)) else {
                continue;
            };
            if CLOSED_PARAMETER_TYPES.contains(&call.name.as_str()) {
                taint.closed_parameters.push(name.to_owned());
            } else if OPEN_PARAMETER_TYPES.contains(&call.name.as_str())
                && call.named("credentialsId").is_none()
                && call.receiver.is_none()
            {
                open_parameters.push(name.to_owned());
            }
        }
        for name in open_parameters {
            if let Some(origin) = sources::origin_of_path(&["params", &name]) {
                taint.aliases.entry(name).or_insert(Alias {
                    origin,
                    environment: true,
                });
            }
        }
        for _ in 0..2 {
            let mut found = Vec::new();
            collect_block(file, &file.statements, &taint, false, &mut found);
            visit_calls(&file.statements, &mut |call| {
                if call.name == "withEnv" {
                    taint.with_env(file, call, &mut found);
                }
            });
            for (name, alias) in found {
                taint.aliases.entry(name).or_insert(alias);
            }
        }
        taint
    }

    fn with_env(&self, file: &File, call: &Call, found: &mut Vec<(String, Alias)>) {
        let Some(Expr {
            kind: ExprKind::List(items),
            ..
        }) = call.positional(0)
        else {
            return;
        };
        for item in items {
            let Some(lit) = file.string(item) else {
                continue;
            };
            let Some((name, _)) = lit.cooked.split_once('=') else {
                continue;
            };
            if let Some(origin) = self.string_origin(lit) {
                found.push((
                    name.trim().to_owned(),
                    Alias {
                        origin,
                        environment: true,
                    },
                ));
            }
        }
    }

    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.get(name)
    }

    /// Environment variables the shell sees with attacker text: sources and env aliases.
    pub fn is_shell_tainted(&self, name: &str) -> bool {
        sources::source(name).is_some() || self.alias(name).is_some_and(|a| a.environment)
    }

    /// The origin of a shell variable name (`$TITLE`).
    pub fn shell_origin(&self, name: &str) -> Option<Origin> {
        if let Some(found) = sources::origin_of_path(&[name]) {
            return Some(found);
        }
        self.alias(name)
            .filter(|a| a.environment)
            .map(|a| aliased(name, &a.origin))
    }

    /// The origin of a dotted Groovy path (`env.CHANGE_TITLE.trim`, `title`).
    pub fn path_origin(&self, segments: &[String]) -> Option<Origin> {
        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
        // The part that names the value, then methods applied to it.
        let (value, methods): (&[&str], &[&str]) = match refs.as_slice() {
            ["env" | "params", _, rest @ ..] => (&refs[..2], rest),
            [_, rest @ ..] => (&refs[..1], rest),
            [] => return None,
        };
        if methods
            .iter()
            .any(|m| NOT_TEXT.contains(m) || !PRESERVING.contains(m))
        {
            return None;
        }
        if let ["params", name] = value
            && self.closed_parameters.iter().any(|p| p == name)
        {
            return None;
        }
        if let Some(found) = sources::origin_of_path(value) {
            return Some(found);
        }
        let name = value.last()?;
        let alias = self.alias(name)?;
        // `env.X` reads only environment aliases; a bare name reads either.
        (value.len() == 1 || alias.environment).then(|| aliased(name, &alias.origin))
    }

    /// The origin of an interpolation's Groovy expression (`${env.CHANGE_TITLE}`).
    pub fn interpolation_origin(&self, expr: &str) -> Option<Origin> {
        // A ternary, comparison or method call on something else is not plain text.
        let rest_is_call_chain = |expr: &str| {
            !expr.contains("==")
                && !expr.contains("!=")
                && !expr.contains(" ? ")
                && !expr.starts_with('!')
        };
        if !rest_is_call_chain(expr) {
            return None;
        }
        // `.replaceAll('[^A-Za-z0-9._-]', '')` keeps only the listed characters: sanitised.
        if expr.contains("replaceAll(") && expr.contains("[^") {
            return None;
        }
        let path = sources::leading_path(expr);
        if path.is_empty() {
            return None;
        }
        self.path_origin(&path)
    }

    /// The first attacker-controlled interpolation of a string.
    pub fn string_origin(&self, lit: &StrLit) -> Option<Origin> {
        lit.interpolations
            .iter()
            .find_map(|i| self.interpolation_origin(&i.expr))
    }

    /// The origin of a Groovy value: a source, an alias, a string interpolating one, a
    /// concatenation containing one.
    pub fn expr_origin(&self, file: &File, expr: &Expr) -> Option<Origin> {
        match &expr.kind {
            ExprKind::Path(segments) => self.path_origin(segments),
            ExprKind::Str(_) => file.string(expr).and_then(|lit| self.string_origin(lit)),
            ExprKind::Concat(parts) => parts.iter().find_map(|p| self.expr_origin(file, p)),
            ExprKind::Call(call) => {
                if let Some(origin) = commit_metadata_output(file, call) {
                    return Some(origin);
                }
                let receiver = call.receiver.as_ref()?;
                if !PRESERVING.contains(&call.name.as_str()) {
                    return None;
                }
                self.expr_origin(file, receiver)
            }
            _ => None,
        }
    }
}

fn aliased(name: &str, origin: &Origin) -> Origin {
    // A copy of a copy names the original source only.
    let root = origin
        .display
        .rsplit(" (a copy of ")
        .next()
        .unwrap_or(&origin.display)
        .trim_end_matches(')');
    Origin {
        display: format!("{name} (a copy of {root})"),
        ..origin.clone()
    }
}

fn collect_block(
    file: &File,
    block: &[Expr],
    taint: &Taint,
    in_environment: bool,
    found: &mut Vec<(String, Alias)>,
) {
    for expr in block {
        match &expr.kind {
            ExprKind::Assign { target, value } => {
                if let (Some(name), Some(origin)) =
                    (assigned_name(target), taint.expr_origin(file, value))
                {
                    found.push((
                        name,
                        Alias {
                            origin,
                            environment: in_environment || is_env_target(target),
                        },
                    ));
                }
                collect_block(file, std::slice::from_ref(value), taint, false, found);
            }
            ExprKind::Call(call) => {
                let environment = call.name == "environment" && call.receiver.is_none();
                if let Some(receiver) = &call.receiver {
                    collect_block(file, std::slice::from_ref(receiver), taint, false, found);
                }
                for arg in &call.args {
                    collect_block(file, std::slice::from_ref(&arg.value), taint, false, found);
                }
                if let Some(block) = &call.closure {
                    collect_block(file, block, taint, environment, found);
                }
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                collect_block(file, std::slice::from_ref(condition), taint, false, found);
                collect_block(file, then, taint, false, found);
                collect_block(file, otherwise, taint, false, found);
            }
            ExprKind::Function { body: items, .. }
            | ExprKind::Closure(items)
            | ExprKind::List(items)
            | ExprKind::Compound(items)
            | ExprKind::Concat(items) => collect_block(file, items, taint, false, found),
            ExprKind::Map(entries) => {
                for entry in entries {
                    collect_block(
                        file,
                        std::slice::from_ref(&entry.value),
                        taint,
                        false,
                        found,
                    );
                }
            }
            _ => {}
        }
    }
}

/// `x = …`, `def x = …`, `String x = …` (a command call `String x`), `env.X = …`.
fn assigned_name(target: &Expr) -> Option<String> {
    match &target.kind {
        ExprKind::Path(segments) => match segments.as_slice() {
            [name] | [_, name] => Some(name.clone()),
            _ => None,
        },
        ExprKind::Call(call) if call.args.len() == 1 && call.closure.is_none() => {
            match &call.args[0].value.kind {
                ExprKind::Path(segments) if segments.len() == 1 => Some(segments[0].clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_env_target(target: &Expr) -> bool {
    matches!(&target.kind, ExprKind::Path(s) if s.len() == 2 && s[0] == "env")
}

/// `sh(script: 'git log -1 --pretty=%B', returnStdout: true)`: the output is commit
/// metadata (message, author) of the commit being built — the pull request's on PR builds.
fn commit_metadata_output(file: &File, call: &Call) -> Option<Origin> {
    if !matches!(call.name.as_str(), "sh" | "bat" | "powershell" | "pwsh") {
        return None;
    }
    let returns_stdout = call
        .named("returnStdout")
        .is_some_and(|e| matches!(&e.kind, ExprKind::Path(p) if p.len() == 1 && p[0] == "true"));
    if !returns_stdout {
        return None;
    }
    let script = call.named("script").or_else(|| call.positional(0))?;
    let text = &file.string(script)?.cooked;
    let reads_commit = text.contains("git log") || text.contains("git show");
    if !reads_commit {
        return None;
    }
    // A format printing only hashes, dates or counts is not free text.
    let format = text.split_whitespace().find_map(|w| {
        w.strip_prefix("--pretty=")
            .or_else(|| w.strip_prefix("--format="))
    });
    if let Some(format) = format {
        let free_text = [
            "%s", "%B", "%b", "%an", "%ae", "%cn", "%ce", "%N", "%d", "%D", "%f",
        ];
        if !free_text.iter().any(|p| format.contains(p))
            && !matches!(
                format.trim_matches(['"', '\'']),
                "full" | "medium" | "short" | "oneline" | "raw" | "fuller"
            )
        {
            return None;
        }
    }
    Some(Origin {
        display: "the output of `git log`".to_owned(),
        tier: Tier::Anyone,
        change_request_only: false,
        why: "commit messages and author names are the committer's text".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    #[test]
    fn aliases_from_environment_def_and_git_log() {
        let file = parse(
            "pipeline { environment { T = \"${env.CHANGE_TITLE}\"\n N = env.BUILD_NUMBER } }\n\
             def b = env.CHANGE_BRANCH.trim()\n\
             def msg = sh(script: 'git log -1 --pretty=%B', returnStdout: true).trim()\n\
             def h = sh(script: 'git log -1 --pretty=%H', returnStdout: true)\n\
             def ok = env.CHANGE_BRANCH.startsWith('x')\n\
             def c = b\n",
        )
        .expect("parses");
        let taint = Taint::collect(&file);
        assert!(taint.alias("T").is_some_and(|a| a.environment));
        assert!(taint.alias("N").is_none());
        assert!(taint.alias("b").is_some_and(|a| !a.environment));
        assert!(taint.alias("msg").is_some());
        assert!(taint.alias("h").is_none());
        assert!(taint.alias("ok").is_none());
        assert!(taint.alias("c").is_some());
        assert!(taint.is_shell_tainted("T") && taint.is_shell_tainted("CHANGE_TITLE"));
        let params = parse(
            "pipeline { parameters { string(name: 'VERSION'); booleanParam(name: 'DRY') } }\n\
             withCredentials([string(credentialsId: 'c', variable: 'TOKEN')]) { }\n\
             build job: 'down', parameters: [string(name: 'OTHER', value: 'x')]\n",
        )
        .expect("parses");
        let taint = Taint::collect(&params);
        assert!(taint.alias("VERSION").is_some_and(|a| a.environment));
        assert!(taint.alias("DRY").is_none() && taint.alias("TOKEN").is_none());
        assert!(taint.alias("OTHER").is_none());
        assert!(
            taint
                .interpolation_origin("env.CHANGE_BRANCH.replaceAll('[^a-z0-9]', '-')")
                .is_none()
        );
        assert!(
            taint
                .interpolation_origin("env.CHANGE_BRANCH.replaceAll('/', '-')")
                .is_some()
        );
        assert!(!taint.is_shell_tainted("b"));
    }
}
