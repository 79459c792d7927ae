//! FG-029: job containers, service containers and Docker action images without a digest.

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
    description: "A job's `container:` image, a `services:` container image, or the \
        `docker://` image of a Docker action manifest (`runs.image` in `action.yml`) names \
        a tag or nothing at all instead of an `@sha256:` digest. Whoever can push to that \
        image name — its publisher, or anyone who compromises the registry account — decides \
        what runs in your job, with its token, its secrets and the checked-out code.\n\n\
        `docker://` images in a step's `uses:` are actions and are reported by FG-003 \
        (unpinned action); FG-029 does not look at `uses:`, so no reference is reported \
        twice.\n\n\
        Severity: **Medium**/High for a tag (`node:20`); **High**/High without a tag or \
        with `latest`, which moves with every push; **Medium**/Medium when part of the name \
        is an expression (`node:${{ matrix.node }}`). An image given entirely as an \
        expression, or whose digest is an expression (`img@${{ env.DIGEST }}`), is not reported \
        (its value is unknown).",
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

/// How an image reference fails to be pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagePin {
    Digest,
    Tag,
    Latest,
    NoTag,
    /// Entirely an expression.
    Unknown,
}

/// Classifies an image reference (`docker://` prefix allowed).
pub fn classify(image: &str) -> (ImagePin, Option<&str>) {
    let image = image.trim();
    let image = image.strip_prefix("docker://").unwrap_or(image);
    let image = without_credentials(image);
    if image.is_empty() || (image.starts_with("${{") && image.ends_with("}}")) {
        return (ImagePin::Unknown, None);
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    // A digest chosen at run time (`img@${{ env.DIGEST }}`) is most likely a pin; unknown.
    if digest.is_some_and(|d| d.contains("${{")) {
        return (ImagePin::Unknown, None);
    }
    if digest.is_some_and(|d| {
        d.strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
    }) {
        return (ImagePin::Digest, None);
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].find(':') {
        Some(colon) => {
            let tag = &name[last_slash + colon + 1..];
            if tag.eq_ignore_ascii_case("latest") {
                (ImagePin::Latest, Some(tag))
            } else {
                (ImagePin::Tag, Some(tag))
            }
        }
        None => (ImagePin::NoTag, None),
    }
}

/// `user:password@registry/image:tag` → `registry/image:tag` (FG-019 reports the credentials;
/// they must not be repeated in messages or fingerprints).
pub fn without_credentials(image: &str) -> &str {
    match image.split_once('@') {
        Some((userinfo, rest))
            if userinfo.contains(':')
                && !rest.starts_with("sha256:")
                && !rest.starts_with("${{")
                && rest.contains('/') =>
        {
            rest
        }
        _ => image,
    }
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
    let (pin, tag) = classify(reference);
    let dynamic = reference.contains("${{");
    let (severity, problem) = match pin {
        ImagePin::Digest | ImagePin::Unknown => return,
        ImagePin::Tag => (
            Severity::Medium,
            format!("uses the tag `{}`, which can be moved", tag.unwrap_or("")),
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
    let (severity, confidence) = if dynamic {
        (Severity::Medium, Confidence::Medium)
    } else {
        (severity, Confidence::High)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_images() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(classify(&format!("node:20@{digest}")).0, ImagePin::Digest);
        assert_eq!(classify("node:20").0, ImagePin::Tag);
        assert_eq!(classify("localhost:5000/node").0, ImagePin::NoTag);
        assert_eq!(classify("ghcr.io/o/i:latest").0, ImagePin::Latest);
        assert_eq!(classify("docker://alpine").0, ImagePin::NoTag);
        assert_eq!(classify("${{ matrix.image }}").0, ImagePin::Unknown);
        assert_eq!(classify("node@sha256:abc").0, ImagePin::NoTag);
        assert_eq!(classify("node:20@${{ env.DIGEST }}").0, ImagePin::Unknown);
        assert_eq!(
            classify("u:p@registry.example.com/postgres:16"),
            (ImagePin::Tag, Some("16"))
        );
        assert_eq!(
            without_credentials("u:p@registry.example.com/postgres:16"),
            "registry.example.com/postgres:16"
        );
    }
}
