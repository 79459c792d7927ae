//! Where a workflow or action sets a given environment variable: `env:` at workflow, job and
//! step level, and `NAME=value` lines a script appends to `$GITHUB_ENV`.

use sluice_pack_sdk::Span;

use crate::model::{Definition, Map, Text};
use crate::shell;

/// One place that sets a variable.
#[derive(Debug, Clone)]
pub struct Setting<'a> {
    /// The variable name as written.
    pub name: String,
    /// The value as written (an expression stays unevaluated).
    pub value: String,
    /// `NAME: value` (key and value) or the script's `NAME=value` text.
    pub span: Span,
    /// Route of the value (or of the script), for fingerprints.
    pub route: String,
    /// Human-readable place: ``workflow `env:` ``, ``job `build` `env:` ``, …
    pub place: String,
    /// The job it is in, if any.
    pub job: Option<&'a str>,
    /// Whether it was written to `$GITHUB_ENV` by a script rather than declared.
    pub via_github_env: bool,
}

impl Setting<'_> {
    /// What the value amounts to: `Some(true)` for `true`/`1` (any case), `Some(false)` for
    /// anything else written literally, `None` for an expression (decided at run time).
    pub fn enabled(&self) -> Option<bool> {
        let value = self.value.trim().trim_matches(['"', '\'']).trim();
        if value.contains("${{") {
            return None;
        }
        Some(value.eq_ignore_ascii_case("true") || value == "1")
    }
}

/// Every place in `definition` that sets one of `names` (compared case-insensitively, as the
/// runner does on Windows and as people expect).
pub fn settings<'a>(definition: &'a Definition<'a>, names: &[&str]) -> Vec<Setting<'a>> {
    let mut found = Vec::new();
    let wanted = |key: &str| names.iter().any(|n| n.eq_ignore_ascii_case(key.trim()));
    let mut declared = |map: &Map<'a>, place: String, job: Option<&'a str>| {
        for (key, value) in map.iter() {
            if !wanted(key.value) {
                continue;
            }
            let text = Text::from_node(value);
            found.push(Setting {
                name: key.value.trim().to_owned(),
                value: text.map_or(String::new(), |t| t.value.to_owned()),
                span: key.span().cover(value.span),
                route: value.route.to_string(),
                place: place.clone(),
                job,
                via_github_env: false,
            });
        }
    };
    if let Definition::Workflow(workflow) = definition {
        declared(&workflow.env, "workflow `env:`".to_owned(), None);
        for job in &workflow.jobs {
            declared(
                &job.env,
                format!("job `{}` `env:`", job.id.value),
                Some(job.id.value),
            );
        }
    }
    let groups = definition.step_groups();
    for (job, steps) in &groups {
        let job_id = job.map(|j| j.id.value);
        for step in steps.iter() {
            let place = match job_id {
                Some(id) => format!("step `{}` of job `{id}`", step.label()),
                None => format!("step `{}`", step.label()),
            };
            declared(&step.env, format!("{place} `env:`"), job_id);
        }
    }
    for (job, steps) in groups {
        let job_id = job.map(|j| j.id.value);
        for step in steps {
            let Some(run) = step.run else { continue };
            if !run.value.contains("GITHUB_ENV") {
                continue;
            }
            for (name, value, range) in github_env_writes(run.value) {
                if !wanted(&name) {
                    continue;
                }
                let place = match job_id {
                    Some(id) => format!("step `{}` of job `{id}` (`$GITHUB_ENV`)", step.label()),
                    None => format!("step `{}` (`$GITHUB_ENV`)", step.label()),
                };
                found.push(Setting {
                    name,
                    value,
                    span: run.span_of(range),
                    route: run.route().to_string(),
                    place,
                    job: job_id,
                    via_github_env: true,
                });
            }
        }
    }
    found
}

/// `NAME=value` assignments in commands that append to `$GITHUB_ENV` (`echo "X=1" >>
/// "$GITHUB_ENV"`): (name, value, byte range of `NAME=value` in the script).
pub fn github_env_writes(script: &str) -> Vec<(String, String, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    for command in shell::commands(script) {
        if appends_to(script, &command) != Some("$GITHUB_ENV") {
            continue;
        }
        let Some(program) = command.program() else {
            continue;
        };
        if !matches!(program.text.as_str(), "echo" | "printf") {
            continue;
        }
        for word in command.args() {
            let Some((name, value)) = word.text.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            // Point at `NAME=value` inside the raw word (quotes excluded when possible).
            let offset = word.raw.find(name).unwrap_or(0);
            let start = word.range.start + offset;
            let end = (start + name.len() + 1 + value.len()).min(word.range.end);
            found.push((name.to_owned(), value.trim().to_owned(), start..end));
        }
    }
    found
}

/// The environment file (`$GITHUB_ENV` or `$GITHUB_PATH`) a command's output is appended
/// to, read from the redirection after it (`>> "$GITHUB_ENV"`, `>>${GITHUB_PATH}`).
pub fn appends_to(script: &str, command: &shell::Command<'_>) -> Option<&'static str> {
    let rest = &script[command.range.end..];
    let line = rest.split('\n').next().unwrap_or("");
    let end = ["&&", "||", ";", "|", " #"]
        .iter()
        .filter_map(|op| line.find(op))
        .min()
        .unwrap_or(line.len());
    let tail = line[..end].trim();
    let target = tail.strip_prefix(">>")?.trim().trim_matches(['"', '\'']);
    match target {
        "$GITHUB_ENV" | "${GITHUB_ENV}" => Some("$GITHUB_ENV"),
        "$GITHUB_PATH" | "${GITHUB_PATH}" => Some("$GITHUB_PATH"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_writes() {
        let script = "echo \"ACTIONS_STEP_DEBUG=true\" >> \"$GITHUB_ENV\"\necho X=1\n";
        let writes = github_env_writes(script);
        assert_eq!(writes.len(), 1);
        let (name, value, range) = &writes[0];
        assert_eq!(name, "ACTIONS_STEP_DEBUG");
        assert_eq!(value, "true");
        assert_eq!(&script[range.clone()], "ACTIONS_STEP_DEBUG=true");
    }
}
