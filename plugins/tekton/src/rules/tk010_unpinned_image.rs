//! TK-010: step, sidecar and StepAction images without a digest.

use std::ops::Range;

use sluice_pack_sdk::image::{self, ImagePin, without_credentials};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::Context;
use crate::model::Step;
use crate::substitution;
use crate::walk::Visit;

pub const META: RuleMeta = RuleMeta {
    id: "TK-010",
    name: "unpinned-step-image",
    title: "Step image not pinned by digest",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("tk010_unpinned_image.md"),
    remediation: "Pin by digest and keep the tag for humans: `image: \
        alpine:3.20@sha256:<digest>` (`skopeo inspect docker://alpine:3.20` prints it). Let \
        Renovate or MintMaker keep digests current.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain", "container"],
};

pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for visit in context.visits {
        match visit {
            Visit::Task {
                path, owner, spec, ..
            } => {
                for container in spec.containers() {
                    report(path, owner, &container, findings);
                }
            }
            Visit::StepAction {
                path, owner, step, ..
            } => report(path, owner, step, findings),
            Visit::Reference { .. } | Visit::Run { .. } => {}
        }
    }
}

/// `$(…)` substitutions and PaC placeholders: run-time parts of a reference.
fn expressions(text: &str) -> Vec<Range<usize>> {
    substitution::references(text)
        .into_iter()
        .map(|s| s.range)
        .chain(
            substitution::placeholders(text)
                .into_iter()
                .map(|p| p.range),
        )
        .collect()
}

fn report(path: &str, owner: &str, container: &Step<'_>, findings: &mut Vec<Finding>) {
    let Some(node) = container.image() else {
        return;
    };
    let Some(written) = node.as_str() else { return };
    let reference = without_credentials(written.trim());
    let (pin, tag) = image::classify(reference, expressions);
    let (severity, problem) = match pin {
        ImagePin::Digest | ImagePin::Unknown => return,
        ImagePin::Tag => (
            Severity::Medium,
            format!(
                "uses the tag `{}`, which can be moved",
                tag.unwrap_or_default()
            ),
        ),
        ImagePin::Latest => (
            Severity::High,
            "uses the `latest` tag, which moves with every push".to_owned(),
        ),
        ImagePin::NoTag => (
            Severity::High,
            "has neither tag nor digest (implicitly `latest`)".to_owned(),
        ),
    };
    let (severity, confidence) = if expressions(reference).is_empty() {
        (severity, Confidence::High)
    } else {
        (Severity::Medium, Confidence::Medium)
    };
    let place = container.place(owner);
    findings.push(
        Finding::new(&META, path, node.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!("image `{reference}` of {place} {problem}"))
            .fingerprint_key(format!("{}|{reference}", node.route))
            .property("image", reference),
    );
}
