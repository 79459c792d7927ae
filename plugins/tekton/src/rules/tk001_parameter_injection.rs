//! TK-001: `$(params.x)`, results and PaC placeholders substituted into scripts.

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::{Context, with_scope};
use crate::model::task::{Param, params_of};
use crate::model::{Step, span_in};
use crate::substitution;
use crate::walk::{Scope, Taint, Visit};

pub const META: RuleMeta = RuleMeta {
    id: "TK-001",
    name: "parameter-injection",
    title: "Parameter injection: Tekton substitutes a value into a script before the shell runs",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Medium,
    description: include_str!("tk001_parameter_injection.md"),
    remediation: "Pass the value as an environment variable and quote it:\n\n\
        ```yaml\nsteps:\n  - name: greet\n    env:\n      - name: TITLE\n        value: \
        $(params.title)\n    script: |\n      echo \"$TITLE\"\n```\n\n\
        Declare an `enum` for params with a fixed set of values.",
    help_uri: "",
    tags: &["injection"],
};

pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for visit in context.visits {
        match visit {
            Visit::Task {
                path,
                owner,
                spec,
                scope,
            } => {
                let declared = spec.params();
                let template_env = spec.step_template().map(|t| t.env()).unwrap_or_default();
                for step in spec.steps().into_iter().chain(spec.sidecars()) {
                    check_step(path, owner, &step, &declared, template_env, scope, findings);
                }
            }
            Visit::StepAction {
                path,
                owner,
                step,
                scope,
            } => {
                let declared = params_of(step.node);
                check_step(path, owner, step, &declared, &[], scope, findings);
            }
            Visit::Reference { .. } | Visit::Run { .. } => {}
        }
    }
}

fn check_step(
    path: &str,
    owner: &str,
    step: &Step<'_>,
    declared: &[Param<'_>],
    template_env: &[Node],
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    let (script, what) = match (step.script(), step.shell_script_arg()) {
        (Some(script), _) => (script, "script"),
        (None, Some(argument)) => (argument, "`-c` script argument"),
        (None, None) => return,
    };
    let Some(text) = script.as_str() else { return };
    let place = step.place(owner);
    // The same text twice in one script: two findings with distinct fingerprints.
    let mut seen: Vec<String> = Vec::new();
    let mut occurrence = |written: &str| {
        let n = seen.iter().filter(|s| *s == written).count();
        seen.push(written.to_owned());
        n
    };
    for found in substitution::references(text) {
        let taint = scope.taint_of_reference(&found);
        if taint == Taint::Constant && !matches!(found.reference, substitution::Reference::Param(_))
        {
            continue;
        }
        let param = match &found.reference {
            substitution::Reference::Param(name) => declared.iter().find(|p| p.name == name),
            _ => None,
        };
        let finding = verdict(&taint, param.is_some_and(Param::has_enum), found.text)
            .into_finding(path, span_in(script, found.range.clone()))
            .message(format!(
                "{place} substitutes `{}` into its {what} before the shell runs{}",
                found.text,
                explain(&taint, found.text)
            ))
            .fingerprint_key(format!(
                "{}|{}|{}",
                script.route,
                found.text,
                occurrence(found.text)
            ))
            .property("reference", found.text);
        findings.push(with_scope(finding, scope));
    }
    for placeholder in substitution::placeholders(text) {
        let Some(taint) = scope.taint_of_placeholder(&placeholder, text) else {
            continue;
        };
        let written = &text[placeholder.range.clone()];
        let finding = verdict(&taint, false, written)
            .into_finding(path, span_in(script, placeholder.range.clone()))
            .message(format!(
                "{place} has Pipelines-as-Code paste `{written}` into its {what} before the shell \
                 runs{}",
                match taint {
                    Taint::Attacker { .. } => ", and whoever triggers the run writes it",
                    Taint::ForgeHeader { .. } => ", a header the forge sets on its own webhooks",
                    _ => ", and whoever can push chooses it",
                }
            ))
            .fingerprint_key(format!(
                "{}|{written}|{}",
                script.route,
                occurrence(written)
            ))
            .property("reference", written);
        findings.push(with_scope(finding, scope));
    }
    check_env_reevaluation(path, &place, step, script, template_env, scope, findings);
}

/// `env: [{name: X, value: $(params.x)}]` is data unless the script evaluates `$X` again.
fn check_env_reevaluation(
    path: &str,
    place: &str,
    step: &Step<'_>,
    script: &Node,
    template_env: &[Node],
    scope: &Scope,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = script.as_str() else { return };
    // The step's own entries win over the template's.
    let mut tracked: Vec<(&str, &Node, Taint)> = Vec::new();
    for entry in step.env().iter().chain(template_env) {
        let (Some(name), Some(value)) =
            (entry.get("name").and_then(Node::as_str), entry.get("value"))
        else {
            continue;
        };
        if tracked.iter().any(|(n, _, _)| *n == name) {
            continue;
        }
        let taint = scope.taint_of(value);
        if taint != Taint::Constant {
            tracked.push((name, entry, taint));
        }
    }
    if tracked.is_empty() {
        return;
    }
    let hits = reeval::find(text, |variable| {
        tracked.iter().any(|(n, _, _)| *n == variable)
    });
    for hit in hits {
        let Some((name, entry, taint)) = tracked.iter().find(|(n, _, _)| *n == hit.variable) else {
            continue;
        };
        let source = entry
            .get("value")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let finding = verdict(taint, false, source)
            .into_finding(path, span_in(script, hit.range.clone()))
            .message(format!(
                "{place} passes `{source}` through env `{name}` and evaluates it again: {}{}",
                hit.how,
                explain(taint, source)
            ))
            .fingerprint_key(format!("{}|env:{name}|{}", script.route, hit.how))
            .property("reference", source)
            .related(path.to_owned(), entry.span, format!("`{name}` is set here"));
        findings.push(with_scope(finding, scope));
    }
}

struct Verdict {
    severity: Severity,
    confidence: Confidence,
    mitigation: Option<(&'static str, String)>,
}

impl Verdict {
    fn into_finding(self, path: &str, span: sluice_pack_sdk::Span) -> Finding {
        let mut finding = Finding::new(&META, path, span)
            .severity(self.severity)
            .confidence(self.confidence);
        if let Some((kind, text)) = self.mitigation {
            finding = finding.mitigation(kind, text);
        }
        finding
    }
}

fn verdict(taint: &Taint, has_enum: bool, written: &str) -> Verdict {
    let (severity, confidence, mitigation) = match taint {
        Taint::Attacker { .. } => (Severity::High, Confidence::High, None),
        Taint::Unknown | Taint::Result { .. } => (Severity::Medium, Confidence::Medium, None),
        Taint::Constant => (
            Severity::Low,
            Confidence::Low,
            Some((
                "constant-value",
                format!(
                    "every run in the scan binds `{written}` to fixed text or to a value Tekton \
                     sets"
                ),
            )),
        ),
        Taint::ForgeHeader { source } => (
            Severity::Low,
            Confidence::Low,
            Some((
                "forge-header",
                format!(
                    "`{source}` is a header the forge sets on its own webhooks; only incoming \
                     webhooks let the sender choose it"
                ),
            )),
        ),
    };
    if has_enum {
        return Verdict {
            severity: severity.min(Severity::Low),
            confidence: Confidence::Low,
            mitigation: Some((
                "param-enum",
                "the param declares an `enum`: Tekton rejects any other value".to_owned(),
            )),
        };
    }
    Verdict {
        severity,
        confidence,
        mitigation,
    }
}

fn explain(taint: &Taint, written: &str) -> String {
    match taint {
        Taint::Attacker { source } => {
            format!(", and the run fills it with `{source}`, which whoever triggers it writes")
        }
        Taint::Unknown => ", and its value is not fixed by anything in the scan".to_owned(),
        Taint::Result { what } if what == written => {
            ", which an earlier step or task writes at run time".to_owned()
        }
        Taint::Result { what } => {
            format!(", and `{what}` is written by an earlier step or task at run time")
        }
        Taint::Constant => String::new(),
        Taint::ForgeHeader { source } => format!(", and `{source}` is a webhook header"),
    }
}
