//! Runs the pack natively over every fixture in `tests/fixtures/github-actions/` and checks the
//! inline `# expect:` / `# expect-none:` markers.

use std::path::PathBuf;

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::Pack as _;
use sluice_pack_sdk::testing;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/github-actions")
}

#[test]
fn every_fixture_matches_its_expectations() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixture directory exists")
        .map(|entry| {
            entry
                .expect("fixture directory entries are readable")
                .path()
        })
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 20,
        "expected the full fixture set, found {} files",
        entries.len()
    );
    let mut failures = Vec::new();
    for path in &entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("fixture names are UTF-8");
        let content = std::fs::read_to_string(path).expect("fixtures are readable UTF-8");
        // Present each fixture where GitHub loads workflows from.
        let virtual_path = format!(".github/workflows/{name}");
        // Fixtures are valid workflows: a parse error would silently hide every expectation.
        let output = testing::scan::<GithubActions>(&[(&virtual_path, &content)]);
        if !output.errors.is_empty() {
            failures.push(format!("{name}: {:?}", output.errors));
            continue;
        }
        let outcome = std::panic::catch_unwind(|| {
            testing::check_fixture::<GithubActions>(&virtual_path, &content, &[]);
        });
        if outcome.is_err() {
            failures.push(name.to_owned());
        }
    }
    assert!(failures.is_empty(), "fixtures failed: {failures:?}");
}

#[test]
fn every_rule_has_firing_and_safe_fixtures() {
    let names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("the fixture directory exists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    let rules: Vec<String> = GithubActions::info()
        .rules
        .iter()
        .map(|r| r.id.to_ascii_lowercase().replace('-', ""))
        .collect();
    assert!(rules.len() > 3);
    for rule in &rules {
        let firing = names
            .iter()
            .filter(|n| n.starts_with(&format!("{rule}-")) && !n.contains("-safe-"))
            .count();
        let safe = names
            .iter()
            .filter(|n| n.starts_with(&format!("{rule}-safe-")))
            .count();
        // Every rule needs a fixture that fires and a safe twin; the host-side harness
        // (tests/fixtures.rs at the root) checks the same by the expectations inside.
        assert!(firing >= 1, "{rule}: no firing fixture");
        assert!(safe >= 1, "{rule}: no safe twin");
    }
}

#[test]
fn every_rule_has_a_doc_page() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    for rule in GithubActions::info().rules {
        let page = docs.join(format!("{}.md", rule.id));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{} has no doc page at {}: {e}", rule.id, page.display()));
        assert!(
            text.starts_with(&format!("# {} ", rule.id)),
            "{} does not start with its rule id",
            page.display()
        );
    }
}
