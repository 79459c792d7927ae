//! `.sluice.yml` through the real binary: discovery, every setting, every error with its
//! position; and the published JSON Schema against the shipped examples.

mod support;

use std::fs;
use std::path::Path;

use serde_json::Value;
use sluice_pack_sdk::yaml::{self, Node, ScalarStyle};
use support::{code, json, path_str, repo, repo_root, run, stderr, stdout};

/// A workflow with two script injections (FG-002 on lines 10 and 13, high) and an unpinned
/// action (FG-003 on line 9, low).
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

const TRIAGE: &str = ".github/workflows/triage.yml";
const LEGACY: &str = ".github/workflows/legacy-triage.yml";

/// (rule id, repository path, start line) of every finding, in report order.
fn findings(report: &Value) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().expect("ruleId").to_owned(),
                f["repositoryPath"].as_str().expect("path").to_owned(),
                f["startLine"].as_u64().expect("line"),
            )
        })
        .collect()
}

fn count(report: &Value, rule: &str) -> usize {
    findings(report).iter().filter(|f| f.0 == rule).count()
}

/// Scans `dir` with `--format json` and extra `args`, expecting success or findings.
fn scan_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["scan", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    all.push(path_str(dir));
    let output = run(&all);
    assert_eq!(code(&output), 0, "stderr:\n{}", stderr(&output));
    json(&output)
}

fn with_config(config: &str) -> tempfile::TempDir {
    repo(&[(TRIAGE, WORKFLOW), (".sluice.yml", config)])
}

#[test]
fn without_configuration_the_workflow_has_its_findings() {
    let dir = repo(&[(TRIAGE, WORKFLOW)]);
    let report = scan_json(dir.path(), &[]);
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
    assert_eq!(count(&report, "FG-003"), 1, "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 0);
}

#[test]
fn disabled_rules_are_not_reported_and_not_counted_as_ignored() {
    let dir = with_config("rules:\n  FG-003:\n    disable: true\n  FG-002:\n    disable: false\n");
    let report = scan_json(dir.path(), &[]);
    assert_eq!(count(&report, "FG-003"), 0, "{report:#}");
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 0);
}

#[test]
fn severity_remaps_come_before_min_severity_and_fail_on() {
    let dir =
        with_config("rules:\n  FG-002:\n    severity: low\n  FG-003:\n    severity: critical\n");
    let root = path_str(dir.path());
    let report = scan_json(dir.path(), &[]);
    for finding in report["findings"].as_array().expect("findings") {
        let expected = match finding["ruleId"].as_str() {
            Some("FG-002") => "low",
            Some("FG-003") => "critical",
            other => panic!("unexpected rule {other:?}"),
        };
        assert_eq!(finding["severity"], expected, "{finding:#}");
    }
    // Only the remapped FG-003 is at or above high now: it alone decides the exit code.
    let high = scan_json(dir.path(), &["--min-severity", "high"]);
    assert_eq!(
        findings(&high),
        [("FG-003".to_owned(), TRIAGE.to_owned(), 9)]
    );
    assert_eq!(code(&run(&["scan", "--fail-on", "critical", root])), 1);

    // Without the remap of FG-003, the lowered FG-002 no longer fails the default gate.
    let lowered = with_config("rules:\n  FG-002:\n    severity: low\n");
    let gate = run(&["scan", path_str(lowered.path())]);
    assert_eq!(code(&gate), 0, "{}", stdout(&gate));
    let unchanged = repo(&[(TRIAGE, WORKFLOW)]);
    assert_eq!(code(&run(&["scan", path_str(unchanged.path())])), 1);
}

#[test]
fn ignore_by_glob_drops_findings_and_counts_them() {
    let config = "rules:\n  FG-002:\n    ignore:\n      - \".github/workflows/legacy-*.yml\"\n";
    let dir = repo(&[
        (TRIAGE, WORKFLOW),
        (LEGACY, WORKFLOW),
        (".sluice.yml", config),
    ]);
    let report = scan_json(dir.path(), &[]);
    let fg002: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f.0 == "FG-002")
        .collect();
    assert_eq!(
        fg002,
        [
            ("FG-002".to_owned(), TRIAGE.to_owned(), 10),
            ("FG-002".to_owned(), TRIAGE.to_owned(), 13),
        ]
    );
    // Other rules in the ignored file stay.
    assert_eq!(count(&report, "FG-003"), 2, "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 2);
    let table = run(&["scan", "--fail-on", "never", path_str(dir.path())]);
    let summary = stdout(&table);
    let last = summary.lines().last().expect("summary line");
    assert!(last.contains("2 ignored by configuration"), "{last}");
}

#[test]
fn ignore_globs_do_not_cross_directories_with_a_single_star() {
    let config = "rules:\n  FG-002:\n    ignore: [\"*.yml\", \".github/*.yml\"]\n";
    let dir = with_config(config);
    let report = scan_json(dir.path(), &[]);
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 0);

    let deep = with_config("rules:\n  FG-002:\n    ignore: [\"**/*.yml\"]\n");
    let report = scan_json(deep.path(), &[]);
    assert_eq!(count(&report, "FG-002"), 0, "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 2);
}

#[test]
fn ignore_with_a_line_drops_only_the_finding_on_that_line() {
    let config = format!("rules:\n  FG-002:\n    ignore:\n      - \"{TRIAGE}:13\"\n");
    let dir = with_config(&config);
    let report = scan_json(dir.path(), &[]);
    let fg002: Vec<u64> = findings(&report)
        .into_iter()
        .filter(|f| f.0 == "FG-002")
        .map(|f| f.2)
        .collect();
    assert_eq!(fg002, [10]);
    assert_eq!(report["summary"]["configIgnored"], 1);

    let elsewhere = with_config(&format!(
        "rules:\n  FG-002:\n    ignore: [\"{TRIAGE}:12\"]\n"
    ));
    let report = scan_json(elsewhere.path(), &[]);
    assert_eq!(
        count(&report, "FG-002"),
        2,
        "line 12 holds no finding: {report:#}"
    );
}

#[test]
fn github_directory_configuration_is_found() {
    let dir = repo(&[
        (TRIAGE, WORKFLOW),
        (
            ".github/.sluice.yml",
            "rules:\n  FG-003:\n    disable: true\n",
        ),
    ]);
    let report = scan_json(dir.path(), &[]);
    assert_eq!(count(&report, "FG-003"), 0, "{report:#}");
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
}

#[test]
fn root_configuration_wins_over_the_github_directory_and_yaml_spelling_works() {
    let dir = repo(&[
        (TRIAGE, WORKFLOW),
        (".sluice.yaml", "rules:\n  FG-002:\n    disable: true\n"),
        (
            ".github/.sluice.yml",
            "rules:\n  FG-003:\n    disable: true\n",
        ),
    ]);
    let report = scan_json(dir.path(), &[]);
    assert_eq!(count(&report, "FG-002"), 0, "{report:#}");
    assert_eq!(count(&report, "FG-003"), 1, "{report:#}");
}

#[test]
fn both_spellings_in_one_place_are_an_error() {
    let dir = repo(&[
        (TRIAGE, WORKFLOW),
        (".sluice.yml", "rules: {}\n"),
        (".sluice.yaml", "rules: {}\n"),
    ]);
    let output = run(&["scan", path_str(dir.path())]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("two configuration files"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_single_file_uses_its_repository_configuration() {
    let dir = with_config("rules:\n  FG-003:\n    disable: true\n");
    let file = dir.path().join(TRIAGE);
    let output = run(&[
        "scan",
        "--format",
        "json",
        "--fail-on",
        "never",
        path_str(&file),
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(count(&report, "FG-003"), 0, "{report:#}");
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
}

#[test]
fn the_configuration_file_is_not_scanned_as_a_pipeline() {
    let dir = with_config("rules:\n  FG-003:\n    disable: true\n");
    let report = scan_json(dir.path(), &["--platform", "github-actions"]);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn config_flag_replaces_discovery_and_no_config_disables_it() {
    let dir = with_config("rules:\n  FG-003:\n    disable: true\n");
    let other = repo(&[("other.yml", "rules:\n  FG-002:\n    disable: true\n")]);
    let other_file = other.path().join("other.yml");
    let report = scan_json(dir.path(), &["--config", path_str(&other_file)]);
    assert_eq!(count(&report, "FG-002"), 0, "{report:#}");
    assert_eq!(
        count(&report, "FG-003"),
        1,
        "the discovered file is not read: {report:#}"
    );

    let report = scan_json(dir.path(), &["--no-config"]);
    assert_eq!(count(&report, "FG-002"), 2, "{report:#}");
    assert_eq!(count(&report, "FG-003"), 1, "{report:#}");

    let missing = other.path().join("missing.yml");
    let output = run(&["scan", "--config", path_str(&missing), path_str(dir.path())]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains(&format!("{} does not exist", missing.display())),
        "{}",
        stderr(&output)
    );

    let both = run(&[
        "scan",
        "--config",
        path_str(&other_file),
        "--no-config",
        ".",
    ]);
    assert_eq!(code(&both), 2, "{}", stderr(&both));
}

#[test]
fn pack_options_reach_the_pack() {
    let pack = support::test_pack("sluice-test-pack-options");
    let config = "packs:\n  test-options:\n    options:\n      labels: [\"ci-*\", large]\n      mode: strict\n";
    let dir = repo(&[("ci.yml", "a: 1\n"), (".sluice.yml", config)]);
    let report = scan_json(dir.path(), &["--pack", path_str(&pack)]);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "TPO-001")
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        messages,
        ["options: labels=ci-*, labels=large, mode=strict"],
        "{report:#}"
    );

    let without = scan_json(dir.path(), &["--pack", path_str(&pack), "--no-config"]);
    let finding = &without["findings"].as_array().expect("findings")[0];
    assert_eq!(finding["message"], "options: ", "{without:#}");

    // An option the pack does not declare names the ones it does.
    let bad = "packs:\n  test-options:\n    options:\n      colour: red\n";
    fs::write(dir.path().join(".sluice.yml"), bad).expect("write config");
    let output = run(&["scan", "--pack", path_str(&pack), path_str(dir.path())]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("pack `test-options` has no option `colour` (it declares labels, mode)"),
        "{message}"
    );
    assert!(message.contains(".sluice.yml:4:7"), "{message}");
}

/// Each bad configuration, the position sluice must report and words the message must hold.
#[test]
fn every_mistake_is_a_usage_error_with_file_line_and_column() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "rules:\n  FG-003:\n    disabel: true\n",
            "3:5",
            &["unknown key `disabel`", "rules.FG-003"],
        ),
        (
            "rule:\n  FG-003: {}\n",
            "1:1",
            &["unknown key `rule`", "expected rules, packs"],
        ),
        (
            "rules:\n  FG-03:\n    disable: true\n",
            "2:3",
            &["unknown rule `rules.FG-03`", "`FG-003`"],
        ),
        (
            "packs:\n  github-actionz: {}\n",
            "2:3",
            &["unknown pack `packs.github-actionz`", "github-actions"],
        ),
        (
            "packs:\n  github-actions:\n    opts: {}\n",
            "3:5",
            &["unknown key `opts`", "packs.github-actions"],
        ),
        (
            "packs:\n  github-actions:\n    options:\n      labels: x\n",
            "4:7",
            &[
                "unknown option `packs.github-actions.options.labels`",
                "it declares no options",
            ],
        ),
        (
            "rules:\n  FG-003:\n    severity: hgh\n",
            "3:15",
            &["rules.FG-003.severity", "unknown severity `hgh`"],
        ),
        (
            "rules:\n  FG-003:\n    severity: [high]\n",
            "3:15",
            &["rules.FG-003.severity", "is a list"],
        ),
        (
            "rules:\n  FG-003:\n    disable: maybe\n",
            "3:14",
            &["rules.FG-003.disable", "true or false"],
        ),
        (
            "rules:\n  FG-003:\n    disable: \"true\"\n",
            "3:14",
            &["rules.FG-003.disable", "(unquoted)"],
        ),
        (
            "rules:\n  FG-003:\n    ignore: \"a.yml\"\n",
            "3:13",
            &["rules.FG-003.ignore", "must be a list"],
        ),
        (
            "rules:\n  FG-003:\n    ignore:\n      - \"a[.yml\"\n",
            "4:9",
            &["`a[.yml` is not a valid glob"],
        ),
        (
            "rules:\n  FG-003:\n    ignore:\n      - \"a.yml:x\"\n",
            "4:9",
            &["bad line number `x`"],
        ),
        (
            "rules:\n  FG-003:\n    ignore:\n      - \"a.yml:0\"\n",
            "4:9",
            &["bad line number `0`"],
        ),
        (
            "rules:\n  - FG-003\n",
            "2:3",
            &["`rules` must be a mapping"],
        ),
        (
            "rules:\n  FG-003: {}\n  FG-003: {}\n",
            "3:3",
            &["duplicate key `FG-003`"],
        ),
        ("rules: {\n", "2:1", &[]),
    ];
    for (config, position, words) in cases {
        let dir = with_config(config);
        let output = run(&["scan", path_str(dir.path())]);
        let message = stderr(&output);
        assert_eq!(code(&output), 2, "config:\n{config}\nstderr:\n{message}");
        assert!(
            stdout(&output).is_empty(),
            "no report for a bad configuration"
        );
        let location = format!(
            "--> {}:{position}",
            dir.path().join(".sluice.yml").display()
        );
        assert!(
            message.contains(&location),
            "expected {location}\nconfig:\n{config}\nstderr:\n{message}"
        );
        for word in *words {
            assert!(
                message.contains(word),
                "expected {word:?}\nconfig:\n{config}\nstderr:\n{message}"
            );
        }
    }
}

#[test]
fn an_empty_configuration_changes_nothing() {
    for config in [
        "",
        "# only a comment\n",
        "rules:\npacks:\n",
        "rules: {}\npacks: {}\n",
    ] {
        let dir = with_config(config);
        let report = scan_json(dir.path(), &[]);
        assert_eq!(findings(&report).len(), 3, "config {config:?}: {report:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema

fn schema() -> jsonschema::Validator {
    let text = fs::read_to_string(repo_root().join("schema/sluice-config.schema.json"))
        .expect("schema/sluice-config.schema.json exists");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema declares draft 2020-12"
    );
    jsonschema::draft202012::new(&schema).expect("the schema is a valid draft 2020-12 schema")
}

/// YAML as the JSON a schema validator sees, resolving plain scalars like YAML 1.2's core
/// schema (booleans, numbers, null); quoted and block scalars stay strings.
fn to_json(node: &Node) -> Value {
    match &node.value {
        yaml::Value::Null => Value::Null,
        yaml::Value::Scalar(scalar) => {
            if scalar.style != ScalarStyle::Plain {
                return Value::String(scalar.text.clone());
            }
            match scalar.text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                text => serde_json::from_str::<serde_json::Number>(text)
                    .map_or_else(|_| Value::String(text.to_owned()), Value::Number),
            }
        }
        yaml::Value::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        yaml::Value::Mapping(mapping) => Value::Object(
            mapping
                .entries
                .iter()
                .map(|e| {
                    (
                        e.key.as_str().expect("string keys").to_owned(),
                        to_json(&e.value),
                    )
                })
                .collect(),
        ),
    }
}

fn yaml_to_json(text: &str) -> Value {
    let documents = yaml::parse(text).expect("valid YAML");
    documents.first().map_or(Value::Null, |d| to_json(&d.root))
}

/// Every configuration shipped in `examples/`: `examples/sluice.yml` and any `.sluice.yml`.
fn shipped_examples() -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).expect("read examples") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.file_name().is_some_and(|name| {
                name == "sluice.yml" || name == ".sluice.yml" || name == ".sluice.yaml"
            }) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&repo_root().join("examples"), &mut found);
    found.sort();
    found
}

#[test]
fn shipped_examples_validate_against_the_schema_and_load_in_sluice() {
    let validator = schema();
    let examples = shipped_examples();
    assert!(
        examples.iter().any(|p| p.ends_with("examples/sluice.yml")),
        "examples/sluice.yml is shipped: {examples:?}"
    );
    for example in &examples {
        let text = fs::read_to_string(example).expect("read example");
        let instance = yaml_to_json(&text);
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(problems.is_empty(), "{}: {problems:#?}", example.display());
        // sluice itself accepts it too (its checks are stricter: ids must exist).
        let output = run(&[
            "scan",
            "--fail-on",
            "never",
            "--config",
            path_str(example),
            "examples/insecure-pipelines",
        ]);
        assert_eq!(
            code(&output),
            0,
            "{}: {}",
            example.display(),
            stderr(&output)
        );
    }
}

#[test]
fn the_schema_rejects_bad_configurations() {
    let validator = schema();
    let good = yaml_to_json(
        "rules:\n  FG-002:\n    severity: medium\n    ignore: [\"a/*.yml\", \"b.yml:42\"]\n  FG-003: {disable: true}\npacks:\n  p:\n    options: {a: x, b: [y, z]}\n",
    );
    assert!(validator.is_valid(&good), "{good:#}");
    for bad in [
        "rule:\n  FG-002: {}\n",
        "rules:\n  FG-002:\n    severity: severe\n",
        "rules:\n  FG-002:\n    disable: \"yes\"\n",
        "rules:\n  FG-002:\n    ignore: [\"b.yml:x\"]\n",
        "rules:\n  FG-002:\n    ignore: [\"b.yml:0\"]\n",
        "rules:\n  FG-002:\n    ignore: \"b.yml\"\n",
        "rules:\n  FG-002:\n    colour: red\n",
        "rules: [FG-002]\n",
        "packs:\n  p:\n    settings: {}\n",
        "packs:\n  p:\n    options: {a: {nested: map}}\n",
    ] {
        let instance = yaml_to_json(bad);
        assert!(!validator.is_valid(&instance), "the schema accepts:\n{bad}");
    }
}
