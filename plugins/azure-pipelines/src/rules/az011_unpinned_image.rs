//! AZ-011: container images not pinned by digest.

use sluice_pack_sdk::image::{ImagePin, classify, without_credentials};
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use crate::expressions::all_expressions;
use crate::model::{Unit, describe_job, yaml_ext};

pub const META: RuleMeta = RuleMeta {
    id: "AZ-011",
    name: "unpinned-container-image",
    title: "Container image not pinned by digest",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("az011_unpinned_image.md"),
    remediation: "Pin images by digest (`ubuntu:22.04@sha256:…`) and update digests with a \
        bot (Dependabot, Renovate).",
    help_uri: "",
    tags: &["supply-chain", "unpinned-reference", "container"],
};

fn report(unit: &Unit<'_>, path: &str, node: &Node, place: &str, findings: &mut Vec<Finding>) {
    let Some(image) = node.as_str() else {
        return;
    };
    let (pin, tag) = classify(image, all_expressions);
    let (severity, what) = match pin {
        ImagePin::Digest | ImagePin::Unknown => return,
        ImagePin::Tag => (
            Severity::Medium,
            format!("tag `{}`", tag.unwrap_or_default()),
        ),
        ImagePin::Latest => (Severity::High, "`latest`".to_owned()),
        ImagePin::NoTag => (Severity::High, "no tag (`latest`)".to_owned()),
    };
    let partly_expression = !all_expressions(image).is_empty();
    let confidence = if partly_expression {
        Confidence::Medium
    } else {
        Confidence::High
    };
    let shown = without_credentials(image.trim());
    findings.push(
        Finding::new(&META, path, node.span)
            .severity(severity)
            .confidence(super::context_confidence(unit, confidence))
            .message(format!(
                "{place} uses image `{shown}` pinned only by {what}, not by digest"
            ))
            .fingerprint_key(format!("{}|{shown}", node.route))
            .property("image", shown.to_owned()),
    );
}

pub fn check(unit: &Unit<'_>, findings: &mut Vec<Finding>) {
    for resource in &unit.containers {
        if let Some(image) = resource.image {
            report(
                unit,
                resource.path,
                image,
                &format!("container resource `{}`", resource.alias),
                findings,
            );
        }
    }
    let is_alias = |name: &str| {
        unit.containers
            .iter()
            .any(|c| c.alias.eq_ignore_ascii_case(name.trim()))
    };
    for job in &unit.jobs {
        let mut uses = Vec::new();
        if let Some(container) = job.container {
            uses.push((container, "container"));
        }
        for service in &job.services {
            uses.push((*service, "service"));
        }
        for (used, kind) in uses {
            let image_node = if used.node.as_str().is_some() {
                used.node
            } else if let Some(image) = yaml_ext::get(used.node, "image") {
                image
            } else {
                continue;
            };
            if image_node.as_str().is_some_and(is_alias) {
                continue;
            }
            report(
                unit,
                used.path,
                image_node,
                &format!("{kind} of {}", describe_job(job)),
                findings,
            );
        }
    }
}
