//! Runs the pack natively over every fixture in `tests/fixtures/jenkins/` and checks the
//! inline `// expect:` / `// expect-none:` markers; every rule has a page and fixtures.

use std::path::PathBuf;

use sluice_pack_jenkins::Jenkins;
use sluice_pack_sdk::Pack as _;
use sluice_pack_sdk::testing;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jenkins")
}

fn fixtures() -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixture directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_file())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_fixture_matches_its_expectations() {
    let entries = fixtures();
    assert!(entries.len() >= 10, "found only {} fixtures", entries.len());
    let mut failures = Vec::new();
    for path in &entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("fixture names are UTF-8");
        let content = std::fs::read_to_string(path).expect("fixtures are readable UTF-8");
        // Fixtures are valid: a parse error would silently hide every expectation.
        let output = testing::scan::<Jenkins>(&[(name, &content)]);
        if !output.errors.is_empty() {
            failures.push(format!("{name}: {:?}", output.errors));
            continue;
        }
        let problems = testing::validate::<Jenkins>(
            &sluice_pack_sdk::ScanRequest {
                files: vec![sluice_pack_sdk::SourceFile {
                    path: name.to_owned(),
                    content: content.clone(),
                }],
                options: Vec::new(),
            },
            &output,
        );
        if !problems.is_empty() {
            failures.push(format!("{name}: {problems:?}"));
        }
        let outcome = std::panic::catch_unwind(|| {
            testing::check_fixture::<Jenkins>(name, &content, &[]);
        });
        if outcome.is_err() {
            failures.push(name.to_owned());
        }
    }
    assert!(failures.is_empty(), "fixtures failed: {failures:#?}");
}

#[test]
fn every_rule_has_firing_and_safe_fixtures() {
    let mut firing = std::collections::BTreeSet::new();
    let mut safe = std::collections::BTreeSet::new();
    for path in fixtures() {
        let content = std::fs::read_to_string(&path).expect("readable");
        let expectations = testing::Expectations::parse(&content);
        for rule in &expectations.rules {
            if expectations.expected.keys().any(|(_, id)| id == rule) {
                firing.insert(rule.clone());
            } else {
                safe.insert(rule.clone());
            }
        }
    }
    for rule in Jenkins::info().rules {
        assert!(firing.contains(rule.id), "{}: no firing fixture", rule.id);
        assert!(safe.contains(rule.id), "{}: no safe twin", rule.id);
    }
}

#[test]
fn every_rule_has_a_documentation_page() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    for rule in Jenkins::info().rules {
        let page = docs.join(format!("{}.md", rule.id));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        let heading = format!("# {} — {}\n", rule.id, rule.title);
        assert!(
            text.starts_with(&heading),
            "{} must start with `{heading}`",
            page.display()
        );
        let severity = format!(
            "**Default severity:** {}",
            capitalised(rule.default_severity.as_str())
        );
        assert!(
            text.contains(&severity),
            "{} lacks `{severity}`",
            page.display()
        );
        for section in [
            "## What it detects",
            "## Why it matters",
            "## Severity and confidence",
            "## Not reported",
            "## Remediation",
            "## Example",
        ] {
            assert!(
                text.contains(section),
                "{} lacks `{section}`",
                page.display()
            );
        }
    }
}

#[test]
fn rule_ids_are_the_jenkins_ones() {
    let ids: Vec<&str> = Jenkins::info().rules.iter().map(|r| r.id).collect();
    assert_eq!(ids, ["JK-001", "JK-002", "JK-003", "JK-009"]);
    assert_eq!(Jenkins::info().id, "jenkins");
    assert_eq!(Jenkins::info().platform, "jenkins");
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + chars.as_str()
    })
}
