//! The GitHub Actions rule pack: pwn requests, script injection, unpinned actions.
//!
//! Workflows (`.github/workflows/*.yml`) and action manifests (`action.yml`) are parsed with
//! the SDK's span-carrying YAML, viewed through the typed [`model`], and checked by the rules
//! in [`rules`]. What a file is gets decided from its content, because the host may hand the
//! pack any YAML file when the user forces the platform.

pub mod checkout;
pub mod conditions;
pub mod contexts;
pub mod env_settings;
pub mod execution;
pub mod exposure;
pub mod json;
pub mod mitigations;
pub mod model;
pub mod repository;
pub mod rules;
pub use sluice_pack_sdk::shell;
pub mod taint;
pub mod threat_data;

use sluice_pack_sdk::yaml;
use sluice_pack_sdk::{Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::Definition;
use crate::repository::Repository;

/// The pack's version. The embedded threat data (`data/*.json`, read by FG-022 and FG-025) is
/// part of what a version means: see [`DATA_RELEASES`].
pub const PACK_VERSION: &str = "0.2.0";

/// Every pack version whose threat data changed, with the FNV-1a fingerprint of the data
/// ([`threat_data::fingerprint`]). Changing `data/` fails a unit test until a new entry with a
/// new version is appended here and [`PACK_VERSION`] is set to it.
pub const DATA_RELEASES: &[(&str, u64)] = &[("0.2.0", 0xe6cd_4907_25d3_d220)];

/// The GitHub Actions pack.
#[derive(Debug)]
pub struct GithubActions;

impl Pack for GithubActions {
    fn info() -> PackInfo {
        PackInfo {
            id: "github-actions",
            name: "GitHub Actions",
            version: PACK_VERSION,
            platform: "github-actions",
            description: "Finds pwn requests, script injection and unpinned actions in GitHub \
                          Actions workflows and action manifests.",
            patterns: &[".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"],
            content_patterns: &[],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        // Every file is parsed first, so rules can follow local references between them.
        let parsed = yaml::parse_files(&request.files, &mut output.errors);
        // Duplicate keys and similar warnings are not errors: GitHub itself rejects some of
        // them, but the file is still worth checking as written.
        let repository = Repository::new(
            parsed
                .iter()
                .flat_map(|(path, documents)| {
                    documents.iter().filter_map(|document| {
                        Definition::recognise(&document.root, path).map(|d| (*path, d))
                    })
                })
                .collect(),
        );
        for (path, definition) in repository.entries() {
            let context = rules::FileContext {
                path,
                definition,
                repository: &repository,
            };
            rules::check(&context, &mut output.findings);
        }
        rules::correlation::correlate(&mut output.findings);
        rules::correlation::keep_worst_per_place(&mut output.findings);
        yaml::link_enclosing_blocks(&mut output.findings, &parsed);
        Ok(output)
    }
}

sluice_pack_sdk::export_pack!(GithubActions);

#[cfg(test)]
mod data_release_tests {
    use super::*;

    #[test]
    fn threat_data_changes_bump_the_pack_version() {
        let (version, fingerprint) = *DATA_RELEASES.last().expect("at least one data release");
        assert_eq!(
            threat_data::fingerprint(),
            fingerprint,
            "data/*.json changed: append (\"<new version>\", {:#x}) to DATA_RELEASES and set \
             PACK_VERSION to the new version",
            threat_data::fingerprint()
        );
        assert_eq!(
            version, PACK_VERSION,
            "the last DATA_RELEASES entry must be the current pack version"
        );
        for (i, (a, _)) in DATA_RELEASES.iter().enumerate() {
            assert!(
                DATA_RELEASES[i + 1..].iter().all(|(b, _)| a != b),
                "version {a} recorded twice: new data needs a new version"
            );
        }
    }
}
