//! Robustness on real pipelines: every GitHub Actions workflow of the shared corpus
//! (~2,200 files from ~200 public repositories, `../shared/corpus`) is scanned without a pack
//! error, a timeout or a crash; the only parse errors allowed are files that are genuinely
//! invalid YAML, listed here with the reason.

mod support;

use support::{code, json, repo_root, run};

/// Corpus files that are not valid YAML (path relative to the platform directory, why).
const GITHUB_ACTIONS_INVALID: &[(&str, &str)] = &[];

#[test]
fn github_actions_corpus_scans_cleanly() {
    let corpus = repo_root().join("../shared/corpus/github-actions");
    assert!(
        corpus.is_dir(),
        "the shared corpus must be checked out beside the repository at {}",
        corpus.display()
    );
    let expected_files = walk_count(&corpus);
    let output = run(&[
        "scan",
        "--platform",
        "github-actions",
        "--format",
        "json",
        "--fail-on",
        "never",
        "../shared/corpus/github-actions",
    ]);
    let report = json(&output);
    let mut unexpected = Vec::new();
    let mut seen_invalid = Vec::new();
    for error in report["errors"].as_array().expect("errors") {
        let path = error["path"].as_str().unwrap_or_default();
        let relative = path
            .strip_prefix("../shared/corpus/github-actions/")
            .unwrap_or(path);
        if error["kind"] == "parse"
            && GITHUB_ACTIONS_INVALID
                .iter()
                .any(|(file, _)| *file == relative)
        {
            seen_invalid.push(relative.to_owned());
        } else {
            unexpected.push(error.to_string());
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected errors:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for (file, why) in GITHUB_ACTIONS_INVALID {
        assert!(
            seen_invalid.iter().any(|seen| seen == file),
            "{file} is listed as invalid ({why}) but scanned without a parse error"
        );
    }
    assert_eq!(
        report["summary"]["files"].as_u64(),
        Some(expected_files),
        "every corpus file must be scanned"
    );
    assert!(
        report["summary"]["findings"].as_u64().expect("count") > 1000,
        "real workflows have many unpinned actions; far too few findings"
    );
    let expected_code = if GITHUB_ACTIONS_INVALID.is_empty() {
        0
    } else {
        2
    };
    assert_eq!(code(&output), expected_code);
}

fn walk_count(dir: &std::path::Path) -> u64 {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("read corpus dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            count += walk_count(&path);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            count += 1;
        }
    }
    count
}
