//! Robustness on real pipelines: every file of the shared corpus (`../shared/corpus`, real
//! pipelines from ~300 public repositories) for a platform is scanned through the real binary
//! and the embedded pack without a pack error, a timeout or a crash; the only parse errors
//! allowed are files that are genuinely invalid, listed here with the reason.

mod support;

use support::{code, json, repo_root, run};

/// Corpus files that are not valid pipelines (path relative to the platform directory, why).
type Invalid = &'static [(&'static str, &'static str)];

const GITHUB_ACTIONS_INVALID: Invalid = &[];
const GITLAB_CI_INVALID: Invalid = &[];
const AZURE_PIPELINES_INVALID: Invalid = &[
    (
        "microsoft__azure-pipelines-agent/docs__preview__outdated__yaml__dot-net-core-template.yaml",
        "a Mustache template (`{{#each variables}}`), not YAML",
    ),
    (
        "microsoft__azure-pipelines-agent/docs__preview__outdated__yaml__vsbuild-template.yaml",
        "a Mustache template (`{{#matrix}}`), not YAML",
    ),
    (
        "microsoft__azure-pipelines-yaml/templates__deploy-to-existing-kubernetes-cluster.yml",
        "a Mustache template (`{{#if reviewApp}}`), not YAML",
    ),
    (
        "microsoft__azure-pipelines-yaml/templates__resources__k8s__deployment.yml",
        "a Mustache template (`{{#toAlphaNumericString …}}`), not YAML",
    ),
];
const JENKINS_INVALID: Invalid = &[(
    "jenkinsci__jenkinsfile-runner/demo__pipeline-as-yaml__Jenkinsfile.yml",
    "Pipeline-as-YAML (a plugin's YAML format), not a Groovy Jenkinsfile",
)];
const TEKTON_INVALID: Invalid = &[];
const CIRCLECI_INVALID: Invalid = &[];

#[test]
fn github_actions_corpus_scans_cleanly() {
    // Real workflows have many unpinned actions.
    check_corpus("github-actions", GITHUB_ACTIONS_INVALID, 1000);
}

#[test]
fn gitlab_ci_corpus_scans_cleanly() {
    // Measured 659 findings (mostly GL-011 images, GL-001 MR builds, GL-003 includes).
    check_corpus("gitlab-ci", GITLAB_CI_INVALID, 340);
}

#[test]
fn azure_pipelines_corpus_scans_cleanly() {
    check_corpus("azure-pipelines", AZURE_PIPELINES_INVALID, 620);
}

#[test]
fn jenkins_corpus_scans_cleanly() {
    check_corpus("jenkins", JENKINS_INVALID, 100);
}

#[test]
fn tekton_corpus_scans_cleanly() {
    check_corpus("tekton", TEKTON_INVALID, 2000);
}

#[test]
fn circleci_corpus_scans_cleanly() {
    check_corpus("circleci", CIRCLECI_INVALID, 110);
}

fn check_corpus(platform: &str, invalid: Invalid, min_findings: u64) {
    let relative_corpus = format!("../shared/corpus/{platform}");
    let corpus = repo_root().join(&relative_corpus);
    assert!(
        corpus.is_dir(),
        "the shared corpus must be checked out beside the repository at {}",
        corpus.display()
    );
    let expected_files = walk_count(&corpus);
    let output = run(&[
        "scan",
        "--platform",
        platform,
        "--format",
        "json",
        "--fail-on",
        "never",
        &relative_corpus,
    ]);
    let report = json(&output);
    let prefix = format!("{relative_corpus}/");
    let mut unexpected = Vec::new();
    let mut seen_invalid = Vec::new();
    for error in report["errors"].as_array().expect("errors") {
        let path = error["path"].as_str().unwrap_or_default();
        let relative = path.strip_prefix(&prefix).unwrap_or(path);
        if error["kind"] == "parse" && invalid.iter().any(|(file, _)| *file == relative) {
            seen_invalid.push(relative.to_owned());
        } else {
            unexpected.push(error.to_string());
        }
    }
    assert!(
        unexpected.is_empty(),
        "{platform}: {} unexpected errors:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for (file, why) in invalid {
        assert!(
            seen_invalid.iter().any(|seen| seen == file),
            "{file} is listed as invalid ({why}) but scanned without a parse error"
        );
    }
    assert_eq!(
        report["summary"]["files"].as_u64(),
        Some(expected_files),
        "every {platform} corpus file must be scanned"
    );
    let findings = report["summary"]["findings"].as_u64().expect("count");
    assert!(
        findings >= min_findings,
        "{platform}: {findings} findings; real pipelines give at least {min_findings}"
    );
    let expected_code = if invalid.is_empty() { 0 } else { 2 };
    assert_eq!(code(&output), expected_code);
}

fn walk_count(dir: &std::path::Path) -> u64 {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("read corpus dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            count += walk_count(&path);
        } else {
            // The corpus holds only pipeline files (YAML, and Jenkinsfiles of any name).
            count += 1;
        }
    }
    count
}
