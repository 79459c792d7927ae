//! FG-025: indicators of compromise of known attack campaigns.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, Text, scalars};
use crate::threat_data;

pub const META: RuleMeta = RuleMeta {
    id: "FG-025",
    name: "known-ioc",
    title: "Known threat-actor indicator of compromise",
    default_severity: Severity::Critical,
    default_confidence: Confidence::High,
    description: include_str!("fg025_known_ioc.md"),
    remediation: "Treat the repository as compromised: remove the indicator, find out how it \
        got there (commit history, recent workflow runs), rotate every secret the workflows \
        could read, and review what the affected runs published.",
    help_uri: "",
    tags: &["ioc", "supply-chain"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let root = match file.definition {
        Definition::Workflow(workflow) => workflow.node,
        Definition::Action(action) => action.node,
    };
    let iocs = threat_data::iocs();
    if iocs.is_empty() {
        return;
    }
    for node in scalars(root) {
        let Some(text) = Text::from_node(node) else {
            continue;
        };
        let lower = text.value.to_ascii_lowercase();
        for ioc in iocs {
            let needle = ioc.needle.to_ascii_lowercase();
            let Some(at) = find_bounded(&lower, &needle) else {
                continue;
            };
            let where_ = node.route.to_string();
            findings.push(
                Finding::new(&META, file.path, text.span_of(at..at + needle.len()))
                    .message(format!(
                        "`{}` at `{where_}` is a known indicator of compromise: {} ({}; source: {})",
                        ioc.needle, ioc.description, ioc.campaign, ioc.source
                    ))
                    .fingerprint_key(format!("{where_}|{}", ioc.needle))
                    .property("ioc", ioc.needle.clone())
                    .property("ioc-kind", ioc.kind.clone())
                    .property("campaign", ioc.campaign.clone()),
            );
        }
    }
}

/// The first occurrence of `needle` that is not part of a longer word.
fn find_bounded(haystack: &str, needle: &str) -> Option<usize> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    haystack
        .match_indices(needle)
        .map(|(at, _)| at)
        .find(|&at| {
            let before = haystack[..at].chars().next_back();
            let after = haystack[at + needle.len()..].chars().next();
            let starts_word = needle.chars().next().is_some_and(word);
            let ends_word = needle.chars().next_back().is_some_and(word);
            let joins_before = starts_word && before.is_some_and(word);
            let joins_after = ends_word && after.is_some_and(word);
            !joins_before && !joins_after
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded() {
        assert_eq!(
            find_bounded("pip install ultralytics==8.3.41", "ultralytics==8.3.41"),
            Some(12)
        );
        assert_eq!(
            find_bounded("ultralytics==8.3.410", "ultralytics==8.3.41"),
            None
        );
        assert_eq!(
            find_bounded("https://t.m-kosche.com/x", "m-kosche.com"),
            Some(10)
        );
        assert_eq!(find_bounded("abc0e58ed", "0e58ed"), None);
    }
}
