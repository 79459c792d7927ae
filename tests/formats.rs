//! `--format github` and `--format markdown` through the real binary.

mod support;

use serde_json::Value;
use support::{code, json, path_str, repo, run, stdout};

const EXAMPLE: &str = "examples/insecure-pipelines";

/// A script injection (FG-002, high) in a step whose name needs escaping, on line 9, and an
/// unpinned third-party action (FG-003, medium) on line 10.
const WORKFLOW: &str = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: \"100% safe,\\r\\nreally: no\"
        run: echo \"${{ github.event.issue.title }}\"
      - uses: docker/setup-buildx-action@v3
";

#[test]
fn github_prints_one_escaped_workflow_command_per_finding_and_error() {
    let dir = repo(&[
        ("x,y:z%/.github/workflows/t.yml", WORKFLOW),
        ("x,y:z%/.github/workflows/bad.yml", "jobs: [\n"),
    ]);
    let root = format!("{}/x,y:z%", path_str(dir.path()));
    let output = run(&["scan", "--format", "github", &root]);
    assert_eq!(code(&output), 2, "a file could not be parsed");
    let text = stdout(&output);
    let file = format!("{}/x%2Cy%3Az%25/.github/workflows", path_str(dir.path()));
    let expected = [
        format!(
            "::error file={file}/t.yml,line=9,col=20,endLine=9,endColumn=51,title=FG-002%3A Script injection%3A attacker-controlled expression expanded into a shell script::`${{{{ github.event.issue.title }}}}` expands attacker-controlled `github.event.issue.title` into the `run:` script of step `100%25 safe,%0D%0Areally: no` of job `triage`"
        ),
        format!(
            "::warning file={file}/t.yml,line=10,col=15,endLine=10,endColumn=44,title=FG-003%3A Action not pinned to a full commit SHA::action `docker/setup-buildx-action@v3` in step `#2` of job `triage` is pinned to the tag or ref `v3`, which can be moved"
        ),
        format!(
            "::error file={file}/bad.yml,line=2,col=1,title=sluice parse error::while parsing a node, did not find expected node content (pack github-actions)"
        ),
        "sluice: 2 findings (0 critical, 1 high, 1 medium, 0 low, 0 info) in 2 files; 0 suppressed, 0 baselined, 0 ignored by configuration, 1 errors".to_owned(),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, expected, "{text}");
}

#[test]
fn github_maps_every_severity_to_a_command() {
    let report = json(&run(&["scan", "--format", "json", EXAMPLE]));
    let output = run(&["scan", "--format", "github", EXAMPLE]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(
        lines.len(),
        findings.len() + 1,
        "one line each and a summary"
    );
    let mut seen = std::collections::BTreeSet::new();
    for (finding, line) in findings.iter().zip(&lines) {
        let severity = finding["severity"].as_str().expect("severity");
        let command = match severity {
            "critical" | "high" => "::error ",
            "medium" => "::warning ",
            _ => "::notice ",
        };
        assert!(line.starts_with(command), "{severity}: {line}");
        assert!(
            line.contains(&format!(
                ",line={},col={},",
                finding["startLine"], finding["startColumn"]
            )),
            "{line}"
        );
        seen.insert(command);
    }
    assert_eq!(seen.len(), 3, "the example has all three kinds: {seen:?}");
    assert!(lines.last().expect("summary").starts_with("sluice: "));
}

#[test]
fn markdown_has_a_summary_table_and_a_section_per_finding() {
    let dir = repo(&[
        (".github/workflows/t.yml", WORKFLOW),
        (
            ".github/workflows/c.yml",
            "name: c
on: push
permissions: {}
jobs:
  c:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4 # sluice: ignore[FG-003] first | party
      - run: make
      - uses: actions/setup-node@v4
",
        ),
    ]);
    let root = path_str(dir.path());
    let output = run(&["scan", "--format", "markdown", "--show-suppressed", root]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    for row in [
        "| critical | 0 |",
        "| high | 1 |",
        "| medium | 1 |",
        "| low | 1 |",
        "| **findings** | 3 |",
        "| files scanned | 2 |",
        "| suppressed | 1 |",
        "| baselined | 0 |",
        "| ignored by configuration | 0 |",
        "| errors | 0 |",
    ] {
        assert!(lines.contains(&row), "{row} missing:\n{text}");
    }
    let location = format!("- **Location:** `{root}/.github/workflows/t.yml:9:20`");
    for line in [
        "### 1. high FG-002: Script injection: attacker-controlled expression expanded into a shell script",
        "- **Rule:** `FG-002` (github-actions)",
        "- **Severity:** high · **Confidence:** high",
        location.as_str(),
        "- **Mitigations:** none recognised",
        "  - first-party: `actions/setup-node@v4` is published by GitHub (`actions/*` or `github/*`)",
    ] {
        assert!(lines.contains(&line), "{line} missing:\n{text}");
    }
    // The suppressed table escapes `|` so the reason stays in its cell.
    let suppressed = format!(
        "| FG-003 | `{root}/.github/workflows/c.yml:8:15` | `{root}/.github/workflows/c.yml:8` | first \\| party |"
    );
    assert!(lines.contains(&suppressed.as_str()), "{suppressed}\n{text}");
}

#[test]
fn every_format_reports_the_same_findings() {
    let report: Value = json(&run(&["scan", "--format", "json", EXAMPLE]));
    let count = report["findings"].as_array().expect("findings").len();
    let github = stdout(&run(&["scan", "--format", "github", EXAMPLE]));
    assert_eq!(
        github.lines().filter(|l| l.starts_with("::")).count(),
        count
    );
    let markdown = stdout(&run(&["scan", "--format", "markdown", EXAMPLE]));
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("### ")).count(),
        count
    );
    assert!(markdown.contains(&format!("| **findings** | {count} |")));
    // Code spans keep their text: CircleCI's `<< pipeline.git.branch >>` is not entity-escaped.
    assert!(
        markdown.contains("`<< pipeline.git.branch >>`"),
        "{markdown}"
    );
}
