//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod az001_pr_build_secrets;
pub mod az002_script_injection;
pub mod az003_unpinned_repository;
pub mod az004_service_connection;
pub mod az005_secrets_in_logs;
pub mod az006_variable_groups;
pub mod az008_arm_on_pr;
pub mod az009_self_hosted_pool;
pub mod az010_cache_poisoning;
pub mod az011_unpinned_image;
pub mod az012_debug_tracing;
pub mod az013_download_execute;

use sluice_pack_sdk::{Finding, RuleMeta, Span};

use crate::model::Unit;

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    az001_pr_build_secrets::META,
    az002_script_injection::META,
    az003_unpinned_repository::META,
    az004_service_connection::META,
    az005_secrets_in_logs::META,
    az006_variable_groups::META,
    az008_arm_on_pr::META,
    az009_self_hosted_pool::META,
    az010_cache_poisoning::META,
    az011_unpinned_image::META,
    az012_debug_tracing::META,
    az013_download_execute::META,
];

/// Runs every rule over one expanded pipeline.
pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    az001_pr_build_secrets::check(unit, findings);
    az002_script_injection::check(unit, findings);
    az003_unpinned_repository::check(unit, findings);
    az004_service_connection::check(unit, findings);
    az005_secrets_in_logs::check(unit, findings);
    az006_variable_groups::check(unit, findings);
    az008_arm_on_pr::check(unit, findings);
    az009_self_hosted_pool::check(unit, findings);
    az010_cache_poisoning::check(unit, findings);
    az011_unpinned_image::check(unit, findings);
    az012_debug_tracing::check(unit, findings);
    az013_download_execute::check(unit, findings);
}

/// The span of a byte range of a scalar, or the whole node when the range cannot be mapped.
pub fn span_in(node: &sluice_pack_sdk::yaml::Node, range: std::ops::Range<usize>) -> Span {
    node.span_of(range).unwrap_or(node.span)
}

/// A standalone template's findings: the caller is unknown, so confidence is at most Low
/// (documented on every rule page).
pub fn context_confidence(
    unit: &Unit<'_>,
    confidence: sluice_pack_sdk::Confidence,
) -> sluice_pack_sdk::Confidence {
    if unit.is_context_known() {
        confidence
    } else {
        confidence.min(sluice_pack_sdk::Confidence::Low)
    }
}
