//! Runs every fixture under `tests/fixtures/<platform>/` through the real binary and the real
//! embedded wasm packs, and checks the expectations written inline in each file
//! (`# expect: FG-002` on the line where a finding must start, `# expect-none: FG-001`).
//! Also checks that every rule of the platform's pack has a firing fixture and a safe twin.
//!
//! A fixture is a file, or a directory scanned as one repository (for rules that follow
//! references between files: GitLab `include:`, Azure templates); a directory's expectations
//! are written in its files.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sluice_pack_sdk::testing::{Expectations, compare};
use support::{code, json, repo_root, run, stderr, stdout};

fn fixture_files(platform: &str) -> Vec<PathBuf> {
    let dir = repo_root().join("tests/fixtures").join(platform);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// The files of a fixture: itself, or every file below a fixture directory.
fn fixture_members(fixture: &std::path::Path) -> Vec<PathBuf> {
    if fixture.is_file() {
        return vec![fixture.to_owned()];
    }
    let mut members = Vec::new();
    let mut pending = vec![fixture.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                members.push(path);
            }
        }
    }
    members.sort();
    members
}

/// The rule ids of the pack for `platform`, from `sluice rules`.
fn pack_rules(platform: &str) -> Vec<String> {
    let output = run(&["rules"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    stdout(&output)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            (columns.get(2) == Some(&platform)).then(|| columns[0].to_owned())
        })
        .collect()
}

fn check_platform(platform: &str) {
    let root = repo_root();
    let mut failures = Vec::new();
    let mut firing: BTreeSet<String> = BTreeSet::new();
    let mut safe_twins: BTreeSet<String> = BTreeSet::new();
    let files = fixture_files(platform);
    for fixture in &files {
        let relative_path = |path: &std::path::Path| {
            path.strip_prefix(&root)
                .expect("fixtures are inside the repository")
                .to_string_lossy()
                .into_owned()
        };
        let scanned = relative_path(fixture);
        let output = run(&[
            "scan",
            "--platform",
            platform,
            "--format",
            "json",
            "--fail-on",
            "never",
            &scanned,
        ]);
        let report = json(&output);
        if let Some(errors) = report["errors"].as_array().filter(|e| !e.is_empty()) {
            failures.push(format!("{scanned}: scan errors: {errors:?}"));
            continue;
        }
        assert_eq!(code(&output), 0, "{scanned}: {}", stderr(&output));
        let mut named_any = false;
        for file in fixture_members(fixture) {
            let relative = relative_path(&file);
            let content = std::fs::read_to_string(&file).expect("fixtures are UTF-8");
            let expectations = Expectations::parse(&content);
            named_any |= !expectations.rules.is_empty();
            for rule in &expectations.rules {
                if expectations.expected.keys().any(|(_, id)| id == rule) {
                    firing.insert(rule.clone());
                } else {
                    safe_twins.insert(rule.clone());
                }
            }
            let mut actual: BTreeMap<(u32, String), usize> = BTreeMap::new();
            for finding in report["findings"].as_array().expect("findings") {
                let rule = finding["ruleId"].as_str().expect("ruleId").to_owned();
                if finding["path"] == relative.as_str() && expectations.rules.contains(&rule) {
                    let line = u32::try_from(finding["startLine"].as_u64().expect("startLine"))
                        .expect("line fits u32");
                    *actual.entry((line, rule)).or_default() += 1;
                }
            }
            if let Err(problems) = compare(&expectations.expected, &actual) {
                failures.push(format!("{relative}:\n  {}", problems.replace('\n', "\n  ")));
            }
        }
        if !named_any {
            failures.push(format!(
                "{scanned}: names no rule in `expect:` or `expect-none:`"
            ));
        }
    }
    for rule in pack_rules(platform) {
        if !firing.contains(&rule) {
            failures.push(format!("rule {rule} has no fixture that must fire"));
        }
        if !safe_twins.contains(&rule) {
            failures.push(format!(
                "rule {rule} has no safe twin (a fixture with `expect-none: {rule}`)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {platform} fixtures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn github_actions_fixtures() {
    check_platform("github-actions");
}

#[test]
fn gitlab_ci_fixtures() {
    check_platform("gitlab-ci");
}

#[test]
fn azure_pipelines_fixtures() {
    check_platform("azure-pipelines");
}

#[test]
fn jenkins_fixtures() {
    check_platform("jenkins");
}

#[test]
fn tekton_fixtures() {
    check_platform("tekton");
}

#[test]
fn circleci_fixtures() {
    check_platform("circleci");
}
