//! `--policy-reports`: a `wgpolicyk8s.io/v1alpha2` `PolicyReport` next to each subject's
//! `PipelineSecurityReport`, so Policy Reporter and other tools reading the wg-policy format
//! show sluice's findings (docs/operator/policy-reports.md).
//!
//! [`build`] turns the evaluation and the report status into the report's content, [`write`]
//! stores it when it changed, [`crd`] keeps a cluster without the CRD quiet. A PolicyReport
//! goes with its subject (ownerReference); turning the flag off leaves existing ones alone.

pub mod build;
pub mod crd;
pub mod name;
pub mod write;

use crate::api::report::PipelineSecurityReportStatus;
use crate::operator::context::Shared;
use crate::operator::evaluation::Evaluation;
use crate::operator::policy::SelectedPolicy;
use crate::operator::report_writer::{Subject, Written};

pub use crd::PolicyReportCrd;

pub const GROUP: &str = "wgpolicyk8s.io";
pub const VERSION: &str = "v1alpha2";
pub const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";
pub const KIND: &str = "PolicyReport";
pub const PLURAL: &str = "policyreports";

/// Writes the subject's PolicyReport when `--policy-reports` is set, the CRD is installed and
/// the content changed. Called after the sluice report was written (`written`), from the
/// status it was written with.
pub async fn publish(
    shared: &Shared,
    subject: &Subject,
    written: &Written,
    evaluation: &Evaluation,
    status: &PipelineSecurityReportStatus,
    policies: &[SelectedPolicy],
) -> Result<(), kube::Error> {
    if !shared.settings.policy_reports || !shared.writes.is_open() {
        return Ok(());
    }
    if !shared.policy_report_crd.installed(&shared.client).await? {
        return Ok(());
    }
    let now = shared.settings.clock.now();
    let body = build::body(&build::Inputs {
        subject,
        evaluation,
        status,
        policies,
        today: shared.settings.clock.today(),
        now,
    });
    let name = name::policy_report_name(&written.name);
    match write::write(shared, subject, &name, body).await? {
        write::Outcome::KindMissing => shared.policy_report_crd.lost().await,
        outcome => tracing::debug!(policy_report = %name, ?outcome, "PolicyReport"),
    }
    Ok(())
}
