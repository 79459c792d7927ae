//! FG-022: an action version with a published advisory or a known compromise.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::FileContext;
use crate::model::{Definition, RefKind, Text, Uses, ref_kind};
use crate::threat_data::{self, Advisory};

pub const META: RuleMeta = RuleMeta {
    id: "FG-022",
    name: "known-vulnerable-action",
    title: "Known vulnerable or compromised action version",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("fg022_known_vulnerable_action.md"),
    remediation: "Upgrade to the fixed version named in the finding (or remove the action if \
        every version is affected), pin it by full commit SHA, and for a compromise rotate \
        every secret the affected runs could read.",
    help_uri: "",
    tags: &["supply-chain", "vulnerable-dependency"],
};

pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    let mut references: Vec<Text<'_>> = Vec::new();
    if let Definition::Workflow(workflow) = file.definition {
        references.extend(workflow.jobs.iter().filter_map(|job| job.uses));
    }
    for (_, steps) in file.definition.step_groups() {
        references.extend(steps.iter().filter_map(|step| step.uses));
    }
    for uses in references {
        let parsed = Uses::parse(uses.value);
        let (Some(name), Uses::Repository { git_ref, .. }) = (parsed.repository_name(), parsed)
        else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let git_ref = git_ref.unwrap_or("").trim();
        for advisory in threat_data::advisories().iter().filter(|a| {
            name == a.action
                || name
                    .strip_prefix(a.action.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        }) {
            if let Some((severity, why)) = affected(advisory, git_ref) {
                let mut finding = finding(file, uses, advisory, severity, &why);
                // A SHA pin of a wholly compromised action may predate the compromise; which
                // commit it is cannot be checked offline.
                if advisory.all_versions
                    && ref_kind(git_ref) == RefKind::CommitSha
                    && !advisory
                        .malicious_commits
                        .contains(&git_ref.to_ascii_lowercase())
                {
                    finding = finding.confidence(Confidence::Low);
                    finding.message.push_str(
                        " (pinned to a commit SHA, which may predate the compromise: verify it)",
                    );
                }
                findings.push(finding);
            }
        }
    }
}

/// Whether `git_ref` of the advisory's action is affected, with severity and explanation.
fn affected(advisory: &Advisory, git_ref: &str) -> Option<(Severity, String)> {
    if advisory.all_versions {
        return Some((
            advisory.severity,
            "is compromised in every version".to_owned(),
        ));
    }
    if ref_kind(git_ref) == RefKind::CommitSha {
        let sha = git_ref.to_ascii_lowercase();
        return advisory.malicious_commits.contains(&sha).then(|| {
            (
                Severity::Critical,
                "is pinned to the malicious commit of a known compromise".to_owned(),
            )
        });
    }
    if advisory
        .compromised_tags
        .iter()
        .any(|t| t.eq_ignore_ascii_case(git_ref))
    {
        return Some((
            advisory.severity,
            format!("uses the tag `{git_ref}`, which was moved to malicious code"),
        ));
    }
    let fixed = advisory.fixed.as_deref()?;
    let newest = newest_release(git_ref)?;
    let below_fix = newest < parse_version(fixed)?;
    let from_introduced = advisory
        .introduced
        .as_deref()
        .and_then(parse_version)
        .is_none_or(|introduced| newest >= introduced);
    (below_fix && from_introduced).then(|| {
        (
            advisory.severity,
            format!("resolves to a release before the fix in `{fixed}`"),
        )
    })
}

/// `[major, minor, patch]` of a full version.
fn parse_version(version: &str) -> Option<[u64; 3]> {
    let parts = version_parts(version)?;
    Some([
        parts.first().copied().flatten()?,
        parts.get(1).copied().flatten().unwrap_or(0),
        parts.get(2).copied().flatten().unwrap_or(0),
    ])
}

/// The newest version a version-like ref can resolve to: missing components follow the
/// newest release of the series (`v4` → `[4, ∞, ∞]`).
fn newest_release(git_ref: &str) -> Option<[u64; 3]> {
    let parts = version_parts(git_ref)?;
    let at = |i: usize| parts.get(i).copied().flatten().unwrap_or(u64::MAX);
    Some([parts.first().copied().flatten()?, at(1), at(2)])
}

fn version_parts(text: &str) -> Option<Vec<Option<u64>>> {
    let core = text.trim().strip_prefix(['v', 'V']).unwrap_or(text.trim());
    // Pre-releases sort before their release, so `v46.0.1-rc1` stays affected by a fix in
    // `46.0.1` only if we drop the suffix and compare below; accept the small imprecision.
    let core = core.split(['-', '+']).next()?;
    let parts: Vec<Option<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(Option::is_none) {
        return None;
    }
    Some(parts)
}

fn finding(
    file: &FileContext<'_, '_>,
    uses: Text<'_>,
    advisory: &Advisory,
    severity: Severity,
    why: &str,
) -> Finding {
    let reference = uses.value.trim();
    let aliases = if advisory.aliases.is_empty() {
        String::new()
    } else {
        format!(", {}", advisory.aliases.join(", "))
    };
    let mut message = format!(
        "`{reference}` {why}: {} ({}{aliases})",
        advisory.summary, advisory.id
    );
    if let Some(fixed) = &advisory.fixed {
        message.push_str(&format!("; fixed in {fixed}"));
    } else if advisory.all_versions {
        message.push_str("; remove this action");
    }
    let mut finding = Finding::new(&META, file.path, uses.span())
        .severity(severity)
        .message(message)
        .fingerprint_key(format!("{}|{reference}|{}", uses.route(), advisory.id))
        .property("uses", reference)
        .property("advisory", advisory.id.clone());
    if !advisory.url.is_empty() {
        finding = finding.property("advisory-url", advisory.url.clone());
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(fixed: &str, introduced: Option<&str>) -> Advisory {
        Advisory {
            action: "o/a".into(),
            id: "X".into(),
            aliases: Vec::new(),
            url: String::new(),
            introduced: introduced.map(Into::into),
            fixed: Some(fixed.into()),
            all_versions: false,
            compromised_tags: Vec::new(),
            malicious_commits: Vec::new(),
            severity: Severity::High,
            summary: "s".into(),
        }
    }

    #[test]
    fn version_ranges() {
        let a = advisory("46.0.1", None);
        for affected_ref in ["v44", "v45.0.7", "45", "v46.0.0", "v1"] {
            assert!(affected(&a, affected_ref).is_some(), "{affected_ref}");
        }
        for fine in ["v46", "v46.0.1", "v47.1", "main", "release/v1", "v46.0.1"] {
            assert!(affected(&a, fine).is_none(), "{fine}");
        }
        let b = advisory("4.1.7", Some("4.0.0"));
        assert!(affected(&b, "v4.1.6").is_some());
        assert!(affected(&b, "v4.0").is_some());
        assert!(affected(&b, "v4").is_none());
        assert!(affected(&b, "v4.1").is_none());
        assert!(affected(&b, "v3").is_none());
        assert!(affected(&b, "v3.1.0").is_none());
    }
}
