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
pub use sluice_pack_sdk::yaml::Text;

use sluice_pack_sdk::yaml;
use sluice_pack_sdk::{Pack, PackInfo, ScanOutput, ScanRequest};

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
            content_patterns: &[],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        let parsed = yaml::parse_files(&request.files, &mut output.errors);
        let mut configs = Vec::new();
        for (path, documents) in &parsed {
            for document in documents {
                match Config::parse(&document.root) {
                    Some(config) => configs.push((*path, config)),
                    None if !document.root.is_null() => sluice_pack_sdk::log::info(&format!(
                        "{path}: a document without CircleCI keys (version, jobs, workflows, \
                         orbs, commands, executors) is not a configuration; skipped"
                    )),
                    None => {}
                }
            }
        }
        // A setup configuration continues into another file of its directory with pipeline
        // parameters it computes (often from the pull request's changed files).
        let directory = |path: &str| path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
        let setup_directories: Vec<String> = configs
            .iter()
            .filter(|(_, config)| config.setup)
            .map(|(path, _)| directory(path))
            .collect();
        for (path, config) in &configs {
            let continued = !config.setup && setup_directories.contains(&directory(path));
            let expansion = expansion::expand(config, continued);
            let context = rules::FileContext {
                path,
                config,
                expansion: &expansion,
            };
            rules::check(&context, &mut output.findings);
        }
        yaml::link_enclosing_blocks(&mut output.findings, &parsed);
        Ok(output)
    }
}

sluice_pack_sdk::export_pack!(Circleci);
