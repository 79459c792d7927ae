//! The Azure Pipelines rule pack: pull-request builds with secrets, script injection,
//! unpinned templates and images, self-hosted pools.
//!
//! Every file of the request is parsed with the SDK's span-carrying YAML. A file that another
//! file of the request uses as a template is analysed in the context of each pipeline that
//! uses it ([`model::expand`]); findings point at the template's own lines and identical
//! findings from several pipelines are merged. A template nobody in the request uses is
//! analysed on its own with its trigger context unknown (confidence Low).

pub mod exposure;
pub mod expressions;
pub mod mitigations;
pub mod model;
pub mod rules;
pub mod service_connections;
pub mod sources;

use std::collections::{HashMap, HashSet};

use sluice_pack_sdk::yaml;
use sluice_pack_sdk::{Finding, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::repository::{self, Files};

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The Azure Pipelines pack.
#[derive(Debug)]
pub struct AzurePipelines;

impl Pack for AzurePipelines {
    fn info() -> PackInfo {
        PackInfo {
            id: "azure-pipelines",
            name: "Azure Pipelines",
            version: PACK_VERSION,
            platform: "azure-pipelines",
            description: "Finds pull-request builds with secrets, script injection, unpinned \
                          templates and images, and self-hosted pools in Azure Pipelines \
                          YAML, following local templates.",
            patterns: &[
                "azure-pipelines*.{yml,yaml}",
                "**/azure-pipelines*.{yml,yaml}",
                ".azure-pipelines/**/*.{yml,yaml}",
                ".pipelines/**/*.{yml,yaml}",
                "eng/pipelines/**/*.{yml,yaml}",
            ],
            content_patterns: &[],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        let parsed = yaml::parse_files(&request.files, &mut output.errors);
        // Azure reads one document per file; the first mapping is the pipeline.
        let roots: Vec<(&str, &yaml::Node)> = parsed
            .iter()
            .filter_map(|(path, documents)| {
                documents
                    .iter()
                    .map(|d| &d.root)
                    .find(|root| root.as_mapping().is_some())
                    .map(|root| (*path, root))
            })
            .collect();
        let files = Files::new(roots.clone());
        output.findings = analyse(&files);
        yaml::link_enclosing_blocks(&mut output.findings, &parsed);
        Ok(output)
    }
}

/// Expands every pipeline and unused template of the request and runs the rules.
pub fn analyse(files: &Files<'_>) -> Vec<Finding> {
    let mut referenced: HashMap<String, HashSet<String>> = HashMap::new();
    for path in files.paths() {
        if let Some(root) = files.root(path) {
            let mut targets = HashSet::new();
            repository::referenced_files(path, root, &mut targets);
            for target in targets {
                referenced
                    .entry(target)
                    .or_default()
                    .insert(path.to_ascii_lowercase());
            }
        }
    }
    let used_by_other = |path: &str| {
        let lower = path.to_ascii_lowercase();
        referenced
            .get(&lower)
            .is_some_and(|users| users.iter().any(|u| *u != lower))
    };
    let mut findings = Vec::new();
    let mut reached: HashSet<&str> = HashSet::new();
    let mut analysed: HashSet<&str> = HashSet::new();
    for path in files.paths() {
        let Some(root) = files.root(path) else {
            continue;
        };
        if used_by_other(path) {
            continue;
        }
        let unit = model::expand::expand(
            files,
            path,
            root,
            repository::is_template_shaped(path, root),
        );
        reached.extend(unit.reached.iter().copied());
        analysed.insert(path);
        rules::check(&unit, &mut findings);
    }
    // Templates whose users never reach them (cycles, levels that do not match, insertions
    // chosen by expressions) are still analysed, on their own.
    for path in files.paths() {
        if analysed.contains(path) || reached.contains(path) {
            continue;
        }
        let Some(root) = files.root(path) else {
            continue;
        };
        sluice_pack_sdk::log::debug(&format!(
            "{path}: used as a template but not reached from a pipeline; analysed on its own"
        ));
        let unit = model::expand::expand(files, path, root, true);
        rules::check(&unit, &mut findings);
    }
    deduplicate(findings)
}

/// One finding per rule, place and fingerprint: the same template step reached from several
/// pipelines (or jobs) is reported once, at the worst severity and confidence.
fn deduplicate(findings: Vec<Finding>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::new();
    let mut index: HashMap<(String, String, u32, u32, String), usize> = HashMap::new();
    for finding in findings {
        let key = (
            finding.rule_id.clone(),
            finding.path.clone(),
            finding.span.start_byte,
            finding.span.end_byte,
            finding.fingerprint_key.clone(),
        );
        match index.get(&key) {
            Some(&at) => {
                let existing = &kept[at];
                if (finding.severity, finding.confidence) > (existing.severity, existing.confidence)
                {
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

sluice_pack_sdk::export_pack!(AzurePipelines);
