//! GL-011: a job, default or service image not pinned by digest.

use sluice_pack_sdk::image::{self, ImagePin};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::model::{At, Val};
use crate::pipeline::FileConfig;
use crate::scripts::dollar_expressions;

pub const META: RuleMeta = RuleMeta {
    id: "GL-011",
    name: "unpinned-image",
    title: "Container image not pinned by digest",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("gl011_unpinned_image.md"),
    remediation: "Pin by digest: `image: node:20@sha256:<digest>` (find it with \
        `docker buildx imagetools inspect node:20`), and let Renovate keep digests current.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain", "container"],
};

/// The image name scalar of an `image:` / service entry (string or `name:`).
fn image_name<'a>(value: &Val<'a>) -> Option<At<'a>> {
    match value {
        Val::Scalar(at) if at.node.as_str().is_some() => Some(*at),
        Val::Map(..) => value.get("name").and_then(|n| match n {
            Val::Scalar(at) if at.node.as_str().is_some() => Some(*at),
            _ => None,
        }),
        _ => None,
    }
}

fn judge(at: At<'_>, kind: &str, owner: &str, findings: &mut Vec<Finding>) {
    let Some(text) = at.node.as_str() else {
        return;
    };
    // `${REGISTRY}/${CONTAINER}`: the last segment is a variable that may carry a tag or a
    // digest (`CONTAINER: debian:bookworm@sha256:…`); decided at run time.
    let last_segment = text.trim().rsplit('/').next().unwrap_or_default();
    if dollar_expressions(last_segment)
        .iter()
        .any(|r| r.start == 0 && r.end == last_segment.len())
    {
        return;
    }
    let (pin, tag) = image::classify(text, dollar_expressions);
    let shown = image::without_credentials(text.trim());
    let (severity, why) = match pin {
        ImagePin::Digest | ImagePin::Unknown => return,
        ImagePin::Tag => (
            Severity::Medium,
            format!("only the tag `{}`", tag.unwrap_or_default()),
        ),
        ImagePin::Latest => (Severity::High, "the moving `latest` tag".to_owned()),
        ImagePin::NoTag => (Severity::High, "no tag (implicitly `latest`)".to_owned()),
    };
    let partly_variable = !dollar_expressions(shown).is_empty();
    findings.push(
        Finding::new(&META, at.path, at.span())
            .severity(severity)
            .confidence(if partly_variable {
                Confidence::Medium
            } else {
                Confidence::High
            })
            .message(format!(
                "{owner} uses {kind} `{shown}` with {why} instead of a digest"
            ))
            .fingerprint_key(format!("{}|{shown}", at.route()))
            .property("image", shown),
    );
}

fn judge_config(config: &Val<'_>, owner: &str, findings: &mut Vec<Finding>) {
    if let Some(at) = config.get("image").and_then(image_name) {
        judge(at, "image", owner, findings);
    }
    if let Some(services) = config.get("services") {
        for service in services.flat_items() {
            if let Some(at) = image_name(service) {
                judge(at, "service image", owner, findings);
            }
        }
    }
}

pub fn check_file(file: &FileConfig<'_>, findings: &mut Vec<Finding>) {
    for document in &file.documents {
        let root = Val::from_node(file.path, document);
        judge_config(&root, "the top-level configuration", findings);
        if let Some(default) = root.get("default") {
            judge_config(default, "`default:`", findings);
        }
    }
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    judge_config(&job.config, &format!("job `{}`", job.name), findings);
}
