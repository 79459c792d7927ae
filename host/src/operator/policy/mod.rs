//! Policy evaluation (issue 10, part 1): which `PipelineSecurityPolicy` and
//! `ClusterPipelineSecurityPolicy` objects select a subject ([`select`]), each one's rule
//! overrides ([`overrides`]) and thresholds ([`apply`]), and the worst state over them.
//! Enforcement actions are not taken here.

pub mod apply;
pub mod matched;
pub mod overrides;
pub mod select;
pub mod watch;

pub use apply::{PolicyVerdict, evaluate_policies};
pub use select::{SelectedPolicy, SubjectLabels, selecting};
pub use watch::PolicyStores;

/// The kind names recorded in `status.policies[].kind`.
pub const NAMESPACED_KIND: &str = "PipelineSecurityPolicy";
pub const CLUSTER_KIND: &str = "ClusterPipelineSecurityPolicy";
