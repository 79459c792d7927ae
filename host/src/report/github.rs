//! `--format github`: GitHub Actions workflow commands, which the runner turns into annotations
//! on the pull request's diff.
//!
//! ```text
//! ::error file=.github/workflows/t.yml,line=8,col=20,endLine=8,endColumn=51,title=FG-002%3A Script injection::`${{ github.event.issue.title }}` expands ...
//! ```

use std::fmt::Write as _;

use crate::pack::types::Severity;
use crate::report::{Finding, Report};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let title = format!("{}: {}", finding.rule_id, rule_title(report, finding));
        let _ = writeln!(
            out,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            command(finding.severity),
            escape_property(&finding.path),
            finding.start_line.max(1),
            finding.start_column.max(1),
            finding.end_line.max(finding.start_line).max(1),
            finding.end_column.max(1),
            escape_property(&title),
            escape_data(&finding.message)
        );
    }
    for error in &report.errors {
        let mut properties = Vec::new();
        if let Some(path) = &error.path {
            properties.push(format!("file={}", escape_property(path)));
        }
        if let Some(line) = error.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = error.column {
            properties.push(format!("col={column}"));
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("sluice {} error", error.kind.as_str()))
        ));
        let mut message = error.message.clone();
        if let Some(pack) = &error.pack {
            let _ = write!(message, " (pack {pack})");
        }
        let _ = writeln!(
            out,
            "::error {}::{}",
            properties.join(","),
            escape_data(&message)
        );
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// critical/high fail a review, medium deserves a look, the rest is information.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// The rule's one-line title from its pack's metadata, else its name.
fn rule_title<'r>(report: &'r Report, finding: &'r Finding) -> &'r str {
    report
        .rules
        .iter()
        .find(|rule| rule.pack == finding.pack && rule.info.id == finding.rule_id)
        .map_or(finding.rule_name.as_str(), |rule| rule.info.title.as_str())
}

/// A plain line after the commands, so the log says what the run found in one place.
fn summary_line(report: &Report) -> String {
    let summary = report.summary();
    format!(
        "sluice: {} findings ({} critical, {} high, {} medium, {} low, {} info) in {} files; {} suppressed, {} baselined, {} ignored by configuration, {} errors",
        summary.findings,
        summary.critical,
        summary.high,
        summary.medium,
        summary.low,
        summary.info,
        summary.files,
        summary.suppressed,
        summary.baselined,
        summary.config_ignored,
        summary.errors
    )
}

/// The escaping of the runner's command parser (`@actions/core` `escapeData`): the message ends
/// at a newline otherwise.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values (`escapeProperty`) also end at `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a%:b,c\n"), "a%25%3Ab%2Cc%0A");
    }
}
