//! Pack-level behaviour: file recognition, errors, exact spans, severities and mitigations.

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::{Confidence, FileErrorKind, Finding, Pack, ScanOutput, Severity, testing};

fn scan(path: &str, content: &str) -> ScanOutput {
    testing::scan::<GithubActions>(&[(path, content)])
}

fn rule<'o>(output: &'o ScanOutput, id: &str) -> Vec<&'o Finding> {
    output.findings.iter().filter(|f| f.rule_id == id).collect()
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/github-actions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn mitigation_kinds(finding: &Finding) -> Vec<&str> {
    finding
        .mitigations
        .iter()
        .map(|m| m.kind.as_str())
        .collect()
}

fn property<'f>(finding: &'f Finding, key: &str) -> Option<&'f str> {
    finding
        .properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn pack_info_declares_every_rule() {
    let info = GithubActions::info();
    assert_eq!(info.id, "github-actions");
    assert_eq!(info.platform, "github-actions");
    assert_eq!(
        info.patterns,
        [".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"]
    );
    // Every rule from FG-001 on, in id order, without gaps or repeats.
    let ids: Vec<&str> = info.rules.iter().map(|r| r.id).collect();
    let expected: Vec<String> = (1..=ids.len()).map(|n| format!("FG-{n:03}")).collect();
    assert_eq!(ids, expected);
    for rule in &info.rules {
        assert!(
            !rule.name.is_empty() && !rule.title.is_empty(),
            "{}",
            rule.id
        );
        assert!(
            !rule.description.is_empty() && !rule.remediation.is_empty(),
            "{}",
            rule.id
        );
        assert!(!rule.tags.is_empty(), "{} has no tags", rule.id);
    }
}

#[test]
fn a_broken_file_is_an_error_and_the_others_are_still_scanned() {
    let output = testing::scan::<GithubActions>(&[
        (".github/workflows/broken.yml", "jobs:\n  a: [unclosed\n"),
        (
            ".github/workflows/ok.yml",
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: foo/bar@v1\n",
        ),
    ]);
    assert_eq!(output.errors.len(), 1);
    let error = &output.errors[0];
    assert_eq!(error.path, ".github/workflows/broken.yml");
    assert_eq!(error.kind, FileErrorKind::Parse);
    // The position is in the span, not repeated in the message.
    assert!(!error.message.starts_with("line "), "{}", error.message);
    let span = error.span.expect("parse errors carry a span");
    assert_eq!(span.start_line, 3, "{span:?}");
    assert_eq!(rule(&output, "FG-003").len(), 1);
}

#[test]
fn other_yaml_is_skipped_silently() {
    for (path, content) in [
        ("config/settings.yml", "name: x\nitems: [1, 2]\n"),
        // CircleCI has a `jobs:` mapping but no trigger.
        (
            ".circleci/config.yml",
            "version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n",
        ),
        // GitLab CI.
        (".gitlab-ci.yml", "test:\n  script: [make]\n"),
        ("empty.yml", ""),
        ("comments.yml", "# nothing here\n"),
    ] {
        let output = scan(path, content);
        assert!(output.findings.is_empty(), "{path}: {:?}", output.findings);
        assert!(output.errors.is_empty(), "{path}: {:?}", output.errors);
    }
}

#[test]
fn unexpected_shapes_do_not_panic_or_report() {
    for content in [
        "on: true\njobs: []\n",
        "on: {push: }\njobs:\n  a: [1, 2]\n",
        "on: push\njobs:\n  a:\n    steps: {uses: x}\n",
        "on: push\njobs:\n  a:\n    steps:\n      - 42\n      - [a]\n      - run: [not, a, string]\n        uses: {a: b}\n",
        "on: [push, 1, {a: b}]\njobs:\n  a:\n    if: {x: 1}\n    permissions: [a]\n    needs: {a: b}\n    environment: [x]\n    steps:\n      - with: [1]\n        env: a\n        uses: actions/checkout@v4\n",
        "on: pull_request_target\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: {a: b}\n      - run: npm ci\n",
        "runs:\n  using: composite\n  steps: 7\n",
    ] {
        let output = scan(".github/workflows/odd.yml", content);
        assert!(output.errors.is_empty(), "{content}: {:?}", output.errors);
        let injections = rule(&output, "FG-001").len() + rule(&output, "FG-002").len();
        assert_eq!(injections, 0, "{content}: {:?}", output.findings);
    }
}

#[test]
fn duplicate_keys_are_not_errors() {
    let output = scan(
        ".github/workflows/dup.yml",
        "on: push\non: issues\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\"\n",
    );
    assert!(output.errors.is_empty(), "{:?}", output.errors);
    assert_eq!(rule(&output, "FG-002").len(), 1);
}

#[test]
fn expression_on_the_third_line_of_a_block_has_its_exact_column() {
    let content = "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          set -e\n          echo start\n          echo \"title: ${{ github.event.issue.title }}\"\n";
    let output = scan(".github/workflows/a.yml", content);
    let findings = rule(&output, "FG-002");
    assert_eq!(findings.len(), 1);
    let span = findings[0].span;
    // Line 9 of the file is the third line of the block; `${{` starts after
    // `          echo "title: ` (10 spaces + 13 characters).
    assert_eq!((span.start_line, span.start_column), (9, 24));
    assert_eq!((span.end_line, span.end_column), (9, 55));
    let start = usize::try_from(span.start_byte).expect("offsets fit usize");
    let end = usize::try_from(span.end_byte).expect("offsets fit usize");
    assert_eq!(&content[start..end], "${{ github.event.issue.title }}");
}

#[test]
fn two_expressions_on_one_line_are_two_findings_with_their_own_columns() {
    let content = "on: issue_comment\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\" \"${{github.event.comment.body}}\"\n";
    let output = scan(".github/workflows/a.yml", content);
    let findings = rule(&output, "FG-002");
    assert_eq!(findings.len(), 2);
    let columns: Vec<(u32, u32)> = findings
        .iter()
        .map(|f| (f.span.start_line, f.span.start_column))
        .collect();
    assert_eq!(columns, [(6, 20), (6, 54)]);
    assert_ne!(findings[0].fingerprint_key, findings[1].fingerprint_key);
    assert_eq!(
        findings[0].fingerprint_key,
        "jobs.a.steps[0].run|github.event.issue.title"
    );
    assert_eq!(
        property(findings[1], "context"),
        Some("github.event.comment.body")
    );
    assert_eq!(property(findings[1], "job"), Some("a"));
}

#[test]
fn fingerprints_do_not_depend_on_lines() {
    let before = "on: issues\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo \"${{ github.event.issue.title }}\"\n";
    let after = format!("# a comment\n\n{before}");
    let keys = |content: &str| -> Vec<String> {
        scan(".github/workflows/a.yml", content)
            .findings
            .iter()
            .map(|f| format!("{}:{}", f.rule_id, f.fingerprint_key))
            .collect()
    };
    assert_eq!(keys(before), keys(&after));
    assert!(!keys(before).is_empty());
}

#[test]
fn pwn_request_severity_and_properties() {
    let content = fixture("fg001-prt-head-sha-npm.yml");
    let output = scan(".github/workflows/pwn.yml", &content);
    let findings = rule(&output, "FG-001");
    assert_eq!(findings.len(), 1);
    let finding = findings[0];
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.confidence, Confidence::High);
    assert!(finding.mitigations.is_empty());
    assert_eq!(property(finding, "trigger"), Some("pull_request_target"));
    assert_eq!(property(finding, "job"), Some("build"));
    assert_eq!(
        property(finding, "checkout-ref"),
        Some("${{ github.event.pull_request.head.sha }}")
    );
    assert_eq!(property(finding, "execution"), Some("confirmed"));
    assert!(
        finding.message.contains("`npm install`"),
        "{}",
        finding.message
    );
    // The install step, and the checkout step the finding sits in (for ignore comments).
    assert_eq!(finding.related.len(), 2, "{:?}", finding.related);
    assert_eq!(
        finding.related[1].message,
        "inside the step or job that starts here"
    );
    let install_line = content
        .lines()
        .position(|l| l.trim() == "- run: npm install")
        .expect("the fixture installs dependencies")
        + 1;
    assert_eq!(
        usize::try_from(finding.related[0].span.start_line).expect("line fits usize"),
        install_line
    );
    assert_eq!(
        finding.fingerprint_key,
        "jobs.build.steps[0].with.ref|${{ github.event.pull_request.head.sha }}"
    );
}

#[test]
fn pwn_request_mitigations_lower_severity() {
    let cases: &[(&str, Severity, Confidence, &[&str])] = &[
        (
            "fg001-fork-guard-info.yml",
            Severity::Info,
            Confidence::Low,
            &["fork-guard"],
        ),
        (
            "fg001-label-gated.yml",
            Severity::Medium,
            Confidence::High,
            &["label-gate", "label-gate", "environment"],
        ),
        (
            "fg001-read-only-token.yml",
            Severity::Low,
            Confidence::High,
            &["read-only-token"],
        ),
        (
            "fg001-likely-eslint.yml",
            Severity::Critical,
            Confidence::Medium,
            &[],
        ),
        (
            "fg001-opaque-action.yml",
            Severity::High,
            Confidence::Low,
            &[],
        ),
    ];
    for (name, severity, confidence, kinds) in cases {
        let output = scan(".github/workflows/x.yml", &fixture(name));
        let findings = rule(&output, "FG-001");
        assert_eq!(findings.len(), 1, "{name}");
        let finding = findings[0];
        assert_eq!(
            (finding.severity, finding.confidence),
            (*severity, *confidence),
            "{name}: {}",
            finding.message
        );
        assert_eq!(mitigation_kinds(finding), *kinds, "{name}");
        assert_eq!(
            finding.message.contains("(mitigated:"),
            !kinds.is_empty(),
            "{name}: {}",
            finding.message
        );
    }
}

#[test]
fn script_checkouts_point_at_the_command() {
    let content = fixture("fg001-issue-comment-gh-pr-checkout.yml");
    let output = scan(".github/workflows/x.yml", &content);
    let findings = rule(&output, "FG-001");
    assert_eq!(findings.len(), 1);
    let span = findings[0].span;
    let start = usize::try_from(span.start_byte).expect("offsets fit usize");
    assert!(content[start..].starts_with("gh pr checkout ${{ github.event.issue.number }}"));
    assert_eq!(property(findings[0], "trigger"), Some("issue_comment"));
    assert!(
        findings[0]
            .message
            .contains("pip install -r requirements-dev.txt")
    );
}

#[test]
fn injection_tiers() {
    let output = scan(
        ".github/workflows/x.yml",
        &fixture("fg002-inputs-medium.yml"),
    );
    for finding in rule(&output, "FG-002") {
        assert_eq!(finding.severity, Severity::Medium, "{}", finding.message);
        assert_eq!(finding.confidence, Confidence::Medium);
    }
    let output = scan(
        ".github/workflows/x.yml",
        &fixture("fg002-unreachable-context.yml"),
    );
    let findings = rule(&output, "FG-002");
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].severity, findings[0].confidence),
        (Severity::High, Confidence::Low)
    );
    let output = scan(
        ".github/workflows/x.yml",
        &fixture("fg002-issue-title-echo.yml"),
    );
    for finding in rule(&output, "FG-002") {
        assert_eq!(
            (finding.severity, finding.confidence),
            (Severity::High, Confidence::High),
            "echo must not lower anything: {}",
            finding.message
        );
    }
}

#[test]
fn composite_actions_are_checked() {
    let output = scan(
        ".github/actions/comment/action.yml",
        &fixture("fg002-composite-action.yml"),
    );
    let findings = rule(&output, "FG-002");
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].severity, Severity::High);
    assert_eq!(property(findings[0], "job"), None);
}

#[test]
fn unpinned_severities() {
    let content = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/checkout@main\n      - uses: other/action@v1\n      - uses: other/action@main\n      - uses: other/action\n      - uses: docker://alpine:3\n      - uses: docker://alpine\n";
    let output = scan(".github/workflows/a.yml", content);
    let got: Vec<(u32, Severity, Vec<&str>)> = rule(&output, "FG-003")
        .iter()
        .map(|f| (f.span.start_line, f.severity, mitigation_kinds(f)))
        .collect();
    assert_eq!(
        got,
        [
            (6, Severity::Low, vec!["first-party"]),
            (7, Severity::Medium, vec!["first-party"]),
            (8, Severity::Medium, vec![]),
            (9, Severity::High, vec![]),
            (10, Severity::High, vec![]),
            (11, Severity::Medium, vec![]),
            (12, Severity::High, vec![]),
        ]
    );
    let finding = rule(&output, "FG-003")[3];
    assert!(
        finding.message.contains("mutable branch ref `main`"),
        "{}",
        finding.message
    );
    assert_eq!(
        finding.fingerprint_key,
        "jobs.a.steps[3].uses|other/action@main"
    );
    let span = finding.span;
    assert_eq!(
        (span.start_line, span.start_column, span.end_column),
        (9, 15, 32)
    );
}
