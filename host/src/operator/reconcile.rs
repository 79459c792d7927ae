//! The subject reconciler: evaluate, write the report if it changed, publish Events for what
//! changed, update metrics, and come back after the interval (sooner after a failed scan).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::api::ComplianceState;
use crate::api::report::PipelineSecurityReportStatus;
use crate::operator::context::{KindContext, Shared, SubjectMemory};
use crate::operator::correlate::{self, Correlation, Workload};
use crate::operator::enforce::{Enforced, SubjectInput, enforce};
use crate::operator::evaluation::{Evaluation, evaluate_subject};
use crate::operator::events::publish;
use crate::operator::kinds::WatchedKind;
use crate::operator::metrics::SubjectLabels;
use crate::operator::policy::SelectedPolicy;
use crate::operator::policy_report;
use crate::operator::report_writer::{Subject, Written, open_report, write_status};
use crate::operator::status::{desired_status, state_since};
use crate::operator::str_at;

/// A reconcile that could not finish (an API error); retried by the error policy.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no {0}")]
    Incomplete(&'static str),
}

pub async fn reconcile(
    object: Arc<DynamicObject>,
    ctx: Arc<KindContext>,
) -> Result<Action, ReconcileError> {
    let shared = &ctx.shared;
    let kind = ctx.kind;
    let started = Instant::now();
    let subject = Subject {
        kind,
        api_version: object
            .types
            .as_ref()
            .map(|t| t.api_version.clone())
            .ok_or(ReconcileError::Incomplete("apiVersion"))?,
        namespace: object
            .namespace()
            .ok_or(ReconcileError::Incomplete("namespace"))?,
        name: object.name_any(),
        uid: object.uid().ok_or(ReconcileError::Incomplete("uid"))?,
        generation: object.meta().generation,
    };
    let value = serde_json::to_value(&*object).expect("an object from the API serializes");
    shared.policies.wait_ready().await;
    let selected = shared
        .policies
        .select(kind, &subject.namespace, object.labels().clone());
    let mut evaluation = evaluate_subject(shared, kind, &value).await;
    let now = shared.settings.clock.now();
    evaluation.apply_policies(&selected, shared.settings.clock.today());
    let correlation = correlate(shared, kind, &value).await;
    let mut desired = desired_status(
        &evaluation,
        &correlation,
        subject.generation,
        shared.settings.findings_cap,
    );
    let open = open_report(shared, &subject).await?;
    let enforced = if open.is_writable() {
        let previous = open
            .status()
            .map(|s| s.enforcement.clone())
            .unwrap_or_default();
        let input = SubjectInput {
            subject: &subject,
            object: &object,
            state: desired.state,
            since: state_since(&desired, open.status(), now),
            report: &open.name,
            correlation: &correlation,
            policies: &selected,
            previous: &previous,
            summary: &desired.summary,
            reasons: &evaluation.reasons,
        };
        enforce(shared, &input).await
    } else {
        Enforced::default()
    };
    desired.enforcement.clone_from(&enforced.results);
    let written = write_status(shared, &subject, open, &desired).await?;
    publish_events(shared, &subject, &evaluation, &desired, &written).await;
    policy_report::publish(shared, &subject, &written, &evaluation, &desired, &selected).await?;

    let labels = SubjectLabels {
        kind: kind.kind().to_owned(),
        namespace: subject.namespace.clone(),
        name: subject.name.clone(),
    };
    let s = &desired.summary;
    shared.metrics.set_subject(
        &labels,
        evaluation.state.as_str(),
        [s.critical, s.high, s.medium, s.low, s.info],
    );
    shared
        .metrics
        .observe_evaluation(kind.kind(), started.elapsed().as_secs_f64());

    let failures = {
        let mut memory = shared.memory.lock().expect("memory lock");
        let entry = memory
            .entry((kind, subject.namespace.clone(), subject.name.clone()))
            .or_default();
        match (&evaluation.failure, &evaluation.outcome) {
            (Some(failure), _) if failure.scan_failed => entry.failures += 1,
            (_, outcome) => {
                entry.failures = 0;
                if let Some(outcome) = outcome {
                    entry.fingerprints = fingerprints(&outcome.report);
                }
            }
        }
        if enforced.failed {
            entry.enforcement_failures += 1;
        } else {
            entry.enforcement_failures = 0;
        }
        entry.failures.max(entry.enforcement_failures)
    };
    // The most demanding policy sets the pace; a grace period ending sooner brings the
    // subject back then.
    let interval = selected
        .iter()
        .filter_map(SelectedPolicy::interval)
        .min()
        .unwrap_or(shared.settings.default_interval);
    let interval = enforced
        .next_due
        .map_or(interval, |due| interval.min(due + Duration::from_secs(1)));
    if failures > 0 {
        // A failed scan or enforcement action is retried with backoff, never left until the
        // next interval.
        let backoff = shared
            .settings
            .failure_backoff
            .saturating_mul(1 << failures.min(16).saturating_sub(1));
        return Ok(Action::requeue(backoff.min(interval)));
    }
    Ok(Action::requeue(interval))
}

pub fn error_policy(
    object: Arc<DynamicObject>,
    error: &ReconcileError,
    ctx: Arc<KindContext>,
) -> Action {
    tracing::warn!(
        kind = ctx.kind.kind(),
        namespace = object.namespace().unwrap_or_default(),
        name = object.name_any(),
        "reconcile failed: {error}"
    );
    Action::requeue(Duration::from_secs(15))
}

fn fingerprints(report: &crate::report::Report) -> HashSet<String> {
    report
        .findings
        .iter()
        .map(|f| f.fingerprint.clone())
        .collect()
}

/// `PipelineFindingDetected` for fingerprints not seen in the previous scan (one Event per
/// scan), `ComplianceStateChanged` when the state moved. Nothing when nothing changed.
async fn publish_events(
    shared: &Shared,
    subject: &Subject,
    evaluation: &Evaluation,
    desired: &PipelineSecurityReportStatus,
    written: &Written,
) {
    if !written.changed {
        return;
    }
    let reference = subject.object_reference();
    if let Some(outcome) = &evaluation.outcome {
        let current = fingerprints(&outcome.report);
        let remembered = shared
            .memory
            .lock()
            .expect("memory lock")
            .get(&(
                subject.kind,
                subject.namespace.clone(),
                subject.name.clone(),
            ))
            .map(|m: &SubjectMemory| m.fingerprints.clone());
        let previous = remembered.or_else(|| {
            written.previous.as_ref().map(|status| {
                if status.fingerprint_digest == desired.fingerprint_digest {
                    current.clone()
                } else {
                    status
                        .findings
                        .iter()
                        .map(|f| f.fingerprint.clone())
                        .collect()
                }
            })
        });
        let new: Vec<&crate::report::Finding> = outcome
            .report
            .findings
            .iter()
            .filter(|f| {
                previous
                    .as_ref()
                    .is_none_or(|p| !p.contains(&f.fingerprint))
            })
            .collect();
        if !new.is_empty() {
            let mut rules: Vec<&str> = new.iter().map(|f| f.rule_id.as_str()).collect();
            rules.sort_unstable();
            rules.dedup();
            let worst = new.iter().map(|f| f.severity).max().expect("not empty");
            let note = format!(
                "{} new finding(s) in the pipelines (worst: {worst}; rules: {}); see PipelineSecurityReport {}",
                new.len(),
                truncate_list(&rules, 10),
                written.name
            );
            publish(
                shared,
                &reference,
                EventType::Warning,
                "PipelineFindingDetected",
                "Scan",
                note,
            )
            .await;
        }
    }
    // An override that expired: said once, when it first shows in the policy's reasons.
    for result in &desired.policies {
        for reason in result.reasons.iter().filter(|r| r.contains(" expired on ")) {
            let known = written.previous.as_ref().is_some_and(|p| {
                p.policies
                    .iter()
                    .any(|old| old.name == result.name && old.reasons.contains(reason))
            });
            if !known {
                let note = format!("policy {}: {reason}", result.name);
                publish(
                    shared,
                    &reference,
                    EventType::Warning,
                    "RuleOverrideExpired",
                    "Scan",
                    note,
                )
                .await;
            }
        }
    }
    let before = written.previous.as_ref().map(|s| s.state);
    if before != Some(desired.state) {
        let from = before.map_or("none", ComplianceState::as_str);
        let kind = if desired.state.at_least(ComplianceState::NonCompliant)
            || desired.state == ComplianceState::Unknown
        {
            EventType::Warning
        } else {
            EventType::Normal
        };
        let why = evaluation
            .reasons
            .first()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let note = format!("compliance state {from} → {}{why}", desired.state);
        publish(
            shared,
            &reference,
            kind,
            "ComplianceStateChanged",
            "Scan",
            note,
        )
        .await;
    }
}

fn truncate_list(items: &[&str], max: usize) -> String {
    let shown = items
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        format!("{shown} and {} more", items.len() - max)
    } else {
        shown
    }
}

/// Workloads from the authoritative data, then the fallback label queries.
async fn correlate(shared: &Shared, kind: WatchedKind, object: &Value) -> Correlation {
    let mut correlation = match kind {
        WatchedKind::Application => correlate::application(object),
        WatchedKind::GitRepository | WatchedKind::OciRepository => {
            let namespace = str_at(object, "/metadata/namespace").unwrap_or_default();
            let name = str_at(object, "/metadata/name").unwrap_or_default();
            let mut appliers = Vec::new();
            for applier_kind in [WatchedKind::Kustomization, WatchedKind::HelmRelease] {
                for applier in shared.objects(applier_kind) {
                    let value = serde_json::to_value(&*applier).expect("serializable");
                    if correlate::applies_source(&value, kind.kind(), namespace, name) {
                        appliers.push((applier_kind.kind(), value));
                    }
                }
            }
            let borrowed: Vec<(&str, &Value)> = appliers.iter().map(|(k, v)| (*k, v)).collect();
            correlate::flux_appliers(&borrowed)
        }
        _ => Correlation::default(),
    };
    for query in std::mem::take(&mut correlation.fallback) {
        correlation
            .workloads
            .extend(run_label_query(shared, &query).await);
    }
    correlation.workloads.sort();
    correlation.workloads.dedup();
    correlation
}

async fn run_label_query(shared: &Shared, query: &correlate::LabelQuery) -> Vec<Workload> {
    let mut found = Vec::new();
    for (group, kind) in correlate::workload_kinds() {
        let resource = correlate::workload_resource(group, kind);
        let api: Api<DynamicObject> = match &query.namespace {
            Some(ns) => Api::namespaced_with(shared.client.clone(), ns, &resource),
            None => Api::all_with(shared.client.clone(), &resource),
        };
        // A tracking-annotation query cannot be a label selector: list and filter.
        let params = if query.labels.is_empty() {
            ListParams::default()
        } else {
            ListParams::default().labels(&query.selector())
        };
        let listed = match api.list_metadata(&params).await {
            Ok(list) => list,
            Err(e) => {
                tracing::debug!("cannot list {kind}s for correlation: {e}");
                continue;
            }
        };
        found.extend(
            listed
                .items
                .into_iter()
                .filter(|item| match &query.tracking_prefix {
                    Some(prefix) if query.labels.is_empty() => item
                        .annotations()
                        .get("argocd.argoproj.io/tracking-id")
                        .is_some_and(|id| id.starts_with(prefix.as_str())),
                    _ => true,
                })
                .map(|item| Workload {
                    kind: (*kind).to_owned(),
                    namespace: item.namespace().unwrap_or_default(),
                    name: item.name_any(),
                }),
        );
    }
    found
}
