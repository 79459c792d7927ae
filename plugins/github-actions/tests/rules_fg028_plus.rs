//! Severity, confidence, spans, mitigations and messages of FG-028 … FG-036.

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::{Confidence, Finding, ScanOutput, Severity, testing};

fn scan(path: &str, content: &str) -> ScanOutput {
    testing::scan::<GithubActions>(&[(path, content)])
}

fn workflow(content: &str) -> ScanOutput {
    scan(".github/workflows/test.yml", content)
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/github-actions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rule<'o>(output: &'o ScanOutput, id: &str) -> Vec<&'o Finding> {
    output.findings.iter().filter(|f| f.rule_id == id).collect()
}

fn only<'o>(output: &'o ScanOutput, id: &str) -> &'o Finding {
    let found = rule(output, id);
    assert_eq!(found.len(), 1, "{id}: {found:#?}");
    found[0]
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

#[test]
fn fg028_levels_and_scope() {
    let content = fixture("fg028-workflow-env.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-028");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::High, Confidence::High)
    );
    assert_eq!(
        spanned(&content, f),
        "ACTIONS_ALLOW_UNSECURE_COMMANDS: true"
    );
    assert!(
        f.message.contains("every step of every job"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fingerprint_key,
        "env.ACTIONS_ALLOW_UNSECURE_COMMANDS|ACTIONS_ALLOW_UNSECURE_COMMANDS=true"
    );

    let content = fixture("fg028-job-and-step.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-028");
    assert_eq!(found.len(), 3);
    assert!(
        found[0].message.contains("job `test`"),
        "{}",
        found[0].message
    );
    assert_eq!(found[1].severity, Severity::High);
    assert!(
        found[1].message.contains("this step"),
        "{}",
        found[1].message
    );
    assert_eq!(
        (found[2].severity, found[2].confidence),
        (Severity::Medium, Confidence::Medium)
    );

    let content = fixture("fg028-github-env.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-028");
    assert_eq!(spanned(&content, f), "ACTIONS_ALLOW_UNSECURE_COMMANDS=true");
    assert!(f.message.contains("every later step"), "{}", f.message);
}

#[test]
fn fg029_images() {
    let content = fixture("fg029-container-and-services.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-029");
    let summary: Vec<(&str, Severity)> = found
        .iter()
        .map(|f| (spanned(&content, f), f.severity))
        .collect();
    assert_eq!(
        summary,
        [
            ("node:20-bookworm", Severity::Medium),
            ("postgres", Severity::High),
            ("redis:latest", Severity::High),
            ("ghcr.io/org/linter:1.4", Severity::Medium),
        ]
    );
    assert!(
        found[1]
            .message
            .contains("service `postgres` of job `test`")
    );
    let output = workflow(&fixture("fg029-matrix-image.yml"));
    let f = only(&output, "FG-029");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Medium, Confidence::Medium)
    );

    // Docker action manifests: `docker://` images are checked, Dockerfiles are not.
    let action = "name: x\nruns:\n  using: docker\n  image: docker://ghcr.io/o/tool:2\n";
    let output = scan("action.yml", action);
    let f = only(&output, "FG-029");
    assert!(
        f.message.contains("Docker action `runs.image`"),
        "{}",
        f.message
    );
    let output = scan(
        "action.yml",
        "runs:\n  using: docker\n  image: Dockerfile\n",
    );
    assert!(rule(&output, "FG-029").is_empty());
    // `docker://` in `uses:` is FG-003's only.
    let output = workflow(&fixture("fg029-safe-docker-uses-is-fg003.yml"));
    assert!(rule(&output, "FG-029").is_empty());
    assert_eq!(rule(&output, "FG-003").len(), 1);
}

#[test]
fn fg030_artifact_poisoning() {
    let content = fixture("fg030-workflow-run-execute.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-030");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Critical, Confidence::High)
    );
    assert_eq!(spanned(&content, f), "${{ github.event.workflow_run.id }}");
    assert!(f.message.contains("into `preview/`"), "{}", f.message);
    assert!(
        f.message.contains("bash preview/deploy.sh"),
        "{}",
        f.message
    );
    // The step that runs the artifact, plus the step the expression sits in (for ignore
    // comments above it).
    let messages: Vec<&str> = f.related.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1], "inside the step or job that starts here");

    let content = fixture("fg030-dawidd6-github-env.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-030");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Critical, Confidence::Medium)
    );
    assert!(f.message.contains("`$GITHUB_ENV`"), "{}", f.message);

    let content = fixture("fg030-gh-run-download.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-030");
    assert_eq!(f.severity, Severity::Critical);
    assert!(spanned(&content, f).starts_with("gh run download"));

    let output = workflow(&fixture("fg030-fork-guard-info.yml"));
    let f = only(&output, "FG-030");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Info, Confidence::Low)
    );
    assert!(kinds(f).contains(&"fork-guard"), "{:?}", kinds(f));
    assert!(f.message.contains("mitigated"), "{}", f.message);

    let output = workflow(&fixture("fg030-allow-forks-default-info.yml"));
    let f = only(&output, "FG-030");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(kinds(f), ["fork-filter"]);

    // Extracted into the workspace root, then an ordinary build: medium confidence.
    let output = workflow(
        "on: workflow_run\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/download-artifact@v4\n        with:\n          run-id: ${{ github.event.workflow_run.id }}\n      - run: npm ci\n        env:\n          T: ${{ secrets.T }}\n",
    );
    let f = only(&output, "FG-030");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Critical, Confidence::Medium)
    );
    assert!(f.message.contains("can replace"), "{}", f.message);

    // A read-only token and no secrets cap the result.
    let output = workflow(
        "on: workflow_run\npermissions: read-all\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/download-artifact@v4\n        with:\n          run-id: ${{ github.event.workflow_run.id }}\n          path: a\n      - run: bash a/x.sh\n",
    );
    let f = only(&output, "FG-030");
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(kinds(f), ["read-only-token"]);
}

#[test]
fn fg031_conditions() {
    let content = fixture("fg031-substring-contains.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-031");
    assert_eq!(found.len(), 2);
    assert_eq!(
        spanned(&content, found[0]),
        "contains('refs/heads/main refs/heads/release', github.ref)"
    );
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Medium, Confidence::High)
    );
    assert!(
        found[0].message.contains("substring"),
        "{}",
        found[0].message
    );
    assert_eq!(
        spanned(&content, found[1]),
        "contains('main,develop', github.head_ref)"
    );

    let output = workflow(&fixture("fg031-substring-trusted-value.yml"));
    assert_eq!(only(&output, "FG-031").severity, Severity::Low);

    let content = fixture("fg031-pseudo-ternary.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-031");
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Medium, Confidence::Medium)
    );
    assert!(
        found[0].message.contains("pull request code"),
        "{}",
        found[0].message
    );
    assert_eq!(
        spanned(&content, found[0]),
        "github.event_name == 'workflow_dispatch' && inputs.ref || github.event.pull_request.head.sha"
    );
    assert_eq!(
        (found[1].severity, found[1].confidence),
        (Severity::Low, Confidence::High)
    );
    assert!(
        found[1].message.contains("always falsy"),
        "{}",
        found[1].message
    );
}

#[test]
fn fg032_debug_logging() {
    let content = fixture("fg032-env-levels.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-032");
    assert_eq!(found.len(), 3);
    assert!(
        found
            .iter()
            .all(|f| (f.severity, f.confidence) == (Severity::Low, Confidence::Medium))
    );
    assert!(
        found[1].message.contains("runner diagnostic logging"),
        "{}",
        found[1].message
    );
    assert_eq!(spanned(&content, found[2]), "RUNNER_DEBUG: 1");

    let output = workflow(&fixture("fg032-github-env-and-input.yml"));
    let found = rule(&output, "FG-032");
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Info, Confidence::Low)
    );
    assert_eq!(found[1].severity, Severity::Low);
}

#[test]
fn fg033_unsafe_checkout_and_lotp() {
    let content = fixture("fg033-allow-unsafe-opt-in.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-033");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Medium, Confidence::High)
    );
    assert_eq!(spanned(&content, f), "allow-unsafe-pr-checkout: true");
    // The build after it is FG-001's, and FG-001 says the guard is off.
    let pwn = only(&output, "FG-001");
    assert!(
        pwn.message.contains("allow-unsafe-pr-checkout"),
        "{}",
        pwn.message
    );

    let output = workflow(&fixture("fg033-opt-in-base-ref.yml"));
    let f = only(&output, "FG-033");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Low, Confidence::Medium)
    );

    let content = fixture("fg033-lotp-sphinx.yml");
    let output = workflow(&content);
    let f = only(&output, "FG-033");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Critical, Confidence::High)
    );
    assert_eq!(spanned(&content, f), "sphinx-build -b html docs _build");
    assert!(f.message.contains("conf.py"), "{}", f.message);

    let output = workflow(&fixture("fg033-lotp-labelled-mkdocs.yml"));
    let f = only(&output, "FG-033");
    // Likely (config loading) → Critical, one level lower for the label gate.
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::High, Confidence::Medium)
    );
    assert!(kinds(f).contains(&"label-gate"), "{:?}", kinds(f));

    let output = workflow(&fixture("fg033-lotp-jekyll-action.yml"));
    assert_eq!(only(&output, "FG-033").severity, Severity::Critical);
    // FG-001 reported the npm install; FG-033 does not repeat it.
    let output = workflow(&fixture("fg033-safe-fg001-covers.yml"));
    assert!(rule(&output, "FG-033").is_empty());
}

#[test]
fn fg034_app_tokens() {
    let content = fixture("fg034-unscoped-token.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-034");
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Medium, Confidence::High)
    );
    assert!(
        found[0].message.contains("every permission"),
        "{}",
        found[0].message
    );
    assert_eq!(found[1].severity, Severity::High);
    assert!(
        found[1].message.contains("every repository of `my-org`"),
        "{}",
        found[1].message
    );
    assert_eq!(
        spanned(&content, found[0]),
        "actions/create-github-app-token@v1"
    );

    let output = workflow(&fixture("fg034-owner-without-repositories.yml"));
    let found = rule(&output, "FG-034");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(
        !found[0].message.contains("every permission"),
        "{}",
        found[0].message
    );
    assert!(found[1].message.contains("tibdex/github-app-token"));
}

#[test]
fn fg035_typosquats() {
    let content = fixture("fg035-typos.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-035");
    assert_eq!(found.len(), 4);
    let squat = found
        .iter()
        .find(|f| spanned(&content, f) == "actoins/checkout")
        .expect("the checkout squat is reported on the owner/repo text");
    assert_eq!(
        (squat.severity, squat.confidence),
        (Severity::High, Confidence::Medium)
    );
    assert!(
        squat.message.contains("`actions/checkout`"),
        "{}",
        squat.message
    );
    assert!(found.iter().any(|f| f.message.contains("job `reuse`")));
    // Composite actions are checked too.
    let action = "runs:\n  using: composite\n  steps:\n    - uses: astrall-sh/setup-uv@v5\n";
    let output = scan("action.yml", action);
    let f = only(&output, "FG-035");
    assert!(f.message.contains("`astral-sh/setup-uv`"), "{}", f.message);
    // A typo under the real owner cannot be registered by anyone else: not a squat.
    let action = "runs:\n  using: composite\n  steps:\n    - uses: actions/setup-pyhton@v5\n";
    assert!(rule(&scan("action.yml", action), "FG-035").is_empty());
}

#[test]
fn fg036_secrets_inherit() {
    let content = fixture("fg036-remote-and-local.yml");
    let output = workflow(&content);
    let found = rule(&output, "FG-036");
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Medium, Confidence::High)
    );
    assert_eq!(spanned(&content, found[0]), "inherit");
    assert!(
        found[0].message.contains("my-org/shared-workflows"),
        "{}",
        found[0].message
    );
    assert_eq!(found[1].severity, Severity::Low);
    assert_eq!(kinds(found[1]), ["local-callee"]);
    // Privileged events: FG-004's finding, not a second one.
    let output = workflow(&fixture("fg036-safe-privileged-is-fg004.yml"));
    assert!(rule(&output, "FG-036").is_empty());
    assert!(
        rule(&output, "FG-004")
            .iter()
            .any(|f| f.message.contains("inherit"))
    );
}

#[test]
fn fingerprints_ignore_line_moves() {
    let content = fixture("fg029-container-and-services.yml");
    let moved = format!("# moved\n\n{content}");
    let a: Vec<String> = rule(&workflow(&content), "FG-029")
        .iter()
        .map(|f| f.fingerprint_key.clone())
        .collect();
    let b: Vec<String> = rule(&workflow(&moved), "FG-029")
        .iter()
        .map(|f| f.fingerprint_key.clone())
        .collect();
    assert_eq!(a, b);
}

#[test]
fn corpus_regressions() {
    // Passing on the official debug switch turns nothing on (seen in electron, envoy).
    let output = workflow(
        "on: push\nenv:\n  ACTIONS_STEP_DEBUG: ${{ secrets.ACTIONS_STEP_DEBUG }}\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: make\n        env:\n          ACTIONS_STEP_DEBUG: ${{ runner.debug == '1' }}\n",
    );
    assert!(rule(&output, "FG-032").is_empty());
    // A chained ternary whose fallback only compares an input is not dangerous
    // (seen in pytorch/test-infra).
    let output = workflow(
        "on: workflow_call\njobs:\n  j:\n    runs-on: x\n    outputs:\n      a: ${{ inputs.kind == 'ios' && steps.i.outputs.a || inputs.kind == 'android' && steps.d.outputs.a || '[]' }}\n    steps:\n      - run: make\n",
    );
    assert!(rule(&output, "FG-031").is_empty());
}

#[test]
fn fg029_never_repeats_registry_credentials() {
    let output = workflow(
        "on: push\njobs:\n  j:\n    runs-on: x\n    services:\n      db:\n        image: dbuser:hunter2@registry.example.com/postgres:16\n    steps:\n      - run: make\n",
    );
    let f = only(&output, "FG-029");
    assert!(!f.message.contains("hunter2"), "{}", f.message);
    assert!(
        !f.fingerprint_key.contains("hunter2"),
        "{}",
        f.fingerprint_key
    );
    assert!(f.message.contains("uses the tag `16`"), "{}", f.message);
}

#[test]
fn fg033_actor_check_before_the_tool_lowers_it() {
    let output = workflow(
        "on: pull_request_target\njobs:\n  docs:\n    runs-on: x\n    steps:\n      - uses: actions-cool/check-user-permission@v2\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: sphinx-build docs out\n        env:\n          T: ${{ secrets.T }}\n",
    );
    let f = only(&output, "FG-033");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(kinds(f), ["maintainer-check"]);
    assert!(f.message.contains("mitigated"), "{}", f.message);
}

#[test]
fn fg030_actor_check_before_the_sink_lowers_it() {
    let output = workflow(
        "on: workflow_run\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions-cool/check-user-permission@v2\n      - uses: actions/download-artifact@v4\n        with:\n          run-id: ${{ github.event.workflow_run.id }}\n          path: a\n      - run: bash a/x.sh\n        env:\n          T: ${{ secrets.T }}\n",
    );
    let f = only(&output, "FG-030");
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::High, Confidence::High)
    );
    assert_eq!(kinds(f), ["maintainer-check"]);
}
