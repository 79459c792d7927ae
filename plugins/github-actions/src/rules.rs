//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod correlation;
pub mod fg001_pwn_request;
pub mod fg002_script_injection;
pub mod fg003_unpinned_action;
pub mod fg004_broad_permissions;
pub mod fg005_secrets_in_logs;
pub mod fg006_fork_pr_code_execution;
pub mod fg007_token_exposure;
pub mod fg008_oidc_misconfiguration;
pub mod fg009_self_hosted_runner;
pub mod fg010_cache_poisoning;
pub mod fg011_bot_actor_toctou;
pub mod fg012_if_always_true;
pub mod fg013_all_secrets_exposed;
pub mod fg014_missing_permissions;
pub mod fg015_curl_pipe_shell;
pub mod fg016_local_action_untrusted_checkout;
pub mod fg017_github_script_injection;
pub mod fg018_impostor_commit;
pub mod fg019_hardcoded_container_credentials;
pub mod fg020_ref_confusion;
pub mod fg021_cross_step_output_taint;
pub mod fg022_known_vulnerable_action;
pub mod fg023_artifact_credential_leak;
pub mod fg024_github_env_injection;
pub mod fg025_known_ioc;
pub mod fg026_lifecycle_install_before_credentials;
pub mod fg027_toctou_label_gate;
pub mod fg028_unsecure_commands;
pub mod fg029_unpinned_image;
pub mod fg030_artifact_poisoning;
pub mod fg031_unsound_condition;
pub mod fg032_debug_logging;
pub mod fg033_unsafe_checkout_lotp;
pub mod fg034_app_token_scope;
pub mod fg035_typosquat_action;
pub mod fg036_secrets_inherit;

use sluice_pack_sdk::{Finding, RuleMeta};

use crate::model::Definition;
use crate::repository::Repository;

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    fg001_pwn_request::META,
    fg002_script_injection::META,
    fg003_unpinned_action::META,
    fg004_broad_permissions::META,
    fg005_secrets_in_logs::META,
    fg006_fork_pr_code_execution::META,
    fg007_token_exposure::META,
    fg008_oidc_misconfiguration::META,
    fg009_self_hosted_runner::META,
    fg010_cache_poisoning::META,
    fg011_bot_actor_toctou::META,
    fg012_if_always_true::META,
    fg013_all_secrets_exposed::META,
    fg014_missing_permissions::META,
    fg015_curl_pipe_shell::META,
    fg016_local_action_untrusted_checkout::META,
    fg017_github_script_injection::META,
    fg018_impostor_commit::META,
    fg019_hardcoded_container_credentials::META,
    fg020_ref_confusion::META,
    fg021_cross_step_output_taint::META,
    fg022_known_vulnerable_action::META,
    fg023_artifact_credential_leak::META,
    fg024_github_env_injection::META,
    fg025_known_ioc::META,
    fg026_lifecycle_install_before_credentials::META,
    fg027_toctou_label_gate::META,
    fg028_unsecure_commands::META,
    fg029_unpinned_image::META,
    fg030_artifact_poisoning::META,
    fg031_unsound_condition::META,
    fg032_debug_logging::META,
    fg033_unsafe_checkout_lotp::META,
    fg034_app_token_scope::META,
    fg035_typosquat_action::META,
    fg036_secrets_inherit::META,
];

/// One recognised file, as rules see it.
#[derive(Debug)]
pub struct FileContext<'f, 'a> {
    /// Repository-relative path, for findings.
    pub path: &'f str,
    pub definition: &'f Definition<'a>,
    /// Every recognised file of the scan, for following local references.
    pub repository: &'f Repository<'a>,
}

/// Runs every rule over one file.
pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    fg001_pwn_request::check(file, findings);
    fg002_script_injection::check(file, findings);
    fg003_unpinned_action::check(file, findings);
    fg004_broad_permissions::check(file, findings);
    fg005_secrets_in_logs::check(file, findings);
    fg006_fork_pr_code_execution::check(file, findings);
    fg007_token_exposure::check(file, findings);
    fg008_oidc_misconfiguration::check(file, findings);
    fg009_self_hosted_runner::check(file, findings);
    fg010_cache_poisoning::check(file, findings);
    fg011_bot_actor_toctou::check(file, findings);
    fg012_if_always_true::check(file, findings);
    fg013_all_secrets_exposed::check(file, findings);
    fg014_missing_permissions::check(file, findings);
    fg015_curl_pipe_shell::check(file, findings);
    fg016_local_action_untrusted_checkout::check(file, findings);
    fg017_github_script_injection::check(file, findings);
    fg018_impostor_commit::check(file, findings);
    fg019_hardcoded_container_credentials::check(file, findings);
    fg020_ref_confusion::check(file, findings);
    fg021_cross_step_output_taint::check(file, findings);
    fg022_known_vulnerable_action::check(file, findings);
    fg023_artifact_credential_leak::check(file, findings);
    fg024_github_env_injection::check(file, findings);
    fg025_known_ioc::check(file, findings);
    fg026_lifecycle_install_before_credentials::check(file, findings);
    fg027_toctou_label_gate::check(file, findings);
    fg028_unsecure_commands::check(file, findings);
    fg029_unpinned_image::check(file, findings);
    fg030_artifact_poisoning::check(file, findings);
    fg031_unsound_condition::check(file, findings);
    fg032_debug_logging::check(file, findings);
    fg033_unsafe_checkout_lotp::check(file, findings);
    fg034_app_token_scope::check(file, findings);
    fg035_typosquat_action::check(file, findings);
    fg036_secrets_inherit::check(file, findings);
}
