//! The command line as a user drives it: every flag, every exit code, the output formats.

mod support;

use std::fs;

use serde_json::Value;
use support::{code, json, path_str, repo, run, stderr, stdout};

const EXAMPLE: &str = "examples/insecure-pipelines";
/// Pipeline files in the example: four workflows and a local action, one pipeline for each
/// other platform.
const EXAMPLE_FILES: u64 = 10;

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

/// A workflow with a high-severity script injection (FG-002).
const INJECTION: &str = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ github.event.issue.title }}\"
";

fn rule_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| f["ruleId"].as_str().expect("ruleId").to_owned())
        .collect()
}

fn error_kinds(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .expect("errors is an array")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[test]
fn scanning_the_bundled_example_reports_real_findings_in_rustc_style() {
    let output = run(&["scan", EXAMPLE]);
    let text = stdout(&output);
    assert_eq!(
        code(&output),
        1,
        "high findings must fail the default gate:\n{text}"
    );
    for rule in ["FG-001", "FG-002", "FG-003"] {
        assert!(
            text.contains(&format!("[{rule}]")),
            "{rule} missing from:\n{text}"
        );
    }
    assert!(
        text.contains("--> examples/insecure-pipelines/.github/workflows/issue-triage.yml:"),
        "{text}"
    );
    // The source line and a caret under the span.
    assert!(
        text.contains("title=\"${{ github.event.issue.title }}\""),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("| ") && l.contains('^')),
        "{text}"
    );
    let summary = text.lines().last().expect("summary line");
    assert!(
        summary.contains("findings (") && summary.contains(&format!("in {EXAMPLE_FILES} files")),
        "{summary}"
    );
    // The safe workflow has nothing above info (FG-006 only inventories the fork build it runs).
    let report = json(&run(&["scan", "--format", "json", EXAMPLE]));
    for finding in report["findings"].as_array().expect("findings") {
        if finding["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("lint.yml"))
        {
            assert_eq!(finding["severity"], "info", "lint.yml flagged: {finding}");
        }
    }
}

#[test]
fn json_has_the_documented_shape() {
    let output = run(&["scan", "--format", "json", EXAMPLE]);
    assert_eq!(code(&output), 1);
    let report = json(&output);
    assert_eq!(report["version"], 1);
    assert_eq!(report["errors"], Value::Array(Vec::new()));
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for finding in findings {
        for key in [
            "ruleId",
            "severity",
            "confidence",
            "message",
            "path",
            "startLine",
            "startColumn",
            "endLine",
            "endColumn",
            "fingerprint",
            "mitigations",
            "properties",
        ] {
            assert!(finding.get(key).is_some(), "finding lacks {key}: {finding}");
        }
        assert_eq!(
            finding["fingerprint"].as_str().expect("fingerprint").len(),
            64
        );
        assert!(finding["startLine"].as_u64().expect("line") >= 1);
        assert!(finding["mitigations"].is_array() && finding["properties"].is_object());
    }
    let summary = &report["summary"];
    assert_eq!(summary["findings"].as_u64(), Some(findings.len() as u64));
    assert_eq!(summary["files"].as_u64(), Some(EXAMPLE_FILES));
    let by_severity: u64 = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|s| summary[s].as_u64().expect("count"))
        .sum();
    assert_eq!(by_severity, findings.len() as u64);
}

#[test]
fn sarif_lists_every_rule_and_locates_every_result() {
    let output = run(&["scan", "--format", "sarif", EXAMPLE]);
    assert_eq!(code(&output), 1);
    let sarif = json(&output);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for id in ["FG-001", "FG-002", "FG-003"] {
        let rule = rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in tool.driver.rules"));
        assert!(!rule["help"]["text"].as_str().expect("help text").is_empty());
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .expect("title")
                .is_empty()
        );
    }
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().expect("startLine") >= 1);
        assert!(region["startColumn"].as_u64().expect("startColumn") >= 1);
        assert!(result["partialFingerprints"]["sluice/v1"].is_string());
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.json");
    let output = run(&[
        "scan",
        "--format",
        "json",
        "--output",
        path_str(&file),
        EXAMPLE,
    ]);
    assert_eq!(code(&output), 1);
    assert!(
        output.stdout.is_empty(),
        "stdout must stay empty with --output"
    );
    let written: Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("report written")).expect("JSON");
    assert_eq!(written["version"], 1);
}

#[test]
fn fail_on_sets_the_gate() {
    let dir = repo(&[(".github/workflows/ci.yml", MEDIUM_ONLY)]);
    let root = path_str(dir.path());
    let default = run(&["scan", root]);
    assert_eq!(
        code(&default),
        0,
        "medium is below the default high gate:\n{}",
        stdout(&default)
    );
    assert!(stdout(&default).contains("FG-003"));
    assert_eq!(code(&run(&["scan", "--fail-on", "medium", root])), 1);
    assert_eq!(code(&run(&["scan", "--fail-on", "info", root])), 1);
    assert_eq!(code(&run(&["scan", "--fail-on", "critical", root])), 0);
    let high = repo(&[(".github/workflows/t.yml", INJECTION)]);
    assert_eq!(code(&run(&["scan", path_str(high.path())])), 1);
    assert_eq!(
        code(&run(&["scan", "--fail-on", "never", path_str(high.path())])),
        0
    );
}

#[test]
fn min_severity_hides_lower_findings() {
    let dir = repo(&[
        (".github/workflows/ci.yml", MEDIUM_ONLY),
        (".github/workflows/t.yml", INJECTION),
    ]);
    let root = path_str(dir.path());
    let all = json(&run(&["scan", "--format", "json", root]));
    assert!(rule_ids(&all).contains(&"FG-003".to_owned()));
    let high = json(&run(&[
        "scan",
        "--format",
        "json",
        "--min-severity",
        "high",
        root,
    ]));
    let ids = rule_ids(&high);
    assert!(ids.contains(&"FG-002".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"FG-003".to_owned()), "{ids:?}");
}

#[test]
fn platform_makes_any_yaml_file_input_for_that_pack() {
    let dir = repo(&[("some/where/pipeline.yml", INJECTION)]);
    let root = path_str(dir.path());
    let without = run(&["scan", root]);
    assert_eq!(code(&without), 2, "nothing matches the default patterns");
    assert!(
        stderr(&without).contains("nothing to scan"),
        "{}",
        stderr(&without)
    );
    let with = run(&[
        "scan",
        "--format",
        "json",
        "--platform",
        "github-actions",
        root,
    ]);
    assert_eq!(code(&with), 1);
    assert!(rule_ids(&json(&with)).contains(&"FG-002".to_owned()));
    let unknown = run(&["scan", "--platform", "no-such-ci", root]);
    assert_eq!(code(&unknown), 2);
    let message = stderr(&unknown);
    assert!(
        message.contains("no-such-ci") && message.contains("github-actions"),
        "{message}"
    );
}

#[test]
fn nothing_to_scan_is_an_error_that_says_what_was_searched() {
    let dir = repo(&[("README.md", "# nothing here\n")]);
    let output = run(&["scan", path_str(dir.path())]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.contains("nothing to scan"), "{message}");
    assert!(message.contains("1 files under"), "{message}");
    assert!(
        message.contains(".github/workflows/*.{yml,yaml}"),
        "{message}"
    );
}

#[test]
fn a_missing_path_is_an_io_error() {
    let output = run(&["scan", "--format", "json", "does/not/exist", EXAMPLE]);
    assert_eq!(code(&output), 2);
    let report = json(&output);
    assert!(error_kinds(&report).contains(&"io".to_owned()));
    // The existing path was still scanned.
    assert!(!rule_ids(&report).is_empty());
}

#[test]
fn files_over_the_size_limit_are_reported_not_skipped() {
    let big = format!(
        "{MEDIUM_ONLY}{}",
        "# padding to push the file over the limit\n".repeat(40)
    );
    assert!(big.len() > 1024 && INJECTION.len() < 1024);
    let dir = repo(&[
        (".github/workflows/ci.yml", big.as_str()),
        (".github/workflows/t.yml", INJECTION),
    ]);
    let output = run(&[
        "scan",
        "--format",
        "json",
        "--max-file-size",
        "1KiB",
        path_str(dir.path()),
    ]);
    assert_eq!(code(&output), 2);
    let report = json(&output);
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "too-large");
    assert!(error["path"].as_str().expect("path").ends_with("ci.yml"));
    // The small file was scanned.
    assert_eq!(rule_ids(&report), vec!["FG-002".to_owned()]);
}

#[test]
fn non_utf8_files_are_reported_with_their_line() {
    let dir = repo(&[(".github/workflows/t.yml", INJECTION)]);
    fs::write(
        dir.path().join(".github/workflows/latin1.yml"),
        b"name: caf\xe9\non: push\n",
    )
    .expect("write");
    let report = json(&run(&["scan", "--format", "json", path_str(dir.path())]));
    let error = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["kind"] == "encoding")
        .expect("an encoding error");
    assert_eq!(error["line"], 1);
    assert!(
        error["path"]
            .as_str()
            .expect("path")
            .ends_with("latin1.yml")
    );
    assert_eq!(rule_ids(&report), vec!["FG-002".to_owned()]);
}

#[test]
fn invalid_yaml_is_a_parse_error_and_other_files_still_count() {
    let dir = repo(&[
        (".github/workflows/t.yml", INJECTION),
        (
            ".github/workflows/broken.yml",
            "on: push\njobs:\n  a: [unclosed\n",
        ),
    ]);
    let output = run(&["scan", "--format", "json", path_str(dir.path())]);
    assert_eq!(
        code(&output),
        2,
        "a file that could not be analysed makes the scan incomplete"
    );
    let report = json(&output);
    let error = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["kind"] == "parse")
        .expect("a parse error");
    assert!(
        error["path"]
            .as_str()
            .expect("path")
            .ends_with("broken.yml")
    );
    assert!(error["line"].as_u64().expect("parse errors carry a line") >= 3);
    assert_eq!(error["pack"], "github-actions");
    assert_eq!(rule_ids(&report), vec!["FG-002".to_owned()]);
}

#[test]
fn gitignored_files_are_not_scanned() {
    let dir = repo(&[
        (".gitignore", ".github/workflows/ignored.yml\n"),
        (".github/workflows/ignored.yml", INJECTION),
        (".github/workflows/ci.yml", MEDIUM_ONLY),
    ]);
    let report = json(&run(&["scan", "--format", "json", path_str(dir.path())]));
    assert_eq!(rule_ids(&report), vec!["FG-003".to_owned()]);
    assert_eq!(report["summary"]["files"], 1);
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_outside_the_root() {
    let outside = repo(&[("secret.yml", INJECTION)]);
    let dir = repo(&[(".github/workflows/ci.yml", MEDIUM_ONLY)]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.yml"),
        dir.path().join(".github/workflows/escape.yml"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(
        dir.path().join(".github/workflows/ci.yml"),
        dir.path().join(".github/workflows/inside.yml"),
    )
    .expect("symlink");
    let output = run(&["scan", "--format", "json", path_str(dir.path())]);
    assert_eq!(code(&output), 2);
    let report = json(&output);
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "io");
    assert!(
        error["path"]
            .as_str()
            .expect("path")
            .ends_with("escape.yml")
    );
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("outside")
    );
    // The inside link is scanned like the file it points to; the outside one is not read.
    assert_eq!(
        rule_ids(&report),
        vec!["FG-003".to_owned(), "FG-003".to_owned()]
    );
}

#[test]
fn a_single_file_is_scanned_relative_to_its_repository() {
    let output = run(&[
        "scan",
        "--format",
        "json",
        "examples/insecure-pipelines/.github/workflows/issue-triage.yml",
    ]);
    assert_eq!(code(&output), 1);
    let report = json(&output);
    assert!(rule_ids(&report).iter().all(|id| id == "FG-002"));
    assert_eq!(
        report["findings"][0]["path"],
        "examples/insecure-pipelines/.github/workflows/issue-triage.yml"
    );
    let readme = run(&["scan", "README.md"]);
    assert_eq!(code(&readme), 2);
}

#[test]
fn fingerprints_survive_moved_lines() {
    let dir = repo(&[(".github/workflows/t.yml", INJECTION)]);
    let root = path_str(dir.path());
    let before = json(&run(&["scan", "--format", "json", root]));
    fs::write(
        dir.path().join(".github/workflows/t.yml"),
        format!("# a comment\n\n{INJECTION}"),
    )
    .expect("rewrite");
    let after = json(&run(&["scan", "--format", "json", root]));
    let first = &before["findings"][0];
    let second = &after["findings"][0];
    assert_eq!(
        second["startLine"].as_u64(),
        first["startLine"].as_u64().map(|l| l + 2)
    );
    assert_eq!(first["fingerprint"], second["fingerprint"]);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        &["scan", "--pack-timeout", "soon", EXAMPLE][..],
        &["scan", "--pack-memory", "0", EXAMPLE][..],
        &["scan", "--format", "xml", EXAMPLE][..],
        &["scan", "--fail-on", "severe", EXAMPLE][..],
        &["scan", "--pack", "no/such/pack.wasm", EXAMPLE][..],
        &["frobnicate"][..],
    ] {
        let output = run(args);
        assert_eq!(code(&output), 2, "{args:?} must be a usage error");
        assert!(
            !stderr(&output).is_empty(),
            "{args:?} must say what is wrong"
        );
    }
}

#[test]
fn limits_flags_are_accepted() {
    let output = run(&[
        "scan",
        "--pack-timeout",
        "30s",
        "--pack-memory",
        "512MiB",
        EXAMPLE,
    ]);
    assert_eq!(code(&output), 1);
}

#[test]
fn cache_flags_control_the_compile_cache() {
    let cache = tempfile::tempdir().expect("temp dir");
    let dir = cache.path().join("c");
    let output = run(&["scan", "--cache-dir", path_str(&dir), EXAMPLE]);
    assert_eq!(code(&output), 1);
    let artifacts: Vec<_> = fs::read_dir(&dir)
        .expect("cache dir created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // Built-in packs embed their metadata, so only the compiled artifact is cached.
    assert!(
        artifacts.iter().any(|n| n.ends_with(".cwasm")),
        "{artifacts:?}"
    );
    let cached = run(&["scan", "--cache-dir", path_str(&dir), EXAMPLE]);
    assert_eq!(
        stdout(&cached),
        stdout(&output),
        "a cached pack must behave the same"
    );

    let untouched = cache.path().join("unused");
    let no_cache = run(&[
        "scan",
        "--no-cache",
        "--cache-dir",
        path_str(&untouched),
        EXAMPLE,
    ]);
    assert_eq!(code(&no_cache), 1);
    assert!(!untouched.exists(), "--no-cache must not create the cache");
}

#[test]
fn packs_and_rules_list_the_builtin_pack() {
    let packs = run(&["packs"]);
    assert_eq!(code(&packs), 0);
    let text = stdout(&packs);
    let line = text
        .lines()
        .find(|l| l.starts_with("github-actions "))
        .unwrap_or_else(|| panic!("no github-actions line in:\n{text}"));
    assert!(line.contains("builtin"), "{line}");

    let rules = run(&["rules"]);
    assert_eq!(code(&rules), 0);
    let text = stdout(&rules);
    for id in ["FG-001", "FG-002", "FG-003"] {
        assert!(
            text.lines().any(|l| l.starts_with(id)),
            "{id} missing:\n{text}"
        );
    }
}

#[test]
fn help_explains_exit_codes() {
    let output = run(&["scan", "--help"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    assert!(text.contains("Exit codes"), "{text}");
    assert!(text.contains("--fail-on"), "{text}");
}

#[test]
fn only_packs_with_matching_files_are_compiled() {
    let echo = support::test_pack("sluice-test-pack-echo");
    let cache = tempfile::tempdir().expect("temp dir");
    // `notes.yml` is not a workflow: the built-in github-actions pack has nothing to read, the
    // echo pack (patterns `**/*.yml`) does.
    let dir = repo(&[("notes.yml", "a: 1\n")]);
    let output = run(&[
        "scan",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--cache-dir",
        path_str(cache.path()),
        "--pack",
        path_str(&echo),
        path_str(dir.path()),
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(rule_ids(&json(&output)), vec!["TPE-001".to_owned()]);
    let compiled = fs::read_dir(cache.path())
        .expect("cache dir")
        .filter(|e| {
            e.as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".cwasm")
        })
        .count();
    assert_eq!(compiled, 1, "only the echo pack may be compiled");
}

#[test]
fn operator_help_documents_every_flag_with_its_variable() {
    let output = run(&["operator", "--help"]);
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for (flag, variable) in [
        ("--namespace", "SLUICE_NAMESPACES"),
        ("--metrics-addr", "SLUICE_METRICS_ADDR"),
        ("--health-addr", "SLUICE_HEALTH_ADDR"),
        ("--leader-elect", "SLUICE_LEADER_ELECT"),
        ("--max-concurrent-scans", "SLUICE_MAX_CONCURRENT_SCANS"),
        ("--default-interval", "SLUICE_DEFAULT_INTERVAL"),
        ("--github-api-url", "SLUICE_GITHUB_API_URL"),
        ("--github-token-file", "SLUICE_GITHUB_TOKEN_FILE"),
        ("--github-app-id", "SLUICE_GITHUB_APP_ID"),
        ("--github-app-key", "SLUICE_GITHUB_APP_KEY"),
        ("--github-installation-id", "SLUICE_GITHUB_INSTALLATION_ID"),
        ("--pack-dir", "SLUICE_PACK_DIR"),
        ("--enforcement", "SLUICE_ENFORCEMENT"),
        ("--policy-reports", "SLUICE_POLICY_REPORTS"),
        ("--log-format", "SLUICE_LOG_FORMAT"),
    ] {
        let at = help
            .find(&format!("\n      {flag}"))
            .unwrap_or_else(|| panic!("{flag} missing from:\n{help}"));
        let entry = &help[at + 1..];
        let end = entry.find("\n      --").map_or(entry.len(), |e| e);
        assert!(
            entry[..end].contains(&format!("[env: {variable}")),
            "{flag} has no {variable}:\n{}",
            &entry[..end]
        );
    }
    assert!(help.contains("off, dry-run, on"), "{help}");
}

#[test]
fn the_operator_without_a_usable_kubeconfig_fails_clearly() {
    let output = run(&[
        "operator",
        "--kubeconfig",
        "/nonexistent/kubeconfig",
        "--metrics-addr",
        "127.0.0.1:0",
        "--health-addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(code(&output), 2);
    let err = stderr(&output);
    assert!(
        err.contains("cannot read the kubeconfig /nonexistent/kubeconfig"),
        "{err}"
    );
}
