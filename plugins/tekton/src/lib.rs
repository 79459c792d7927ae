//! The Tekton rule pack: parameter injection, unpinned task references, secrets and
//! privileges in runs that outsiders start, unpinned step images.
//!
//! The pack declares every YAML file (`**/*.{yaml,yml}`) because the host matches globs only;
//! [`selection`] keeps files under `.tekton/` or `tekton/` and any file declaring a Tekton
//! `apiVersion`, and skips the rest unparsed and silently. Every document of a file is read;
//! what a document is comes from its `apiVersion` and `kind` ([`model::Resource`]), never from
//! its path, so the same code can analyse objects read from a cluster. [`walk`] follows
//! inline `pipelineSpec`/`taskSpec`, local `taskRef`/`pipelineRef` names and
//! `TriggerTemplate`s, carrying who triggers each run ([`exposure`]) and what its params hold.

pub mod exposure;
pub mod model;
pub mod repository;
pub mod rules;
pub mod selection;
pub mod sources;
pub mod substitution;
pub mod walk;

use sluice_pack_sdk::yaml;
use sluice_pack_sdk::{ContentPattern, Pack, PackInfo, ScanOutput, ScanRequest};

use crate::model::Resource;
use crate::repository::{Entry, Repository};
use crate::selection::Selection;

/// The pack's version.
pub const PACK_VERSION: &str = "0.1.0";

/// The Tekton pack.
#[derive(Debug)]
pub struct Tekton;

impl Pack for Tekton {
    fn info() -> PackInfo {
        PackInfo {
            id: "tekton",
            name: "Tekton",
            version: PACK_VERSION,
            platform: "tekton",
            description: "Finds parameter injection, unpinned task references and images, and \
                          secrets and privileged steps reachable from pull requests in Tekton \
                          Tasks, Pipelines, runs, StepActions, Pipelines-as-Code and Triggers. \
                          Reads files under `.tekton/` or `tekton/`, and any other YAML file \
                          that mentions `tekton.dev/` (the host checks that before handing it \
                          over) and declares a Tekton `apiVersion`.",
            patterns: &[".tekton/**/*.{yaml,yml}", "tekton/**/*.{yaml,yml}"],
            content_patterns: &[ContentPattern {
                glob: "**/*.{yaml,yml}",
                marker: "tekton.dev/",
            }],
            rules: rules::ALL.to_vec(),
            options: Vec::new(),
        }
    }

    fn scan(request: &ScanRequest) -> Result<ScanOutput, String> {
        let mut output = ScanOutput::default();
        let tekton_files = request
            .files
            .iter()
            .filter(|file| selection::select(&file.path, &file.content) != Selection::Foreign);
        let parsed = yaml::parse_files(tekton_files, &mut output.errors);
        let entries = parsed
            .iter()
            .flat_map(|(path, documents)| {
                documents.iter().flat_map(|document| {
                    Resource::all_in(&document.root)
                        .into_iter()
                        .map(|resource| Entry { path, resource })
                })
            })
            .collect();
        let repository = Repository::new(entries);
        let visits = walk::walk(&repository);
        let context = rules::Context {
            visits: &visits,
            repository: &repository,
        };
        rules::check(&context, &mut output.findings);
        rules::keep_worst_per_place(&mut output.findings);
        yaml::link_enclosing_blocks(&mut output.findings, &parsed);
        Ok(output)
    }
}

sluice_pack_sdk::export_pack!(Tekton);
