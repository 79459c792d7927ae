//! The step or job around a finding, so a `sluice: ignore[…]` comment on the line above a
//! step covers findings deep inside its `run: |` block: packs add that line as a related
//! location, and the host honours ignore comments on any related location's lines.

use super::{Document, Node, Value};
use crate::types::{Finding, Location, Span};

/// The span of the first line of the innermost step (a mapping that is a sequence item) or
/// top-level entry (a GitLab job) containing byte `at`, if any.
pub fn enclosing_block(documents: &[Document], at: u32) -> Option<Span> {
    let document = documents.iter().find(|d| contains(&d.root, at))?;
    let mut found = None;
    if let Value::Mapping(mapping) = &document.root.value {
        // Top-level entries are jobs in GitLab CI; deeper candidates below replace them.
        found = mapping
            .entries
            .iter()
            .find(|e| contains(&e.value, at))
            .map(|e| e.key.span);
    }
    descend(&document.root, at, &mut found);
    found
}

fn descend(node: &Node, at: u32, found: &mut Option<Span>) {
    match &node.value {
        Value::Sequence(items) => {
            if let Some(item) = items.iter().find(|item| contains(item, at)) {
                if let Value::Mapping(mapping) = &item.value
                    && let Some(first) = mapping.entries.first()
                {
                    *found = Some(first.key.span);
                }
                descend(item, at, found);
            }
        }
        Value::Mapping(mapping) => {
            if let Some(entry) = mapping.entries.iter().find(|e| contains(&e.value, at)) {
                descend(&entry.value, at, found);
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

fn contains(node: &Node, at: u32) -> bool {
    node.span.start_byte <= at && at < node.span.end_byte.max(node.span.start_byte + 1)
}

/// Adds the enclosing step or job of each finding as a related location, where an ignore
/// comment above that line would not otherwise reach the finding (it starts two or more lines
/// below it) and no related location already sits on that line.
pub fn link_enclosing_blocks(findings: &mut [Finding], parsed: &[(&str, Vec<Document>)]) {
    for finding in findings {
        let Some((_, documents)) = parsed.iter().find(|(path, _)| *path == finding.path) else {
            continue;
        };
        let Some(block) = enclosing_block(documents, finding.span.start_byte) else {
            continue;
        };
        let covered = finding.span.start_line <= block.start_line + 1
            || finding
                .related
                .iter()
                .any(|r| r.path == finding.path && r.span.start_line == block.start_line);
        if !covered {
            finding.related.push(Location {
                path: finding.path.clone(),
                span: block,
                message: "inside the step or job that starts here".to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn the_step_around_a_run_block() {
        let source = "jobs:\n  a:\n    steps:\n      - name: x\n        run: |\n          echo 1\n          echo 2\n";
        let documents = parse(source).expect("valid");
        let at = u32::try_from(source.find("echo 2").expect("present")).expect("small");
        let block = enclosing_block(&documents, at).expect("inside a step");
        assert_eq!(block.start_line, 4);
    }

    #[test]
    fn a_gitlab_job_around_its_script() {
        let source = "build:\n  script:\n    - make\n    - |\n      echo $X\n";
        let documents = parse(source).expect("valid");
        let at = u32::try_from(source.find("echo").expect("present")).expect("small");
        assert_eq!(
            enclosing_block(&documents, at).map(|s| s.start_line),
            Some(1)
        );
    }
}
