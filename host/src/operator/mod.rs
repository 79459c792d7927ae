//! `sluice operator`: keeps a `PipelineSecurityReport` for every Argo CD Application, Flux
//! source and Tekton Pipeline in the cluster (DESIGN §8).
//!
//! The flow of one subject: [`kinds_manager`] runs a controller per installed kind →
//! [`reconcile`] → [`evaluation`] ([`resolve`] the repository and revision, [`scanner`] with the
//! CLI's scan engine and GitHub module, [`evaluate`] the state) → [`status`] →
//! [`enforce`] (what the policies' actions call for) → [`report_writer`] (only when something
//! changed) → [`events`] and [`metrics`], and with `--policy-reports` a wg-policy
//! [`policy_report`].

pub mod clock;
pub mod context;
pub mod correlate;
pub mod enforce;
pub mod evaluate;
pub mod evaluation;
pub mod events;
pub mod kinds;
pub mod kinds_manager;
pub mod leader;
pub mod metrics;
pub mod naming;
pub mod policy;
pub mod policy_report;
pub mod reconcile;
pub mod repo_url;
pub mod report_writer;
pub mod resolve;
pub mod run;
pub mod scanner;
pub mod serve;
pub mod status;

pub use context::{EnforcementMode, OperatorSettings};
pub use run::{OperatorConfig, OperatorError, OperatorHandle, start};
pub use scanner::Scanner;

/// The non-empty, trimmed string at a JSON pointer of an upstream object: every resolver and
/// correlation reads fields this way.
pub(crate) fn str_at<'v>(value: &'v serde_json::Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
