//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod tk001_parameter_injection;
pub mod tk002_unpinned_reference;
pub mod tk003_secrets_exposed;
pub mod tk009_privileged_step;
pub mod tk010_unpinned_image;

use std::collections::HashMap;

use sluice_pack_sdk::{Finding, RuleMeta};

use crate::repository::Repository;
use crate::walk::{Scope, Visit};

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    tk001_parameter_injection::META,
    tk002_unpinned_reference::META,
    tk003_secrets_exposed::META,
    tk009_privileged_step::META,
    tk010_unpinned_image::META,
];

/// What every rule sees: the walked visits and the repository.
#[derive(Debug)]
pub struct Context<'r, 'a> {
    pub visits: &'r [Visit<'a>],
    pub repository: &'r Repository<'a>,
}

/// Runs every rule.
pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    tk001_parameter_injection::check(context, findings);
    tk002_unpinned_reference::check(context, findings);
    tk003_secrets_exposed::check(context, findings);
    tk009_privileged_step::check(context, findings);
    tk010_unpinned_image::check(context, findings);
}

/// A Task reached from several runs (or on its own and from a run) is visited once per scope;
/// each place is reported once, with the worst verdict (severity, then confidence).
pub fn keep_worst_per_place(findings: &mut Vec<Finding>) {
    let mut best: HashMap<(String, String, u32, u32, String), usize> = HashMap::new();
    let mut keep = vec![false; findings.len()];
    for (index, finding) in findings.iter().enumerate() {
        let key = (
            finding.rule_id.clone(),
            finding.path.clone(),
            finding.span.start_byte,
            finding.span.end_byte,
            finding.fingerprint_key.clone(),
        );
        match best.get(&key) {
            Some(&other)
                if (findings[other].severity, findings[other].confidence)
                    >= (finding.severity, finding.confidence) => {}
            Some(&other) => {
                keep[other] = false;
                keep[index] = true;
                best.insert(key, index);
            }
            None => {
                keep[index] = true;
                best.insert(key, index);
            }
        }
    }
    let mut index = 0;
    findings.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// Adds the run a finding was reached from, and the trigger, as related locations.
pub fn with_scope(mut finding: Finding, scope: &Scope) -> Finding {
    if let Some(run) = &scope.run
        && run.path != finding.path
    {
        finding = finding.related(run.path.clone(), run.span, format!("run by {}", run.label));
    }
    if !scope.exposure.origin.is_empty() {
        finding = finding.property("trigger", scope.exposure.origin.clone());
    }
    if let Some((path, span)) = &scope.exposure.at {
        finding = finding.related(
            path.clone(),
            *span,
            format!("triggered by {}", scope.exposure.origin),
        );
    }
    finding
}
