//! JK-002: attacker-controlled text substituted into a shell script by Groovy.

use std::ops::Range;

use sluice_pack_sdk::shell::reeval;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::ScriptStep;
use crate::sources::{Origin, Tier};
use crate::syntax::{Expr, ExprKind};

pub const META: RuleMeta = RuleMeta {
    id: "JK-002",
    name: "script-injection",
    title: "Script injection: attacker-controlled text interpolated into a shell script",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("jk002_script_injection.md"),
    remediation: "Pass the value through the environment and let the shell expand it as \
        data: use a single-quoted script (`sh 'echo \"$CHANGE_TITLE\"'`) or escape the dollar \
        (`sh \"echo \\\"\\$CHANGE_TITLE\\\"\"`), or `withEnv([\"TITLE=${env.CHANGE_TITLE}\"]) \
        { sh 'echo \"$TITLE\"' }`. Never `eval` it.",
    help_uri: "",
    tags: &["injection", "change-request"],
};

/// How attacker text reaches the script.
enum Route {
    Interpolation,
    Concatenation,
    Reevaluation(String),
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    for step in &file.model.scripts {
        let Some(script) = step.script else {
            continue;
        };
        let mut hits = Vec::new();
        collect(file, script, &mut hits);
        for (range, origin, route) in hits {
            findings.push(finding(file, step, range, &origin, &route));
        }
    }
}

fn collect(file: &FileContext<'_, '_>, expr: &Expr, hits: &mut Vec<(Range<usize>, Origin, Route)>) {
    let model = file.model;
    match &expr.kind {
        ExprKind::Str(_) => {
            let Some(lit) = model.file.string(expr) else {
                return;
            };
            for interpolation in &lit.interpolations {
                if let Some(origin) = model.taint.interpolation_origin(&interpolation.expr) {
                    hits.push((interpolation.range.clone(), origin, Route::Interpolation));
                }
            }
            for found in reeval::find(&lit.cooked, |name| model.taint.is_shell_tainted(name)) {
                if let Some(origin) = model.taint.shell_origin(&found.variable) {
                    hits.push((
                        lit.source_range(found.range),
                        origin,
                        Route::Reevaluation(found.how),
                    ));
                }
            }
        }
        ExprKind::Concat(parts) => {
            for part in parts {
                if matches!(part.kind, ExprKind::Str(_) | ExprKind::Concat(_)) {
                    collect(file, part, hits);
                } else if let Some(origin) = model.taint.expr_origin(model.file, part) {
                    hits.push((part.range.clone(), origin, Route::Concatenation));
                }
            }
        }
        ExprKind::Path(_) | ExprKind::Call(_) => {
            if let Some(origin) = model.taint.expr_origin(model.file, expr) {
                hits.push((expr.range.clone(), origin, Route::Concatenation));
            }
        }
        _ => {}
    }
}

fn finding(
    file: &FileContext<'_, '_>,
    step: &ScriptStep<'_>,
    range: Range<usize>,
    origin: &Origin,
    route: &Route,
) -> Finding {
    let stage = step.scope.stage_name();
    let step_name = &step.call.name;
    let written = file.excerpt(range.clone());
    let (mut severity, mut confidence) = match origin.tier {
        Tier::Anyone => (Severity::High, Confidence::High),
        Tier::Limited => (Severity::Medium, Confidence::High),
    };
    let how = match route {
        Route::Interpolation => format!(
            "Groovy interpolates `{written}` into the `{step_name}` script before the shell runs, so {} becomes shell code",
            origin.display
        ),
        Route::Concatenation if written == origin.display => format!(
            "Groovy concatenates `{written}` into the `{step_name}` script before the shell runs, so its text becomes shell code"
        ),
        Route::Concatenation => format!(
            "Groovy concatenates `{written}` into the `{step_name}` script before the shell runs, so {} becomes shell code",
            origin.display
        ),
        Route::Reevaluation(how) => {
            confidence = Confidence::Medium;
            format!(
                "the `{step_name}` script expands `{written}`, which holds {}, and {how}",
                origin.display
            )
        }
    };
    let mut finding = Finding::new(&META, file.path, file.span(range))
        .message(format!(
            "{how} ({}), {}",
            origin.why,
            step.scope.whereabouts()
        ))
        .fingerprint_key(format!("{stage}|{step_name}|{written}"))
        .property("stage", stage)
        .property("source", origin.display.clone());
    if origin.change_request_only && step.scope.gate.reach.is_excluded() {
        severity = Severity::Info;
        finding = finding.mitigation(
            "change-requests-excluded",
            format!(
                "{} is set only on change-request builds, which this scope excludes",
                origin.display
            ),
        );
    }
    if matches!(route, Route::Reevaluation(_)) && origin.tier == Tier::Limited {
        confidence = Confidence::Low;
    }
    finding.severity(severity).confidence(confidence)
}
