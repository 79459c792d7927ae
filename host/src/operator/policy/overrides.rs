//! `ruleOverrides`: a rule's findings counted at another severity, or not at all, optionally
//! only for some repositories, until an optional last day.

use std::borrow::Cow;

use globset::GlobBuilder;
use k8s_openapi::jiff::civil::Date;

use crate::api::policy::{OverrideSeverity, RuleOverride};
use crate::pack::types::Severity;
use crate::report::Finding;

/// The findings as one policy counts them, and notes for its reasons (expired overrides).
#[derive(Debug)]
pub struct Overridden<'f> {
    pub findings: Vec<Cow<'f, Finding>>,
    pub notes: Vec<String>,
}

/// Applies `overrides` to `findings` of `repository` (`owner/repo`; `None` for a subject
/// scanned from the cluster) as of `today` (UTC).
pub fn apply_overrides<'f>(
    findings: &'f [Finding],
    overrides: &[RuleOverride],
    repository: Option<&str>,
    today: Date,
) -> Overridden<'f> {
    let mut notes = Vec::new();
    let mut active: Vec<&RuleOverride> = Vec::new();
    for o in overrides {
        match o.expires.as_deref().map(str::parse::<Date>) {
            Some(Ok(last_day)) if last_day < today => {
                notes.push(format!(
                    "the override of {} expired on {last_day} and no longer applies",
                    o.rule
                ));
            }
            Some(Err(_)) => notes.push(format!(
                "the override of {} has an unreadable expires date {:?} and does not apply",
                o.rule,
                o.expires.as_deref().unwrap_or_default()
            )),
            _ if !repository_matches(o, repository) => {}
            _ => active.push(o),
        }
    }
    let findings = findings
        .iter()
        .filter_map(|finding| {
            // The first matching override wins, in the order the policy lists them.
            match active.iter().find(|o| o.rule == finding.rule_id) {
                None => Some(Cow::Borrowed(finding)),
                Some(o) => remap(o.severity).map(|severity| {
                    let mut changed = finding.clone();
                    changed.severity = severity;
                    Cow::Owned(changed)
                }),
            }
        })
        .collect();
    Overridden { findings, notes }
}

/// Whether an override limited to repositories covers `repository`. An invalid glob covers
/// nothing (the policy cannot be widened by a typo).
fn repository_matches(o: &RuleOverride, repository: Option<&str>) -> bool {
    if o.repositories.is_empty() {
        return true;
    }
    let Some(repository) = repository else {
        return false;
    };
    o.repositories.iter().any(|pattern| {
        GlobBuilder::new(pattern)
            .literal_separator(true)
            .case_insensitive(true)
            .build()
            .map(|glob| glob.compile_matcher().is_match(repository))
            .unwrap_or_else(|e| {
                tracing::warn!(
                    "invalid repositories glob {pattern:?} in an override of {}: {e}",
                    o.rule
                );
                false
            })
    })
}

fn remap(severity: OverrideSeverity) -> Option<Severity> {
    match severity {
        OverrideSeverity::Critical => Some(Severity::Critical),
        OverrideSeverity::High => Some(Severity::High),
        OverrideSeverity::Medium => Some(Severity::Medium),
        OverrideSeverity::Low => Some(Severity::Low),
        OverrideSeverity::Info => Some(Severity::Info),
        OverrideSeverity::Ignore => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pack::types::Confidence;

    pub(crate) fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule_id: rule.into(),
            fingerprint: format!("{rule}-{severity:?}"),
            ..crate::operator::evaluate::tests::finding(severity, Confidence::High, &[])
        }
    }

    fn rule(
        rule: &str,
        severity: OverrideSeverity,
        repos: &[&str],
        expires: Option<&str>,
    ) -> RuleOverride {
        RuleOverride {
            rule: rule.into(),
            severity,
            repositories: repos.iter().map(|r| (*r).to_owned()).collect(),
            reason: "because".into(),
            expires: expires.map(str::to_owned),
        }
    }

    fn today() -> Date {
        "2026-06-15".parse().expect("a date")
    }

    fn summary(o: &Overridden<'_>) -> Vec<(String, Severity)> {
        o.findings
            .iter()
            .map(|f| (f.rule_id.clone(), f.severity))
            .collect()
    }

    #[test]
    fn remap_and_ignore_by_exact_rule_id() {
        let findings = [
            finding("FG-001", Severity::Critical),
            finding("FG-002", Severity::High),
            finding("FG-0010", Severity::High),
        ];
        let overrides = [
            rule("FG-001", OverrideSeverity::Low, &[], None),
            rule("FG-002", OverrideSeverity::Ignore, &[], None),
        ];
        let out = apply_overrides(&findings, &overrides, Some("o/r"), today());
        assert_eq!(
            summary(&out),
            [
                ("FG-001".to_owned(), Severity::Low),
                ("FG-0010".to_owned(), Severity::High)
            ]
        );
        assert!(out.notes.is_empty());
    }

    #[test]
    fn repository_globs_limit_an_override() {
        let findings = [finding("FG-001", Severity::High)];
        let overrides = [rule(
            "FG-001",
            OverrideSeverity::Ignore,
            &["legacy-org/*", "octo/old-?"],
            None,
        )];
        for (repo, ignored) in [
            (Some("legacy-org/app"), true),
            (Some("Legacy-Org/App"), true),
            (Some("octo/old-1"), true),
            (Some("octo/old-12"), false),
            (Some("octo/app"), false),
            (None, false),
        ] {
            let out = apply_overrides(&findings, &overrides, repo, today());
            assert_eq!(out.findings.is_empty(), ignored, "{repo:?}");
        }
    }

    #[test]
    fn an_override_applies_through_its_last_day_and_not_after() {
        let findings = [finding("FG-001", Severity::High)];
        let on_the_day = [rule(
            "FG-001",
            OverrideSeverity::Ignore,
            &[],
            Some("2026-06-15"),
        )];
        let out = apply_overrides(&findings, &on_the_day, None, today());
        assert!(out.findings.is_empty());
        assert!(out.notes.is_empty());
        let expired = [rule(
            "FG-001",
            OverrideSeverity::Ignore,
            &[],
            Some("2026-06-14"),
        )];
        let out = apply_overrides(&findings, &expired, None, today());
        assert_eq!(summary(&out), [("FG-001".to_owned(), Severity::High)]);
        assert_eq!(out.notes.len(), 1);
        assert!(
            out.notes[0].contains("FG-001 expired on 2026-06-14"),
            "{:?}",
            out.notes
        );
        let garbled = [rule("FG-001", OverrideSeverity::Ignore, &[], Some("soon"))];
        let out = apply_overrides(&findings, &garbled, None, today());
        assert_eq!(out.findings.len(), 1);
        assert!(out.notes[0].contains("unreadable"), "{:?}", out.notes);
    }
}
