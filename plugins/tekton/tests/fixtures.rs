//! Runs the pack natively over every fixture in `tests/fixtures/tekton/` (files, and
//! directories scanned as one repository) and checks the inline `# expect:` /
//! `# expect-none:` markers; checks every rule has a documentation page.

use std::path::{Path, PathBuf};

use sluice_pack_sdk::Pack as _;
use sluice_pack_sdk::testing::{self, Expectations};
use sluice_pack_tekton::{Tekton, rules};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/tekton")
}

/// Every file below `dir`, as (path relative to `dir`, content).
fn files_below(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("fixture directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .expect("below the fixture")
                    .to_string_lossy()
                    .replace('\\', "/");
                let content = std::fs::read_to_string(&path).expect("fixtures are UTF-8");
                found.push((relative, content));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_fixture_matches_its_expectations() {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixture directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 2, "expected the full fixture set");
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let name = fixture
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 names")
            .to_owned();
        // A file is scanned on its own, under its bare name (outside any Tekton directory,
        // as the CLI harness presents it); a directory as a repository.
        let files = if fixture.is_dir() {
            files_below(fixture)
        } else {
            vec![(
                name.clone(),
                std::fs::read_to_string(fixture).expect("fixtures are UTF-8"),
            )]
        };
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let output = testing::scan::<Tekton>(&borrowed);
        if !output.errors.is_empty() {
            failures.push(format!("{name}: errors {:?}", output.errors));
            continue;
        }
        let mut named_any = false;
        for (path, content) in &files {
            let expectations = Expectations::parse(content);
            named_any |= !expectations.rules.is_empty();
            if let Err(problems) =
                expectations.check(output.findings.iter().filter(|f| &f.path == path))
            {
                let found: Vec<String> = output
                    .findings
                    .iter()
                    .filter(|f| &f.path == path)
                    .map(|f| {
                        format!(
                            "{}:{} {} {}/{} {}",
                            f.rule_id,
                            f.span.start_line,
                            f.path,
                            f.severity,
                            f.confidence,
                            f.message
                        )
                    })
                    .collect();
                failures.push(format!("{name}/{path}:\n{problems}\n{}", found.join("\n")));
            }
        }
        if !named_any {
            failures.push(format!("{name}: names no rule"));
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures failed:\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn every_rule_has_a_documentation_page() {
    let info = Tekton::info();
    assert_eq!(info.rules.len(), rules::ALL.len());
    for rule in rules::ALL {
        let page = repo_root().join(format!("docs/rules/{}.md", rule.id));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|_| panic!("{} has no page at {}", rule.id, page.display()));
        assert!(
            text.starts_with(&format!("# {} — ", rule.id)),
            "{} must start with `# {} — <title>`",
            page.display(),
            rule.id
        );
        for section in [
            "## What it detects",
            "## Severity and confidence",
            "## Not reported",
        ] {
            assert!(
                text.contains(section),
                "{} lacks `{section}`",
                page.display()
            );
        }
    }
}

/// Prints the findings for the files or directory in `TEKTON_DUMP` (for reviewing verdicts:
/// `TEKTON_DUMP=path cargo test -p sluice-pack-tekton --test fixtures dump -- --ignored
/// --nocapture`).
#[test]
#[ignore = "a review aid, not a check"]
fn dump() {
    let Ok(target) = std::env::var("TEKTON_DUMP") else {
        return;
    };
    let target = PathBuf::from(target);
    let files = if target.is_dir() {
        files_below(&target)
    } else {
        vec![(
            target.to_string_lossy().into_owned(),
            std::fs::read_to_string(&target).expect("readable"),
        )]
    };
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let output = testing::scan::<Tekton>(&borrowed);
    for f in &output.findings {
        println!(
            "{} {}:{}:{} {}/{} {} {:?}",
            f.rule_id,
            f.path,
            f.span.start_line,
            f.span.start_column,
            f.severity,
            f.confidence,
            f.message,
            f.mitigations.iter().map(|m| &m.kind).collect::<Vec<_>>()
        );
    }
    for e in &output.errors {
        println!("ERROR {} {}", e.path, e.message);
    }
}
