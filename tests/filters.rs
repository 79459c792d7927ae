//! `--min-confidence`, `--rule` and `--skip-rule` through the real binary, alone and together
//! with `--platform`, `--min-severity` and `.sluice.yml`.

mod support;

use serde_json::Value;
use support::{code, json, path_str, repo, run, stderr};

const EXAMPLE: &str = "examples/insecure-pipelines";

/// FG-002 on lines 10 and 13 (high), FG-003 on line 9 (low).
const WORKFLOW: &str = "name: triage
on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo \"${{ github.event.issue.title }}\"
      - run: |
          echo start
          echo \"${{ github.event.issue.body }}\"
";

fn scan_json(args: &[&str]) -> Value {
    let mut all = vec!["scan", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let output = run(&all);
    assert_eq!(code(&output), 0, "stderr:\n{}", stderr(&output));
    json(&output)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

fn rule_ids(report: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = findings(report)
        .iter()
        .map(|f| f["ruleId"].as_str().expect("ruleId"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[test]
fn min_confidence_leaves_out_less_sure_findings() {
    let all = scan_json(&[EXAMPLE]);
    let medium_count = findings(&all)
        .iter()
        .filter(|f| f["confidence"] == "medium")
        .count();
    assert!(
        medium_count > 0,
        "the example has medium-confidence findings"
    );

    let high = scan_json(&["--min-confidence", "high", EXAMPLE]);
    assert!(
        findings(&high).iter().all(|f| f["confidence"] == "high"),
        "{high:#}"
    );
    assert_eq!(findings(&high).len(), findings(&all).len() - medium_count);
    assert_eq!(high["summary"]["findings"], findings(&high).len());

    let medium = scan_json(&["--min-confidence", "medium", EXAMPLE]);
    assert_eq!(
        findings(&medium).len(),
        findings(&all)
            .iter()
            .filter(|f| f["confidence"] != "low")
            .count()
    );

    let bad = run(&["scan", "--min-confidence", "certain", EXAMPLE]);
    assert_eq!(code(&bad), 2);
}

#[test]
fn rule_reports_only_the_named_rules() {
    let dir = repo(&[(".github/workflows/t.yml", WORKFLOW)]);
    let root = path_str(dir.path());
    assert_eq!(rule_ids(&scan_json(&[root])), ["FG-002", "FG-003"]);
    assert_eq!(
        rule_ids(&scan_json(&["--rule", "FG-003", root])),
        ["FG-003"]
    );
    let both = scan_json(&["--rule", "FG-003", "--rule", "FG-002", root]);
    assert_eq!(rule_ids(&both), ["FG-002", "FG-003"]);
    // The exit code follows what remains: FG-003 alone is low, below the default gate.
    assert_eq!(code(&run(&["scan", root])), 1);
    assert_eq!(code(&run(&["scan", "--rule", "FG-003", root])), 0);
}

#[test]
fn skip_rule_leaves_out_the_named_rules() {
    let dir = repo(&[(".github/workflows/t.yml", WORKFLOW)]);
    let root = path_str(dir.path());
    assert_eq!(
        rule_ids(&scan_json(&["--skip-rule", "FG-002", root])),
        ["FG-003"]
    );
    let none = scan_json(&["--skip-rule", "FG-002", "--skip-rule", "FG-003", root]);
    assert!(findings(&none).is_empty(), "{none:#}");
    assert_eq!(none["summary"]["findings"], 0);
    assert_eq!(code(&run(&["scan", "--skip-rule", "FG-002", root])), 0);
}

#[test]
fn unknown_rule_ids_are_usage_errors_with_close_matches() {
    let dir = repo(&[(".github/workflows/t.yml", WORKFLOW)]);
    let root = path_str(dir.path());
    let output = run(&["scan", "--rule", "FG-02", root]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("unknown rule `FG-02` in --rule"),
        "{message}"
    );
    assert!(message.contains("`FG-002`"), "{message}");

    let output = run(&["scan", "--skip-rule", "fg-003", root]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("unknown rule `fg-003` in --skip-rule"),
        "{message}"
    );
    assert!(message.contains("did you mean `FG-003`"), "{message}");

    let output = run(&["scan", "--rule", "NOPE-424242", root]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("`sluice rules` lists them"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn filters_work_together_with_platform_min_severity_and_configuration() {
    let dir = repo(&[
        ("anywhere/pipeline.yml", WORKFLOW),
        ("other/pipeline.yml", WORKFLOW),
        (
            ".sluice.yml",
            "rules:\n  FG-003:\n    severity: high\n  FG-002:\n    ignore: [\"other/*.yml\"]\n",
        ),
    ]);
    let root = path_str(dir.path());
    // --platform makes both files workflows; the configuration raises FG-003 to high and
    // ignores FG-002 under other/.
    let all = scan_json(&["--platform", "github-actions", root]);
    let mut seen: Vec<(String, String, String)> = findings(&all)
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().expect("id").to_owned(),
                f["repositoryPath"].as_str().expect("path").to_owned(),
                f["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let owned = |r: &str, p: &str, s: &str| (r.to_owned(), p.to_owned(), s.to_owned());
    assert_eq!(
        seen,
        [
            owned("FG-002", "anywhere/pipeline.yml", "high"),
            owned("FG-002", "anywhere/pipeline.yml", "high"),
            owned("FG-003", "anywhere/pipeline.yml", "high"),
            owned("FG-003", "other/pipeline.yml", "high"),
        ]
    );
    assert_eq!(all["summary"]["configIgnored"], 2);

    // The remapped severity passes --min-severity; --skip-rule then removes FG-002.
    let narrowed = scan_json(&[
        "--platform",
        "github-actions",
        "--min-severity",
        "high",
        "--min-confidence",
        "high",
        "--skip-rule",
        "FG-002",
        root,
    ]);
    assert_eq!(rule_ids(&narrowed), ["FG-003"]);
    assert_eq!(findings(&narrowed).len(), 2);
    // Without the configuration FG-003 is low and --min-severity high leaves nothing of it.
    let plain = scan_json(&[
        "--platform",
        "github-actions",
        "--no-config",
        "--min-severity",
        "high",
        "--rule",
        "FG-003",
        root,
    ]);
    assert!(findings(&plain).is_empty(), "{plain:#}");
}
