//! FG-021: attacker data written to a step output and expanded into a later script.

use sluice_pack_sdk::expr;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::contexts::Tier;
use crate::model::{Definition, Job, Map, Step, Text};
use crate::taint;

pub const META: RuleMeta = RuleMeta {
    id: "FG-021",
    name: "cross-step-output-taint",
    title: "Cross-step output taint: attacker data laundered through a step output",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg021_cross_step_output_taint.md"),
    remediation: "In the consuming step, pass the output through an environment variable: \
        `env: TITLE: ${{ steps.meta.outputs.title }}` and use `\"$TITLE\"` in the script.",
    help_uri: "",
    tags: &["injection", "taint"],
};

/// One tainted output write.
struct Produced {
    step_index: usize,
    step_id: String,
    output: String,
    source: String,
    tier: Tier,
    reachable: bool,
    span: sluice_pack_sdk::Span,
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let workflow = file.definition.as_workflow();
    for (job, steps) in file.definition.step_groups() {
        let mut produced: Vec<Produced> = Vec::new();
        for step in steps {
            if let (Some(id), Some(run)) = (step.id, step.run) {
                produced.extend(producer_writes(
                    file.definition,
                    workflow,
                    job,
                    step,
                    id,
                    run,
                ));
            }
        }
        if produced.is_empty() {
            continue;
        }
        for step in steps {
            let consumed = step.run.or_else(|| {
                step.uses_action("actions/github-script")
                    .then(|| step.with.text("script"))
                    .flatten()
            });
            let Some(text) = consumed else { continue };
            check_consumer(file, job, step, text, &produced, findings);
        }
    }
}

fn check_consumer(
    file: &FileContext<'_, '_>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    text: Text<'_>,
    produced: &[Produced],
    findings: &mut Vec<Finding>,
) {
    let mut seen: Vec<String> = Vec::new();
    for expression in expr::find_expressions(text.value) {
        let refs = expr::context_refs(expression.text);
        let Some(source) = refs.iter().find_map(|r| {
            if !crate::contexts::is_text_position(expression.text, r) {
                return None;
            }
            let path = r.path.to_ascii_lowercase();
            produced.iter().find(|p| {
                p.step_index < step.index
                    && path
                        == format!(
                            "steps.{}.outputs.{}",
                            p.step_id.to_ascii_lowercase(),
                            p.output.to_ascii_lowercase()
                        )
            })
        }) else {
            continue;
        };
        let normalised = taint::normalise(expression.text);
        let occurrence = seen.iter().filter(|e| **e == normalised).count();
        seen.push(normalised.clone());
        let mut key = format!("{}|{normalised}", text.route());
        if occurrence > 0 {
            key.push_str(&format!("#{}", occurrence + 1));
        }
        let severity = match source.tier {
            Tier::Anyone => Severity::High,
            Tier::TriggerAccess => Severity::Medium,
        };
        let confidence = match (source.tier, source.reachable) {
            (_, false) => Confidence::Low,
            (Tier::Anyone, true) => Confidence::High,
            (Tier::TriggerAccess, true) => Confidence::Medium,
        };
        let kind = if step.run.is_some() {
            "`run:` script"
        } else {
            "`actions/github-script` code"
        };
        let place = match job {
            Some(job) => format!("step `{}` of job `{}`", step.label(), job.id.value),
            None => format!("step `{}`", step.label()),
        };
        let mut message = format!(
            "`${{{{ {normalised} }}}}` expands output `{}` of step `{}`, which holds `{}`, into \
             the {kind} of {place}",
            source.output, source.step_id, source.source
        );
        if !source.reachable {
            message.push_str(" (no trigger of this workflow sets the source)");
        }
        let mut finding = Finding::new(&META, file.path, text.span_of(expression.range.clone()))
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(key)
            .related(
                file.path,
                source.span,
                format!(
                    "step `{}` writes `{}` to output `{}`",
                    source.step_id, source.source, source.output
                ),
            )
            .property("step", step.label())
            .property("producer", source.step_id.clone())
            .property("output", source.output.clone())
            .property("context", source.source.clone());
        if let Some(job) = job {
            finding = finding.property("job", job.id.value);
        }
        findings.push(finding);
    }
}

/// Tainted outputs a step writes.
fn producer_writes(
    definition: &Definition<'_>,
    workflow: Option<&crate::model::Workflow<'_>>,
    job: Option<&Job<'_>>,
    step: &Step<'_>,
    id: Text<'_>,
    run: Text<'_>,
) -> Vec<Produced> {
    let mut out = Vec::new();
    let envs = [Some(step.env), job.map(|j| j.env), workflow.map(|w| w.env)];
    let mut offset = 0;
    // Here-document output being written: (name, delimiter).
    let mut pending: Option<(String, String)> = None;
    let groups_output = run.value.contains("GITHUB_OUTPUT");
    for line in run.value.split_inclusive('\n') {
        let range = offset..offset + line.trim_end().len();
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        let name = if let Some((name, delimiter)) = &pending {
            if trimmed
                .trim_start_matches("echo")
                .trim()
                .trim_matches(['"', '\''])
                == delimiter
            {
                pending = None;
                continue;
            }
            Some(name.clone())
        } else {
            // `{ echo "body<<EOF"; …; echo EOF; } >> "$GITHUB_OUTPUT"` redirects a group.
            match output_name(trimmed) {
                Some(OutputName::Heredoc(name, delimiter)) if groups_output => {
                    pending = Some((name, delimiter));
                    None
                }
                Some(OutputName::Plain(name)) if writes_output(trimmed) => Some(name),
                _ => None,
            }
        };
        let Some(name) = name else { continue };
        if let Some(source) = line_taint(definition, &envs, trimmed) {
            out.push(Produced {
                step_index: step.index,
                step_id: id.value.to_owned(),
                output: name,
                source: source.0,
                tier: source.1,
                reachable: source.2,
                span: run.span_of(range.clone()),
            });
        }
    }
    out
}

fn writes_output(line: &str) -> bool {
    line.contains("::set-output ") || (line.contains("GITHUB_OUTPUT") && line.contains('>'))
}

enum OutputName {
    Plain(String),
    Heredoc(String, String),
}

/// The output name a write line sets.
fn output_name(line: &str) -> Option<OutputName> {
    if let Some(rest) = line.split("::set-output name=").nth(1) {
        let name: String = rest.chars().take_while(|c| is_name_char(*c)).collect();
        return (!name.is_empty()).then_some(OutputName::Plain(name));
    }
    // The first argument of echo/printf that starts with a name followed by `=` or `<<`.
    let after = line
        .find("echo ")
        .map(|i| &line[i + 5..])
        .or_else(|| line.find("printf ").map(|i| &line[i + 7..]))?;
    let mut words = after.split_whitespace().skip_while(|w| w.starts_with('-'));
    let word = words.next()?.trim_start_matches(['"', '\'', '{']);
    let name: String = word.chars().take_while(|c| is_name_char(*c)).collect();
    if name.is_empty() {
        return None;
    }
    let rest = &word[name.len()..];
    if let Some(delimiter) = rest.strip_prefix("<<") {
        let delimiter = delimiter.trim_matches(['"', '\'']).to_owned();
        return Some(OutputName::Heredoc(name, delimiter));
    }
    rest.starts_with('=').then_some(OutputName::Plain(name))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The strongest tainted source a line writes: an expression or an environment variable set
/// from one. Returns (source description, tier, reachable).
pub(crate) fn line_taint(
    definition: &Definition<'_>,
    envs: &[Option<Map<'_>>],
    line: &str,
) -> Option<(String, Tier, bool)> {
    let mut best: Option<(String, Tier, bool)> = None;
    let mut consider = |candidate: (String, Tier, bool)| {
        if best
            .as_ref()
            .is_none_or(|b| (candidate.1, candidate.2) > (b.1, b.2))
        {
            best = Some(candidate);
        }
    };
    for hit in taint::hits(line, definition) {
        consider((hit.path, hit.tier, hit.reachable));
    }
    for variable in shell_variables(line) {
        let Some(value) = envs.iter().flatten().find_map(|env| env.text(&variable)) else {
            continue;
        };
        for hit in taint::hits(value.value, definition) {
            consider((
                format!("{} (via `${variable}`)", hit.path),
                hit.tier,
                hit.reachable,
            ));
        }
    }
    best
}

/// `$NAME` and `${NAME}` references in a line.
pub(crate) fn shell_variables(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = if braced { i + 2 } else { i + 1 };
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start && !bytes[start].is_ascii_digit() {
                names.push(line[start..end].to_owned());
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(
            matches!(output_name("echo \"title=${{ x }}\" >> $GITHUB_OUTPUT"), Some(OutputName::Plain(n)) if n == "title")
        );
        assert!(
            matches!(output_name("echo -n title=$X >> \"${GITHUB_OUTPUT}\""), Some(OutputName::Plain(n)) if n == "title")
        );
        assert!(
            matches!(output_name("echo 'body<<EOF' >> $GITHUB_OUTPUT"), Some(OutputName::Heredoc(n, d)) if n == "body" && d == "EOF")
        );
        assert!(
            matches!(output_name("echo \"::set-output name=ref::${{ x }}\""), Some(OutputName::Plain(n)) if n == "ref")
        );
        assert_eq!(shell_variables("a=$TITLE ${B}c $1"), vec!["TITLE", "B"]);
    }
}
