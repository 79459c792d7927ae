//! Runs the pack natively over every fixture in `tests/fixtures/gitlab-ci/` (files, and
//! directories scanned as one repository) and checks the inline `# expect:` markers.

use std::path::{Path, PathBuf};

use sluice_pack_gitlab_ci::GitlabCi;
use sluice_pack_sdk::Pack as _;
use sluice_pack_sdk::testing::{self, Expectations};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gitlab-ci")
}

fn members(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable fixture directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(members(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_fixture_matches_its_expectations() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixture directory exists")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 25, "found {} fixtures", entries.len());
    let mut failures = Vec::new();
    for entry in &entries {
        let (base, files) = if entry.is_dir() {
            (entry.clone(), members(entry))
        } else {
            (
                entry.parent().expect("parent").to_owned(),
                vec![entry.clone()],
            )
        };
        let contents: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                (
                    f.strip_prefix(&base)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned(),
                    std::fs::read_to_string(f).expect("UTF-8 fixture"),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = contents
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let output = testing::scan::<GitlabCi>(&borrowed);
        if !output.errors.is_empty() {
            failures.push(format!("{}: {:?}", entry.display(), output.errors));
            continue;
        }
        for (path, content) in &contents {
            let expectations = Expectations::parse(content);
            if let Err(problems) =
                expectations.check(output.findings.iter().filter(|f| &f.path == path))
            {
                let relevant: Vec<String> = output
                    .findings
                    .iter()
                    .filter(|f| &f.path == path && expectations.rules.contains(&f.rule_id))
                    .map(|f| {
                        format!(
                            "{}:{} {} {}",
                            f.span.start_line, f.rule_id, f.severity, f.message
                        )
                    })
                    .collect();
                failures.push(format!(
                    "{path}:\n  {}\n  findings:\n    {}",
                    problems.replace('\n', "\n  "),
                    relevant.join("\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_doc_page() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    for rule in GitlabCi::info().rules {
        let page = docs.join(format!("{}.md", rule.id));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{} has no doc page at {}: {e}", rule.id, page.display()));
        assert!(
            text.starts_with(&format!("# {} ", rule.id)),
            "{} does not start with its rule id",
            page.display()
        );
    }
}

#[test]
fn findings_are_valid_and_pack_metadata_is_consistent() {
    let content =
        std::fs::read_to_string(fixture_dir().join("parsing-mixed-job.yml")).expect("fixture");
    let request = sluice_pack_sdk::ScanRequest {
        files: vec![sluice_pack_sdk::SourceFile {
            path: ".gitlab-ci.yml".to_owned(),
            content,
        }],
        options: Vec::new(),
    };
    let output = testing::scan_request::<GitlabCi>(&request);
    let problems = testing::validate::<GitlabCi>(&request, &output);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(!output.findings.is_empty());
}
