//! `--format markdown`: a summary table and one section per finding, for a pull-request comment
//! or a job summary (`$GITHUB_STEP_SUMMARY`).

use std::fmt::Write as _;

use crate::report::{Finding, Report};

pub fn render(report: &Report) -> String {
    let summary = report.summary();
    let mut out = String::from("## sluice\n\n| | count |\n|---|---:|\n");
    for (label, count) in [
        ("critical", summary.critical),
        ("high", summary.high),
        ("medium", summary.medium),
        ("low", summary.low),
        ("info", summary.info),
        ("**findings**", summary.findings),
        ("files scanned", summary.files),
        ("suppressed", summary.suppressed),
        ("baselined", summary.baselined),
        ("ignored by configuration", summary.config_ignored),
        ("errors", summary.errors),
    ] {
        let _ = writeln!(out, "| {label} | {count} |");
    }
    out.push('\n');
    if report.findings.is_empty() {
        out.push_str("No findings.\n\n");
    }
    for (number, finding) in report.findings.iter().enumerate() {
        render_finding(&mut out, report, number + 1, finding);
    }
    if report.show_suppressed && !report.suppressed.is_empty() {
        out.push_str(
            "### Suppressed\n\n| rule | location | suppressed at | reason |\n|---|---|---|---|\n",
        );
        for suppressed in &report.suppressed {
            let finding = &suppressed.finding;
            let how = &suppressed.suppression;
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}:{}` | {} |",
                cell(&finding.rule_id),
                cell(&location(finding)),
                cell(&how.path),
                how.line,
                cell(how.reason.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        out.push_str("### Errors\n\n| kind | location | message |\n|---|---|---|\n");
        for error in &report.errors {
            let mut at = error.path.clone().unwrap_or_default();
            if let Some(line) = error.line {
                let _ = write!(at, ":{line}");
                if let Some(column) = error.column {
                    let _ = write!(at, ":{column}");
                }
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                error.kind.as_str(),
                cell(&at),
                cell(&error.message)
            );
        }
    }
    out
}

fn render_finding(out: &mut String, report: &Report, number: usize, finding: &Finding) {
    let title = report
        .rules
        .iter()
        .find(|rule| rule.pack == finding.pack && rule.info.id == finding.rule_id)
        .map_or(finding.rule_name.as_str(), |rule| rule.info.title.as_str());
    let _ = writeln!(
        out,
        "### {number}. {} {}: {}\n",
        finding.severity,
        finding.rule_id,
        text(title)
    );
    let _ = writeln!(out, "- **Rule:** `{}` ({})", finding.rule_id, finding.pack);
    let _ = writeln!(
        out,
        "- **Severity:** {} · **Confidence:** {}",
        finding.severity, finding.confidence
    );
    let _ = writeln!(out, "- **Location:** `{}`", location(finding));
    if finding.mitigations.is_empty() {
        out.push_str("- **Mitigations:** none recognised\n");
    } else {
        out.push_str("- **Mitigations:**\n");
        for mitigation in &finding.mitigations {
            let _ = writeln!(
                out,
                "  - {}: {}",
                text(&mitigation.kind),
                text(&mitigation.description)
            );
        }
    }
    let _ = writeln!(out, "\n{}\n", text(&finding.message));
}

fn location(finding: &Finding) -> String {
    format!(
        "{}:{}:{}",
        finding.path, finding.start_line, finding.start_column
    )
}

/// Messages come from packs (third-party ones too): no raw HTML in a PR comment. Inside code
/// spans (between backticks) nothing is interpreted, and entities would show literally, so only
/// the text outside them is escaped.
fn text(value: &str) -> String {
    value
        .split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                part.to_owned()
            } else {
                part.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A table cell: `|` would end it and a newline would end the row.
fn cell(value: &str) -> String {
    text(value)
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a | b\nc <d>"), "a \\| b<br>c &lt;d&gt;");
        assert_eq!(text("`<< x >>` <b>"), "`<< x >>` &lt;b&gt;");
    }
}
