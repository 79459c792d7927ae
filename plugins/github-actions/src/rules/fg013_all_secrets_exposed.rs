//! FG-013: every repository secret sent to the runner (`toJSON(secrets)`, `secrets[expr]`).

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::exposure::{self, PRIVILEGED};
use crate::model::{Job, Workflow, scalars};

pub const META: RuleMeta = RuleMeta {
    id: "FG-013",
    name: "all-secrets-exposed",
    title: "All secrets exposed: `toJSON(secrets)` or a computed `secrets[…]` index",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg013_all_secrets_exposed.md"),
    remediation: "Pass each needed secret explicitly (`env: TOKEN: ${{ secrets.TOKEN }}`); \
        replace computed indexes with explicit per-environment references or GitHub \
        environments that hold same-named secrets.",
    help_uri: "",
    tags: &["secrets", "least-privilege"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(workflow) = file.definition.as_workflow() else {
        return;
    };
    for job in &workflow.jobs {
        for node in scalars(job.node) {
            if is_condition(node) {
                continue;
            }
            report(file, workflow, Some(job), node, findings);
        }
    }
    if let Some(env) = workflow.env.node {
        for node in scalars(env) {
            report(file, workflow, None, node, findings);
        }
    }
}

fn is_condition(node: &Node) -> bool {
    matches!(
        node.route.segments().last(),
        Some(sluice_pack_sdk::yaml::RouteSegment::Key(key)) if key == "if"
    )
}

fn report(
    file: &FileContext<'_, '_>,
    workflow: &Workflow<'_>,
    job: Option<&Job<'_>>,
    node: &Node,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = node.as_str() else {
        return;
    };
    for hit in dumps(text) {
        // Workflow-level env reaches every job: weigh it by the workflow's events.
        let (events, safeguards) = match job {
            Some(job) => {
                let events = exposure::job_events(workflow, job, PRIVILEGED);
                let safeguards = exposure::gates(workflow, job, &events);
                (events, safeguards)
            }
            None => (
                PRIVILEGED
                    .iter()
                    .copied()
                    .filter(|e| workflow.triggers.contains(e))
                    .collect(),
                Vec::new(),
            ),
        };
        let base = if events.is_empty() {
            Severity::High
        } else {
            Severity::Critical
        };
        let severity = if events.is_empty() {
            base
        } else {
            // Gates keep outsiders away; the dump itself stays High.
            exposure::apply_gates(base, &safeguards).max(Severity::High)
        };
        let matched = &text[hit.range.clone()];
        let owner = match job {
            Some(job) => format!("job `{}`", job.id.value),
            None => "the workflow's `env:`".to_owned(),
        };
        let on = if events.is_empty() {
            String::new()
        } else {
            format!(
                " on {}",
                events
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join("/")
            )
        };
        let what = if hit.whole {
            "serialises every secret of the repository into the job"
        } else {
            "indexes `secrets` with a computed key, so GitHub sends every secret to the runner"
        };
        let mut finding = Finding::new(
            &META,
            file.path,
            node.span_of(hit.range.clone()).unwrap_or(node.span),
        )
        .severity(severity)
        .confidence(if hit.whole {
            Confidence::High
        } else {
            Confidence::Medium
        })
        .message(format!(
            "`{matched}` at `{}` in {owner}{on} {what}{}",
            node.route,
            exposure::mitigated_suffix(severity != base, &safeguards)
        ))
        .fingerprint_key(format!("{}|{matched}", node.route))
        .property("pattern", matched);
        if !events.is_empty() {
            finding = finding.property("trigger", events.join(","));
        }
        for safeguard in &safeguards {
            finding = finding.mitigation(safeguard.kind, safeguard.description.clone());
        }
        findings.push(finding);
    }
}

struct Hit {
    range: std::ops::Range<usize>,
    /// `toJSON(secrets)` (every secret by design) rather than a computed index.
    whole: bool,
}

/// `toJSON(secrets)` and computed `secrets[…]` inside `${{ }}` of `text`.
fn dumps(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(open) = lower[from..].find("${{") {
        let start = from + open;
        let end = lower[start..].find("}}").map_or(lower.len(), |e| start + e);
        let mut at = start + 3;
        while let Some(found) = lower[at..end].find("secrets") {
            let s = at + found;
            at = s + "secrets".len();
            let before = lower[..s].bytes().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.') {
                continue;
            }
            if bytes
                .get(at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                continue;
            }
            let next = skip_spaces(bytes, at);
            match bytes.get(next) {
                Some(b')') => {
                    // toJSON( secrets )
                    let head = lower[..s].trim_end();
                    if let Some(head) = head.strip_suffix('(')
                        && head.trim_end().ends_with("tojson")
                    {
                        let fn_start = head.trim_end().len() - "tojson".len();
                        hits.push(Hit {
                            range: fn_start..next + 1,
                            whole: true,
                        });
                    }
                }
                Some(b'[') => {
                    let Some(close) = lower[next..end].find(']').map(|c| next + c) else {
                        continue;
                    };
                    let key = lower[next + 1..close].trim();
                    let literal = key.len() >= 2
                        && ((key.starts_with('\'') && key.ends_with('\''))
                            || (key.starts_with('"') && key.ends_with('"')))
                        && !key[1..key.len() - 1].contains(['\'', '"']);
                    if !literal {
                        hits.push(Hit {
                            range: s..close + 1,
                            whole: false,
                        });
                    }
                }
                _ => {}
            }
        }
        from = (end + 2).min(lower.len());
        if end >= lower.len() {
            break;
        }
    }
    hits
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        dumps(text).into_iter().map(|h| &text[h.range]).collect()
    }

    #[test]
    fn patterns() {
        assert_eq!(found("${{ toJSON(secrets) }}"), ["toJSON(secrets)"]);
        assert_eq!(
            found("echo '${{ toJson( secrets ) }}'"),
            ["toJson( secrets )"]
        );
        assert_eq!(found("${{ secrets[matrix.key] }}"), ["secrets[matrix.key]"]);
        assert_eq!(found("${{ secrets['NPM_TOKEN'] }}"), Vec::<&str>::new());
        assert_eq!(
            found("${{ secrets.NPM }} toJSON(secrets)"),
            Vec::<&str>::new()
        );
        assert_eq!(found("${{ toJSON(mysecrets) }}"), Vec::<&str>::new());
        assert_eq!(
            found("${{ secrets[format('{0}_KEY', inputs.env)] }}"),
            ["secrets[format('{0}_KEY', inputs.env)]"]
        );
    }
}
