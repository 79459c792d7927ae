//! Severities, confidences and mitigations of the fixtures: the line markers only check where
//! findings are, these check how bad they are said to be.

use std::path::PathBuf;

use sluice_pack_gitlab_ci::GitlabCi;
use sluice_pack_sdk::{Finding, Severity, testing};

fn scan(name: &str) -> Vec<Finding> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/gitlab-ci")
        .join(name);
    let content = std::fs::read_to_string(path).expect("fixture");
    testing::scan::<GitlabCi>(&[(".gitlab-ci.yml", &content)]).findings
}

fn at(findings: &[Finding], rule: &str, line: u32) -> Finding {
    findings
        .iter()
        .find(|f| f.rule_id == rule && f.span.start_line == line)
        .unwrap_or_else(|| panic!("no {rule} on line {line}: {findings:#?}"))
        .clone()
}

fn kinds(finding: &Finding) -> Vec<&str> {
    finding
        .mitigations
        .iter()
        .map(|m| m.kind.as_str())
        .collect()
}

#[test]
fn include_severities() {
    let findings = scan("gl003-includes.yml");
    assert_eq!(at(&findings, "GL-003", 2).severity, Severity::High);
    assert_eq!(at(&findings, "GL-003", 3).severity, Severity::Medium);
    assert_eq!(
        at(&findings, "GL-003", 5).severity,
        Severity::Info,
        "commit-pinned URL"
    );
    assert_eq!(
        at(&findings, "GL-003", 6).severity,
        Severity::Medium,
        "no ref"
    );
    assert_eq!(
        at(&findings, "GL-003", 11).severity,
        Severity::Low,
        "version tag"
    );
    assert_eq!(
        at(&findings, "GL-003", 14).severity,
        Severity::Medium,
        "~latest"
    );
    assert_eq!(at(&findings, "GL-003", 15).severity, Severity::Low);
    assert_eq!(
        at(&findings, "GL-003", 16).severity,
        Severity::Info,
        "template"
    );
    let single = scan("gl003-http-string.yml");
    assert_eq!(at(&single, "GL-003", 2).severity, Severity::High);
}

#[test]
fn mr_gates_lower_but_do_not_suppress() {
    let findings = scan("gl001-mr-build-with-secrets.yml");
    let open = at(&findings, "GL-001", 12);
    assert_eq!(open.severity, Severity::High, "handles $DEPLOY_TOKEN");
    assert_eq!(kinds(&open), ["fork-pipelines-run-in-fork"]);
    let gated = at(&findings, "GL-001", 21);
    // Medium (no visible secret), one level per gate.
    assert_eq!(
        gated.severity,
        Severity::Info,
        "same-project-only and manual"
    );
    assert_eq!(kinds(&gated), ["same-project-only", "manual-gate"]);
}

#[test]
fn cache_pull_policy_and_ref_scoped_keys_are_info() {
    let findings = scan("gl010-shared-cache-mr.yml");
    assert_eq!(at(&findings, "GL-010", 3).severity, Severity::Medium);
    assert_eq!(
        at(&findings, "GL-010", 19).severity,
        Severity::Info,
        "ref-scoped"
    );
    let pull = findings
        .iter()
        .find(|f| f.rule_id == "GL-010" && f.message.contains("lint-cache"))
        .expect("pull-policy cache is reported");
    assert_eq!(pull.severity, Severity::Info);
    assert!(kinds(pull).contains(&"pull-policy"));
}

#[test]
fn injection_and_download_severities() {
    let findings = scan("gl002-input-interpolation.yml");
    assert_eq!(
        at(&findings, "GL-002", 15).severity,
        Severity::Medium,
        "string input"
    );
    assert_eq!(
        at(&findings, "GL-002", 25).severity,
        Severity::High,
        "eval on MR"
    );
    let downloads = scan("gl013-curl-pipe.yml");
    assert_eq!(at(&downloads, "GL-013", 3).severity, Severity::Medium);
    assert_eq!(
        at(&downloads, "GL-013", 5).severity,
        Severity::High,
        "plain http"
    );
    assert_eq!(
        at(&downloads, "GL-013", 6).severity,
        Severity::Info,
        "commit-pinned"
    );
    let images = scan("gl011-unpinned-images.yml");
    assert_eq!(at(&images, "GL-011", 4).severity, Severity::High, "no tag");
    assert_eq!(at(&images, "GL-011", 8).severity, Severity::Medium, "tag");
}
