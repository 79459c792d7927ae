//! Which enforcement actions a subject's state calls for, by policy: pure decisions from the
//! state, when it was first seen, and the policies' `enforcement[]` rules. The reconciler
//! then converges the objects (see [`super::target`]) and sends alerts (see [`super::alert`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::api::ComplianceState;
use crate::api::policy::{Action, AlertTarget, EnforcementRule, Trigger};
use crate::api::report::{EnforcementOutcome, EnforcementResult};
use crate::operator::policy::{NAMESPACED_KIND, SelectedPolicy};

/// Which policies want an object-changing action, and how strongly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// Trigger held past the grace period: the action fires.
    pub firing: BTreeSet<String>,
    /// Trigger holds but within the grace period: an action already in effect stays, a new one
    /// waits.
    pub holding: BTreeSet<String>,
}

impl Demand {
    /// Whether an action already in effect stays.
    pub fn keeps(&self) -> bool {
        !self.firing.is_empty() || !self.holding.is_empty()
    }

    /// Every policy that wants the action, sorted.
    pub fn policies(&self) -> Vec<String> {
        self.firing.union(&self.holding).cloned().collect()
    }
}

/// One policy's alert rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDemand {
    pub policy: String,
    /// What the rule's deliveries are recorded under ([`alert_key`]): a policy may alert
    /// several receivers, each once per transition.
    pub key: String,
    pub trigger: Trigger,
    /// `None`: the rule has no target (the CRD requires one; a policy written before that
    /// rule is reported, not guessed at).
    pub target: Option<AlertTarget>,
    pub firing: bool,
    pub holding: bool,
}

/// What the state calls for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Annotate, suspendSync, labelWorkloads: by action, the policies that want it.
    pub actions: BTreeMap<Action, Demand>,
    /// Every alert rule of every selecting policy, fired or not (a rule that no longer fires
    /// may owe a "resolved" message).
    pub alerts: Vec<AlertDemand>,
    /// Rules whose grace period is running, for the report: `(policy, action, trigger, due)`.
    pub pending: Vec<(String, Action, Trigger, Timestamp)>,
    /// The soonest grace period end: the reconciler comes back then.
    pub next_due: Option<Duration>,
}

/// The policy's id in records and reports: `<namespace>/<name>`, `/<name>` for a cluster policy.
pub fn policy_id(policy: &SelectedPolicy) -> String {
    match (&policy.namespace, policy.kind) {
        (Some(ns), NAMESPACED_KIND) => format!("{ns}/{}", policy.name),
        _ => format!("/{}", policy.name),
    }
}

/// Decides what `state` (first seen at `since`) calls for at `now`. `Unknown` calls for
/// nothing, and the caller must not reverse anything on it either.
pub fn plan(
    policies: &[SelectedPolicy],
    state: ComplianceState,
    since: Timestamp,
    now: Timestamp,
) -> Plan {
    let mut plan = Plan::default();
    for policy in policies {
        let id = policy_id(policy);
        for rule in &policy.spec.enforcement {
            let met = rule.trigger.is_met_by(state);
            let grace = rule
                .grace_period
                .as_deref()
                .map(crate::api::duration::parse)
                .and_then(Result::ok)
                .unwrap_or_default();
            let due = since + SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX);
            let firing = met && now >= due;
            let holding = met && !firing;
            if holding {
                let left: Duration = due.duration_since(now).try_into().unwrap_or_default();
                plan.next_due = Some(plan.next_due.map_or(left, |d| d.min(left)));
                plan.pending
                    .push((id.clone(), rule.action, rule.trigger, due));
            }
            if rule.action == Action::Alert {
                plan.alerts.push(AlertDemand {
                    policy: id.clone(),
                    key: alert_key(&id, rule),
                    trigger: rule.trigger,
                    target: rule.alert_target.clone(),
                    firing,
                    holding,
                });
                continue;
            }
            let demand = plan.actions.entry(rule.action).or_default();
            if firing {
                demand.firing.insert(id.clone());
            } else if holding {
                demand.holding.insert(id.clone());
            }
        }
    }
    plan
}

/// The record key of an alert rule: its policy, trigger and receiver.
pub fn alert_key(policy: &str, rule: &EnforcementRule) -> String {
    let receiver = rule.alert_target.as_ref().map_or_else(
        || "none".to_owned(),
        |t| format!("{:?} {}/{}", t.kind, t.secret_ref.name, t.secret_ref.key).to_lowercase(),
    );
    format!("{policy} {:?} {receiver}", rule.trigger)
}

/// The report entry of a rule still in its grace period.
pub fn pending_result(
    policy: &str,
    action: Action,
    trigger: Trigger,
    due: Timestamp,
) -> EnforcementResult {
    EnforcementResult {
        policy: policy.to_owned(),
        action,
        trigger,
        result: EnforcementOutcome::Pending,
        message: format!("{trigger:?} holds; the grace period ends at {due}"),
        targets: Vec::new(),
        due: Some(due.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PolicySpec;

    fn policy(name: &str, rules: Vec<EnforcementRule>) -> SelectedPolicy {
        SelectedPolicy {
            kind: NAMESPACED_KIND,
            namespace: Some("shop".into()),
            name: name.into(),
            spec: PolicySpec {
                enforcement: rules,
                ..PolicySpec::default()
            },
        }
    }

    fn rule(action: Action, trigger: Trigger, grace: Option<&str>) -> EnforcementRule {
        EnforcementRule {
            action,
            trigger,
            grace_period: grace.map(str::to_owned),
            alert_target: None,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a time stamp")
    }

    #[test]
    fn a_trigger_fires_at_its_state_or_worse_and_never_on_unknown() {
        let policies = [policy(
            "strict",
            vec![rule(Action::SuspendSync, Trigger::NonCompliant, None)],
        )];
        let since = at("2026-11-24T00:00:00Z");
        for (state, fires) in [
            (ComplianceState::Compliant, false),
            (ComplianceState::Warning, false),
            (ComplianceState::NonCompliant, true),
            (ComplianceState::Critical, true),
            (ComplianceState::Unknown, false),
        ] {
            let plan = plan(&policies, state, since, since);
            let demand = &plan.actions[&Action::SuspendSync];
            assert_eq!(!demand.firing.is_empty(), fires, "{state:?}");
            assert!(demand.holding.is_empty());
        }
    }

    #[test]
    fn the_grace_period_counts_from_when_the_state_was_first_seen() {
        let policies = [policy(
            "strict",
            vec![rule(Action::LabelWorkloads, Trigger::Warning, Some("1h"))],
        )];
        let since = at("2026-11-24T00:00:00Z");
        let early = plan(
            &policies,
            ComplianceState::Critical,
            since,
            at("2026-11-24T00:20:00Z"),
        );
        let demand = &early.actions[&Action::LabelWorkloads];
        assert!(demand.firing.is_empty());
        assert_eq!(demand.policies(), ["shop/strict"]);
        assert!(demand.keeps());
        assert_eq!(early.next_due, Some(Duration::from_secs(40 * 60)));
        assert_eq!(early.pending[0].3, at("2026-11-24T01:00:00Z"));
        let late = plan(
            &policies,
            ComplianceState::Critical,
            since,
            at("2026-11-24T01:00:00Z"),
        );
        assert_eq!(
            late.actions[&Action::LabelWorkloads].firing,
            BTreeSet::from(["shop/strict".to_owned()])
        );
        assert_eq!(late.next_due, None);
    }

    #[test]
    fn every_policy_counts_and_alerts_stay_per_policy() {
        let mut cluster = policy(
            "baseline",
            vec![
                rule(Action::SuspendSync, Trigger::Critical, None),
                rule(Action::Alert, Trigger::Warning, None),
            ],
        );
        cluster.kind = crate::operator::policy::CLUSTER_KIND;
        cluster.namespace = None;
        let policies = [
            policy(
                "strict",
                vec![rule(Action::SuspendSync, Trigger::NonCompliant, None)],
            ),
            cluster,
        ];
        let now = at("2026-11-24T00:00:00Z");
        let plan = plan(&policies, ComplianceState::NonCompliant, now, now);
        assert_eq!(
            plan.actions[&Action::SuspendSync].firing,
            BTreeSet::from(["shop/strict".to_owned()])
        );
        assert_eq!(plan.alerts.len(), 1);
        assert_eq!(plan.alerts[0].policy, "/baseline");
        assert!(plan.alerts[0].firing);
    }
}
