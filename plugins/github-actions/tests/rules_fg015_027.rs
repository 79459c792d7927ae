//! Severity, confidence and message checks for FG-015 … FG-027 over the fixtures and a few
//! inline workflows.

use std::path::PathBuf;

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::testing;
use sluice_pack_sdk::{Confidence, Finding, Severity};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/github-actions")
        .join(name);
    std::fs::read_to_string(&path).expect("fixture exists")
}

fn scan(name: &str, content: &str, rule: &str) -> Vec<Finding> {
    let path = format!(".github/workflows/{name}");
    let output = testing::scan::<GithubActions>(&[(&path, content)]);
    assert!(output.errors.is_empty(), "{:?}", output.errors);
    output
        .findings
        .into_iter()
        .filter(|f| f.rule_id == rule)
        .collect()
}

fn findings(name: &str, rule: &str) -> Vec<Finding> {
    scan(name, &fixture(name), rule)
}

/// The finding of `rule` starting on `line`.
fn at(findings: &[Finding], line: u32) -> &Finding {
    findings
        .iter()
        .find(|f| f.span.start_line == line)
        .unwrap_or_else(|| panic!("no finding on line {line}: {findings:#?}"))
}

fn assert_result(finding: &Finding, severity: Severity, confidence: Confidence, text: &[&str]) {
    assert_eq!(finding.severity, severity, "{finding:#?}");
    assert_eq!(finding.confidence, confidence, "{finding:#?}");
    for part in text {
        assert!(
            finding.message.contains(part),
            "message lacks {part:?}: {}",
            finding.message
        );
    }
    assert!(!finding.fingerprint_key.is_empty());
}

fn has_mitigation(finding: &Finding, kind: &str) -> bool {
    finding.mitigations.iter().any(|m| m.kind == kind)
}

#[test]
fn fg015_levels() {
    let found = findings("fg015-curl-pipe-shell.yml", "FG-015");
    assert_result(
        at(&found, 15),
        Severity::Medium,
        Confidence::High,
        &["into `sh`", "golangci-lint/master/install.sh"],
    );
    assert_result(
        at(&found, 18),
        Severity::Medium,
        Confidence::High,
        &["into `bash`"],
    );
    assert_result(
        at(&found, 20),
        Severity::Medium,
        Confidence::High,
        &["process substitution", "codecov.io/bash"],
    );
    assert_result(
        at(&found, 22),
        Severity::High,
        Confidence::High,
        &["plain HTTP"],
    );
    let found = findings("fg015-windows-and-deno.yml", "FG-015");
    assert_result(
        at(&found, 13),
        Severity::Medium,
        Confidence::High,
        &["Invoke-Expression"],
    );
    let pinned = at(&found, 17);
    assert_eq!(pinned.severity, Severity::Info);
    assert!(has_mitigation(pinned, "commit-pinned-url"));
    // The span covers the pipeline, not the whole script.
    let content = fixture("fg015-curl-pipe-shell.yml");
    let first = at(&findings("fg015-curl-pipe-shell.yml", "FG-015"), 15).span;
    let text = &content[first.start_byte as usize..first.end_byte as usize];
    assert!(
        text.starts_with("curl -sSfL") && text.contains("| sh -s -- -b"),
        "{text}"
    );
}

#[test]
fn fg016_levels() {
    let found = findings("fg016-local-action-after-fork-checkout.yml", "FG-016");
    assert_eq!(found.len(), 2);
    assert_result(
        at(&found, 15),
        Severity::Critical,
        Confidence::High,
        &["`./.github/actions/setup`", "`pull_request_target`"],
    );
    let gated = findings("fg016-workflow-run-gated.yml", "FG-016");
    let gated = at(&gated, 17);
    // Label gate + environment: two levels lower.
    assert_eq!(gated.severity, Severity::Medium, "{gated:#?}");
    assert!(has_mitigation(gated, "environment"));
    let guarded = findings("fg016-fork-guard-info.yml", "FG-016");
    let guarded = at(&guarded, 14);
    assert_eq!(
        (guarded.severity, guarded.confidence),
        (Severity::Info, Confidence::Low)
    );
    assert!(has_mitigation(guarded, "fork-guard"), "{guarded:#?}");
}

#[test]
fn fg017_levels() {
    let found = findings("fg017-github-script-injection.yml", "FG-017");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_result(
        at(&found, 21),
        Severity::High,
        Confidence::High,
        &["github.event.issue.title", "actions/github-script"],
    );
    assert_result(
        at(&found, 23),
        Severity::Medium,
        Confidence::Medium,
        &["inputs.label"],
    );
}

#[test]
fn fg018_inconsistent_pins() {
    let found = findings("fg018-inconsistent-pins.yml", "FG-018");
    assert_eq!(found.len(), 2);
    assert_result(
        at(&found, 12),
        Severity::Low,
        Confidence::Low,
        &["de2c0eb89ae2a093876385947365aca7b0e5f844"],
    );
}

#[test]
fn fg019_levels() {
    let found = findings("fg019-hardcoded-credentials.yml", "FG-019");
    assert_eq!(found.len(), 3);
    assert_result(
        at(&found, 13),
        Severity::High,
        Confidence::High,
        &["literal username and password"],
    );
    assert_result(
        at(&found, 16),
        Severity::High,
        Confidence::High,
        &["user `dbuser`"],
    );
    assert_result(
        at(&found, 21),
        Severity::High,
        Confidence::High,
        &["a literal password"],
    );
    // The password value itself is never copied into the message.
    assert!(
        found
            .iter()
            .all(|f| !f.message.contains("hunter2") && !f.message.contains("s3cr3t"))
    );
}

#[test]
fn fg020_levels() {
    let found = findings("fg020-ambiguous-refs.yml", "FG-020");
    assert_eq!(found.len(), 4);
    assert_result(
        at(&found, 12),
        Severity::Medium,
        Confidence::Low,
        &["`stable`"],
    );
}

#[test]
fn fg021_levels() {
    let found = findings("fg021-output-taint.yml", "FG-021");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_result(
        at(&found, 23),
        Severity::High,
        Confidence::High,
        &[
            "output `command` of step `parse`",
            "github.event.comment.body (via `$BODY`)",
        ],
    );
    assert_result(
        at(&found, 25),
        Severity::High,
        Confidence::High,
        &["github.event.issue.title"],
    );
    assert_result(
        at(&found, 29),
        Severity::High,
        Confidence::High,
        &["`actions/github-script`"],
    );
    assert!(
        at(&found, 23)
            .related
            .iter()
            .any(|r| r.span.start_line == 17)
    );
}

#[test]
fn fg022_levels() {
    let found = findings("fg022-vulnerable-actions.yml", "FG-022");
    assert_result(
        at(&found, 10),
        Severity::High,
        Confidence::High,
        &["CVE-2025-30066", "fixed in 46.0.1"],
    );
    let two: Vec<&Finding> = found.iter().filter(|f| f.span.start_line == 11).collect();
    assert_eq!(two.len(), 2);
    assert!(two.iter().any(|f| f.message.contains("CVE-2023-51664")));
    assert_result(
        at(&found, 12),
        Severity::Critical,
        Confidence::High,
        &["malicious commit"],
    );
    assert_result(
        at(&found, 13),
        Severity::Low,
        Confidence::High,
        &["CVE-2025-30154", "`v1`"],
    );
    assert_result(
        at(&found, 14),
        Severity::Medium,
        Confidence::High,
        &["CVE-2021-32074"],
    );
    assert_result(
        at(&found, 15),
        Severity::Medium,
        Confidence::High,
        &["CVE-2024-42471"],
    );
    assert_result(
        at(&found, 16),
        Severity::Critical,
        Confidence::Low,
        &["remove this action", "may predate the compromise"],
    );
}

#[test]
fn fg023_levels() {
    let found = findings("fg023-artifact-git-upload.yml", "FG-023");
    assert_result(
        at(&found, 15),
        Severity::Medium,
        Confidence::High,
        &["whole workspace", "persists the token"],
    );
    assert_result(
        at(&found, 21),
        Severity::Medium,
        Confidence::High,
        &["`.git` directory"],
    );
    assert_result(
        at(&found, 26),
        Severity::Medium,
        Confidence::High,
        &["whole workspace"],
    );
    let mitigated = findings("fg023-mitigated-info.yml", "FG-023");
    let no_persist = at(&mitigated, 15);
    assert_eq!(no_persist.severity, Severity::Info);
    assert!(has_mitigation(no_persist, "persist-credentials-false"));
    let hidden = at(&mitigated, 22);
    assert_eq!(hidden.severity, Severity::Info);
    assert!(has_mitigation(hidden, "hidden-files-excluded"));
}

#[test]
fn fg024_levels() {
    let found = findings("fg024-env-injection.yml", "FG-024");
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_result(
        at(&found, 19),
        Severity::Critical,
        Confidence::High,
        &["github.event.issue.body (via `$BODY`)", "`$GITHUB_ENV`"],
    );
    assert_result(
        at(&found, 20),
        Severity::Critical,
        Confidence::High,
        &["`$GITHUB_PATH`"],
    );
    assert_result(
        at(&found, 21),
        Severity::Medium,
        Confidence::High,
        &["inputs.channel"],
    );
    assert_result(
        at(&found, 22),
        Severity::Medium,
        Confidence::High,
        &["`$GITHUB_OUTPUT`"],
    );
    let mitigated = findings("fg024-mitigated.yml", "FG-024");
    let internal = at(&mitigated, 13);
    assert_eq!(
        (internal.severity, internal.confidence),
        (Severity::Info, Confidence::Low)
    );
    assert!(has_mitigation(internal, "fork-guard"));
    let gated = at(&mitigated, 20);
    assert_eq!(gated.severity, Severity::High);
    assert!(has_mitigation(gated, "environment"));
    let branch = at(&mitigated, 24);
    assert_eq!(branch.severity, Severity::Medium);
    assert!(has_mitigation(branch, "single-line-value"));
}

#[test]
fn fg025_levels() {
    let found = findings("fg025-known-iocs.yml", "FG-025");
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_result(
        at(&found, 12),
        Severity::Critical,
        Confidence::High,
        &["tj-actions/changed-files compromise", "GHSA-mrrh-fwg8-r2c3"],
    );
    assert_result(
        at(&found, 15),
        Severity::Critical,
        Confidence::High,
        &["Ultralytics"],
    );
    // The span is the indicator itself.
    let content = fixture("fg025-known-iocs.yml");
    let span = at(&found, 14).span;
    assert_eq!(
        &content[span.start_byte as usize..span.end_byte as usize],
        "m-kosche.com"
    );
}

#[test]
fn fg026_levels() {
    let found = findings("fg026-install-before-publish.yml", "FG-026");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_result(
        at(&found, 13),
        Severity::High,
        Confidence::Medium,
        &["`npm ci`", "`npm publish`"],
    );
    let pypi = at(&found, 23);
    assert_eq!(pypi.severity, Severity::Medium);
    assert!(has_mitigation(pypi, "environment"));
    assert_result(
        at(&found, 31),
        Severity::High,
        Confidence::Medium,
        &["`aws-actions/configure-aws-credentials`"],
    );
    let external = findings("fg026-external-and-release.yml", "FG-026");
    assert_result(
        at(&external, 13),
        Severity::Critical,
        Confidence::Medium,
        &["outsiders"],
    );
    let release = at(&external, 20);
    assert_eq!(release.severity, Severity::Info);
    assert!(has_mitigation(release, "github-token-only"));
}

#[test]
fn fg027_levels() {
    let found = findings("fg027-label-gate-toctou.yml", "FG-027");
    assert_result(
        at(&found, 10),
        Severity::High,
        Confidence::High,
        &["`safe to test`", "`synchronize`"],
    );
    let content = fixture("fg027-label-gate-toctou.yml");
    let span = found[0].span;
    assert!(content[span.start_byte as usize..span.end_byte as usize].starts_with("contains("));
    let stepped = findings("fg027-default-types-step-gate.yml", "FG-027");
    let stepped = at(&stepped, 11);
    assert_eq!(stepped.severity, Severity::Medium);
    assert!(has_mitigation(stepped, "label-stripping"));
    assert!(stepped.message.contains("ok-to-test"));
}

#[test]
fn fingerprints_do_not_depend_on_lines() {
    let content = fixture("fg024-env-injection.yml");
    let shifted = format!("# a new comment line\n\n{content}");
    for rule in ["FG-024", "FG-021", "FG-015"] {
        let a: Vec<String> = scan("x.yml", &content, rule)
            .into_iter()
            .map(|f| f.fingerprint_key)
            .collect();
        let b: Vec<String> = scan("x.yml", &shifted, rule)
            .into_iter()
            .map(|f| f.fingerprint_key)
            .collect();
        assert_eq!(a, b, "{rule}");
    }
}

#[test]
fn composite_actions_are_checked() {
    let action = r#"
name: Setup
runs:
  using: composite
  steps:
    - shell: bash
      run: curl -fsSL https://example.com/install.sh | bash
    - uses: actions/github-script@v7
      with:
        script: console.log("${{ inputs.name }}")
"#;
    let output = testing::scan::<GithubActions>(&[("action.yml", action)]);
    let rules: Vec<&str> = output.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert!(rules.contains(&"FG-015"), "{rules:?}");
    assert!(rules.contains(&"FG-017"), "{rules:?}");
}

/// Severity, confidence and (optionally) a mitigation kind of the finding on `line`.
fn assert_level(
    found: &[Finding],
    line: u32,
    severity: Severity,
    confidence: Confidence,
    mitigation: Option<&str>,
) {
    let finding = at(found, line);
    assert_eq!(
        (finding.severity, finding.confidence),
        (severity, confidence),
        "line {line}: {finding:#?}"
    );
    match mitigation {
        Some(kind) => assert!(has_mitigation(finding, kind), "line {line}: {finding:#?}"),
        None => assert!(finding.mitigations.is_empty(), "line {line}: {finding:#?}"),
    }
}

#[test]
fn fg015_more_installers_and_pins() {
    let found = findings("fg015-installers-sudo-env.yml", "FG-015");
    assert_eq!(found.len(), 5);
    assert_result(
        at(&found, 12),
        Severity::Medium,
        Confidence::High,
        &["into `bash`"],
    );
    assert_result(
        at(&found, 14),
        Severity::Medium,
        Confidence::High,
        &["into `python3`"],
    );
    assert_result(
        at(&found, 16),
        Severity::Medium,
        Confidence::High,
        &["runs the output of a download"],
    );
    assert_result(
        at(&found, 20),
        Severity::High,
        Confidence::High,
        &["into `perl`", "plain HTTP"],
    );
    assert_result(
        at(&found, 22),
        Severity::Medium,
        Confidence::High,
        &["into `node`"],
    );
    let pinned = findings("fg015-commit-pinned-info.yml", "FG-015");
    assert_level(
        &pinned,
        13,
        Severity::Info,
        Confidence::High,
        Some("commit-pinned-url"),
    );
    // A commit-pinned URL over plain HTTP is not immutable: the network path can change it.
    assert_level(&pinned, 15, Severity::High, Confidence::High, None);
}

#[test]
fn fg016_triggers_and_each_safeguard() {
    let found = findings("fg016-workflow-run-and-comment.yml", "FG-016");
    assert_result(
        at(&found, 19),
        Severity::Critical,
        Confidence::High,
        &["`workflow_run`", "coverage-report"],
    );
    assert_result(
        at(&found, 29),
        Severity::Critical,
        Confidence::High,
        &["`issue_comment`", "benchmark"],
    );
    let found = findings("fg016-mitigated-levels.yml", "FG-016");
    assert_eq!(found.len(), 10);
    let levels: &[(u32, Severity, Confidence, &str)] = &[
        // Two levels lower.
        (14, Severity::Medium, Confidence::High, "author-association"),
        (79, Severity::Medium, Confidence::High, "needs-gate"),
        // One level lower.
        (22, Severity::High, Confidence::High, "environment"),
        (30, Severity::High, Confidence::High, "actor-guard"),
        (40, Severity::High, Confidence::High, "maintainer-check"),
        (87, Severity::High, Confidence::High, "label-gate"),
        // Capped.
        (48, Severity::High, Confidence::High, "actor-guard"),
        (57, Severity::Low, Confidence::High, "read-only-token"),
        // Info.
        (65, Severity::Info, Confidence::Low, "no-token"),
        (95, Severity::Info, Confidence::Low, "fork-guard"),
    ];
    for &(line, severity, confidence, kind) in levels {
        assert_level(&found, line, severity, confidence, Some(kind));
    }
    assert!(at(&found, 48).message.contains("to a bot"));
}

#[test]
fn fg017_comments_payloads_and_unreachable() {
    let found = findings("fg017-comment-and-dispatch.yml", "FG-017");
    assert_eq!(found.len(), 4);
    assert_result(
        at(&found, 21),
        Severity::High,
        Confidence::High,
        &["attacker-controlled", "github.event.comment.body"],
    );
    assert_result(
        at(&found, 22),
        Severity::High,
        Confidence::High,
        &["toJSON(github.event)"],
    );
    assert_result(
        at(&found, 23),
        Severity::Medium,
        Confidence::Medium,
        &["caller-controlled", "client_payload"],
    );
    // No trigger of the workflow fills `pull_request`: Low confidence.
    assert_result(
        at(&found, 24),
        Severity::High,
        Confidence::Low,
        &["no trigger of this workflow sets it"],
    );
}

#[test]
fn fg018_case_insensitive_and_reusable_workflows() {
    let found = findings("fg018-reusable-and-case.yml", "FG-018");
    assert_eq!(found.len(), 4);
    for line in [12, 13, 15, 17] {
        assert_level(&found, line, Severity::Low, Confidence::Low, None);
    }
    assert!(at(&found, 12).message.contains("`reviewdog/action-setup`"));
    assert!(
        at(&found, 15)
            .message
            .contains("2222222222222222222222222222222222222222")
    );
}

#[test]
fn fg019_scheme_userinfo_and_lone_password() {
    let found = findings("fg019-docker-scheme-and-password-only.yml", "FG-019");
    assert_eq!(found.len(), 3);
    assert_result(
        at(&found, 10),
        Severity::High,
        Confidence::High,
        &["`container`", "user `deploy`"],
    );
    assert_result(
        at(&found, 13),
        Severity::High,
        Confidence::High,
        &["service `api`", "user `svc`"],
    );
    assert_result(
        at(&found, 17),
        Severity::High,
        Confidence::High,
        &["service `queue`", "a literal password"],
    );
}

#[test]
fn fg020_branch_like_names() {
    let found = findings("fg020-branch-like-names.yml", "FG-020");
    assert_eq!(found.len(), 4);
    for line in [12, 13, 14, 16] {
        assert_eq!(at(&found, line).confidence, Confidence::Low);
    }
    assert!(at(&found, 16).message.contains("`stable`"));
}

#[test]
fn fg021_sources_and_tiers() {
    let found = findings("fg021-inputs-and-set-output.yml", "FG-021");
    assert_eq!(found.len(), 4);
    // Workflow-level env read by the producer.
    assert_result(
        at(&found, 27),
        Severity::High,
        Confidence::High,
        &["github.event.pull_request.body (via `$PR_BODY`)"],
    );
    // `::set-output` from a job-level env.
    assert_result(
        at(&found, 28),
        Severity::High,
        Confidence::High,
        &["github.head_ref (via `$HEAD`)"],
    );
    assert_result(
        at(&found, 29),
        Severity::Medium,
        Confidence::Medium,
        &["inputs.note"],
    );
    assert_result(
        at(&found, 30),
        Severity::High,
        Confidence::Low,
        &["no trigger of this workflow sets the source"],
    );
}

#[test]
fn fg022_other_advisories() {
    let found = findings("fg022-more-advisories.yml", "FG-022");
    assert_eq!(found.len(), 5);
    assert_result(
        at(&found, 10),
        Severity::High,
        Confidence::High,
        &["CVE-2023-49291", "7.0.7"],
    );
    assert_result(
        at(&found, 11),
        Severity::High,
        Confidence::High,
        &["CVE-2023-27581"],
    );
    assert_result(
        at(&found, 12),
        Severity::High,
        Confidence::High,
        &["CVE-2021-32724"],
    );
    // The advisory's own severity (the data file rates this entry low).
    assert_result(
        at(&found, 13),
        Severity::Low,
        Confidence::High,
        &["CVE-2025-30154", "`v1`"],
    );
    assert_result(
        at(&found, 14),
        Severity::Critical,
        Confidence::High,
        &["compromised in every version"],
    );
}

#[test]
fn fg023_paths_and_each_safeguard() {
    let found = findings("fg023-checkout-dir-and-globs.yml", "FG-023");
    assert_eq!(found.len(), 3);
    assert_result(
        at(&found, 19),
        Severity::Medium,
        Confidence::High,
        &["checkout directory `src/`"],
    );
    assert_result(
        at(&found, 23),
        Severity::Medium,
        Confidence::High,
        &["`**/.git`"],
    );
    assert_result(
        at(&found, 27),
        Severity::Medium,
        Confidence::High,
        &["whole workspace (`$GITHUB_WORKSPACE/`)"],
    );
    let found = findings("fg023-more-mitigations.yml", "FG-023");
    assert_eq!(found.len(), 4);
    assert_level(
        &found,
        13,
        Severity::Info,
        Confidence::Low,
        Some("git-excluded"),
    );
    assert_level(
        &found,
        20,
        Severity::Info,
        Confidence::Low,
        Some("git-excluded"),
    );
    assert_level(
        &found,
        27,
        Severity::Info,
        Confidence::Low,
        Some("credentials-outside-git"),
    );
    // No earlier checkout: Low with Low confidence, without a mitigation.
    assert_result(
        at(&found, 34),
        Severity::Low,
        Confidence::Low,
        &["no earlier checkout"],
    );
    assert!(at(&found, 34).mitigations.is_empty());
}

#[test]
fn fg024_targets_tiers_and_each_safeguard() {
    let found = findings("fg024-comment-bot.yml", "FG-024");
    assert_eq!(found.len(), 5);
    assert_level(&found, 17, Severity::Critical, Confidence::High, None);
    assert!(at(&found, 17).message.contains("via `$COMMENT`"));
    assert_level(&found, 18, Severity::Critical, Confidence::High, None);
    assert_level(&found, 19, Severity::Medium, Confidence::High, None);
    // Single-line value (two levels lower) that no trigger fills (Low confidence).
    assert_level(
        &found,
        20,
        Severity::Medium,
        Confidence::Low,
        Some("single-line-value"),
    );
    // For `$GITHUB_PATH` a title is the whole line: not lowered.
    assert_level(&found, 21, Severity::Critical, Confidence::High, None);
    assert!(at(&found, 21).message.contains("`$GITHUB_PATH`"));

    let found = findings("fg024-safeguard-levels.yml", "FG-024");
    assert_eq!(found.len(), 8);
    let levels: &[(u32, Severity, Confidence, &str)] = &[
        (13, Severity::Medium, Confidence::High, "author-association"),
        (54, Severity::Medium, Confidence::High, "needs-gate"),
        (18, Severity::High, Confidence::High, "actor-guard"),
        (32, Severity::High, Confidence::High, "maintainer-check"),
        (59, Severity::High, Confidence::High, "label-gate"),
        (23, Severity::High, Confidence::High, "actor-guard"),
        (38, Severity::Low, Confidence::High, "read-only-token"),
        (43, Severity::Info, Confidence::Low, "no-token"),
    ];
    for &(line, severity, confidence, kind) in levels {
        assert_level(&found, line, severity, confidence, Some(kind));
    }

    let found = findings("fg024-pull-request-only.yml", "FG-024");
    assert_eq!(found.len(), 2);
    assert_level(
        &found,
        13,
        Severity::Medium,
        Confidence::High,
        Some("unprivileged-event"),
    );
    // `$GITHUB_OUTPUT` starts at Medium; two levels lower is Info.
    assert_level(
        &found,
        14,
        Severity::Info,
        Confidence::Low,
        Some("unprivileged-event"),
    );
}

#[test]
fn fg025_other_indicator_kinds() {
    let found = findings("fg025-worm-and-exfil.yml", "FG-025");
    assert_eq!(found.len(), 4);
    for line in [12, 14, 16, 17] {
        assert_level(&found, line, Severity::Critical, Confidence::High, None);
    }
    assert!(at(&found, 17).message.contains("ultralytics==8.3.46"));
}

#[test]
fn fg026_tiers_and_each_safeguard() {
    let found = findings("fg026-tag-release-triggers.yml", "FG-026");
    assert_eq!(found.len(), 2);
    assert_result(
        at(&found, 16),
        Severity::Medium,
        Confidence::Medium,
        &[
            "`bundle install`",
            "`gem push`",
            "a release, tag or manual trigger",
        ],
    );
    assert_result(
        at(&found, 24),
        Severity::Medium,
        Confidence::Medium,
        &["`pip3 install -e .`", "twine upload"],
    );
    let found = findings("fg026-mitigated-levels.yml", "FG-026");
    assert_eq!(found.len(), 5);
    // Critical (outsider trigger), one level lower per safeguard.
    assert_level(
        &found,
        15,
        Severity::High,
        Confidence::Medium,
        Some("tag-guard"),
    );
    assert_level(
        &found,
        22,
        Severity::High,
        Confidence::Medium,
        Some("tag-guard"),
    );
    assert_level(
        &found,
        31,
        Severity::High,
        Confidence::Medium,
        Some("actor-allowlist"),
    );
    // A push-only publishing step moves the job to the ordinary tier.
    assert_level(
        &found,
        39,
        Severity::High,
        Confidence::Medium,
        Some("publish-guard"),
    );
    assert!(at(&found, 39).message.contains("an ordinary trigger"));
    // Environment and tag guard: two levels.
    let both = at(&found, 49);
    assert_eq!(both.severity, Severity::Medium, "{both:#?}");
    assert!(has_mitigation(both, "environment") && has_mitigation(both, "tag-guard"));
}

#[test]
fn fg027_step_gate_stripping_and_fork_guard() {
    let found = findings("fg027-step-gate-and-stripping.yml", "FG-027");
    assert_eq!(found.len(), 1);
    assert_result(
        at(&found, 12),
        Severity::Medium,
        Confidence::High,
        &["`run-benchmarks`", "actions-ecosystem/action-remove-labels"],
    );
    assert!(has_mitigation(at(&found, 12), "label-stripping"));
    let found = findings("fg027-fork-guard-info.yml", "FG-027");
    assert_eq!(found.len(), 1);
    assert_level(
        &found,
        8,
        Severity::Info,
        Confidence::Low,
        Some("fork-guard"),
    );
}
