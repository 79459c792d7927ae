//! The operator's Kubernetes API: the `sluice.dev/v1alpha1` custom resources, their CRDs
//! (`sluice crds`), and the conversion of a scan report into a report status.

pub mod cluster_policy;
pub mod duration;
mod k8s_schema;
pub mod policy;
pub mod report;
pub mod report_status;
pub mod state;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use cluster_policy::{ClusterPipelineSecurityPolicy, ClusterPolicySpec};
pub use policy::{PipelineSecurityPolicy, PolicySpec, PolicyStatus};
pub use report::{
    PipelineSecurityReport, PipelineSecurityReportSpec, PipelineSecurityReportStatus,
};
pub use state::ComplianceState;

/// The API group of every sluice resource.
pub const GROUP: &str = "sluice.dev";
/// The API version of every sluice resource.
pub const VERSION: &str = "v1alpha1";

/// Every CRD the operator needs, in a stable order (reports first).
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        PipelineSecurityReport::crd(),
        PipelineSecurityPolicy::crd(),
        ClusterPipelineSecurityPolicy::crd(),
    ]
}
