//! Fingerprints and baselines through the real binary: fingerprints survive moved lines and scan
//! order, `--write-baseline` writes stable bytes, `--baseline` hides what it lists, and a bad
//! baseline is a usage error that says where.

mod support;

use std::fs;

use serde_json::Value;
use support::{code, json, path_str, repo, run, stderr};

const WORKFLOW: &str = ".github/workflows/t.yml";

/// Two findings: a script injection (FG-002, high) and an unpinned action (FG-003, medium).
const TWO_FINDINGS: &str = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - run: echo \"${{ github.event.issue.title }}\"
";

/// The same workflow with comments and blank lines inserted above both findings.
const TWO_FINDINGS_MOVED: &str = "# Triage incoming issues.
# (lines added above every finding; nothing else changes)

name: triage
on: issues
permissions: {}

jobs:
  triage:
    runs-on: ubuntu-latest
    # the steps
    steps:

      # set up
      - uses: docker/setup-buildx-action@v3

      # and report
      - run: echo \"${{ github.event.issue.title }}\"
";

/// A second, different file with its own injection.
const OTHER: &str = "name: other
on: issues
permissions: {}
jobs:
  other:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ github.event.issue.body }}\"
";

/// (repository path, rule id, fingerprint, start line) of every finding whose display path
/// starts with `root`.
fn identities(report: &Value, root: &str) -> Vec<(String, String, String, u64)> {
    let mut found: Vec<(String, String, String, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.starts_with(root)))
        .map(|f| {
            (
                f["repositoryPath"].as_str().expect("path").to_owned(),
                f["ruleId"].as_str().expect("ruleId").to_owned(),
                f["fingerprint"].as_str().expect("fingerprint").to_owned(),
                f["startLine"].as_u64().expect("line"),
            )
        })
        .collect();
    found.sort();
    found
}

fn without_lines(ids: &[(String, String, String, u64)]) -> Vec<(String, String, String)> {
    ids.iter()
        .map(|(path, rule, fingerprint, _)| (path.clone(), rule.clone(), fingerprint.clone()))
        .collect()
}

#[test]
fn fingerprints_ignore_inserted_lines_and_scan_order() {
    let original = repo(&[(WORKFLOW, TWO_FINDINGS), (".github/workflows/o.yml", OTHER)]);
    let moved = repo(&[
        (WORKFLOW, TWO_FINDINGS_MOVED),
        (".github/workflows/o.yml", OTHER),
    ]);
    let (a, b) = (path_str(original.path()), path_str(moved.path()));
    let forward = json(&run(&["scan", "--format", "json", a, b]));
    let backward = json(&run(&["scan", "--format", "json", b, a]));

    let in_original = identities(&forward, a);
    let in_moved = identities(&forward, b);
    assert_eq!(in_original.len(), 3, "{forward}");
    // The lines really moved ...
    let lines =
        |ids: &[(String, String, String, u64)]| -> Vec<u64> { ids.iter().map(|id| id.3).collect() };
    assert_ne!(lines(&in_original), lines(&in_moved));
    // ... and the fingerprints did not.
    assert_eq!(without_lines(&in_original), without_lines(&in_moved));
    // Scanning the roots in the other order gives the same identities.
    assert_eq!(identities(&backward, a), in_original);
    assert_eq!(identities(&backward, b), in_moved);
}

#[test]
fn the_written_baseline_is_sorted_versioned_and_independent_of_scan_order() {
    let original = repo(&[(WORKFLOW, TWO_FINDINGS), (".github/workflows/o.yml", OTHER)]);
    let moved = repo(&[(WORKFLOW, TWO_FINDINGS_MOVED)]);
    let (a, b) = (path_str(original.path()), path_str(moved.path()));
    let out = tempfile::tempdir().expect("temp dir");
    let forward = out.path().join("forward.json");
    let backward = out.path().join("backward.json");
    let wrote = run(&["scan", "--write-baseline", path_str(&forward), a, b]);
    assert_eq!(
        code(&wrote),
        1,
        "writing a baseline still reports and gates"
    );
    run(&["scan", "--write-baseline", path_str(&backward), b, a]);
    let forward_text = fs::read_to_string(&forward).expect("baseline written");
    assert_eq!(
        forward_text,
        fs::read_to_string(&backward).expect("baseline written"),
        "same findings, same bytes"
    );

    let document: Value = serde_json::from_str(&forward_text).expect("JSON");
    assert_eq!(document["version"], 1);
    assert_eq!(document["tool"], "sluice");
    let entries = document["findings"].as_array().expect("findings");
    // FG-002 and FG-003 in t.yml (once, although two roots have them), FG-002 in o.yml.
    let keys: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            let mut fields: Vec<&str> = e
                .as_object()
                .expect("entry is an object")
                .keys()
                .map(String::as_str)
                .collect();
            fields.sort_unstable();
            assert_eq!(fields, ["fingerprint", "message", "path", "ruleId"]);
            (
                e["path"].as_str().expect("path").to_owned(),
                e["ruleId"].as_str().expect("ruleId").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (".github/workflows/o.yml".to_owned(), "FG-002".to_owned()),
            (WORKFLOW.to_owned(), "FG-002".to_owned()),
            (WORKFLOW.to_owned(), "FG-003".to_owned()),
        ]
    );
}

#[test]
fn a_baseline_hides_known_findings_and_reports_new_ones() {
    let dir = repo(&[(WORKFLOW, TWO_FINDINGS)]);
    let root = path_str(dir.path());
    let out = tempfile::tempdir().expect("temp dir");
    let baseline = out.path().join("baseline.json");
    let baseline = path_str(&baseline);
    assert_eq!(code(&run(&["scan", "--write-baseline", baseline, root])), 1);

    let output = run(&["scan", "--format", "json", "--baseline", baseline, root]);
    let report = json(&output);
    assert_eq!(report["findings"], Value::Array(Vec::new()), "{report}");
    assert_eq!(report["summary"]["baselined"], 2);
    assert_eq!(code(&output), 0, "nothing new");

    // Lines added above the known findings do not bring them back; a new file's finding shows.
    fs::write(dir.path().join(WORKFLOW), TWO_FINDINGS_MOVED).expect("rewrite");
    fs::write(dir.path().join(".github/workflows/o.yml"), OTHER).expect("add a workflow");
    let output = run(&["scan", "--format", "json", "--baseline", baseline, root]);
    let report = json(&output);
    let ids: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["repositoryPath"].as_str().expect("path"),
                f["ruleId"].as_str().expect("rule"),
            )
        })
        .collect();
    assert_eq!(ids, [(".github/workflows/o.yml", "FG-002")]);
    assert_eq!(report["summary"]["baselined"], 2);
    assert_eq!(code(&output), 1);
}

#[test]
fn the_baseline_records_what_suppressions_leave() {
    let commented = TWO_FINDINGS.replace(
        "title }}\"\n",
        "title }}\" # sluice: ignore[FG-002] accepted\n",
    );
    let dir = repo(&[(WORKFLOW, &commented)]);
    let out = tempfile::tempdir().expect("temp dir");
    let baseline = out.path().join("baseline.json");
    run(&[
        "scan",
        "--write-baseline",
        path_str(&baseline),
        path_str(dir.path()),
    ]);
    let document: Value =
        serde_json::from_str(&fs::read_to_string(&baseline).expect("written")).expect("JSON");
    let rules: Vec<&str> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|e| e["ruleId"].as_str().expect("ruleId"))
        .collect();
    assert_eq!(rules, ["FG-003"]);
}

fn refused(baseline_text: Option<&str>) -> (i32, String, String) {
    let dir = repo(&[(WORKFLOW, TWO_FINDINGS)]);
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("baseline.json");
    if let Some(text) = baseline_text {
        fs::write(&file, text).expect("write baseline");
    }
    let output = run(&["scan", "--baseline", path_str(&file), path_str(dir.path())]);
    (code(&output), stderr(&output), path_str(&file).to_owned())
}

#[test]
fn a_missing_baseline_is_a_usage_error() {
    let (exit, message, file) = refused(None);
    assert_eq!(exit, 2);
    assert!(
        message.contains(&format!("cannot read baseline {file}")),
        "{message}"
    );
}

#[test]
fn a_baseline_that_is_not_json_names_the_line() {
    let (exit, message, file) = refused(Some("{\n  \"version\": 1,\n  \"findings\": [,]\n}\n"));
    assert_eq!(exit, 2);
    assert!(
        message.contains(&format!("baseline {file}:3:")) && message.contains("not valid JSON"),
        "{message}"
    );
}

#[test]
fn an_unknown_baseline_version_is_refused() {
    let (exit, message, file) =
        refused(Some(r#"{"version": 2, "tool": "sluice", "findings": []}"#));
    assert_eq!(exit, 2);
    assert!(
        message.contains(&format!("baseline {file}: unsupported version 2")),
        "{message}"
    );
}

#[test]
fn a_baseline_of_the_wrong_shape_is_refused() {
    let (exit, message, file) = refused(Some(
        "{\"version\": 1, \"tool\": \"sluice\", \"findings\": [{\"fingerprint\": 3}]}",
    ));
    assert_eq!(exit, 2);
    assert!(
        message.contains(&format!("baseline {file}:1:"))
            && message.contains("not a sluice baseline"),
        "{message}"
    );
}

#[test]
fn writing_over_the_baseline_in_use_refreshes_it() {
    let dir = repo(&[(WORKFLOW, TWO_FINDINGS)]);
    let root = path_str(dir.path());
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("baseline.json");
    let file = path_str(&file);
    run(&["scan", "--write-baseline", file, root]);
    let first = fs::read_to_string(file).expect("written");
    fs::write(dir.path().join(".github/workflows/o.yml"), OTHER).expect("add a workflow");
    let output = run(&["scan", "--baseline", file, "--write-baseline", file, root]);
    assert_eq!(code(&output), 1, "the new finding is reported this time");
    let refreshed: Value =
        serde_json::from_str(&fs::read_to_string(file).expect("rewritten")).expect("JSON");
    assert_eq!(
        refreshed["findings"].as_array().expect("findings").len(),
        3,
        "baselined and new findings: {refreshed}\nwas: {first}"
    );
    let output = run(&["scan", "--baseline", file, root]);
    assert_eq!(code(&output), 0, "everything is accepted now");
}
