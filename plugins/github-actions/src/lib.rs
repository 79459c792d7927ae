//! The GitHub Actions rule pack: pwn requests, script injection, unpinned actions.
//!
//! Workflows (`.github/workflows/*.yml`) and action manifests (`action.yml`) are parsed with
//! the SDK's span-carrying YAML, viewed through the typed [`model`], and checked by the rules
//! in [`rules`]. What a file is gets decided from its content, because the host may hand the
//! pack any YAML file when the user forces the platform.

pub mod checkout;
pub mod conditions;
pub mod contexts;
pub mod execution;
pub mod mitigations;
pub mod model;
pub mod rules;
pub mod shell;

use sluice_pack_sdk::yaml::{self, YamlErrorKind};
use sluice_pack_sdk::{FileError, FileErrorKind, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::Definition;

/// The GitHub Actions pack.
#[derive(Debug)]
pub struct GithubActions;

impl Pack for GithubActions {
    fn info() -> PackInfo {
        PackInfo {
            id: "github-actions",
            name: "GitHub Actions",
            version: "0.1.0",
            platform: "github-actions",
            description: "Finds pwn requests, script injection and unpinned actions in GitHub \
                          Actions workflows and action manifests.",
            patterns: &[".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"],
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
                        // The span carries the position; the message says what is wrong.
                        message: error.message,
                        span: Some(error.span),
                    });
                    continue;
                }
            };
            // Duplicate keys and similar warnings are not errors: GitHub itself rejects some of
            // them, but the file is still worth checking as written.
            for document in &documents {
                if let Some(definition) = Definition::recognise(&document.root, &file.path) {
                    let context = rules::FileContext {
                        path: &file.path,
                        definition: &definition,
                    };
                    rules::check(&context, &mut output.findings);
                }
            }
        }
        Ok(output)
    }
}

sluice_pack_sdk::export_pack!(GithubActions);
