//! Container image references: is `registry/name:tag@sha256:…` pinned by digest?
//!
//! Shared by every pack that reports unpinned job, service or step images. The platform says
//! where its run-time expressions are (`${{ … }}`, `$VAR`, `$(var)`), because an image whose
//! value is only known at run time cannot be judged.

use std::ops::Range;

use crate::{Confidence, Severity};

/// How an image reference is (not) pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagePin {
    Digest,
    Tag,
    Latest,
    NoTag,
    /// Entirely an expression, or its digest is one: decided at run time.
    Unknown,
}

/// Classifies an image reference (`docker://` prefix and `user:password@` allowed).
/// `expressions` returns the byte ranges of the platform's run-time expressions in a text.
/// Returns the pin and, for tags, the tag.
pub fn classify(
    image: &str,
    expressions: impl Fn(&str) -> Vec<Range<usize>>,
) -> (ImagePin, Option<&str>) {
    let image = image.trim();
    let image = image.strip_prefix("docker://").unwrap_or(image);
    let image = without_credentials(image);
    if image.is_empty()
        || expressions(image)
            .iter()
            .any(|e| e.start == 0 && e.end == image.len())
    {
        return (ImagePin::Unknown, None);
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    // A digest chosen at run time (`img@$DIGEST`) is most likely a pin; unknown.
    if digest.is_some_and(|d| !expressions(d).is_empty()) {
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

/// How bad an unpinned image is, for rules that share the wording "image `x` of the … {problem}":
/// a tag is Medium (High for `moving_aliases`, tags a publisher moves on every release), `latest`
/// or no tag High; any run-time expression in the reference makes it Medium/Medium. `None` for a
/// digest or a reference decided at run time.
pub fn unpinned_verdict(
    reference: &str,
    expressions: impl Fn(&str) -> Vec<Range<usize>>,
    moving_aliases: &[&str],
) -> Option<(Severity, Confidence, String)> {
    let (pin, tag) = classify(reference, &expressions);
    let (severity, problem) = match pin {
        ImagePin::Digest | ImagePin::Unknown => return None,
        ImagePin::Tag if tag.is_some_and(|t| moving_aliases.contains(&t)) => (
            Severity::High,
            format!(
                "uses the tag `{}`, an alias that moves with every release",
                tag.unwrap_or("")
            ),
        ),
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
    Some(if expressions(reference).is_empty() {
        (severity, Confidence::High, problem)
    } else {
        (Severity::Medium, Confidence::Medium, problem)
    })
}

/// `user:password@registry/image:tag` → `registry/image:tag`: credentials are reported by
/// their own rules and must not be repeated in messages or fingerprints.
pub fn without_credentials(image: &str) -> &str {
    match image.split_once('@') {
        Some((userinfo, rest))
            if userinfo.contains(':')
                && !rest.starts_with("sha256:")
                && !rest.starts_with("${{")
                && !rest.starts_with('$')
                && rest.contains('/') =>
        {
            rest
        }
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::text::dollar_variables as dollar;

    #[test]
    fn classifies_images() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            classify(&format!("node:20@{digest}"), dollar).0,
            ImagePin::Digest
        );
        assert_eq!(classify("node:20", dollar).0, ImagePin::Tag);
        assert_eq!(classify("localhost:5000/node", dollar).0, ImagePin::NoTag);
        assert_eq!(classify("ghcr.io/o/i:latest", dollar).0, ImagePin::Latest);
        assert_eq!(classify("docker://alpine", dollar).0, ImagePin::NoTag);
        assert_eq!(classify("$CI_IMAGE", dollar).0, ImagePin::Unknown);
        assert_eq!(classify("node@sha256:abc", dollar).0, ImagePin::NoTag);
        assert_eq!(classify("node:20@${DIGEST}", dollar).0, ImagePin::Unknown);
        assert_eq!(
            classify("$REGISTRY/node:20", dollar),
            (ImagePin::Tag, Some("20"))
        );
        assert_eq!(
            classify("u:p@registry.example.com/postgres:16", dollar),
            (ImagePin::Tag, Some("16"))
        );
        assert_eq!(
            without_credentials("u:p@registry.example.com/postgres:16"),
            "registry.example.com/postgres:16"
        );
    }
}
