//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod gl001_mr_pipeline_secrets;
pub mod gl002_script_injection;
pub mod gl003_unsafe_include;
pub mod gl004_job_token_exposure;
pub mod gl005_secrets_in_logs;
pub mod gl006_fork_mr_execution;
pub mod gl008_oidc_on_mr;
pub mod gl009_self_hosted_runner;
pub mod gl010_cache_poisoning;
pub mod gl011_unpinned_image;
pub mod gl012_debug_trace;
pub mod gl013_download_exec;

use std::collections::HashMap;

use sluice_pack_sdk::{Finding, RuleMeta};

use crate::exposure::{self, MrExposure, Workflow};
use crate::pipeline::{FileConfig, Job, Pipeline};

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    gl001_mr_pipeline_secrets::META,
    gl002_script_injection::META,
    gl003_unsafe_include::META,
    gl004_job_token_exposure::META,
    gl005_secrets_in_logs::META,
    gl006_fork_mr_execution::META,
    gl008_oidc_on_mr::META,
    gl009_self_hosted_runner::META,
    gl010_cache_poisoning::META,
    gl011_unpinned_image::META,
    gl012_debug_trace::META,
    gl013_download_exec::META,
];

/// What a job rule sees.
#[derive(Debug)]
pub struct JobContext<'a, 'c> {
    pub job: &'c Job<'a>,
    pub exposure: &'c MrExposure<'a>,
    pub files: &'c HashMap<&'a str, &'c FileConfig<'a>>,
}

/// Rules about a file as written (includes, top-level settings).
pub fn check_file(file: &FileConfig<'_>, findings: &mut Vec<Finding>) {
    gl003_unsafe_include::check(file, findings);
    gl011_unpinned_image::check_file(file, findings);
    gl012_debug_trace::check_file(file, findings);
}

/// Rules about the jobs of one pipeline.
pub fn check_pipeline<'a>(
    pipeline: &Pipeline<'a>,
    files: &HashMap<&'a str, &FileConfig<'a>>,
    findings: &mut Vec<Finding>,
) {
    let workflow = Workflow::of(pipeline);
    for job in &pipeline.jobs {
        let exposure = exposure::of_job(job, &workflow);
        let context = JobContext {
            job,
            exposure: &exposure,
            files,
        };
        gl001_mr_pipeline_secrets::check(&context, findings);
        gl002_script_injection::check(&context, findings);
        gl004_job_token_exposure::check(&context, findings);
        gl005_secrets_in_logs::check(&context, findings);
        gl006_fork_mr_execution::check(&context, findings);
        gl008_oidc_on_mr::check(&context, findings);
        gl009_self_hosted_runner::check(&context, findings);
        gl010_cache_poisoning::check(&context, findings);
        gl011_unpinned_image::check(&context, findings);
        gl012_debug_trace::check(&context, findings);
        gl013_download_exec::check(&context, findings);
    }
}
