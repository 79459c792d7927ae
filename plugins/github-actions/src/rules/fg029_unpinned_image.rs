//! FG-029: job containers, service containers and Docker action images without a digest.

use sluice_pack_sdk::expr;
use sluice_pack_sdk::image::{self, without_credentials};
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, Text};

pub const META: RuleMeta = RuleMeta {
    id: "FG-029",
    name: "unpinned-image",
    title: "Container image not pinned by digest",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("fg029_unpinned_image.md"),
    remediation: "Pin by digest and keep the tag for humans: `image: \
        node:20@sha256:<digest>` (`docker buildx imagetools inspect node:20` prints it). Let \
        Dependabot or Renovate update the digest.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain", "container"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    match file.definition {
        Definition::Workflow(workflow) => {
            for job in &workflow.jobs {
                if let Some(container) = job.container {
                    report(
                        file,
                        image_of(container),
                        &format!("container of job `{}`", job.id.value),
                        job.id.value,
                        findings,
                    );
                }
                if let Some(services) = job.services.and_then(Node::as_mapping) {
                    for (name, service) in services.iter() {
                        let name = name.as_str().unwrap_or("?");
                        report(
                            file,
                            image_of(service),
                            &format!("service `{name}` of job `{}`", job.id.value),
                            job.id.value,
                            findings,
                        );
                    }
                }
            }
        }
        Definition::Action(action) => {
            let Some(image) = action.runs.as_ref().and_then(|r| r.image) else {
                return;
            };
            // `Dockerfile` builds from the action's own repository; only registry images move.
            if image.value.trim().starts_with("docker://") {
                report(
                    file,
                    Some(image),
                    "Docker action `runs.image`",
                    "",
                    findings,
                );
            }
        }
    }
}

/// `container: node:20` or `container: {image: node:20}`.
fn image_of(node: &Node) -> Option<Text<'_>> {
    Text::from_node(node).or_else(|| node.get("image").and_then(Text::from_node))
}

/// `${{ … }}` spans, the only run-time values an image reference can hold here.
fn expressions(text: &str) -> Vec<std::ops::Range<usize>> {
    expr::find_expressions(text)
        .into_iter()
        .map(|e| e.range)
        .collect()
}

fn report(
    file: &FileContext<'_, '_>,
    image: Option<Text<'_>>,
    place: &str,
    job: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(image) = image else { return };
    let written = image.value.trim();
    let reference = without_credentials(written);
    let Some((severity, confidence, problem)) =
        image::unpinned_verdict(reference, expressions, &[])
    else {
        return;
    };
    let mut finding = Finding::new(&META, file.path, image.span())
        .severity(severity)
        .confidence(confidence)
        .message(format!("image `{reference}` of the {place} {problem}"))
        .fingerprint_key(format!("{}|{reference}", image.route()))
        .property("image", reference);
    if !job.is_empty() {
        finding = finding.property("job", job);
    }
    findings.push(finding);
}
