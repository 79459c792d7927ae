//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod jk001_change_request_credentials;
pub mod jk002_script_injection;
pub mod jk003_unpinned_library;
pub mod jk009_agent_risk;

use sluice_pack_sdk::text::LineIndex;
use sluice_pack_sdk::{Finding, RuleMeta, Severity, Span};

use crate::exposure::Exposure;
use crate::model::{Model, ScriptStep};

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    jk001_change_request_credentials::META,
    jk002_script_injection::META,
    jk003_unpinned_library::META,
    jk009_agent_risk::META,
];

/// What keeps change-request code away from `step`, recorded on `finding`: the condition
/// that admits change requests (a related location), one that excludes them, a fork guard and
/// an earlier `input` approval (mitigations; the last two lower the severity one level each).
pub fn apply_change_request_gates(
    file: &FileContext<'_, '_>,
    step: &ScriptStep<'_>,
    exposure: &Exposure,
    mut finding: Finding,
    mut severity: Severity,
) -> (Finding, Severity) {
    match exposure {
        Exposure::Explicit(Some(evidence)) => {
            finding = finding.related(
                file.path,
                file.span(evidence.clone()),
                "this condition runs the stage on change requests",
            );
        }
        Exposure::Excluded(evidence) => {
            let what = evidence
                .clone()
                .map_or_else(String::new, |e| format!(": `{}`", file.excerpt(e)));
            finding = finding.mitigation(
                "change-requests-excluded",
                format!("a condition keeps change-request builds out of the stage{what}"),
            );
        }
        _ => {}
    }
    if let Some(guard) = &step.scope.gate.fork_guard
        && severity > Severity::Info
    {
        severity = severity.downgrade(1);
        finding = finding.mitigation(
            "fork-guard",
            format!(
                "`{}` keeps change requests from forks out; branches of the repository itself still get here",
                file.excerpt(guard.clone())
            ),
        );
    }
    if let Some(approval) = file.model.approval_before(step.range.start)
        && severity > Severity::Info
    {
        severity = severity.downgrade(1);
        finding = finding.mitigation(
            "approval",
            format!(
                "an `input` approval on line {} comes first",
                file.line(approval.range.start)
            ),
        );
    }
    (finding, severity)
}

/// One file under analysis.
#[derive(Debug)]
pub struct FileContext<'a, 'f> {
    pub path: &'a str,
    pub model: &'a Model<'f>,
    pub lines: &'a LineIndex<'a>,
}

impl FileContext<'_, '_> {
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        self.lines.span(range)
    }

    /// 1-based line of a byte offset, for messages.
    pub fn line(&self, offset: usize) -> u32 {
        self.lines.position(offset).0
    }

    /// Source text of a range, whitespace collapsed and shortened for messages.
    pub fn excerpt(&self, range: std::ops::Range<usize>) -> String {
        let text = self.model.file.source.get(range).unwrap_or_default();
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().count() > 60 {
            format!("{}…", collapsed.chars().take(59).collect::<String>())
        } else {
            collapsed
        }
    }
}

/// Runs every rule over one file.
pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    jk001_change_request_credentials::check(file, findings);
    jk002_script_injection::check(file, findings);
    jk003_unpinned_library::check(file, findings);
    jk009_agent_risk::check(file, findings);
}
