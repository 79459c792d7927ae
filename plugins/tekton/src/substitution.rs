//! Tekton's `$(…)` variable substitution and Pipelines-as-Code `{{ … }}` placeholders.
//!
//! Tekton replaces `$(params.x)`, `$(tasks.t.results.r)`, `$(steps.s.results.r)` … in a Task's
//! fields when it creates the pod, so the value is part of the script before any shell reads it.
//! Shell command substitution `$(date)` looks the same but has no Tekton prefix and is left to
//! the shell; only prefixed references are returned.

use std::ops::Range;

/// What a `$(…)` reference reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `$(params.x)`, `$(params.x[*])`, `$(params.obj.key)`, `$(params["x"])`,
    /// `$(inputs.params.x)` (v1alpha1): the param's name.
    Param(String),
    /// `$(tasks.t.results.r)`: a result of an earlier task of the pipeline.
    TaskResult { task: String, result: String },
    /// `$(steps.s.results.r)` / `$(steps.s.results.r.path)`: a result of an earlier step.
    StepResult { step: String, result: String },
    /// `$(tt.params.x)` in a `TriggerTemplate`: a value of the trigger's bindings.
    TriggerParam(String),
    /// `$(body.…)` / `$(header.…)` / `$(extensions.…)` in a `TriggerBinding`: the event itself.
    EventField(String),
    /// Anything else Tekton provides (`context.…`, `workspaces.x.path`, `results.x.path`,
    /// `tasks.status`, …): set by Tekton, not by whoever triggers the run.
    Other,
}

/// One `$(…)` reference with a Tekton prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substitution<'a> {
    /// Bytes of `$(…)` in the text.
    pub range: Range<usize>,
    /// The whole reference as written.
    pub text: &'a str,
    pub reference: Reference,
}

const PREFIXES: &[&str] = &[
    "params.",
    "params[",
    "inputs.params.",
    "tasks.",
    "steps.",
    "tt.params.",
    "body.",
    "body)",
    "header.",
    "extensions.",
    "context.",
    "workspaces.",
    "results.",
    "resources.",
    "step.",
    "inputs.",
    "outputs.",
];

/// Every Tekton `$(…)` reference in `text`, in order.
pub fn references(text: &str) -> Vec<Substitution<'_>> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = text[from..].find("$(") {
        let start = from + offset;
        from = start + 2;
        let inner_start = start + 2;
        let rest = &text[inner_start..];
        if !PREFIXES.iter().any(|p| rest.starts_with(p)) {
            continue;
        }
        // The reference ends at the first `)` outside brackets; Tekton names never span lines.
        let mut depth = 0usize;
        let mut end = None;
        for (i, &b) in bytes[inner_start..].iter().enumerate() {
            match b {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b')' if depth == 0 => {
                    end = Some(inner_start + i);
                    break;
                }
                b'\n' => break,
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let inner = &text[inner_start..end];
        found.push(Substitution {
            range: start..end + 1,
            text: &text[start..=end],
            reference: classify(inner),
        });
        from = end + 1;
    }
    found
}

fn classify(inner: &str) -> Reference {
    if let Some(rest) = inner
        .strip_prefix("params")
        .or_else(|| inner.strip_prefix("inputs.params"))
    {
        return name_after(rest).map_or(Reference::Other, Reference::Param);
    }
    if let Some(rest) = inner.strip_prefix("tt.params") {
        return name_after(rest).map_or(Reference::Other, Reference::TriggerParam);
    }
    if let Some(rest) = inner.strip_prefix("tasks.") {
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.len() >= 3 && parts[1] == "results" {
            return Reference::TaskResult {
                task: parts[0].to_owned(),
                result: strip_index(parts[2]).to_owned(),
            };
        }
        return Reference::Other;
    }
    if let Some(rest) = inner.strip_prefix("steps.") {
        let parts: Vec<&str> = rest.split('.').collect();
        // `$(steps.s.results.r.path)` is a file path, not the value.
        if parts.len() == 3 && parts[1] == "results" {
            return Reference::StepResult {
                step: parts[0].to_owned(),
                result: strip_index(parts[2]).to_owned(),
            };
        }
        return Reference::Other;
    }
    if inner.starts_with("body") || inner.starts_with("header.") || inner.starts_with("extensions.")
    {
        return Reference::EventField(inner.to_owned());
    }
    Reference::Other
}

/// `.name`, `.name[*]`, `.obj.key`, `["name"]`, `['name']` → `name`/`obj`.
fn name_after(rest: &str) -> Option<String> {
    if let Some(dotted) = rest.strip_prefix('.') {
        let name: String = dotted
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        return (!name.is_empty()).then_some(name);
    }
    let quoted = rest.strip_prefix('[')?;
    let quote = quoted.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &quoted[1..];
    let end = body.find(quote)?;
    Some(body[..end].to_owned())
}

fn strip_index(name: &str) -> &str {
    name.split('[').next().unwrap_or(name)
}

/// One Pipelines-as-Code `{{ … }}` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// Bytes of `{{ … }}` in the text.
    pub range: Range<usize>,
    /// The text between the braces, trimmed.
    pub expression: &'a str,
}

/// Every `{{ … }}` in `text` (single line).
pub fn placeholders(text: &str) -> Vec<Placeholder<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{") {
        let start = from + offset;
        let Some(close) = text[start + 2..].find("}}") else {
            break;
        };
        let end = start + 2 + close + 2;
        let inner = &text[start + 2..end - 2];
        if !inner.contains('\n') {
            found.push(Placeholder {
                range: start..end,
                expression: inner.trim(),
            });
        }
        from = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Reference> {
        references(text).into_iter().map(|s| s.reference).collect()
    }

    #[test]
    fn tekton_references_are_classified() {
        assert_eq!(
            kinds("echo $(params.title) $(params[\"a.b\"]) $(inputs.params.x) $(params.list[*])"),
            vec![
                Reference::Param("title".into()),
                Reference::Param("a.b".into()),
                Reference::Param("x".into()),
                Reference::Param("list".into()),
            ]
        );
        assert_eq!(
            kinds(
                "$(tasks.build.results.IMAGE_URL) $(steps.s1.results.out) $(steps.s1.results.out.path)"
            ),
            vec![
                Reference::TaskResult {
                    task: "build".into(),
                    result: "IMAGE_URL".into()
                },
                Reference::StepResult {
                    step: "s1".into(),
                    result: "out".into()
                },
                Reference::Other,
            ]
        );
        assert_eq!(
            kinds("$(workspaces.src.path) $(context.pipelineRun.name) $(date) $(results.x.path)"),
            vec![Reference::Other, Reference::Other, Reference::Other]
        );
    }

    #[test]
    fn nested_in_shell_substitution_is_found() {
        let found = references("x=$(echo $(params.a))");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "$(params.a)");
        assert_eq!(found[0].range, 9..20);
    }

    #[test]
    fn pac_placeholders_are_found() {
        let found = placeholders("a {{ body.pull_request.title }} b {{revision}}");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].expression, "body.pull_request.title");
        assert_eq!(found[1].expression, "revision");
    }
}
