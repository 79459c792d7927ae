//! Rule documentation rendered from pack metadata: `sluice rules --format markdown`,
//! `sluice explain`, SARIF `help`. Built-in and third-party packs are documented the same
//! way, because the page is made from what the pack declares (its rule description is the
//! page body), not from files in this repository.

use crate::pack::types::RuleInfo;

/// Where the committed pages of the built-in packs live, for SARIF `helpUri`.
pub const BUILTIN_DOCS_URL: &str = "https://github.com/sluice-dev/sluice/blob/main/docs/rules";

/// The Markdown page of `rule` of the pack `pack` for `platform`.
pub fn page(pack: &str, platform: &str, rule: &RuleInfo) -> String {
    let mut page = format!(
        "# {} — {}\n\n**Pack:** `{}` · **Default severity:** {} · **Confidence:** {} · **Tags:** {}\n\n",
        rule.id,
        rule.title,
        pack,
        capitalised(rule.default_severity.as_str()),
        capitalised(rule.default_confidence.as_str()),
        if rule.tags.is_empty() {
            "none".to_owned()
        } else {
            rule.tags.join(", ")
        }
    );
    page.push_str(rule.description.trim_end());
    page.push_str("\n\n");
    // Most descriptions carry their own fix section; the short remediation fills in for
    // those that do not.
    if !has_fix_section(&rule.description) && !rule.remediation.trim().is_empty() {
        page.push_str("## Remediation\n\n");
        page.push_str(rule.remediation.trim_end());
        page.push_str("\n\n");
    }
    page.push_str(&suppression_section(platform, rule));
    page
}

fn has_fix_section(description: &str) -> bool {
    description.lines().any(|line| {
        let heading = line.trim_start_matches('#').trim().to_ascii_lowercase();
        line.starts_with("## ")
            && (heading.starts_with("fix") || heading.starts_with("remediation"))
    })
}

fn suppression_section(platform: &str, rule: &RuleInfo) -> String {
    // Jenkinsfiles are Groovy; every other built-in platform is YAML.
    let (fence, comment) = if platform == "jenkins" {
        ("groovy", "//")
    } else {
        ("yaml", "#")
    };
    format!(
        "## How to suppress\n\n\
         Fix the pipeline where you can. To accept the risk in one place, put a comment on \
         the finding's line (or the line above it) naming the rule and why:\n\n\
         ```{fence}\n{comment} sluice: ignore[{id}] reviewed: <why this is acceptable>\n```\n\n\
         To turn the rule off or ignore whole files, use `.sluice.yml`:\n\n\
         ```yaml\nrules:\n  {id}:\n    ignore:\n      - \"path/to/pipeline-file\"   # or \"path:LINE\"\n    # disable: true\n```\n",
        id = rule.id
    )
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::types::{Confidence, Severity};

    fn rule(description: &str) -> RuleInfo {
        RuleInfo {
            id: "GL-002".to_owned(),
            name: "script-injection".to_owned(),
            title: "Script injection".to_owned(),
            default_severity: Severity::Medium,
            default_confidence: Confidence::High,
            description: description.to_owned(),
            remediation: "Quote it.".to_owned(),
            help_uri: String::new(),
            tags: vec!["injection".to_owned()],
        }
    }

    #[test]
    fn header_body_remediation_and_suppression() {
        let text = page(
            "gitlab-ci",
            "gitlab-ci",
            &rule("## What it detects\n\nThings.\n"),
        );
        assert!(text.starts_with(
            "# GL-002 — Script injection\n\n**Pack:** `gitlab-ci` · **Default severity:** Medium · **Confidence:** High · **Tags:** injection\n\n## What it detects"
        ));
        assert!(text.contains("## Remediation\n\nQuote it."));
        assert!(text.contains("# sluice: ignore[GL-002]"));
    }

    #[test]
    fn a_fix_section_in_the_description_replaces_the_remediation() {
        let text = page("jenkins", "jenkins", &rule("Body.\n\n## Fix\n\nDo this.\n"));
        assert!(!text.contains("## Remediation"));
        assert!(text.contains("// sluice: ignore[GL-002]"));
    }
}
