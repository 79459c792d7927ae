//! How exposed a job or step is to pull-request code, and how far written gates lower a
//! finding. Gates lower severity and confidence and are recorded as mitigations; they never
//! hide a finding.

use sluice_pack_sdk::{Confidence, Finding, Severity};

use crate::mitigations::{self, PrGate};
use crate::model::{Condition, Job, PrTrigger, Unit};

/// The verdict for one finding of a pull-request rule.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub severity: Severity,
    pub confidence: Confidence,
    pub mitigations: Vec<(&'static str, String)>,
    /// How pull requests reach the pipeline, for messages.
    pub trigger: &'static str,
}

/// What the rule asks about.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    /// Severity when nothing gates the pull-request build.
    pub base: Severity,
    /// The finding is about secrets (variable groups, service connections): builds of forks
    /// get them only if the pipeline's "make secrets available to builds of forks" setting
    /// is on, which the YAML does not say, so confidence is capped at Medium.
    pub needs_secrets: bool,
    /// A deployment job's environment can require approval before the job runs.
    pub environment_gates: bool,
}

/// `None` when pull requests cannot run the pipeline (`pr: none`).
pub fn pull_request<'a>(
    unit: &Unit<'a>,
    job: &Job<'a>,
    conditions: &[Condition<'a>],
    question: Question,
) -> Option<Exposure> {
    let (mut confidence, trigger) = match unit.triggers.pr {
        PrTrigger::Disabled(_) => return None,
        PrTrigger::Explicit(_) => (Confidence::High, "on a pipeline with a `pr:` trigger"),
        PrTrigger::Default => (
            Confidence::Medium,
            "on a pipeline without `pr:` (GitHub and Bitbucket repositories then build every \
             pull request)",
        ),
        PrTrigger::Unknown => (
            Confidence::Low,
            "in a template whose pipeline is not among the scanned files",
        ),
    };
    if question.needs_secrets {
        confidence = confidence.min(Confidence::Medium);
    }
    let mut severity = question.base;
    let mut applied = Vec::new();
    match mitigations::strongest(conditions) {
        Some((PrGate::ExcludesPullRequests, condition)) => {
            severity = Severity::Info;
            applied.push((
                "pr-excluded-condition",
                format!("`{}` keeps pull-request builds out", condition.text.trim()),
            ));
        }
        Some((PrGate::ExcludesForks, condition)) => {
            severity = severity.downgrade(2);
            applied.push((
                "fork-excluded-condition",
                format!(
                    "`{}` keeps builds of forks out (branches of the repository still run)",
                    condition.text.trim()
                ),
            ));
        }
        None => {}
    }
    if question.environment_gates
        && let Some((name, _)) = mitigations::environment_name(job)
    {
        severity = severity.downgrade(1);
        applied.push((
            "environment",
            format!("deployment environment `{name}` can require approvals and checks"),
        ));
    }
    Some(Exposure {
        severity,
        confidence,
        mitigations: applied,
        trigger,
    })
}

impl Exposure {
    /// Applies the verdict to a finding.
    pub fn apply(&self, mut finding: Finding) -> Finding {
        finding = finding.severity(self.severity).confidence(self.confidence);
        for (kind, description) in &self.mitigations {
            finding = finding.mitigation(*kind, description.clone());
        }
        finding
    }

    /// ` (mitigated: …)` for messages.
    pub fn mitigation_note(&self) -> String {
        if self.mitigations.is_empty() {
            String::new()
        } else {
            let kinds: Vec<&str> = self.mitigations.iter().map(|(_, d)| d.as_str()).collect();
            format!(" (mitigated: {})", kinds.join("; "))
        }
    }
}
