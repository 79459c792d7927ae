//! CC-003: registry orbs referenced by a version that can change.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::OrbKind;

pub const META: RuleMeta = RuleMeta {
    id: "CC-003",
    name: "unpinned-orb",
    title: "Orb referenced by a floating version",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("cc003_unpinned_orb.md"),
    remediation: "Reference an exact release (`circleci/node@5.2.0`) and let Renovate or \
        Dependabot-style tooling propose upgrades; review the orb's source (`circleci orb \
        source ns/name@x.y.z`) before bumping.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain"],
};

/// How an orb version floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    Exact,
    Minor,
    Major,
    Volatile,
    Missing,
    Dev,
    /// `dev:<< pipeline.git.revision >>`: the project's own build of this commit.
    OwnDevBuild,
    Expression,
    Unrecognised,
}

/// Classifies the version part of `ns/name@version`.
pub fn classify(version: Option<&str>) -> Pin {
    let Some(version) = version.map(str::trim) else {
        return Pin::Missing;
    };
    if version == "volatile" {
        return Pin::Volatile;
    }
    if let Some(label) = version.strip_prefix("dev:") {
        let own = crate::expressions::find(label)
            .iter()
            .any(|e| e.content == "pipeline.git.revision");
        return if own { Pin::OwnDevBuild } else { Pin::Dev };
    }
    if version.contains("<<") || version.contains('$') {
        return Pin::Expression;
    }
    let parts: Vec<&str> = version.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Pin::Unrecognised;
    }
    match parts.len() {
        3 => Pin::Exact,
        2 => Pin::Minor,
        _ => Pin::Major,
    }
}

pub fn check(file: &FileContext<'_, '_, '_>, findings: &mut Vec<Finding>) {
    for scope in &file.config.scopes {
        for orb in &scope.orbs {
            let OrbKind::Registry(reference) = &orb.kind else {
                continue;
            };
            let written = reference.value.trim();
            let (name, version) = match written.split_once('@') {
                Some((name, version)) => (name, Some(version)),
                None => (written, None),
            };
            let pin = classify(version);
            let version_text = version.unwrap_or("");
            let (severity, confidence, problem) = match pin {
                Pin::Exact => continue,
                Pin::Volatile => (
                    Severity::High,
                    Confidence::High,
                    "`@volatile`, whatever version was published last".to_owned(),
                ),
                Pin::Missing => (
                    Severity::High,
                    Confidence::High,
                    "no version at all".to_owned(),
                ),
                Pin::Dev | Pin::OwnDevBuild => (
                    Severity::High,
                    Confidence::High,
                    format!("the development version `{version_text}`, which can be overwritten"),
                ),
                Pin::Major => (
                    Severity::Medium,
                    Confidence::High,
                    format!(
                        "the major version `{version_text}`, which follows every {version_text}.x.y release"
                    ),
                ),
                Pin::Minor => (
                    Severity::Low,
                    Confidence::High,
                    format!(
                        "the minor version `{version_text}`, which follows every patch release"
                    ),
                ),
                Pin::Expression => (
                    Severity::Medium,
                    Confidence::Low,
                    format!("the version `{version_text}`, decided when the pipeline runs"),
                ),
                Pin::Unrecognised => (
                    Severity::Medium,
                    Confidence::Low,
                    format!("`{version_text}`, which is not an exact release"),
                ),
            };
            let mut finding = Finding::new(&META, file.path, reference.span())
                .severity(severity)
                .confidence(confidence)
                .message(format!(
                    "orb `{}{}` uses `{name}` at {problem}",
                    scope.prefix, orb.name.value
                ))
                .fingerprint_key(format!("{}|{written}", reference.route()))
                .property("orb", name)
                .property("version", version_text);
            if pin == Pin::OwnDevBuild {
                finding = finding.severity(Severity::Low).mitigation(
                    "own-dev-build",
                    "the dev version is named after this pipeline's own commit: the \
                         project's orb, published by the same pipeline",
                );
            }
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_float_as_circleci_publishes_them() {
        assert_eq!(classify(Some("5.2.0")), Pin::Exact);
        assert_eq!(classify(Some("5.2")), Pin::Minor);
        assert_eq!(classify(Some("5")), Pin::Major);
        assert_eq!(classify(Some("volatile")), Pin::Volatile);
        assert_eq!(classify(Some("dev:alpha")), Pin::Dev);
        assert_eq!(
            classify(Some("dev:<<pipeline.git.revision>>")),
            Pin::OwnDevBuild
        );
        assert_eq!(classify(None), Pin::Missing);
        assert_eq!(
            classify(Some("<< pipeline.parameters.v >>")),
            Pin::Expression
        );
        assert_eq!(classify(Some("canary")), Pin::Unrecognised);
        assert_eq!(classify(Some("v1.2.3")), Pin::Unrecognised);
    }
}
