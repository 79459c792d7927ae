//! Enforcement for one subject: plan from its state, converge every object each action
//! touches, send or resolve alerts, and describe the outcome for the report, Events and
//! metrics. `Unknown` decides nothing; `--enforcement off` does nothing at all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject};
use kube::runtime::events::EventType;
use serde_json::{Value, json};

use crate::api::ComplianceState;
use crate::api::policy::{Action, AlertKind, Trigger};
use crate::api::report::{EnforcementOutcome, EnforcementResult, FindingSummary};
use crate::operator::context::{EnforcementMode, Shared};
use crate::operator::correlate::{self, Correlation};
use crate::operator::enforce::FieldChange;
use crate::operator::enforce::alert::{Message, delivery_id};
use crate::operator::enforce::plan::{AlertDemand, Demand, Plan, alert_key, pending_result, plan};
use crate::operator::enforce::record::{Annotation, EnforcementRecord};
use crate::operator::enforce::sync::{argo_supports_enabled, argo_suspend, flux_suspend};
use crate::operator::enforce::target::{
    Converged, Desire, Target, TargetError, converge, edit_record, metadata_change,
};
use crate::operator::events::publish;
use crate::operator::kinds::WatchedKind;
use crate::operator::policy::SelectedPolicy;
use crate::operator::report_writer::Subject;

/// Set on an enforced subject: its state.
pub const STATE_ANNOTATION: &str = "sluice.dev/compliance-state";
/// Set on an enforced subject: the name of its report (same namespace).
pub const REPORT_ANNOTATION: &str = "sluice.dev/report";
/// Set on correlated workloads.
pub const RISK_LABEL: &str = "sluice.dev/pipeline-risk";
/// The Argo CD Application CRD's schema is re-read this often (an upgrade may add or remove
/// `automated.enabled`).
const CRD_TTL: Duration = Duration::from_secs(300);

/// What the reconciler knows about the subject.
#[derive(Debug)]
pub struct SubjectInput<'a> {
    pub subject: &'a Subject,
    pub object: &'a DynamicObject,
    pub state: ComplianceState,
    /// When `state` was first seen.
    pub since: Timestamp,
    pub report: &'a str,
    pub correlation: &'a Correlation,
    pub policies: &'a [SelectedPolicy],
    /// The report's entries before this pass (Events are emitted for what is new).
    pub previous: &'a [EnforcementResult],
    pub summary: &'a FindingSummary,
    pub reasons: &'a [String],
}

/// The outcome for the report and the requeue.
#[derive(Debug, Default)]
pub struct Enforced {
    pub results: Vec<EnforcementResult>,
    /// A grace period ends then: come back.
    pub next_due: Option<Duration>,
    /// Something could not be done (API error, receiver down): retry with backoff.
    pub failed: bool,
}

/// The field changes an action makes to an object as it is.
type Changes = Box<dyn Fn(&Value) -> Vec<FieldChange> + Send + Sync>;

/// One action's converged objects.
#[derive(Debug, Default)]
struct ActionOutcome {
    objects: Vec<(Target, Result<Converged, String>)>,
    /// Why nothing was attempted (e.g. a Tekton Pipeline has no sync).
    not_applicable: Option<String>,
}

pub async fn enforce(shared: &Shared, input: &SubjectInput<'_>) -> Enforced {
    let mode = shared.settings.enforcement;
    if mode == EnforcementMode::Off {
        return Enforced::default();
    }
    if input.state == ComplianceState::Unknown {
        // Nothing triggers and nothing is reversed on a scan that could not run.
        return Enforced {
            results: input.previous.to_vec(),
            ..Enforced::default()
        };
    }
    let dry_run = mode == EnforcementMode::DryRun;
    let now = shared.settings.clock.now();
    let plan = plan(input.policies, input.state, input.since, now);
    let subject = Target::of(input.object, input.subject.kind);
    let subject_value = serde_json::to_value(input.object).expect("an object serializes");
    let reference = input.subject.object_reference();
    let record = match EnforcementRecord::read(&subject_value) {
        Ok(Annotation::Record(record)) => Some(record),
        Ok(Annotation::OptedOut) => {
            let results = skipped_all(
                input.policies,
                input.state,
                "the subject is opted out (sluice.dev/enforcement: disabled)",
            );
            announce_new(shared, &reference, input.previous, &results).await;
            return Enforced {
                results,
                ..Enforced::default()
            };
        }
        Ok(Annotation::Absent) => None,
        Err(e) => {
            let why = format!(
                "the subject's sluice.dev/enforcement annotation is unreadable ({e}); sluice leaves it alone"
            );
            let results = skipped_all(input.policies, input.state, &why);
            announce_new(shared, &reference, input.previous, &results).await;
            return Enforced {
                results,
                ..Enforced::default()
            };
        }
    };
    let now_text = now.to_string();
    let ctx = Pass {
        shared,
        input,
        subject: &subject,
        record: record.as_ref(),
        dry_run,
        now: &now_text,
    };
    let mut outcomes = BTreeMap::new();
    for action in [
        Action::Annotate,
        Action::SuspendSync,
        Action::LabelWorkloads,
    ] {
        let demand = plan.actions.get(&action).cloned().unwrap_or_default();
        let outcome = ctx.converge_action(action, &demand).await;
        ctx.announce_changes(&reference, action, &outcome).await;
        outcomes.insert(action, outcome);
    }
    let alerts = ctx.converge_alerts(&plan).await;
    let mut enforced = Enforced {
        results: results(
            &plan,
            &subject,
            input.policies,
            input.state,
            &outcomes,
            &alerts,
            dry_run,
        ),
        next_due: plan.next_due,
        failed: false,
    };
    enforced.failed = enforced
        .results
        .iter()
        .any(|r| r.result == EnforcementOutcome::Failed);
    for result in &enforced.results {
        if result.result == EnforcementOutcome::Failed {
            count(shared, result.action, "failed");
        }
    }
    announce_new(shared, &reference, input.previous, &enforced.results).await;
    enforced
}

/// Everything one pass over a subject needs.
struct Pass<'a> {
    shared: &'a Shared,
    input: &'a SubjectInput<'a>,
    subject: &'a Target,
    /// The subject's record as cached (the converge re-reads the live object).
    record: Option<&'a EnforcementRecord>,
    dry_run: bool,
    now: &'a str,
}

impl Pass<'_> {
    fn would_send(demand: &AlertDemand, delivered: Option<&str>, transition: &str) -> bool {
        if demand.firing {
            delivered != Some(transition)
        } else {
            !demand.holding && delivered.is_some()
        }
    }

    fn recorded(&self, action: Action) -> Option<&crate::operator::enforce::record::RecordEntry> {
        self.record.and_then(|r| r.entry(action_name(action), None))
    }

    async fn converge_action(&self, action: Action, demand: &Demand) -> ActionOutcome {
        let mut outcome = ActionOutcome::default();
        // Nothing wanted and nothing recorded: no request at all.
        if !demand.keeps() && self.recorded(action).is_none() {
            return outcome;
        }
        let state = self.input.state.as_str();
        let name = action_name(action);
        let recorded_targets: BTreeSet<Target> = self
            .recorded(action)
            .map(|e| {
                e.targets
                    .iter()
                    .filter_map(|k| Target::from_key(k))
                    .collect()
            })
            .unwrap_or_default();
        let (subject_changes, current_targets, target_changes): (
            Changes,
            BTreeSet<Target>,
            Changes,
        ) = match action {
            Action::Annotate => {
                let state = state.to_owned();
                let report = self.input.report.to_owned();
                (
                    Box::new(move |o: &Value| {
                        [
                            metadata_change(o, "annotations", STATE_ANNOTATION, &state),
                            metadata_change(o, "annotations", REPORT_ANNOTATION, &report),
                        ]
                        .into_iter()
                        .flatten()
                        .collect()
                    }),
                    BTreeSet::new(),
                    Box::new(|_: &Value| Vec::new()),
                )
            }
            Action::SuspendSync => match self.input.subject.kind {
                WatchedKind::Application => {
                    let enabled = if demand.firing.is_empty() {
                        false
                    } else {
                        argo_enabled(self.shared).await
                    };
                    (
                        Box::new(move |o: &Value| argo_suspend(o, enabled)),
                        BTreeSet::new(),
                        Box::new(|_: &Value| Vec::new()),
                    )
                }
                WatchedKind::GitRepository | WatchedKind::OciRepository => (
                    Box::new(flux_suspend),
                    self.appliers(),
                    Box::new(flux_suspend),
                ),
                _ => {
                    if demand.keeps() {
                        outcome.not_applicable =
                            Some("a Tekton Pipeline has no sync to suspend".to_owned());
                    }
                    return outcome;
                }
            },
            Action::LabelWorkloads => {
                let state = state.to_owned();
                (
                    Box::new(|_: &Value| Vec::new()),
                    self.workloads(),
                    Box::new(move |o: &Value| {
                        metadata_change(o, "labels", RISK_LABEL, &state)
                            .into_iter()
                            .collect()
                    }),
                )
            }
            Action::Alert => unreachable!("alerts are not object changes"),
        };
        if demand.keeps() {
            let fire = !demand.firing.is_empty();
            let policies = demand.policies();
            // The subject's record lists every target first, so that reversal finds each
            // one even if this pass stops half-way.
            let all: BTreeSet<Target> = current_targets.union(&recorded_targets).cloned().collect();
            let keys: Vec<String> = all.iter().map(Target::key).collect();
            let subject_desire = Desire::Keep {
                fire,
                policies: policies.clone(),
                changes: subject_changes.as_ref(),
                targets: keys,
            };
            let subject_result = self.converge(self.subject, name, &subject_desire).await;
            let proceed = matches!(
                subject_result,
                Ok(Converged::Applied { .. } | Converged::InEffect)
            );
            outcome.objects.push((self.subject.clone(), subject_result));
            if !proceed {
                return outcome;
            }
            let target_desire = Desire::Keep {
                fire,
                policies,
                changes: target_changes.as_ref(),
                targets: Vec::new(),
            };
            for target in &current_targets {
                let result = self.converge(target, name, &target_desire).await;
                outcome.objects.push((target.clone(), result));
            }
            // Objects no longer deployed from the subject get back what they had.
            for target in recorded_targets.difference(&current_targets) {
                let result = self.converge(target, name, &Desire::Release).await;
                outcome.objects.push((target.clone(), result));
            }
        } else {
            let mut failed = false;
            for target in &recorded_targets {
                let result = self.converge(target, name, &Desire::Release).await;
                failed |= result.is_err();
                outcome.objects.push((target.clone(), result));
            }
            // The subject's entry goes last: while a target could not be restored, the record
            // still lists it for the retry.
            if !failed {
                let result = self.converge(self.subject, name, &Desire::Release).await;
                outcome.objects.push((self.subject.clone(), result));
            }
        }
        outcome
    }

    async fn converge(
        &self,
        target: &Target,
        action: &str,
        desire: &Desire<'_>,
    ) -> Result<Converged, String> {
        converge(self.shared, target, action, desire, self.dry_run, self.now)
            .await
            .map_err(|e: TargetError| e.to_string())
    }

    /// The Flux Kustomizations and HelmReleases that apply this source.
    fn appliers(&self) -> BTreeSet<Target> {
        let (namespace, name) = (&self.input.subject.namespace, &self.input.subject.name);
        let mut found = BTreeSet::new();
        for kind in [WatchedKind::Kustomization, WatchedKind::HelmRelease] {
            for applier in self.shared.objects(kind) {
                let value = serde_json::to_value(&*applier).expect("serializable");
                if correlate::applies_source(
                    &value,
                    self.input.subject.kind.kind(),
                    namespace,
                    name,
                ) {
                    found.insert(Target::of(&applier, kind));
                }
            }
        }
        found
    }

    /// The correlated workloads in this cluster.
    fn workloads(&self) -> BTreeSet<Target> {
        self.input
            .correlation
            .workloads
            .iter()
            .map(|w| Target {
                api_version: w.api_version().to_owned(),
                kind: w.kind.clone(),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
            })
            .collect()
    }

    /// One Event per action for what this pass changed, and the counters.
    async fn announce_changes(
        &self,
        reference: &ObjectReference,
        action: Action,
        outcome: &ActionOutcome,
    ) {
        let mut applied = Vec::new();
        let mut restored = Vec::new();
        let mut left = Vec::new();
        for (target, result) in &outcome.objects {
            match result {
                Ok(Converged::Applied {
                    changes,
                    written: true,
                }) if !changes.is_empty() => {
                    applied.push(target.display());
                }
                Ok(Converged::Restored {
                    fields,
                    changed_since,
                    written: true,
                }) => {
                    if !fields.is_empty() {
                        restored.push(target.display());
                    }
                    if !changed_since.is_empty() {
                        left.push(format!(
                            "{} ({})",
                            target.display(),
                            changed_since.join(", ")
                        ));
                    }
                }
                Ok(Converged::Yielded {
                    fields,
                    newly: true,
                }) => {
                    left.push(format!("{} ({})", target.display(), fields.join(", ")));
                }
                _ => {}
            }
        }
        let shared = self.shared;
        let name = action_name(action);
        if !applied.is_empty() {
            count(shared, action, "applied");
            let (reason, what) = match action {
                Action::SuspendSync => ("SyncSuspended", "suspended automated sync of"),
                Action::Annotate => ("EnforcementApplied", "annotated"),
                _ => ("EnforcementApplied", "labelled sluice.dev/pipeline-risk on"),
            };
            let note = format!(
                "{what} {} (state {}; recorded in the sluice.dev/enforcement annotation)",
                applied.join(", "),
                self.input.state
            );
            publish(shared, reference, EventType::Warning, reason, name, note).await;
        }
        if !restored.is_empty() {
            count(shared, action, "reversed");
            let (reason, what) = match action {
                Action::SuspendSync => ("SyncResumed", "restored automated sync of"),
                _ => ("EnforcementReversed", "restored what sluice changed on"),
            };
            let note = format!(
                "{what} {} (state {})",
                restored.join(", "),
                self.input.state
            );
            publish(shared, reference, EventType::Normal, reason, name, note).await;
        }
        if !left.is_empty() {
            count(shared, action, "skipped");
            let note = format!(
                "{name}: someone changed what sluice had set on {}; sluice does not overwrite it and drops its record",
                left.join(", ")
            );
            publish(
                shared,
                reference,
                EventType::Warning,
                "EnforcementSkipped",
                name,
                note,
            )
            .await;
        }
    }

    async fn converge_alerts(&self, plan: &Plan) -> BTreeMap<String, Result<AlertOutcome, String>> {
        let mut outcomes = BTreeMap::new();
        // A transition is identified by the state alerted on, not by when it was first seen:
        // a leader that alerted but died before writing the report's stateSince must not make
        // its successor see a "new" transition.
        let transition = self.input.state.as_str().to_owned();
        for demand in &plan.alerts {
            let outcome = self.converge_alert(demand, &transition).await;
            outcomes.insert(demand.key.clone(), outcome);
        }
        // Entries of policies that no longer select the subject (or lost their alert rule).
        let wanted: BTreeSet<&str> = plan.alerts.iter().map(|d| d.key.as_str()).collect();
        let stale = self.record.is_some_and(|r| {
            r.entries.iter().any(|e| {
                e.action == "alert" && e.policies.iter().all(|p| !wanted.contains(p.as_str()))
            })
        });
        if stale && !self.dry_run {
            let forget = |record: &mut EnforcementRecord| {
                let before = record.entries.len();
                record.entries.retain(|e| {
                    e.action != "alert" || e.policies.iter().any(|p| wanted.contains(p.as_str()))
                });
                record.entries.len() != before
            };
            if let Err(e) = edit_record(self.shared, self.subject, &forget).await {
                tracing::warn!("cannot forget stale alert records: {e}");
            }
        }
        outcomes
    }

    async fn converge_alert(
        &self,
        demand: &AlertDemand,
        transition: &str,
    ) -> Result<AlertOutcome, String> {
        let cached = self
            .record
            .and_then(|r| r.entry("alert", Some(&demand.key)))
            .and_then(|e| e.delivered.clone());
        // Decide on the cache, confirm on the live object before sending: the cache may not
        // have seen a delivery this (or another) replica just recorded.
        let delivered = if Self::would_send(demand, cached.as_deref(), transition) {
            live_delivery(self.shared, self.subject, &demand.key).await?
        } else {
            cached
        };
        let event = if demand.firing {
            if delivered.as_deref() == Some(transition) {
                return Ok(AlertOutcome::Delivered);
            }
            "triggered"
        } else if demand.holding {
            return Ok(AlertOutcome::NotDue);
        } else if delivered.is_some() {
            "resolved"
        } else {
            return Ok(AlertOutcome::Nothing);
        };
        let Some(target) = &demand.target else {
            return Ok(AlertOutcome::NoTarget);
        };
        if self.dry_run {
            return Ok(AlertOutcome::WouldSend(event));
        }
        if !self.shared.writes.is_open() {
            return Err("not the leader any more".to_owned());
        }
        let message = self.message(demand, transition, event, delivered.as_deref());
        self.shared
            .alerts
            .send(self.shared, target, &message)
            .await
            // Counted as `failed` with the other failed entries of the pass.
            .map_err(|e| format!("alert not delivered: {e}"))?;
        count(
            self.shared,
            Action::Alert,
            if event == "resolved" {
                "reversed"
            } else {
                "applied"
            },
        );
        let policy = demand.key.clone();
        let at = self.now.to_owned();
        let recorded_transition = transition.to_owned();
        let record = move |record: &mut EnforcementRecord| {
            let existing = record.take("alert", Some(&policy));
            if event == "resolved" {
                return existing.is_some();
            }
            record
                .entries
                .push(crate::operator::enforce::record::RecordEntry {
                    action: "alert".to_owned(),
                    policies: vec![policy.clone()],
                    changes: Vec::new(),
                    targets: Vec::new(),
                    yielded: false,
                    delivered: Some(recorded_transition.clone()),
                    at: at.clone(),
                });
            true
        };
        edit_record(self.shared, self.subject, &record)
            .await
            .map_err(|e| format!("alert delivered but not recorded: {e}"))?;
        let note = format!(
            "{} alert for policy {} sent to its {} receiver (delivery {})",
            event,
            demand.policy,
            match target.kind {
                AlertKind::Slack => "Slack",
                AlertKind::Webhook => "webhook",
            },
            message.delivery_id
        );
        publish(
            self.shared,
            &self.input.subject.object_reference(),
            EventType::Normal,
            "AlertSent",
            "alert",
            note,
        )
        .await;
        Ok(AlertOutcome::Sent)
    }

    fn message(
        &self,
        demand: &AlertDemand,
        transition: &str,
        event: &'static str,
        previous: Option<&str>,
    ) -> Message {
        let input = self.input;
        let subject = input.subject;
        let key = match (event, previous) {
            ("resolved", Some(previous)) => format!("{previous}->{transition}@{}", input.since),
            _ => format!("{transition}@{}", input.since),
        };
        let id = delivery_id(&subject.uid, &demand.key, &key, event);
        let s = input.summary;
        let what = format!(
            "{} {}/{}",
            subject.kind.kind(),
            subject.namespace,
            subject.name
        );
        let text = if event == "resolved" {
            format!(
                "sluice: {what} is {} now, below the {:?} trigger of policy {} (resolved)",
                input.state, demand.trigger, demand.policy
            )
        } else {
            format!(
                "sluice: {what} is {} under policy {} (trigger {:?}): {} critical, {} high, {} medium findings in its pipelines. Report: PipelineSecurityReport {}/{}",
                input.state,
                demand.policy,
                demand.trigger,
                s.critical,
                s.high,
                s.medium,
                subject.namespace,
                input.report
            )
        };
        let body = json!({
            "event": event,
            "deliveryId": id,
            "subject": {
                "apiVersion": subject.api_version,
                "kind": subject.kind.kind(),
                "namespace": subject.namespace,
                "name": subject.name,
                "uid": subject.uid,
            },
            "state": input.state,
            "stateSince": input.since.to_string(),
            "policy": demand.policy,
            "trigger": demand.trigger,
            "summary": s,
            "reasons": input.reasons.iter().take(10).collect::<Vec<_>>(),
            "report": {"namespace": subject.namespace, "name": input.report},
        });
        Message {
            event,
            delivery_id: id,
            body,
            text,
        }
    }
}

/// The delivered transition recorded on the live subject for `policy`'s alert.
async fn live_delivery(
    shared: &Shared,
    subject: &Target,
    policy: &str,
) -> Result<Option<String>, String> {
    let live = subject
        .get(&shared.client)
        .await
        .map_err(|e| format!("cannot read {}: {e}", subject.display()))?;
    let Some(live) = live else {
        return Ok(None);
    };
    let value = serde_json::to_value(&live).expect("an object from the API serializes");
    Ok(match EnforcementRecord::read(&value) {
        Ok(Annotation::Record(record)) => record
            .entry("alert", Some(policy))
            .and_then(|e| e.delivered.clone()),
        _ => None,
    })
}

/// Where one policy's alert stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AlertOutcome {
    Sent,
    /// This transition's alert was sent before (by this or another replica).
    Delivered,
    NotDue,
    NoTarget,
    WouldSend(&'static str),
    Nothing,
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Annotate => "annotate",
        Action::Alert => "alert",
        Action::SuspendSync => "suspendSync",
        Action::LabelWorkloads => "labelWorkloads",
    }
}

fn count(shared: &Shared, action: Action, result: &str) {
    shared
        .metrics
        .enforcement_actions
        .get_or_create(&crate::operator::metrics::ActionLabels {
            action: action_name(action).to_owned(),
            result: result.to_owned(),
        })
        .inc();
}

/// Does the installed Application CRD know `automated.enabled`? Cached for a few minutes.
async fn argo_enabled(shared: &Shared) -> bool {
    if let Some((at, enabled)) = *shared.argo_enabled.lock().expect("crd cache lock")
        && at.elapsed() < CRD_TTL
    {
        return enabled;
    }
    let crds: Api<CustomResourceDefinition> = Api::all(shared.client.clone());
    let enabled = match crds.get_opt(&WatchedKind::Application.crd_name()).await {
        Ok(Some(crd)) => argo_supports_enabled(&serde_json::to_value(&crd).expect("serializable")),
        Ok(None) => false,
        Err(e) => {
            // Removing `automated` works on every Argo CD version: the safe fallback.
            tracing::warn!(
                "cannot read the Application CRD ({e}); suspending by removing automated"
            );
            return false;
        }
    };
    *shared.argo_enabled.lock().expect("crd cache lock") = Some((Instant::now(), enabled));
    enabled
}

/// Every triggered rule as `Skipped` for `why`.
fn skipped_all(
    policies: &[SelectedPolicy],
    state: ComplianceState,
    why: &str,
) -> Vec<EnforcementResult> {
    let mut results: Vec<EnforcementResult> = triggered(policies, state)
        .map(|(policy, action, trigger, _)| EnforcementResult {
            policy,
            action,
            trigger,
            result: EnforcementOutcome::Skipped,
            message: why.to_owned(),
            targets: Vec::new(),
            due: None,
        })
        .collect();
    sort(&mut results);
    results
}

/// Every (policy, action, trigger, alert key) whose trigger `state` meets.
fn triggered(
    policies: &[SelectedPolicy],
    state: ComplianceState,
) -> impl Iterator<Item = (String, Action, Trigger, String)> + '_ {
    policies.iter().flat_map(move |policy| {
        let id = super::plan::policy_id(policy);
        policy
            .spec
            .enforcement
            .iter()
            .filter(move |rule| rule.trigger.is_met_by(state))
            .map(move |rule| (id.clone(), rule.action, rule.trigger, alert_key(&id, rule)))
    })
}

/// The report entries: one per triggered rule.
fn results(
    plan: &Plan,
    subject: &Target,
    policies: &[SelectedPolicy],
    state: ComplianceState,
    outcomes: &BTreeMap<Action, ActionOutcome>,
    alerts: &BTreeMap<String, Result<AlertOutcome, String>>,
    dry_run: bool,
) -> Vec<EnforcementResult> {
    let mut results = Vec::new();
    for (policy, action, trigger, key) in triggered(policies, state) {
        let pending = plan
            .pending
            .iter()
            .find(|(p, a, t, _)| *p == policy && *a == action && *t == trigger);
        let (result, message, targets) = if action == Action::Alert {
            alert_result(alerts.get(&key), dry_run)
        } else {
            action_result(action, &outcomes[&action], subject, dry_run)
        };
        let entry = match pending {
            // In its grace period and not in effect through another policy: waiting.
            Some((_, _, _, due)) if result != EnforcementOutcome::Applied => {
                pending_result(&policy, action, trigger, *due)
            }
            _ => EnforcementResult {
                policy,
                action,
                trigger,
                result,
                message,
                targets,
                due: None,
            },
        };
        results.push(entry);
    }
    sort(&mut results);
    results
}

/// Report entries by policy, then action name.
fn sort(results: &mut [EnforcementResult]) {
    results.sort_by(|a, b| {
        (&a.policy, action_name(a.action)).cmp(&(&b.policy, action_name(b.action)))
    });
}

fn action_result(
    action: Action,
    outcome: &ActionOutcome,
    subject: &Target,
    dry_run: bool,
) -> (EnforcementOutcome, String, Vec<String>) {
    if let Some(why) = &outcome.not_applicable {
        return (EnforcementOutcome::Skipped, why.clone(), Vec::new());
    }
    let mut in_effect = Vec::new();
    let mut yielded = Vec::new();
    let mut errors = Vec::new();
    let mut opted_out = Vec::new();
    for (target, result) in &outcome.objects {
        // For labelWorkloads the subject's entry only lists the workloads.
        let counts = !(action == Action::LabelWorkloads && target == subject);
        match result {
            Ok(Converged::Applied { changes, .. }) if !changes.is_empty() => {
                in_effect.push(target.display());
            }
            Ok(Converged::InEffect) if counts => in_effect.push(target.display()),
            Ok(Converged::Yielded { .. }) => yielded.push(target.display()),
            Ok(Converged::OptedOut) => opted_out.push(target.display()),
            Ok(Converged::Unreadable(why)) => errors.push(format!("{}: {why}", target.display())),
            Err(e) => errors.push(e.clone()),
            _ => {}
        }
    }
    in_effect.sort();
    in_effect.dedup();
    if !errors.is_empty() {
        return (EnforcementOutcome::Failed, errors.join("; "), in_effect);
    }
    let what = match action {
        Action::Annotate => {
            "sluice.dev/compliance-state and sluice.dev/report set on the subject".to_owned()
        }
        Action::SuspendSync => "automated sync suspended".to_owned(),
        _ => format!("{RISK_LABEL} set on the workloads"),
    };
    if !in_effect.is_empty() {
        let mut message = what;
        if !yielded.is_empty() {
            message.push_str(&format!(
                "; left as a person changed them: {}",
                yielded.join(", ")
            ));
        }
        if !opted_out.is_empty() {
            message.push_str(&format!("; opted out: {}", opted_out.join(", ")));
        }
        let result = if dry_run {
            EnforcementOutcome::DryRun
        } else {
            EnforcementOutcome::Applied
        };
        let message = if dry_run {
            format!("would be done: {message}")
        } else {
            message
        };
        return (result, message, in_effect);
    }
    let why = if !yielded.is_empty() {
        format!(
            "someone changed what sluice had set on {}; sluice leaves it until the state clears",
            yielded.join(", ")
        )
    } else if !opted_out.is_empty() {
        format!("opted out: {}", opted_out.join(", "))
    } else {
        match action {
            Action::SuspendSync => "nothing to suspend: automated sync is not enabled".to_owned(),
            Action::LabelWorkloads => {
                "no workloads in this cluster are deployed from the subject".to_owned()
            }
            _ => "nothing to change".to_owned(),
        }
    };
    (EnforcementOutcome::Skipped, why, Vec::new())
}

fn alert_result(
    outcome: Option<&Result<AlertOutcome, String>>,
    dry_run: bool,
) -> (EnforcementOutcome, String, Vec<String>) {
    match outcome {
        Some(Ok(AlertOutcome::Sent | AlertOutcome::Delivered)) => (
            EnforcementOutcome::Applied,
            "alert delivered for this state".to_owned(),
            Vec::new(),
        ),
        Some(Ok(AlertOutcome::WouldSend(event))) if dry_run => (
            EnforcementOutcome::DryRun,
            format!("would send a {event} alert"),
            Vec::new(),
        ),
        Some(Ok(AlertOutcome::NoTarget)) => (
            EnforcementOutcome::Skipped,
            "the alert rule has no alertTarget".to_owned(),
            Vec::new(),
        ),
        Some(Err(e)) => (EnforcementOutcome::Failed, e.clone(), Vec::new()),
        _ => (
            EnforcementOutcome::Skipped,
            "nothing to send".to_owned(),
            Vec::new(),
        ),
    }
}

/// Events for entries that are new or changed since the last report: dry runs, skips and
/// failures (applied and reversed changes are announced when written).
async fn announce_new(
    shared: &Shared,
    reference: &ObjectReference,
    previous: &[EnforcementResult],
    results: &[EnforcementResult],
) {
    for result in results {
        let seen = previous.iter().any(|p| {
            p.policy == result.policy
                && p.action == result.action
                && p.result == result.result
                && p.message == result.message
        });
        if seen {
            continue;
        }
        let action = action_name(result.action);
        match result.result {
            EnforcementOutcome::DryRun => {
                count(shared, result.action, "dry_run");
                let note = format!(
                    "dry run, policy {}: {action} {}",
                    result.policy, result.message
                );
                publish(
                    shared,
                    reference,
                    EventType::Normal,
                    "EnforcementDryRun",
                    action,
                    note,
                )
                .await;
            }
            EnforcementOutcome::Skipped => {
                count(shared, result.action, "skipped");
                let note = format!(
                    "policy {}: {action} not applied: {}",
                    result.policy, result.message
                );
                publish(
                    shared,
                    reference,
                    EventType::Normal,
                    "EnforcementSkipped",
                    action,
                    note,
                )
                .await;
            }
            EnforcementOutcome::Failed => {
                let note = format!(
                    "policy {}: {action} failed (retried): {}",
                    result.policy, result.message
                );
                publish(
                    shared,
                    reference,
                    EventType::Warning,
                    "EnforcementFailed",
                    action,
                    note,
                )
                .await;
            }
            EnforcementOutcome::Applied | EnforcementOutcome::Pending => {}
        }
    }
}
