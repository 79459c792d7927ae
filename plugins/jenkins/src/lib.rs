//! The Jenkins rule pack: credentials and persistent agents exposed to change-request code,
//! Groovy script injection, unpinned shared libraries.
//!
//! Jenkinsfiles are Groovy. The pack tokenizes them itself ([`lexer`]: every string form,
//! comments, GString interpolation), builds a small tree ([`syntax`]), and walks declarative
//! and scripted pipelines alike into a flat [`model`] of script steps with their scope
//! (stage, change-request gate, agent, credentials) that the [`rules`] read.

pub mod agents;
pub mod conditions;
pub mod execution;
pub mod exposure;
pub mod lexer;
pub mod model;
pub mod rules;
pub mod sources;
pub mod syntax;
pub mod taint;

use sluice_pack_sdk::text::LineIndex;
use sluice_pack_sdk::{FileError, FileErrorKind, Finding, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::Model;

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The Jenkins pack.
#[derive(Debug)]
pub struct Jenkins;

impl Pack for Jenkins {
    fn info() -> PackInfo {
        PackInfo {
            id: "jenkins",
            name: "Jenkins",
            version: PACK_VERSION,
            platform: "jenkins",
            description: "Finds credentials and persistent agents exposed to pull-request code, \
                          Groovy script injection and unpinned shared libraries in Jenkinsfiles \
                          (declarative and scripted).",
            patterns: &[
                "Jenkinsfile",
                "Jenkinsfile.*",
                "Jenkinsfile_*",
                "*.jenkinsfile",
                "**/Jenkinsfile",
                "**/Jenkinsfile.*",
                "**/Jenkinsfile_*",
                "**/*.jenkinsfile",
            ],
            content_patterns: &[],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        for source in &request.files {
            let lines = LineIndex::new(&source.content);
            let file = match syntax::parse(&source.content) {
                Ok(file) => file,
                Err(error) => {
                    output.errors.push(FileError {
                        path: source.path.clone(),
                        kind: if error.limit {
                            FileErrorKind::Limit
                        } else {
                            FileErrorKind::Parse
                        },
                        message: error.message,
                        span: Some(lines.span(error.range)),
                    });
                    continue;
                }
            };
            let model = Model::build(&file, &source.path);
            let context = rules::FileContext {
                path: &source.path,
                model: &model,
                lines: &lines,
            };
            let mut findings = Vec::new();
            rules::check(&context, &mut findings);
            link_enclosing_scripts(&mut findings, &file, &lines);
            output
                .findings
                .extend(distinct_fingerprints(keep_worst_per_place(findings)));
        }
        Ok(output)
    }
}

/// A finding inside a multi-line script string (`sh '''` … `'''`) gets the string's opening line
/// as a related location, so an ignore comment on or above the `sh` line covers it (the host
/// honours comments on and above related locations).
fn link_enclosing_scripts(findings: &mut [Finding], file: &syntax::File, lines: &LineIndex<'_>) {
    for finding in findings {
        let at = finding.span.start_byte as usize;
        let Some(literal) = file
            .strings
            .iter()
            .find(|s| s.range.start <= at && at < s.range.end)
        else {
            continue;
        };
        let opening = lines.span(literal.range.start..literal.range.start + 1);
        let covered = finding.span.start_line <= opening.start_line + 1
            || finding
                .related
                .iter()
                .any(|r| r.path == finding.path && r.span.start_line == opening.start_line);
        if !covered {
            finding.related.push(sluice_pack_sdk::Location {
                path: finding.path.clone(),
                span: opening,
                message: "inside the script that starts here".to_owned(),
            });
        }
    }
}

/// Two findings of one rule with the same route and text in one file (the same
/// interpolation twice in a script) get `#2`, `#3` … so fingerprints stay distinct and stable.
fn distinct_fingerprints(mut findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen: std::collections::BTreeMap<(String, String), usize> =
        std::collections::BTreeMap::new();
    for finding in &mut findings {
        let count = seen
            .entry((finding.rule_id.clone(), finding.fingerprint_key.clone()))
            .or_default();
        *count += 1;
        if *count > 1 {
            finding.fingerprint_key = format!("{}#{count}", finding.fingerprint_key);
        }
    }
    findings
}

/// A method called from several places is analysed at each call site, so the same text can
/// be reported more than once: keep the most severe (then most confident) finding per rule
/// and span.
fn keep_worst_per_place(findings: Vec<Finding>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        let same_place = kept.iter_mut().find(|k| {
            k.rule_id == finding.rule_id
                && k.span.start_byte == finding.span.start_byte
                && k.span.end_byte == finding.span.end_byte
        });
        match same_place {
            Some(existing) => {
                if (finding.severity, finding.confidence) > (existing.severity, existing.confidence)
                {
                    *existing = finding;
                }
            }
            None => kept.push(finding),
        }
    }
    kept
}

sluice_pack_sdk::export_pack!(Jenkins);
