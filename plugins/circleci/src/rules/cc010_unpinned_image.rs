//! CC-010: Docker images of jobs and executors not pinned by digest.

use sluice_pack_sdk::image::{self, without_credentials};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::Text;
use crate::expressions::image_expressions;

pub const META: RuleMeta = RuleMeta {
    id: "CC-010",
    name: "unpinned-image",
    title: "Docker image not pinned by digest",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("cc010_unpinned_image.md"),
    remediation: "Pin by digest and keep the tag for humans: `image: \
        cimg/node:20.11@sha256:<digest>` (`docker buildx imagetools inspect cimg/node:20.11` \
        prints it); let Renovate update the digests.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain", "container"],
};

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for scope in &file.config.scopes {
        for job in &scope.jobs {
            for (index, image) in job.runs_on.images.iter().enumerate() {
                let role = role(index);
                let place = format!("{role} of job `{}{}`", scope.prefix, job.name.value);
                report(file, *image, &place, findings);
            }
        }
        for executor in &scope.executors {
            for (index, image) in executor.runs_on.images.iter().enumerate() {
                let role = role(index);
                let place = format!(
                    "{role} of executor `{}{}`",
                    scope.prefix, executor.name.value
                );
                report(file, *image, &place, findings);
            }
        }
    }
}

/// The first image is the primary container, the others are services.
fn role(index: usize) -> &'static str {
    if index == 0 {
        "primary container"
    } else {
        "service container"
    }
}

fn report(
    file: &FileContext<'_, '_, '_>,
    image: Text<'_>,
    place: &str,
    findings: &mut Vec<Finding>,
) {
    let reference = without_credentials(image.value.trim());
    // CircleCI's convenience images publish `current` and `edge` as moving aliases.
    let Some((severity, confidence, problem)) =
        image::unpinned_verdict(reference, image_expressions, &["current", "edge"])
    else {
        return;
    };
    findings.push(
        Finding::new(&META, file.path, image.span())
            .severity(severity)
            .confidence(confidence)
            .message(format!("image `{reference}` of the {place} {problem}"))
            .fingerprint_key(format!("{}|{reference}", image.route()))
            .property("image", reference),
    );
}
