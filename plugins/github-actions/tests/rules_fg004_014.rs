//! Severities, confidences, spans and messages of FG-004 … FG-014 on their key cases.

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::{Confidence, Finding, ScanOutput, Severity, testing};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/github-actions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn scan_fixture(name: &str) -> ScanOutput {
    let content = fixture(name);
    testing::scan::<GithubActions>(&[(&format!(".github/workflows/{name}"), &content)])
}

fn scan(content: &str) -> ScanOutput {
    testing::scan::<GithubActions>(&[(".github/workflows/test.yml", content)])
}

fn rule<'o>(output: &'o ScanOutput, id: &str) -> Vec<&'o Finding> {
    output.findings.iter().filter(|f| f.rule_id == id).collect()
}

fn only(output: &ScanOutput, id: &str) -> Finding {
    let found = rule(output, id);
    assert_eq!(found.len(), 1, "{id}: {found:#?}");
    found[0].clone()
}

fn kinds(finding: &Finding) -> Vec<&str> {
    finding
        .mitigations
        .iter()
        .map(|m| m.kind.as_str())
        .collect()
}

/// The source text a finding's span covers.
fn spanned<'c>(content: &'c str, finding: &Finding) -> &'c str {
    &content[finding.span.start_byte as usize..finding.span.end_byte as usize]
}

fn assert_result(finding: &Finding, severity: Severity, confidence: Confidence) {
    assert_eq!(
        (finding.severity, finding.confidence),
        (severity, confidence),
        "{}",
        finding.message
    );
}

#[test]
fn fg004_broad_permissions() {
    let name = "fg004-write-all-workflow.yml";
    let output = scan_fixture(name);
    let finding = &only(&output, "FG-004");
    assert_result(finding, Severity::Medium, Confidence::High);
    assert_eq!(spanned(&fixture(name), finding), "write-all");
    assert!(
        finding
            .message
            .contains("the workflow grants `permissions: write-all`")
    );

    let name = "fg004-contents-write-prt.yml";
    let content = fixture(name);
    let output = scan_fixture(name);
    let found = rule(&output, "FG-004");
    assert_eq!(found.len(), 2);
    assert_eq!(spanned(&content, found[0]), "contents: write");
    assert!(found[0].message.contains("inherited by job `label`"));
    assert!(found[0].message.contains("push commits"));
    assert_eq!(spanned(&content, found[1]), "inherit");
    assert!(
        found[1]
            .message
            .contains("`secrets: inherit` to `./.github/workflows/notify.yml`")
    );
    assert!(found.iter().all(|f| f.severity == Severity::Medium));

    let finding = &only(&scan_fixture("fg004-job-write-all-comment.yml"), "FG-004");
    assert!(finding.message.starts_with("job `command` grants"));
    assert!(finding.message.contains("`issue_comment`"));

    let finding = &only(&scan_fixture("fg004-fork-guarded.yml"), "FG-004");
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(kinds(finding), ["fork-guard"]);
    assert!(finding.message.contains("(mitigated: "));
}

#[test]
fn fg004_fingerprints_ignore_lines() {
    let a = scan(
        "on: pull_request_target\npermissions:\n  contents: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
    );
    let b = scan(
        "# moved\n\non: pull_request_target\npermissions:\n  contents: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
    );
    assert_eq!(
        only(&a, "FG-004").fingerprint_key,
        only(&b, "FG-004").fingerprint_key
    );
}

#[test]
fn fg005_secrets_in_logs() {
    let name = "fg005-echo-secret.yml";
    let content = fixture(name);
    let output = scan_fixture(name);
    let found = rule(&output, "FG-005");
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(found.iter().all(|f| f.severity == Severity::Low));
    assert_eq!(
        spanned(&content, found[0]),
        "echo \"token is ${{ secrets.NPM_TOKEN }}\""
    );
    assert_eq!(found[0].confidence, Confidence::High);
    assert!(found[1].message.contains("`$DEPLOY_KEY`"));
    assert!(found[1].message.contains("workflow `env:`"));
    assert!(found[2].message.contains("`$API_TOKEN`"));
    assert!(found[3].message.contains("dumps the environment"));
    assert_eq!(found[3].confidence, Confidence::Medium);
    assert_eq!(
        found[4].message,
        "step `#3` of job `deploy` prints `$GITHUB_TOKEN` (`echo $GITHUB_TOKEN`)"
    );
    assert_eq!(found[4].confidence, Confidence::Medium);
}

#[test]
fn fg006_fork_pr_code_execution() {
    let name = "fg006-npm-test.yml";
    let output = scan_fixture(name);
    let finding = &only(&output, "FG-006");
    assert_result(finding, Severity::Info, Confidence::High);
    assert_eq!(spanned(&fixture(name), finding), "actions/checkout@v4");
    assert!(finding.message.contains("runs `npm ci`"));

    let finding = &only(&scan_fixture("fg006-fork-guarded.yml"), "FG-006");
    assert_result(finding, Severity::Info, Confidence::High);
    assert_eq!(kinds(finding), ["fork-guard"]);
}

#[test]
fn fg007_token_exposure() {
    let name = "fg007-prt-build-token.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-007");
    assert_result(finding, Severity::Medium, Confidence::High);
    assert_eq!(spanned(&content, finding), "${{ github.token }}");
    assert!(finding.message.contains("`GH_TOKEN`"));
    assert!(finding.message.contains("the job's `env:`"));

    let finding = &only(&scan_fixture("fg007-pull-request-token.yml"), "FG-007");
    assert_result(finding, Severity::Low, Confidence::High);

    let finding = &only(&scan_fixture("fg007-read-only-prt.yml"), "FG-007");
    assert_eq!(finding.severity, Severity::Low);
    assert_eq!(kinds(finding), ["read-only-token"]);
}

#[test]
fn fg008_oidc() {
    let name = "fg008-prt-fork-checkout.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-008");
    assert_result(finding, Severity::Critical, Confidence::High);
    assert_eq!(spanned(&content, finding), "id-token: write");
    assert!(
        finding
            .message
            .contains("`aws-actions/configure-aws-credentials`")
    );
    assert!(finding.message.contains("mint cloud credentials"));

    let finding = &only(&scan_fixture("fg008-workflow-run-write-all.yml"), "FG-008");
    assert_result(finding, Severity::Medium, Confidence::High);
    assert!(finding.message.contains("`write-all` from the workflow"));

    let finding = &only(&scan_fixture("fg008-issue-comment-env.yml"), "FG-008");
    assert_eq!(finding.severity, Severity::Low);
    assert_eq!(kinds(finding), ["environment"]);

    let finding = &only(&scan_fixture("fg008-push-cloud-info.yml"), "FG-008");
    assert_eq!(finding.severity, Severity::Info);
}

#[test]
fn fg009_self_hosted() {
    let finding = &only(
        &scan_fixture("fg009-prt-self-hosted-critical.yml"),
        "FG-009",
    );
    assert_result(finding, Severity::Critical, Confidence::High);
    assert!(finding.message.contains("`pip install -e .`"));

    let output = scan_fixture("fg009-pull-request-custom-label.yml");
    let found = rule(&output, "FG-009");
    assert_eq!(found.len(), 3);
    assert_result(found[0], Severity::High, Confidence::Medium);
    assert!(found[0].message.contains("`linux`, `arm64-metal`"));
    assert_result(found[1], Severity::High, Confidence::High);
    assert!(found[1].message.contains("via `${{ matrix.runner }}`"));
    assert_result(found[2], Severity::High, Confidence::Medium);
    assert!(found[2].message.contains("runner group `build-farm`"));

    let output = scan_fixture("fg009-fork-guarded.yml");
    let found = rule(&output, "FG-009");
    assert_eq!(found[0].severity, Severity::Info);
    assert_eq!(kinds(found[0]), ["fork-guard"]);
    assert_eq!(found[1].severity, Severity::Medium);
}

#[test]
fn fg010_cache_poisoning() {
    let name = "fg010-prt-cache-after-build.yml";
    let output = scan_fixture(name);
    let found = rule(&output, "FG-010");
    assert_eq!(found.len(), 2);
    for finding in &found {
        assert_result(finding, Severity::High, Confidence::High);
        assert!(
            finding.message.contains("running `npm ci`"),
            "{}",
            finding.message
        );
    }
    assert!(found[0].message.contains("`actions/setup-node@v4`"));

    let finding = &only(&scan_fixture("fg010-workflow-run-key.yml"), "FG-010");
    assert_result(finding, Severity::Low, Confidence::Low);
    assert!(finding.message.contains("head_branch"));

    let finding = &only(&scan_fixture("fg010-label-gated-go.yml"), "FG-010");
    assert_eq!(finding.severity, Severity::Medium);
    assert!(kinds(finding).contains(&"label-gate"));
}

#[test]
fn fg011_bot_toctou() {
    let name = "fg011-dependabot-prt.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-011");
    assert_result(finding, Severity::Medium, Confidence::High);
    assert_eq!(spanned(&content, finding), "'dependabot[bot]'");

    let finding = &only(&scan_fixture("fg011-needs-bot-guard.yml"), "FG-011");
    assert_result(finding, Severity::Medium, Confidence::Medium);
    assert!(finding.message.contains("in needed job `gate`"));

    let finding = &only(&scan_fixture("fg011-env-gated.yml"), "FG-011");
    assert_eq!(finding.severity, Severity::Low);
    assert_eq!(kinds(finding), ["environment"]);
}

#[test]
fn fg012_if_always_true() {
    let name = "fg012-fork-guard-broken.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-012");
    assert_result(finding, Severity::High, Confidence::High);
    assert!(spanned(&content, finding).starts_with("${{ github.event.pull_request"));
    assert!(
        finding
            .message
            .contains("2 `${{ }}` expressions with text `&&`")
    );

    let output = scan_fixture("fg012-step-trailing-text.yml");
    let found = rule(&output, "FG-012");
    assert!(found[0].message.contains("step `Publish` of job `build`"));
    assert!(found[0].message.contains("with text `&& success()`"));
}

#[test]
fn fg013_all_secrets() {
    let name = "fg013-tojson-prt.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-013");
    assert_result(finding, Severity::Critical, Confidence::High);
    assert_eq!(spanned(&content, finding), "toJSON(secrets)");

    let output = scan_fixture("fg013-dynamic-index.yml");
    let found = rule(&output, "FG-013");
    assert_eq!(found.len(), 2);
    assert_result(found[0], Severity::High, Confidence::Medium);
    assert!(
        found[0]
            .message
            .contains("secrets[format('{0}_API_KEY', matrix.env)]")
    );

    let guarded = scan(
        "on: pull_request_target\njobs:\n  a:\n    if: github.event.pull_request.head.repo.fork == false\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        env:\n          S: ${{ toJSON(secrets) }}\n",
    );
    let finding = &only(&guarded, "FG-013");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(kinds(finding), ["fork-guard"]);
}

#[test]
fn fg014_missing_permissions() {
    let name = "fg014-prt-no-permissions.yml";
    let content = fixture(name);
    let finding = &only(&scan_fixture(name), "FG-014");
    assert_result(finding, Severity::Medium, Confidence::Medium);
    assert_eq!(spanned(&content, finding), "greet");

    let finding = &only(&scan_fixture("fg014-comment-guarded.yml"), "FG-014");
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(kinds(finding), ["author-association"]);

    let output = scan_fixture("fg014-workflow-run-mixed.yml");
    let found = rule(&output, "FG-014");
    assert_eq!(found.len(), 2);
    assert!(found[1].message.contains("calls a reusable workflow"));
}
