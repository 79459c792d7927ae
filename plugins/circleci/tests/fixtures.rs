//! Runs the pack natively over every fixture in `tests/fixtures/circleci/`, checks the inline
//! `# expect:` / `# expect-none:` markers, and checks every rule has a documentation page.

use std::path::PathBuf;

use sluice_pack_circleci::{Circleci, rules};
use sluice_pack_sdk::testing;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/fixtures/circleci");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the fixture directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_fixture_matches_its_expectations() {
    let entries = fixtures();
    assert!(entries.len() >= 15, "found only {} fixtures", entries.len());
    let mut failures = Vec::new();
    for path in &entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 names");
        let content = std::fs::read_to_string(path).expect("readable fixture");
        let virtual_path = format!(".circleci/{name}");
        let output = testing::scan::<Circleci>(&[(&virtual_path, &content)]);
        if !output.errors.is_empty() {
            failures.push(format!("{name}: {:?}", output.errors));
            continue;
        }
        let outcome = std::panic::catch_unwind(|| {
            testing::check_fixture::<Circleci>(&virtual_path, &content, &[]);
        });
        if outcome.is_err() {
            failures.push(name.to_owned());
        }
    }
    assert!(failures.is_empty(), "fixtures failed: {failures:?}");
}

#[test]
fn every_rule_has_firing_and_safe_fixtures() {
    let contents: Vec<String> = fixtures()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable fixture"))
        .collect();
    for rule in rules::ALL {
        let firing = contents
            .iter()
            .any(|c| c.contains(&format!("# expect: {}", rule.id)));
        let safe = contents
            .iter()
            .any(|c| c.contains(&format!("# expect-none: {}", rule.id)));
        assert!(firing, "{}: no firing fixture", rule.id);
        assert!(safe, "{}: no safe twin", rule.id);
    }
}

#[test]
fn every_rule_has_a_documentation_page() {
    for rule in rules::ALL {
        let page = repo_root().join(format!("docs/rules/{}.md", rule.id));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|_| panic!("{} has no page at {}", rule.id, page.display()));
        assert!(
            text.starts_with(&format!("# {} — ", rule.id)),
            "{}: the page must start with `# {} — <title>`",
            rule.id,
            rule.id
        );
        for section in [
            "## What it detects",
            "## Severity and confidence",
            "## Not reported",
        ] {
            assert!(text.contains(section), "{}: page lacks {section}", rule.id);
        }
    }
}
