//! Does a job run in merge request pipelines? One place decides it for every rule, from the
//! job's `rules:` / `only:` / `except:` and the pipeline's `workflow: rules:`.
//!
//! GitLab facts used here: jobs without `rules`/`only`/`except` behave as
//! `only: [branches, tags]` unless `workflow: rules:` creates merge request pipelines, in which
//! case they join them; `$CI_COMMIT_BRANCH` and `$CI_COMMIT_TAG` are unset in merge request
//! pipelines; every `$CI_MERGE_REQUEST_*` variable is set only there. Fork merge request
//! pipelines run in the fork project by default (without the parent's CI/CD variables), and
//! `$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID` admits only same-project branches.

use sluice_pack_sdk::{Confidence, Finding, Severity};

use crate::model::{At, Val};
use std::collections::BTreeSet;

use crate::pipeline::{Job, Pipeline, resolve};

/// How a job joins merge request pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    No,
    /// A rule (or `only: merge_requests`) names merge request pipelines.
    Explicit,
    /// It would run in merge request pipelines the pipeline creates, without naming them.
    Implicit,
}

/// The verdict for one job, with the gates that lower findings.
#[derive(Debug, Clone)]
pub struct MrExposure<'a> {
    pub runs: Runs,
    /// The rule, `only:` entry or workflow rule that admits merge request pipelines.
    pub admitted_by: Option<At<'a>>,
    /// `$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID` in the admitting rule.
    pub same_project_only: bool,
    /// `when: manual` on the admitting rule or the job.
    pub manual: bool,
    /// The job deploys to an `environment:` (which may be protected and need approval).
    pub environment: Option<String>,
}

impl MrExposure<'_> {
    pub fn on_mr(&self) -> bool {
        self.runs != Runs::No
    }
}

/// How one `if:` expression relates to merge request pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Never,
    Explicit { same_project: bool },
    Unknown,
}

fn classify_if(expression: &str) -> Match {
    // `${VAR}` and `$VAR` mean the same in rules.
    let lower = normalise_braces(&expression.to_ascii_lowercase());
    let mut best = Match::Never;
    for disjunct in lower.split("||") {
        let mut verdict = Match::Unknown;
        let mut never = false;
        let mut same_project = false;
        for atom in disjunct.split("&&") {
            let atom = atom.trim().trim_matches(|c| c == '(' || c == ')').trim();
            let negated = atom.contains("!=") || atom.contains("!~") || atom.starts_with('!');
            let is_null =
                atom.contains("== null") || atom.contains("== \"\"") || atom.contains("== ''");
            if atom.contains("ci_pipeline_source") {
                let mentions_mr = atom.contains("merge_request");
                match (mentions_mr, negated) {
                    (true, false) => {
                        verdict = Match::Explicit {
                            same_project: false,
                        }
                    }
                    (true, true) => never = true,
                    (false, false) => never = true,
                    (false, true) => {}
                }
            } else if atom.contains("$ci_merge_request_") {
                if is_null || atom.starts_with('!') {
                    never = true;
                } else if negated {
                    // `$CI_MERGE_REQUEST_LABELS !~ /skip/` is also true where the variable is
                    // unset: it does not pick merge request pipelines.
                } else {
                    verdict = Match::Explicit {
                        same_project: false,
                    };
                    if atom.contains("ci_merge_request_source_project_id")
                        && atom.contains("== $ci_project_id")
                        || atom.contains("$ci_project_id == $ci_merge_request_source_project_id")
                    {
                        same_project = true;
                    }
                }
            } else if (atom.contains("$ci_commit_branch") || atom.contains("$ci_commit_tag"))
                && !is_null
                && !atom.starts_with('!')
            {
                never = true;
            }
        }
        let verdict = if never {
            Match::Never
        } else if let Match::Explicit { .. } = verdict {
            Match::Explicit { same_project }
        } else {
            verdict
        };
        best = match (best, verdict) {
            (Match::Explicit { same_project: a }, Match::Explicit { same_project: b }) => {
                Match::Explicit {
                    same_project: a && b,
                }
            }
            (Match::Explicit { .. }, _) => best,
            (_, Match::Explicit { .. }) => verdict,
            (Match::Unknown, _) | (_, Match::Unknown) => Match::Unknown,
            _ => Match::Never,
        };
    }
    best
}

fn normalise_braces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        out.push('$');
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(close) => {
                out.push_str(&after[..close]);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

struct RulesVerdict<'a> {
    runs: Runs,
    at: Option<At<'a>>,
    same_project: bool,
    manual: bool,
    /// Every admitting rule names merge requests (a workflow that only allows MR pipelines).
    only_mr: bool,
}

fn evaluate_rules<'a>(rules: &Val<'a>) -> RulesVerdict<'a> {
    let mut verdict = RulesVerdict {
        runs: Runs::No,
        at: None,
        same_project: false,
        manual: false,
        only_mr: true,
    };
    let mut decided = false;
    for rule in rules.flat_items() {
        let when = rule
            .get("when")
            .and_then(Val::as_str)
            .unwrap_or("on_success");
        let matched = match rule.get("if").and_then(Val::as_str) {
            Some(expression) => classify_if(expression),
            None => Match::Unknown,
        };
        match matched {
            Match::Never => {
                // A rule for other pipelines (`$CI_COMMIT_BRANCH == "main"`): the workflow
                // then admits more than merge request pipelines.
                if when != "never" {
                    verdict.only_mr = false;
                }
                continue;
            }
            Match::Explicit { same_project } => {
                if when == "never" {
                    if !decided {
                        // The first rule that matches MR pipelines excludes them.
                        return verdict;
                    }
                    continue;
                }
                if !decided {
                    verdict.runs = Runs::Explicit;
                    verdict.at = Some(rule.get("if").map_or(rule.at(), Val::at));
                    verdict.same_project = same_project;
                    verdict.manual = when == "manual";
                    decided = true;
                }
            }
            Match::Unknown => {
                if when == "never" {
                    continue;
                }
                verdict.only_mr = false;
                if !decided {
                    verdict.runs = Runs::Implicit;
                    verdict.at = Some(rule.get("if").map_or(rule.at(), Val::at));
                    verdict.manual = when == "manual";
                    decided = true;
                }
            }
        }
    }
    if !decided {
        verdict.only_mr = false;
    }
    verdict
}

/// `only:` / `except:` naming merge requests (list form or `refs:`).
fn names_merge_requests<'a>(value: &Val<'a>) -> Option<At<'a>> {
    let refs = value.get("refs").unwrap_or(value);
    refs.flat_items()
        .into_iter()
        .find(|v| v.as_str() == Some("merge_requests"))
        .map(Val::at)
}

/// The pipeline-level part: does `workflow:` create merge request pipelines?
#[derive(Debug, Clone)]
pub struct Workflow<'a> {
    /// `None`: no `workflow: rules:`.
    allows: Option<bool>,
    only_mr: bool,
    at: Option<At<'a>>,
    same_project: bool,
    /// Some job names merge request pipelines (without a workflow, that creates them).
    any_job_explicit: bool,
}

impl<'a> Workflow<'a> {
    pub fn of(pipeline: &Pipeline<'a>) -> Workflow<'a> {
        // `if: !reference [.is_main]` is common in workflow rules.
        let rules = pipeline
            .top
            .get("workflow")
            .and_then(|w| w.get("rules"))
            .map(|r| resolve(r, &pipeline.top, 0, &mut BTreeSet::new()));
        let rules = rules.as_ref();
        let any_job_explicit = pipeline.jobs.iter().any(|job| {
            job.config
                .get("rules")
                .is_some_and(|r| evaluate_rules(r).runs == Runs::Explicit)
                || job
                    .config
                    .get("only")
                    .and_then(names_merge_requests)
                    .is_some()
        });
        match rules {
            None => Workflow {
                allows: None,
                only_mr: false,
                at: None,
                same_project: false,
                any_job_explicit,
            },
            Some(rules) => {
                let verdict = evaluate_rules(rules);
                Workflow {
                    allows: Some(verdict.runs != Runs::No),
                    only_mr: verdict.runs == Runs::Explicit && verdict.only_mr,
                    at: verdict.at,
                    same_project: verdict.same_project,
                    any_job_explicit,
                }
            }
        }
    }

    fn creates_mr_pipelines(&self) -> bool {
        self.allows.unwrap_or(self.any_job_explicit)
    }
}

/// Whether `job` runs in merge request pipelines, and what gates it.
pub fn of_job<'a>(job: &Job<'a>, workflow: &Workflow<'a>) -> MrExposure<'a> {
    let config = &job.config;
    let job_manual = config.get("when").and_then(Val::as_str) == Some("manual");
    let environment = config.get("environment").and_then(|e| {
        e.as_str()
            .or_else(|| e.get("name").and_then(Val::as_str))
            .map(str::to_owned)
    });
    let mut exposure = MrExposure {
        runs: Runs::No,
        admitted_by: None,
        same_project_only: workflow.same_project,
        manual: job_manual,
        environment,
    };
    if let Some(rules) = config.get("rules") {
        let verdict = evaluate_rules(rules);
        exposure.manual |= verdict.manual;
        exposure.same_project_only |= verdict.same_project;
        exposure.admitted_by = verdict.at;
        exposure.runs = match verdict.runs {
            Runs::Explicit if workflow.allows != Some(false) => Runs::Explicit,
            Runs::Implicit if workflow.only_mr => Runs::Explicit,
            Runs::Implicit if workflow.creates_mr_pipelines() => Runs::Implicit,
            _ => Runs::No,
        };
        if exposure.runs != Runs::No && verdict.runs == Runs::Implicit && workflow.at.is_some() {
            exposure.admitted_by = workflow.at;
        }
        return exposure;
    }
    let only = config.get("only");
    let except = config.get("except");
    if only.is_some() || except.is_some() {
        if except.and_then(names_merge_requests).is_some() {
            return exposure;
        }
        if let Some(at) = only.and_then(names_merge_requests) {
            exposure.runs = Runs::Explicit;
            exposure.admitted_by = Some(at);
        }
        return exposure;
    }
    if workflow.allows == Some(true) {
        exposure.runs = if workflow.only_mr {
            Runs::Explicit
        } else {
            Runs::Implicit
        };
        exposure.admitted_by = workflow.at;
    }
    exposure
}

/// One confidence level lower.
pub fn lower(confidence: Confidence) -> Confidence {
    match confidence {
        Confidence::High => Confidence::Medium,
        Confidence::Medium | Confidence::Low => Confidence::Low,
    }
}

/// Applies the gates to a finding about code or credentials reachable from a merge request:
/// each real gate lowers severity or confidence and is recorded, none suppresses.
pub fn apply_gates(mut finding: Finding, exposure: &MrExposure<'_>) -> Finding {
    if exposure.same_project_only {
        finding.severity = finding.severity.downgrade(1);
        finding = finding.mitigation(
            "same-project-only",
            "the rule admits only merge requests from branches of this project \
             (`$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID`): fork code is excluded, \
             members with push rights remain",
        );
    } else {
        finding.confidence = lower(finding.confidence);
        finding = finding.mitigation(
            "fork-pipelines-run-in-fork",
            "by default GitLab runs fork merge request pipelines in the fork project, without \
             this project's CI/CD variables; the finding holds for same-project branches and \
             when maintainers run fork pipelines in the parent project",
        );
    }
    if exposure.manual {
        finding.severity = finding.severity.downgrade(1);
        finding = finding.mitigation(
            "manual-gate",
            "`when: manual`: someone must start the job by hand",
        );
    }
    if let Some(environment) = &exposure.environment {
        finding.confidence = lower(finding.confidence);
        finding = finding.mitigation(
            "environment",
            format!(
                "the job deploys to environment `{environment}`; if it is protected, the job \
                 waits for an approval"
            ),
        );
    }
    if exposure.runs == Runs::Implicit {
        finding.confidence = lower(finding.confidence);
    }
    finding
}

/// "on merge request pipelines (admitted by …)" for messages.
pub fn describe(exposure: &MrExposure<'_>) -> String {
    match exposure.runs {
        Runs::Explicit => "runs in merge request pipelines".to_owned(),
        Runs::Implicit => {
            "runs in the merge request pipelines this configuration creates".to_owned()
        }
        Runs::No => "does not run in merge request pipelines".to_owned(),
    }
}

/// Severity for something that only matters on merge request pipelines.
pub fn base(exposure: &MrExposure<'_>, explicit: Severity, implicit: Severity) -> Severity {
    match exposure.runs {
        Runs::Explicit => explicit,
        Runs::Implicit | Runs::No => implicit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_conditions() {
        assert_eq!(
            classify_if("$CI_PIPELINE_SOURCE == \"merge_request_event\""),
            Match::Explicit {
                same_project: false
            }
        );
        assert_eq!(
            classify_if("$CI_MERGE_REQUEST_IID"),
            Match::Explicit {
                same_project: false
            }
        );
        assert_eq!(
            classify_if("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"),
            Match::Never
        );
        assert_eq!(classify_if("$CI_PIPELINE_SOURCE == \"push\""), Match::Never);
        assert_eq!(classify_if("$FOO == \"1\""), Match::Unknown);
        assert_eq!(
            classify_if(
                "$CI_PIPELINE_SOURCE == \"merge_request_event\" && \
                 $CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID"
            ),
            Match::Explicit { same_project: true }
        );
        assert_eq!(
            classify_if("$CI_COMMIT_TAG || $CI_MERGE_REQUEST_IID"),
            Match::Explicit {
                same_project: false
            }
        );
        assert_eq!(classify_if("$CI_MERGE_REQUEST_IID == null"), Match::Never);
        assert_eq!(
            classify_if("$CI_MERGE_REQUEST_LABELS !~ /skip/"),
            Match::Unknown
        );
        assert_eq!(
            classify_if("${CI_MERGE_REQUEST_SOURCE_PROJECT_ID} == ${CI_PROJECT_ID}"),
            Match::Explicit { same_project: true }
        );
    }
}
