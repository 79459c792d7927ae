//! `PipelineSecurityReport`: one per subject (Argo CD Application, Flux source, Tekton
//! Pipeline), in the subject's namespace, owned by it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::k8s_schema;
use super::policy::{Action, Trigger};
use super::state::ComplianceState;

/// Condition type: the last evaluation scanned the subject's pipelines.
pub const CONDITION_SCANNED: &str = "Scanned";
/// Condition type: the last evaluation could not scan them (the reason says why).
pub const CONDITION_SCAN_FAILED: &str = "ScanFailed";

/// The subject a report is about. Written by the operator when it creates the report.
// Several printer columns share a `type_`: clippy reads the macro's arguments as repeated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "sluice.dev",
    version = "v1alpha1",
    kind = "PipelineSecurityReport",
    namespaced,
    status = "PipelineSecurityReportStatus",
    derive = "PartialEq",
    shortname = "psr",
    category = "sluice",
    doc = "How safe the CI/CD pipelines feeding a GitOps subject are: the findings of sluice's rule packs on the deployed commit and the compliance state against the policies that select it. Written by the sluice operator; do not edit.",
    printcolumn(
        name = "State",
        type_ = "string",
        json_path = ".status.state",
        description = "Worst compliance state over the matching policies"
    ),
    printcolumn(
        name = "Critical",
        type_ = "integer",
        json_path = ".status.summary.critical",
        description = "Critical findings"
    ),
    printcolumn(
        name = "High",
        type_ = "integer",
        json_path = ".status.summary.high",
        description = "High findings"
    ),
    printcolumn(
        name = "Medium",
        type_ = "integer",
        json_path = ".status.summary.medium",
        description = "Medium findings"
    ),
    printcolumn(
        name = "Repository",
        type_ = "string",
        json_path = ".status.source.repository",
        description = "Scanned repository (owner/repo)"
    ),
    printcolumn(
        name = "Commit",
        type_ = "string",
        json_path = ".status.source.commit",
        description = "Scanned commit",
        priority = 0
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    selectable = ".status.state"
)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSecurityReportSpec {
    /// The object whose pipelines this report evaluates.
    pub subject: SubjectRef,
}

/// A reference to the subject object (same namespace as the report).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectRef {
    /// API version of the subject, such as `argoproj.io/v1alpha1`.
    #[schemars(length(min = 1))]
    pub api_version: String,
    /// Kind of the subject: Application, GitRepository, OCIRepository or Pipeline.
    #[schemars(length(min = 1))]
    pub kind: String,
    /// Name of the subject.
    #[schemars(length(min = 1))]
    pub name: String,
    /// UID of the subject, to tell a re-created subject from the one this report was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// What the operator last observed. Every field is optional so that a partial status (an
/// older operator's, or one written before the first scan) still parses.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PipelineSecurityReportStatus {
    /// Overall compliance state: the worst over the matching policies' results. `Unknown` when
    /// the pipelines could not be scanned (see `reason` and the `ScanFailed` condition).
    pub state: ComplianceState,
    /// When the current state was first seen (RFC 3339); grace periods count from here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_since: Option<String>,
    /// Why the state is what it is when that is not the findings, e.g. `UnsupportedHost`,
    /// `SkippedHelmSource` or the reason of a failed scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The repository and commit that were scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ReportSource>,
    /// Finding counts by severity, over all findings (including those left out of `findings`).
    pub summary: FindingSummary,
    /// The worst findings (severity, then confidence), capped; `findingsOmitted` counts the rest.
    pub findings: Vec<ReportFinding>,
    /// How many findings were left out of `findings` to keep the object small.
    pub findings_omitted: u32,
    /// sha256 (hex) of the sorted fingerprints of all findings, so that a restarted operator can
    /// tell whether anything is new without the full list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_digest: Option<String>,
    /// Workloads deployed from the subject (Deployments, StatefulSets, DaemonSets, CronJobs,
    /// Jobs), from the GitOps tool's own inventory.
    pub workloads: Vec<WorkloadRef>,
    /// When the subject deploys to another cluster: its server URL or name, or the kubeConfig
    /// Secret. Workloads there are not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_destination: Option<String>,
    /// The rule packs (and their versions) the scan ran.
    pub packs: Vec<PackVersion>,
    /// The result of each policy that selects the subject.
    pub policies: Vec<PolicyResult>,
    /// What each policy's enforcement rules did (or, in dry-run mode, would do) to this
    /// subject and the objects it deploys.
    pub enforcement: Vec<EnforcementResult>,
    /// `Scanned` and `ScanFailed`.
    #[schemars(schema_with = "k8s_schema::conditions")]
    pub conditions: Vec<Condition>,
    /// The subject's `.metadata.generation` this status was computed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the subject was last evaluated (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated: Option<String>,
}

/// Where the scanned pipeline files came from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportSource {
    /// `owner/repo`.
    pub repository: String,
    /// The repository URL as written in the subject.
    pub url: String,
    /// The Git host, such as `github.com`.
    pub host: String,
    /// The branch, tag or ref the subject follows, if it names one.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The commit that was scanned (the deployed one when the subject reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The path inside the repository the subject deploys from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Finding counts by severity.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct FindingSummary {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub info: u32,
    /// All findings, whatever their severity.
    pub total: u32,
}

/// One finding of a rule pack.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ReportFinding {
    /// Rule id, such as `FG-001`; `sluice explain <id>` documents it.
    pub rule_id: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// `high`, `medium` or `low`: how sure the rule is.
    pub confidence: String,
    /// File path relative to the repository root.
    pub path: String,
    /// 1-based line of the finding.
    pub line: u32,
    /// What is wrong (truncated when very long).
    pub message: String,
    /// Line-independent identity of the finding (sha256 hex); stable while lines move.
    pub fingerprint: String,
}

/// A workload deployed from the subject.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    /// API version, such as `apps/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Deployment, StatefulSet, DaemonSet, CronJob or Job.
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// A rule pack and its version.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct PackVersion {
    pub id: String,
    pub version: String,
}

/// One enforcement rule of one policy, as it stands for the subject.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnforcementResult {
    /// `<namespace>/<name>` of a `PipelineSecurityPolicy`, `/<name>` of a cluster policy.
    pub policy: String,
    pub action: Action,
    pub trigger: Trigger,
    pub result: EnforcementOutcome,
    /// What was done, or why not.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The objects the action changes (`Kind/namespace/name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// For `Pending`: when the grace period ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

/// Where an enforcement rule stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum EnforcementOutcome {
    /// The trigger holds and the action is in effect.
    Applied,
    /// The trigger holds but its grace period has not passed.
    Pending,
    /// `--enforcement dry-run`: the action would be in effect.
    DryRun,
    /// The trigger holds but nothing was done: opted out, nothing to change, or a person
    /// changed what sluice had set (sluice does not fight that).
    Skipped,
    /// The action could not be applied; retried with backoff.
    Failed,
}

/// The verdict of one policy on the subject.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    /// `PipelineSecurityPolicy` or `ClusterPipelineSecurityPolicy`.
    pub kind: String,
    /// Namespace of a `PipelineSecurityPolicy`; absent for cluster policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The state under this policy's thresholds and overrides.
    #[serde(default)]
    pub state: ComplianceState,
    /// Which thresholds were exceeded, or why the state is `Unknown`.
    #[serde(default)]
    pub reasons: Vec<String>,
}
