//! `PipelineSecurityPolicy` (namespaced: applies to subjects in its namespace) and the spec it
//! shares with `ClusterPipelineSecurityPolicy`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelectorRequirement};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::DURATION_PATTERN;
use super::k8s_schema;
use super::state::ComplianceState;

/// What `ruleOverrides[].rule` accepts: a rule id such as `FG-001` or `GL-012`.
pub const RULE_ID_PATTERN: &str = r"^[A-Z]{2,4}-[0-9]{3}$";
/// What `ruleOverrides[].expires` accepts: a date, `YYYY-MM-DD`.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// Thresholds, overrides and enforcement for the subjects a policy selects.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "sluice.dev",
    version = "v1alpha1",
    kind = "PipelineSecurityPolicy",
    namespaced,
    status = "PolicyStatus",
    derive = "PartialEq",
    shortname = "psp",
    category = "sluice",
    doc = "Thresholds, rule overrides and enforcement actions for the GitOps subjects in this namespace that the selector matches. Several policies may select one subject: each result is recorded in its PipelineSecurityReport and the worst state wins.",
    printcolumn(
        name = "Subjects",
        type_ = "integer",
        json_path = ".status.matchedSubjects",
        description = "Subjects the policy selects"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicySpec {
    /// Which subjects the policy applies to; absent selects every subject in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<SubjectSelector>,
    /// The limits that decide the compliance state.
    pub thresholds: Thresholds,
    /// Per-rule severity changes or exemptions.
    pub rule_overrides: Vec<RuleOverride>,
    /// How often selected subjects are re-evaluated even when nothing changed, as a Go-style
    /// duration (`30m`, `1h30m`); the operator's `--default-interval` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION_PATTERN))]
    pub evaluation_interval: Option<String>,
    /// Actions taken when the state reaches a trigger, and undone when it falls below it.
    pub enforcement: Vec<EnforcementRule>,
}

/// Selects subjects by kind and labels; every given criterion must match.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SubjectSelector {
    /// Subject kinds to select; empty selects every kind.
    pub cicd_kinds: Vec<CicdKind>,
    /// Labels the subject must carry with exactly these values.
    pub match_labels: BTreeMap<String, String>,
    /// Label requirements (In, NotIn, Exists, DoesNotExist) on the subject's labels.
    #[schemars(schema_with = "k8s_schema::label_selector_requirements")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// A kind of subject the operator evaluates.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum CicdKind {
    /// Argo CD `Application` (argoproj.io).
    Application,
    /// Flux `GitRepository` (source.toolkit.fluxcd.io).
    GitRepository,
    /// Flux `OCIRepository` (source.toolkit.fluxcd.io).
    #[serde(rename = "OCIRepository")]
    OciRepository,
    /// Tekton `Pipeline` (tekton.dev).
    Pipeline,
}

impl CicdKind {
    /// The Kubernetes kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            CicdKind::Application => "Application",
            CicdKind::GitRepository => "GitRepository",
            CicdKind::OciRepository => "OCIRepository",
            CicdKind::Pipeline => "Pipeline",
        }
    }
}

/// The limits that decide the state: `Critical` when critical findings exceed `maxCritical`,
/// `NonCompliant` when another limit is exceeded, `Warning` when counted findings exist within
/// the limits, `Compliant` otherwise.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Thresholds {
    /// Critical findings allowed; absent means no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_critical: Option<u32>,
    /// High findings allowed; absent means no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_high: Option<u32>,
    /// Medium findings allowed; absent means no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_medium: Option<u32>,
    /// Any finding tagged `unpinned-reference` (an action, image or include not pinned to a
    /// digest or commit, on every platform) makes the subject NonCompliant.
    pub require_pinned_actions: bool,
    /// Findings below this confidence do not count; all count when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<Confidence>,
}

/// How sure a rule is of a finding.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Changes the severity of one rule's findings, or ignores them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleOverride {
    /// The rule id, such as `FG-001`.
    #[schemars(pattern(RULE_ID_PATTERN))]
    pub rule: String,
    /// The severity the rule's findings count as, or `ignore` to not count them.
    pub severity: OverrideSeverity,
    /// Repositories (`owner/repo` globs such as `my-org/*`) the override is limited to; empty
    /// applies it everywhere.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// Why the override exists (required: overrides are reviewed).
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Last day (`YYYY-MM-DD`, UTC) the override applies; after it, an Event says it expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DATE_PATTERN))]
    pub expires: Option<String>,
}

/// A severity, or `ignore`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OverrideSeverity {
    Critical,
    High,
    #[default]
    Medium,
    Low,
    Info,
    /// The rule's findings do not count at all.
    Ignore,
}

/// One enforcement action and when it fires.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnforcementRule {
    /// What to do.
    pub action: Action,
    /// The state from which the action fires (that state or worse; never on Unknown).
    pub trigger: Trigger,
    /// How long the trigger must hold before the action fires (Go-style duration); at once
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION_PATTERN))]
    pub grace_period: Option<String>,
    /// Where `alert` sends to; required for `alert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_target: Option<AlertTarget>,
}

/// An enforcement action. Every action is recorded and undone exactly when the state falls
/// below the trigger or the policy stops applying.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Annotate the subject with `sluice.dev/compliance-state` and a pointer to its report.
    Annotate,
    /// Send a Slack or webhook message once per state transition.
    Alert,
    /// Suspend automated sync: Argo CD automated sync off, Flux `spec.suspend: true`.
    SuspendSync,
    /// Label the correlated workloads `sluice.dev/pipeline-risk=<state>`.
    LabelWorkloads,
}

/// The state at which an action fires.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Trigger {
    Warning,
    NonCompliant,
    Critical,
}

impl Trigger {
    /// The compliance state this trigger names.
    pub fn state(self) -> ComplianceState {
        match self {
            Trigger::Warning => ComplianceState::Warning,
            Trigger::NonCompliant => ComplianceState::NonCompliant,
            Trigger::Critical => ComplianceState::Critical,
        }
    }

    /// Whether `state` fires this trigger: that state or worse, never `Unknown`.
    pub fn is_met_by(self, state: ComplianceState) -> bool {
        state.at_least(self.state())
    }
}

/// Where an alert goes. The URL is read from a Secret in the operator's namespace, never from
/// the policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertTarget {
    /// `slack` (incoming-webhook JSON) or `webhook` (generic JSON).
    #[serde(rename = "type")]
    pub kind: AlertKind,
    /// The Secret key holding the webhook URL.
    pub secret_ref: SecretKeyRef,
    /// For `webhook`: the Secret key holding the HMAC-SHA256 signing key of the signature header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret_ref: Option<SecretKeyRef>,
}

/// The kind of alert receiver.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Slack,
    Webhook,
}

/// A key of a Secret in the operator's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Key within the Secret.
    #[schemars(length(min = 1))]
    pub key: String,
}

/// What the operator last observed about a policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyStatus {
    /// The policy's `.metadata.generation` this status reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// How many subjects the policy selects.
    pub matched_subjects: u32,
    /// Conditions about the policy itself (for example an invalid or expired override).
    #[schemars(schema_with = "k8s_schema::conditions")]
    pub conditions: Vec<Condition>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_fire_at_their_state_or_worse_never_on_unknown() {
        assert!(Trigger::NonCompliant.is_met_by(ComplianceState::Critical));
        assert!(Trigger::NonCompliant.is_met_by(ComplianceState::NonCompliant));
        assert!(!Trigger::NonCompliant.is_met_by(ComplianceState::Warning));
        assert!(!Trigger::Warning.is_met_by(ComplianceState::Compliant));
        for trigger in [Trigger::Warning, Trigger::NonCompliant, Trigger::Critical] {
            assert!(!trigger.is_met_by(ComplianceState::Unknown), "{trigger:?}");
        }
    }

    #[test]
    fn kinds_and_actions_use_the_documented_spelling() {
        let kinds = serde_json::to_value([CicdKind::OciRepository, CicdKind::Application])
            .expect("serializable");
        assert_eq!(kinds, serde_json::json!(["OCIRepository", "Application"]));
        let actions =
            serde_json::to_value([Action::SuspendSync, Action::LabelWorkloads]).expect("ok");
        assert_eq!(
            actions,
            serde_json::json!(["suspendSync", "labelWorkloads"])
        );
        for kind in [CicdKind::OciRepository, CicdKind::GitRepository] {
            assert_eq!(serde_json::to_value(kind).expect("ok"), kind.as_str());
        }
    }

    #[test]
    fn an_empty_spec_parses_with_defaults() {
        let spec: PolicySpec = serde_json::from_str("{}").expect("all fields defaulted");
        assert_eq!(spec, PolicySpec::default());
    }
}
