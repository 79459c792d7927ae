//! The CircleCI rule pack: fork pull requests with secrets, script injection through
//! `<< … >>` substitution, floating orbs, self-hosted runners, unpinned images and
//! download-then-execute.
//!
//! Configurations (`.circleci/*.yml`, continuation and dynamic configs included) are parsed
//! with the SDK's span-carrying YAML into the typed [`model`] — inline orbs included —
//! [`expansion`] inlines reusable commands with each invocation's arguments, and the rules in
//! [`rules`] check the result. Files are judged by content, not path: the host may hand the
//! pack any YAML file when the user forces the platform.

pub mod expansion;
pub mod exposure;
pub mod expressions;
pub mod model;
pub mod rules;
pub mod sources;
pub mod taint;
pub mod text;

use sluice_pack_sdk::yaml::{self, YamlErrorKind};
use sluice_pack_sdk::{FileError, FileErrorKind, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::Config;

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The CircleCI pack.
#[derive(Debug)]
pub struct Circleci;

impl Pack for Circleci {
    fn info() -> PackInfo {
        PackInfo {
            id: "circleci",
            name: "CircleCI",
            version: PACK_VERSION,
            platform: "circleci",
            description: "Finds fork pull requests running with secrets, script injection \
                          through `<< … >>` substitution, floating orbs, self-hosted runners, \
                          unpinned images and download-then-execute in CircleCI \
                          configurations.",
            patterns: &[".circleci/*.yml", ".circleci/*.yaml"],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        for file in &request.files {
            let documents = match yaml::parse(&file.content) {
                Ok(documents) => documents,
                Err(error) => {
                    output.errors.push(FileError {
                        path: file.path.clone(),
                        kind: match error.kind {
                            YamlErrorKind::Syntax => FileErrorKind::Parse,
                            YamlErrorKind::Limit => FileErrorKind::Limit,
                        },
                        message: error.message,
                        span: Some(error.span),
                    });
                    continue;
                }
            };
            for document in &documents {
                let Some(config) = Config::parse(&document.root) else {
                    if !document.root.is_null() {
                        sluice_pack_sdk::log::info(&format!(
                            "{}: a document without CircleCI keys (version, jobs, workflows, \
                             orbs, commands, executors) is not a configuration; skipped",
                            file.path
                        ));
                    }
                    continue;
                };
                let expansion = expansion::expand(&config);
                let context = rules::FileContext {
                    path: &file.path,
                    config: &config,
                    expansion: &expansion,
                };
                rules::check(&context, &mut output.findings);
            }
        }
        Ok(output)
    }
}

sluice_pack_sdk::export_pack!(Circleci);
