//! Native test harness: run a pack's rules with plain `cargo test`, check the output the way the
//! host would, and compare it with expectations written inline in fixture files.
//!
//! Fixture files carry their expectations in comments:
//! `run: echo "${{ github.event.issue.title }}"  # expect: FG-002` — a finding of `FG-002` must
//! start on this line (repeat the id, or list several separated by commas, for several findings);
//! `# expect-none: FG-001` anywhere — `FG-001` must not fire in this file except where an
//! `expect:` says so. Groovy files use `// expect: JK-002`. Only rules a file names are checked.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::types::{Finding, Pack, ScanOutput, ScanRequest, SourceFile};

/// Runs `P` over `files` (path, content) and checks the output as the host would: every rule id
/// declared, every span inside its file. Panics (this is a test helper) on a pack error or an
/// invalid output, with a message saying what is wrong.
pub fn scan<P: Pack>(files: &[(&str, &str)]) -> ScanOutput {
    let request = ScanRequest {
        files: files
            .iter()
            .map(|(path, content)| SourceFile {
                path: (*path).to_owned(),
                content: (*content).to_owned(),
            })
            .collect(),
        options: Vec::new(),
    };
    scan_request::<P>(&request)
}

/// Like [`scan`], with a full request (options included).
pub fn scan_request<P: Pack>(request: &ScanRequest) -> ScanOutput {
    let output = match P::scan(request) {
        Ok(output) => output,
        Err(message) => panic!("pack returned an error: {message}"),
    };
    let problems = validate::<P>(request, &output);
    assert!(
        problems.is_empty(),
        "pack output is invalid:\n{}",
        problems.join("\n")
    );
    output
}

/// What the host would reject in a pack's output.
pub fn validate<P: Pack>(request: &ScanRequest, output: &ScanOutput) -> Vec<String> {
    let info = P::info();
    let declared: HashSet<&str> = info.rules.iter().map(|r| r.id).collect();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for rule in &info.rules {
        if !seen.insert(rule.id) {
            problems.push(format!("rule id {} is declared twice", rule.id));
        }
    }
    for finding in &output.findings {
        if !declared.contains(finding.rule_id.as_str()) {
            problems.push(format!(
                "finding for undeclared rule {} in {}",
                finding.rule_id, finding.path
            ));
        }
        match request.file(&finding.path) {
            None => problems.push(format!(
                "{} finding for {} which was not in the request",
                finding.rule_id, finding.path
            )),
            Some(file) => {
                let span = finding.span;
                let len = u32::try_from(file.content.len()).unwrap_or(u32::MAX);
                if span.start_byte > span.end_byte || span.end_byte > len || span.start_line == 0 {
                    problems.push(format!(
                        "{} finding in {} has a span outside the file: {span:?}",
                        finding.rule_id, finding.path
                    ));
                }
            }
        }
        if finding.fingerprint_key.is_empty() {
            problems.push(format!(
                "{} finding in {} line {} has no fingerprint key",
                finding.rule_id, finding.path, finding.span.start_line
            ));
        }
    }
    problems
}

/// The expectations written in one fixture file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// (line, rule id) → how many findings must start there.
    pub expected: BTreeMap<(u32, String), usize>,
    /// Every rule the file names, in `expect:` or `expect-none:`; only these are checked.
    pub rules: BTreeSet<String>,
}

impl Expectations {
    /// Reads `# expect: A, B` / `// expect: A` / `expect-none: A` markers from a file.
    pub fn parse(content: &str) -> Expectations {
        let mut expectations = Expectations::default();
        for (index, line) in content.lines().enumerate() {
            let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            for (marker, expects) in [("expect-none:", false), ("expect:", true)] {
                let Some(at) = find_marker(line, marker) else {
                    continue;
                };
                let ids = &line[at + marker.len()..];
                for id in ids
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|s| is_rule_id(s))
                {
                    expectations.rules.insert(id.to_owned());
                    if expects {
                        *expectations
                            .expected
                            .entry((line_number, id.to_owned()))
                            .or_default() += 1;
                    }
                }
            }
        }
        expectations
    }

    /// Compares findings (of one file) with the expectations; `Err` lists every missing and
    /// unexpected finding of the rules the file names.
    pub fn check<'f>(&self, findings: impl IntoIterator<Item = &'f Finding>) -> Result<(), String> {
        let mut actual: BTreeMap<(u32, String), usize> = BTreeMap::new();
        for finding in findings {
            if self.rules.contains(&finding.rule_id) {
                *actual
                    .entry((finding.span.start_line, finding.rule_id.clone()))
                    .or_default() += 1;
            }
        }
        compare(&self.expected, &actual)
    }
}

/// Compares expected and actual (line, rule) counts; shared with the host-side fixture harness.
pub fn compare(
    expected: &BTreeMap<(u32, String), usize>,
    actual: &BTreeMap<(u32, String), usize>,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for (key, want) in expected {
        let got = actual.get(key).copied().unwrap_or(0);
        if got < *want {
            problems.push(format!(
                "missing: {} on line {} (expected {want}, found {got})",
                key.1, key.0
            ));
        }
    }
    for (key, got) in actual {
        let want = expected.get(key).copied().unwrap_or(0);
        if *got > want {
            problems.push(format!(
                "unexpected: {} on line {} (expected {want}, found {got})",
                key.1, key.0
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Where `marker` starts as an expectation comment (`# marker` or `// marker`) in `line`.
fn find_marker(line: &str, marker: &str) -> Option<usize> {
    let mut search_from = 0;
    while let Some(found) = line[search_from..].find(marker) {
        let at = search_from + found;
        let before = line[..at].trim_end();
        if before.ends_with('#') || before.ends_with("//") {
            return Some(at);
        }
        search_from = at + marker.len();
    }
    None
}

/// `FG-001`, `GL-010`, `XX-1234`: letters, a dash, digits.
fn is_rule_id(text: &str) -> bool {
    let Some((prefix, number)) = text.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

/// Runs `P` over one fixture and checks its inline expectations; panics with every mismatch.
/// `extra` are other files of the same repository (local actions, reusable workflows).
pub fn check_fixture<P: Pack>(path: &str, content: &str, extra: &[(&str, &str)]) {
    let mut files = vec![(path, content)];
    files.extend_from_slice(extra);
    let output = scan::<P>(&files);
    let expectations = Expectations::parse(content);
    assert!(
        !expectations.rules.is_empty(),
        "{path} names no rule in `expect:` or `expect-none:`"
    );
    if let Err(problems) = expectations.check(output.findings.iter().filter(|f| f.path == path)) {
        panic!("{path}:\n{problems}\nfindings: {:#?}", output.findings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Confidence, RuleMeta, Severity, Span};

    const RULE: RuleMeta = RuleMeta {
        id: "XX-001",
        name: "x",
        title: "x",
        default_severity: Severity::High,
        default_confidence: Confidence::High,
        description: "",
        remediation: "",
        help_uri: "",
        tags: &[],
    };

    fn at(line: u32) -> Finding {
        Finding::new(
            &RULE,
            "f",
            Span {
                start_line: line,
                ..Span::default()
            },
        )
    }

    #[test]
    fn parses_markers() {
        let e = Expectations::parse(
            "a: 1 # expect: XX-001, XX-001\nb: 2 # expect-none: XX-002\nc: \"# expect: not-an-id\"\n// expect: JK-003\n",
        );
        assert_eq!(e.expected.get(&(1, "XX-001".to_owned())), Some(&2));
        assert_eq!(e.expected.get(&(4, "JK-003".to_owned())), Some(&1));
        assert!(e.rules.contains("XX-002"));
        assert_eq!(e.expected.len(), 2);
    }

    #[test]
    fn check_reports_missing_and_unexpected() {
        let e = Expectations::parse("x # expect: XX-001\ny\n");
        assert!(e.check(&[at(1)]).is_ok());
        let missing = e.check(&[]).expect_err("missing finding must fail");
        assert!(missing.contains("missing: XX-001 on line 1"), "{missing}");
        let unexpected = e
            .check(&[at(1), at(2)])
            .expect_err("extra finding must fail");
        assert!(
            unexpected.contains("unexpected: XX-001 on line 2"),
            "{unexpected}"
        );
    }
}
