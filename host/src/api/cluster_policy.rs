//! `ClusterPipelineSecurityPolicy`: a `PipelineSecurityPolicy` for subjects in every namespace
//! its `namespaceSelector` matches.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::k8s_schema;
use super::policy::{PolicySpec, PolicyStatus};

/// The namespaced policy's spec, plus the namespaces it applies to.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "sluice.dev",
    version = "v1alpha1",
    kind = "ClusterPipelineSecurityPolicy",
    status = "PolicyStatus",
    derive = "PartialEq",
    shortname = "cpsp",
    category = "sluice",
    doc = "A PipelineSecurityPolicy for the GitOps subjects of every namespace its namespaceSelector matches. Several policies may select one subject: each result is recorded in its PipelineSecurityReport and the worst state wins.",
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
#[serde(rename_all = "camelCase")]
pub struct ClusterPolicySpec {
    /// Selector, thresholds, overrides and enforcement, as in `PipelineSecurityPolicy`.
    #[serde(flatten)]
    pub policy: PolicySpec,
    /// Namespaces whose subjects the policy applies to, by their labels; absent selects every
    /// namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "k8s_schema::label_selector")]
    pub namespace_selector: Option<LabelSelector>,
}
