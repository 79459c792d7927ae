//! The GitLab CI rule pack.
//!
//! Every file of the request is parsed with the SDK's positioned YAML ([`pipeline::FileConfig`]);
//! files no other file includes locally are pipeline roots, merged with their local includes
//! ([`pipeline::Pipeline`]); every job is resolved (`!reference`, `extends:`, `default:`,
//! `inherit:`) into a [`model::Val`] tree whose leaves remember their file and position, and
//! checked by the rules in [`rules`] in the context of each root. A file included by two roots
//! is analysed twice; identical findings are merged.

pub mod exposure;
pub mod includes;
pub mod model;
pub mod pipeline;
pub mod rules;
pub mod scripts;
pub mod sources;

use std::collections::HashMap;

use sluice_pack_sdk::yaml;
use sluice_pack_sdk::{Finding, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::pipeline::{FileConfig, Pipeline};

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The GitLab CI pack.
#[derive(Debug)]
pub struct GitlabCi;

impl Pack for GitlabCi {
    fn info() -> PackInfo {
        PackInfo {
            id: "gitlab-ci",
            name: "GitLab CI",
            version: PACK_VERSION,
            platform: "gitlab-ci",
            description: "Finds merge request pipelines exposing secrets, script injection, \
                          unpinned includes and images in GitLab CI pipelines.",
            patterns: &[
                ".gitlab-ci.yml",
                ".gitlab-ci.yaml",
                "**/*.gitlab-ci.{yml,yaml}",
                ".gitlab/**/*.{yml,yaml}",
            ],
            content_patterns: &[],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        let parsed = yaml::parse_files(&request.files, &mut output.errors);
        let files: Vec<FileConfig<'_>> = parsed
            .iter()
            .map(|(path, documents)| FileConfig::new(path, documents))
            .collect();
        let by_path: HashMap<&str, &FileConfig<'_>> = files.iter().map(|f| (f.path, f)).collect();
        let mut findings = Vec::new();
        for file in &files {
            rules::check_file(file, &mut findings);
        }
        for pipeline in Pipeline::all(&files) {
            rules::check_pipeline(&pipeline, &by_path, &mut findings);
        }
        output.findings = deduplicate(findings);
        yaml::link_enclosing_blocks(&mut output.findings, &parsed);
        Ok(output)
    }
}

/// One finding per rule and place: a file included by several roots, or a template shared by
/// several jobs, is reported once, at its worst.
fn deduplicate(findings: Vec<Finding>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::new();
    let mut index: HashMap<(String, String, u32, u32), usize> = HashMap::new();
    for finding in findings {
        let key = (
            finding.rule_id.clone(),
            finding.path.clone(),
            finding.span.start_byte,
            finding.span.end_byte,
        );
        match index.get(&key) {
            Some(&at) => {
                let current = &kept[at];
                if (finding.severity, finding.confidence) > (current.severity, current.confidence) {
                    kept[at] = finding;
                }
            }
            None => {
                index.insert(key, kept.len());
                kept.push(finding);
            }
        }
    }
    kept
}

sluice_pack_sdk::export_pack!(GitlabCi);
