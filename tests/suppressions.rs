//! Inline suppressions (`sluice: ignore[RULE-ID] reason`) through the real binary: where a
//! comment applies, what it reports, and how every format shows a suppressed finding.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{code, json, path_str, repo, run, stderr, stdout};

const WORKFLOW: &str = ".github/workflows/t.yml";

/// An issue-triggered workflow whose step `Classify` has a script injection (FG-002) on line 9,
/// with `{above}` on line 8 and `{same}` after the injection.
fn injection(above: &str, same: &str) -> String {
    format!(
        "name: triage
on: issues
permissions: {{}}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: Classify{above}
        run: echo \"${{{{ github.event.issue.title }}}}\"{same}
"
    )
}

/// A workflow whose only finding is a medium-severity unpinned third-party action (FG-003).
const MEDIUM_ONLY: &str = "name: ci
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - run: make
";

fn rule_ids(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("an array of findings")
        .iter()
        .map(|f| f["ruleId"].as_str().expect("ruleId").to_owned())
        .collect()
}

fn scan_json(root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(path_str(root));
    let output = run(&args);
    (code(&output), json(&output), stderr(&output))
}

#[test]
fn a_comment_on_the_same_line_suppresses_the_finding() {
    let dir = repo(&[(
        WORKFLOW,
        &injection("", " # sluice: ignore[FG-002] the title is only echoed"),
    )]);
    let (exit, report, errors) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), Vec::<String>::new());
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(exit, 0, "nothing left to fail on");
    assert!(errors.is_empty(), "{errors}");
    // Without --show-suppressed the JSON only counts them.
    assert!(report.get("suppressed").is_none(), "{report}");
}

#[test]
fn a_comment_on_the_line_above_suppresses_the_finding() {
    let dir = repo(&[(
        WORKFLOW,
        &injection("\n        # sluice:ignore[FG-002]", ""),
    )]);
    let (exit, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), Vec::<String>::new());
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(exit, 0);
}

#[test]
fn a_shell_comment_above_the_line_inside_a_run_block_suppresses_the_finding() {
    let workflow = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: Classify
        run: |
          echo start
          # sluice: ignore[FG-002] reviewed in #123
          echo \"${{ github.event.issue.title }}\"
";
    let dir = repo(&[(WORKFLOW, workflow)]);
    let (exit, report, _) = scan_json(dir.path(), &["--show-suppressed"]);
    assert_eq!(rule_ids(&report["findings"]), Vec::<String>::new());
    let suppressed = &report["suppressed"][0];
    assert_eq!(suppressed["ruleId"], "FG-002");
    assert_eq!(suppressed["startLine"], 12);
    assert_eq!(suppressed["suppression"]["line"], 11);
    assert_eq!(suppressed["suppression"]["reason"], "reviewed in #123");
    assert_eq!(exit, 0);
}

/// The pack gives the step around a `run: |` block as a related location, so a comment above
/// (or on) the step's first line covers a finding deep inside its script.
#[test]
fn a_comment_above_the_step_covers_findings_inside_its_run_block() {
    for (above, on) in [
        (
            "      # sluice: ignore[FG-002] the title is validated upstream\n",
            "",
        ),
        (
            "",
            " # sluice: ignore[FG-002] the title is validated upstream",
        ),
    ] {
        let workflow = format!(
            "on: issues
permissions: {{}}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
{above}      - name: Classify{on}
        run: |
          echo start
          echo more
          echo \"${{{{ github.event.issue.title }}}}\"
"
        );
        let dir = repo(&[(WORKFLOW, workflow.as_str())]);
        let (exit, report, _) = scan_json(dir.path(), &["--show-suppressed"]);
        assert_eq!(
            rule_ids(&report["findings"]),
            Vec::<String>::new(),
            "{workflow}"
        );
        assert_eq!(report["suppressed"][0]["ruleId"], "FG-002");
        assert_eq!(exit, 0);
    }
    // A comment above another step does not reach it.
    let workflow = "on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      # sluice: ignore[FG-002] not this one
      - run: echo hi
      - name: Classify
        run: |
          echo start
          echo more
          echo \"${{ github.event.issue.title }}\"
";
    let dir = repo(&[(WORKFLOW, workflow)]);
    let (exit, report, _) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), ["FG-002"]);
    assert_eq!(exit, 1);
}

/// FG-001 (pull_request_target checking out the PR head, then running it) points at the step
/// that runs the code as a related location: a comment there covers the finding, whose primary
/// span is the checkout's `ref:` line six lines earlier.
#[test]
fn a_comment_on_a_related_location_suppresses_the_finding() {
    let workflow = "name: PR preview
on:
  pull_request_target:
    types: [opened, synchronize]
permissions:
  contents: read
jobs:
  preview:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - name: Build preview
        run: |
          npm install{comment}
        env:
          DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}
";
    let plain = repo(&[(WORKFLOW, &workflow.replace("{comment}", ""))]);
    let (_, report, _) = scan_json(plain.path(), &[]);
    let fg001 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["ruleId"] == "FG-001")
        .unwrap_or_else(|| panic!("FG-001 expected: {report}"));
    assert_eq!(fg001["startLine"], 13, "{fg001}");
    assert!(
        fg001["related"]
            .as_array()
            .expect("related")
            .iter()
            .any(|r| r["span"]["startLine"] == 16),
        "the step running the code is a related location: {fg001}"
    );

    let commented = repo(&[(
        WORKFLOW,
        &workflow.replace(
            "{comment}",
            " # sluice: ignore[FG-001] previews run in a throwaway sandbox",
        ),
    )]);
    let (_, report, _) = scan_json(commented.path(), &["--show-suppressed"]);
    assert!(
        !rule_ids(&report["findings"]).contains(&"FG-001".to_owned()),
        "{report}"
    );
    assert_eq!(rule_ids(&report["suppressed"]), ["FG-001"]);
    assert_eq!(report["suppressed"][0]["suppression"]["line"], 16);
}

#[test]
fn a_comment_naming_another_rule_does_not_suppress() {
    let dir = repo(&[(WORKFLOW, &injection("", " # sluice: ignore[FG-003]"))]);
    let (exit, report, errors) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), ["FG-002"]);
    assert_eq!(report["summary"]["suppressed"], 0);
    assert_eq!(exit, 1);
    assert!(errors.is_empty(), "FG-003 is a real rule: {errors}");
}

#[test]
fn rule_ids_are_case_sensitive_and_unknown_ids_are_warnings() {
    let dir = repo(&[(WORKFLOW, &injection("", " # sluice: ignore[fg-002] typo"))]);
    let (exit, report, errors) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), ["FG-002"]);
    assert_eq!(exit, 1, "a warning is not an error");
    assert!(
        errors.contains("warning: ") && errors.contains(&format!("{WORKFLOW}:9: ")),
        "{errors}"
    );
    assert!(errors.contains("`fg-002`"), "{errors}");
}

#[test]
fn wildcards_are_refused_with_a_warning() {
    let dir = repo(&[(WORKFLOW, &injection("", " # sluice: ignore[*]"))]);
    let (exit, report, errors) = scan_json(dir.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), ["FG-002"]);
    assert_eq!(exit, 1);
    assert!(
        errors.contains(&format!("{WORKFLOW}:9: ")) && errors.contains("`*` is not allowed"),
        "{errors}"
    );
}

#[test]
fn no_ignores_reports_everything() {
    let dir = repo(&[(
        WORKFLOW,
        &injection("", " # sluice: ignore[FG-002] accepted"),
    )]);
    let (exit, report, _) = scan_json(dir.path(), &["--no-ignores"]);
    assert_eq!(rule_ids(&report["findings"]), ["FG-002"]);
    assert_eq!(report["summary"]["suppressed"], 0);
    assert_eq!(exit, 1);
}

#[test]
fn the_exit_code_follows_what_remains() {
    let dir = repo(&[
        (
            WORKFLOW,
            &injection("", " # sluice: ignore[FG-002] accepted"),
        ),
        (".github/workflows/ci.yml", MEDIUM_ONLY),
    ]);
    let root = path_str(dir.path());
    assert_eq!(
        code(&run(&["scan", root])),
        0,
        "only a medium finding is left"
    );
    assert_eq!(code(&run(&["scan", "--fail-on", "medium", root])), 1);
    assert_eq!(code(&run(&["scan", "--no-ignores", root])), 1);
}

#[test]
fn show_suppressed_lists_them_after_the_findings_in_the_table() {
    let dir = repo(&[
        (
            WORKFLOW,
            &injection("", " # sluice: ignore[FG-002] accepted"),
        ),
        (".github/workflows/ci.yml", MEDIUM_ONLY),
    ]);
    let root = path_str(dir.path());
    let quiet = stdout(&run(&["scan", root]));
    assert!(!quiet.contains("suppressed[FG-002]"), "{quiet}");
    assert!(
        quiet
            .lines()
            .last()
            .expect("summary")
            .contains("; 1 suppressed"),
        "{quiet}"
    );

    let shown = stdout(&run(&["scan", "--show-suppressed", root]));
    let finding = shown.find("medium[FG-003]").expect("the medium finding");
    let section = shown.find("suppressed findings:").expect("a section");
    assert!(
        finding < section,
        "the section follows the findings:\n{shown}"
    );
    assert!(shown.contains("suppressed[FG-002]: "), "{shown}");
    assert!(
        shown.contains(&format!("= suppressed by {root}/{WORKFLOW}:9: accepted")),
        "{shown}"
    );
}

#[test]
fn json_lists_suppressed_findings_with_where_and_why() {
    let dir = repo(&[(
        WORKFLOW,
        &injection("", " # sluice: ignore[FG-002] accepted"),
    )]);
    let root = path_str(dir.path());
    let (_, report, _) = scan_json(dir.path(), &["--show-suppressed"]);
    let suppressed = report["suppressed"].as_array().expect("suppressed array");
    assert_eq!(suppressed.len(), 1);
    let entry = &suppressed[0];
    assert_eq!(entry["ruleId"], "FG-002");
    assert_eq!(
        entry["fingerprint"].as_str().expect("fingerprint").len(),
        64
    );
    assert_eq!(entry["startLine"], 9);
    assert_eq!(
        entry["suppression"],
        serde_json::json!({"reason": "accepted", "path": format!("{root}/{WORKFLOW}"), "line": 9})
    );
    // No reason: `null`.
    let bare = repo(&[(WORKFLOW, &injection("", " # sluice: ignore[FG-002]"))]);
    let (_, report, _) = scan_json(bare.path(), &["--show-suppressed"]);
    assert_eq!(
        report["suppressed"][0]["suppression"]["reason"],
        Value::Null
    );
}

#[test]
fn sarif_keeps_suppressed_findings_as_results_with_a_justification() {
    let dir = repo(&[
        (
            WORKFLOW,
            &injection("", " # sluice: ignore[FG-002] accepted"),
        ),
        (".github/workflows/ci.yml", MEDIUM_ONLY),
    ]);
    let output = run(&["scan", "--format", "sarif", path_str(dir.path())]);
    assert_eq!(code(&output), 0);
    let sarif = json(&output);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let injection = results
        .iter()
        .find(|r| r["ruleId"] == "FG-002")
        .expect("the suppressed finding is still a result");
    assert_eq!(
        injection["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "accepted"}])
    );
    let unpinned = results
        .iter()
        .find(|r| r["ruleId"] == "FG-003")
        .expect("FG-003");
    assert!(unpinned.get("suppressions").is_none(), "{unpinned}");
}

const JENKINSFILE: &str = "pipeline {
  agent any
  stages {
    stage('greet') {
      steps {
        sh \"echo ${env.CHANGE_TITLE}\"{same}
      }
    }
  }
}
";

#[test]
fn groovy_comments_suppress_jenkins_findings() {
    let plain = repo(&[("Jenkinsfile", &JENKINSFILE.replace("{same}", ""))]);
    let (exit, report, _) = scan_json(plain.path(), &[]);
    assert_eq!(rule_ids(&report["findings"]), ["JK-002"]);
    assert_eq!(exit, 1);

    let line = repo(&[(
        "Jenkinsfile",
        &JENKINSFILE.replace(
            "{same}",
            " // sluice: ignore[JK-002] titles are sanitised upstream",
        ),
    )]);
    let (exit, report, _) = scan_json(line.path(), &["--show-suppressed"]);
    assert_eq!(rule_ids(&report["findings"]), Vec::<String>::new());
    assert_eq!(
        report["suppressed"][0]["suppression"]["reason"],
        "titles are sanitised upstream"
    );
    assert_eq!(exit, 0);

    let block = repo(&[(
        "Jenkinsfile",
        &JENKINSFILE
            .replace(
                "        sh \"echo",
                "        /* sluice: ignore[JK-002] */\n        sh \"echo",
            )
            .replace("{same}", ""),
    )]);
    let (exit, report, _) = scan_json(block.path(), &[]);
    assert_eq!(report["summary"]["suppressed"], 1, "{report}");
    assert_eq!(exit, 0);
}

/// The Jenkins pack gives a multi-line script's opening line as a related location, so a
/// comment above the `sh` step covers a finding several lines into the script.
#[test]
fn a_comment_above_a_multi_line_sh_step_covers_its_script() {
    let jenkinsfile = |above: &str| {
        format!(
            "pipeline {{
  agent any
  stages {{
    stage('Greet') {{
      when {{ changeRequest() }}
      steps {{
{above}        sh \"\"\"
          echo start
          echo more
          echo ${{env.CHANGE_TITLE}}
        \"\"\"
      }}
    }}
  }}
}}
"
        )
    };
    let plain = repo(&[("Jenkinsfile", jenkinsfile("").as_str())]);
    let (exit, report, _) = scan_json(plain.path(), &[]);
    assert!(
        rule_ids(&report["findings"]).contains(&"JK-002".to_owned()),
        "{report}"
    );
    assert_eq!(exit, 1);
    let ignored = repo(&[(
        "Jenkinsfile",
        jenkinsfile("        // sluice: ignore[JK-002] reviewed\n").as_str(),
    )]);
    let (_, report, _) = scan_json(ignored.path(), &[]);
    assert!(
        !rule_ids(&report["findings"]).contains(&"JK-002".to_owned()),
        "{report}"
    );
    assert_eq!(report["summary"]["suppressed"], 1, "{report}");
}

#[test]
fn an_ignore_inside_a_groovy_string_is_not_a_comment() {
    let above = repo(&[(
        "Jenkinsfile",
        &JENKINSFILE
            .replace(
                "        sh \"echo",
                "        echo 'see // sluice: ignore[JK-002]'\n        sh \"echo",
            )
            .replace("{same}", ""),
    )]);
    let (exit, report, _) = scan_json(above.path(), &[]);
    assert_eq!(
        rule_ids(&report["findings"]),
        ["JK-002"],
        "a string on the line above is not a comment"
    );
    assert_eq!(exit, 1);
}
