//! Rule documentation is generated from the packs' metadata (`sluice rules --format markdown`)
//! and committed in `docs/rules/`; this test fails when the two drift apart, and checks that
//! `sluice explain` and SARIF carry the same pages.

mod support;

use std::collections::BTreeSet;

use support::{code, json, repo_root, run, stderr, stdout};

const REGENERATE: &str = "cargo run --release -- rules --format markdown --output-dir docs/rules";

#[test]
fn committed_rule_pages_match_the_packs_metadata() {
    let generated = tempfile::tempdir().expect("temp dir");
    let dir = generated.path().to_str().expect("UTF-8 temp path");
    let output = run(&["rules", "--format", "markdown", "--output-dir", dir]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let names = |path: &std::path::Path| -> BTreeSet<String> {
        std::fs::read_dir(path)
            .expect("readable directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".md"))
            .collect()
    };
    let committed_dir = repo_root().join("docs/rules");
    let expected = names(generated.path());
    let committed = names(&committed_dir);
    assert!(
        expected.len() >= 75,
        "every built-in rule has a page: {expected:?}"
    );
    assert_eq!(
        committed, expected,
        "docs/rules has pages for other rules than the packs declare; run `{REGENERATE}`"
    );
    let mut drifted = Vec::new();
    for name in &expected {
        let fresh = std::fs::read_to_string(generated.path().join(name)).expect("generated");
        let old = std::fs::read_to_string(committed_dir.join(name)).expect("committed");
        if fresh != old {
            drifted.push(name.clone());
        }
    }
    assert!(
        drifted.is_empty(),
        "docs/rules is out of date for {drifted:?}; run `{REGENERATE}`"
    );
}

#[test]
fn explain_prints_the_rule_page() {
    let output = run(&["explain", "gl-012"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let page = stdout(&output);
    let committed =
        std::fs::read_to_string(repo_root().join("docs/rules/GL-012.md")).expect("page");
    assert_eq!(page, committed);
    for section in [
        "## What it detects",
        "## How to suppress",
        "sluice: ignore[GL-012]",
    ] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    let groovy = stdout(&run(&["explain", "JK-002"]));
    assert!(groovy.contains("// sluice: ignore[JK-002]"), "{groovy}");
}

#[test]
fn explain_rejects_unknown_rules_naming_the_family() {
    let output = run(&["explain", "FG-999"]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("FG-999") && message.contains("FG-001"),
        "{message}"
    );
}

#[test]
fn output_dir_needs_markdown() {
    let output = run(&["rules", "--output-dir", "somewhere"]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--format markdown"));
}

#[test]
fn sarif_rules_carry_the_page_and_link_it() {
    let output = run(&[
        "scan",
        "--format",
        "sarif",
        "--fail-on",
        "never",
        "examples/insecure-pipelines",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let sarif = json(&output);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["id"] == "GL-012")
        .expect("GL-012 is declared");
    assert_eq!(
        rule["helpUri"],
        "https://github.com/sluice-dev/sluice/blob/main/docs/rules/GL-012.md"
    );
    let committed =
        std::fs::read_to_string(repo_root().join("docs/rules/GL-012.md")).expect("page");
    assert_eq!(rule["help"]["markdown"], committed.as_str());
}
