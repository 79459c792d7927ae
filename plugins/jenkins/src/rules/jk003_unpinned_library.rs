//! JK-003: a shared library loaded at a moving version.

use std::ops::Range;

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::lexer::{PLACEHOLDER, StrLit};
use crate::sources::Tier;
use crate::syntax::{Call, Expr, ExprKind, visit_calls};

pub const META: RuleMeta = RuleMeta {
    id: "JK-003",
    name: "unpinned-library",
    title: "Shared library not pinned to a commit or release tag",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("jk003_unpinned_library.md"),
    remediation: "Pin the library to a commit SHA (`@Library('lib@<40-hex sha>') _`) or a \
        release tag, and update it deliberately (Renovate and Dependabot can track Jenkins \
        library versions through regex managers). In the global library configuration, \
        disallow overriding the default version if pipelines must not choose it.",
    help_uri: "",
    tags: &["supply-chain", "unpinned-reference"],
};

/// How a library reference is versioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Commit,
    Tag,
    Branch(String),
    Default,
    /// Computed at run time; `Some(tier)` when from attacker-controlled text.
    Dynamic(Option<(String, Tier)>),
}

/// Classifies the version part of `name@version`.
pub fn classify_version(version: Option<&str>) -> Version {
    let Some(version) = version.map(str::trim) else {
        return Version::Default;
    };
    if version.is_empty() {
        return Version::Default;
    }
    if version.len() == 40 && version.chars().all(|c| c.is_ascii_hexdigit()) {
        return Version::Commit;
    }
    let number = version
        .strip_prefix(['v', 'V'])
        .unwrap_or(version)
        .trim_start_matches("refs/tags/");
    if number.starts_with(|c: char| c.is_ascii_digit())
        && number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
    {
        return Version::Tag;
    }
    Version::Branch(version.to_owned())
}

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let source_file = file.model.file;
    let mut references: Vec<(&Expr, &'static str)> = Vec::new();
    visit_calls(&source_file.statements, &mut |call: &Call| {
        match call.name.as_str() {
            // The annotation; `@Library(value = 'x')` parses as a positional assignment.
            "Library" if call.receiver.is_none() => {
                for arg in &call.args {
                    let value = match &arg.value.kind {
                        ExprKind::Assign { value, .. } => value.as_ref(),
                        _ => &arg.value,
                    };
                    if arg.name.as_deref().is_none_or(|n| n == "value") {
                        push_values(value, "@Library", &mut references);
                    }
                }
            }
            "library" if call.receiver.is_none() => {
                if let Some(identifier) = call.named("identifier").or_else(|| call.positional(0)) {
                    references.push((identifier, "library step"));
                }
            }
            "libraries" if call.receiver.is_none() => {
                for statement in call.closure.iter().flatten() {
                    if let ExprKind::Call(lib) = &statement.kind
                        && lib.name == "lib"
                        && let Some(value) = lib.positional(0)
                    {
                        references.push((value, "libraries directive"));
                    }
                }
            }
            _ => {}
        }
    });
    for (expr, how) in references {
        let Some(lit) = source_file.string(expr) else {
            continue;
        };
        report(file, lit, expr.range.clone(), how, findings);
    }
}

fn push_values<'e>(value: &'e Expr, how: &'static str, out: &mut Vec<(&'e Expr, &'static str)>) {
    match &value.kind {
        ExprKind::List(items) => {
            for item in items {
                out.push((item, how));
            }
        }
        _ => out.push((value, how)),
    }
}

fn report(
    file: &FileContext<'_, '_>,
    lit: &StrLit,
    range: Range<usize>,
    how: &str,
    findings: &mut Vec<Finding>,
) {
    let (name, version_text) = match lit.cooked.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (lit.cooked.as_str(), None),
    };
    let version = if version_text.is_some_and(|v| v.contains(PLACEHOLDER)) {
        let at = lit.cooked.find('@').unwrap_or(0);
        let origin = lit
            .interpolations
            .iter()
            .filter(|i| i.cooked_at > at)
            .find_map(|i| file.model.taint.interpolation_origin(&i.expr))
            .map(|o| (o.display, o.tier));
        Version::Dynamic(origin)
    } else {
        classify_version(version_text)
    };
    let name = name.replace(PLACEHOLDER, "${…}");
    let (severity, confidence, message) = match &version {
        Version::Commit | Version::Tag => return,
        Version::Branch(branch) => (
            Severity::Medium,
            Confidence::High,
            format!(
                "{how} loads shared library `{name}` at branch `{branch}`, which moves with every push to it"
            ),
        ),
        Version::Default => (
            Severity::Medium,
            Confidence::Medium,
            format!(
                "{how} loads shared library `{name}` without a version, so it runs whatever the configured default version (usually a branch) holds"
            ),
        ),
        Version::Dynamic(None) => (
            Severity::Medium,
            Confidence::Low,
            format!("{how} loads shared library `{name}` at a version computed at run time"),
        ),
        Version::Dynamic(Some((source, tier))) => (
            if *tier == Tier::Anyone {
                Severity::High
            } else {
                Severity::Medium
            },
            Confidence::Medium,
            format!(
                "{how} loads shared library `{name}` at a version taken from {source}, which the build's author chooses"
            ),
        ),
    };
    findings.push(
        Finding::new(&META, file.path, file.span(range))
            .severity(severity)
            .confidence(confidence)
            .message(message)
            .fingerprint_key(format!("{how}|{}", lit.cooked))
            .property("library", name),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(classify_version(None), Version::Default);
        assert_eq!(
            classify_version(Some("main")),
            Version::Branch("main".into())
        );
        assert_eq!(classify_version(Some("v1.2.3")), Version::Tag);
        assert_eq!(classify_version(Some("2.0")), Version::Tag);
        assert_eq!(
            classify_version(Some("0123456789abcdef0123456789abcdef01234567")),
            Version::Commit
        );
        assert_eq!(
            classify_version(Some("release/1.x")),
            Version::Branch("release/1.x".into())
        );
    }
}
